//! The second factor of password sign-in (docs/security.md, « Double authentification »):
//! enrolling an authenticator app, checking its code at login, recovery codes, turning it off,
//! and the territories that require it of their coordinators.
//!
//! A session opened by a password on an account that has a second factor (or must have one)
//! is *pending*: it reaches nothing but the page that asks for the code (or enrols the app).
//! Once the code is right, that session is replaced by a new one whose second factor is
//! checked (a new token: the pending one is worth nothing afterwards).

use chrono::{DateTime, Duration, Utc};
use domain::second_factor::{
    RECOVERY_ALPHABET, RECOVERY_LENGTH, SecondFactorCode, show_recovery_code,
};
use domain::{TerritoryId, UserId};
use rand::RngCore;
use rand::rngs::OsRng;

use crate::secrets::{random_token, token_hash};
use crate::totp;
use crate::{App, AppError, Caller};

/// Minutes a pending session lasts: long enough to open the app, not to leave it open.
pub const PENDING_MINUTES: i64 = 10;
/// Wrong codes allowed per account from one address within the throttling window.
pub const MAX_CODE_FAILURES: i64 = 5;
/// Recovery codes given at once.
pub const RECOVERY_CODES: usize = 10;
/// An enrolment not confirmed within this time starts again with a new secret.
pub const ENROLMENT_MINUTES: i64 = 30;
/// The name authenticator apps show for the account.
pub const ISSUER: &str = "Passerelle";

/// What a pending session still needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The code of the account's authenticator (or a recovery code).
    Verify,
    /// Enrolling an authenticator: a territory of the account requires one.
    Enrol,
}

impl Step {
    /// Where the web asks for it.
    pub fn path(self) -> &'static str {
        match self {
            Step::Verify => "/connexion/code",
            Step::Enrol => "/connexion/activation",
        }
    }

    /// What a session whose second factor is in this state still needs, if anything.
    pub fn of(checked: bool, enabled: bool, required: bool) -> Option<Step> {
        match (checked, enabled, required) {
            (true, _, _) => None,
            (false, true, _) => Some(Step::Verify),
            (false, false, true) => Some(Step::Enrol),
            (false, false, false) => None,
        }
    }
}

/// A session opened by a password that waits for its second factor.
#[derive(Debug, Clone)]
pub struct Pending {
    pub user_id: UserId,
    pub email: String,
    /// Hash of the pending session's token.
    pub session: String,
    pub step: Step,
    pub client_ip: Option<String>,
}

/// Where an account stands, for its security page.
pub use store::second_factors::Standing;

pub async fn standing(app: &App, user: UserId) -> Result<Standing, AppError> {
    let mut pooled = app.db.acquire().await?;
    Ok(store::second_factors::standing(&mut pooled.conn(), user).await?)
}

/// What the enrolment page shows: the QR code and, for typing by hand, the secret.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub qr_svg: String,
    pub secret: String,
    pub uri: String,
}

fn keystream(app: &App, user: UserId, nonce: &str) -> [u8; 32] {
    app.secret
        .derive(&format!("second-factor-seal:{}:{nonce}", user.0))
}

/// The secret XOR a keystream only this instance's key gives (sealing and unsealing alike).
fn seal(app: &App, user: UserId, nonce: &str, secret: &[u8]) -> Vec<u8> {
    let key = keystream(app, user, nonce);
    secret.iter().zip(key.iter()).map(|(s, k)| s ^ k).collect()
}

/// The account's pending enrolment (started less than [`ENROLMENT_MINUTES`] ago), or a new
/// one. Reloading the page keeps the secret the app may already have scanned.
pub async fn begin_enrolment(app: &App, user: UserId, email: &str) -> Result<Enrolment, AppError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let existing = store::second_factors::of_user(&mut tx.conn(), user).await?;
    if existing.as_ref().is_some_and(|f| f.confirmed_at.is_some()) {
        return Err(AppError::field(
            "code",
            "La double authentification est déjà activée sur ce compte.",
        ));
    }
    let secret = match existing {
        Some(f) if now - f.created_at < Duration::minutes(ENROLMENT_MINUTES) => {
            seal(app, user, &f.nonce, &f.sealed_secret)
        }
        _ => {
            let mut secret = vec![0u8; totp::SECRET_BYTES];
            OsRng.fill_bytes(&mut secret);
            let nonce = random_token();
            let sealed = seal(app, user, &nonce, &secret);
            store::second_factors::begin(&mut tx.conn(), user, &sealed, &nonce, now).await?;
            secret
        }
    };
    tx.commit().await?;
    let uri = totp::enrolment_uri(ISSUER, email, &secret);
    Ok(Enrolment {
        qr_svg: totp::qr_svg(&uri)?,
        secret: totp::grouped(&totp::base32(&secret)),
        uri,
    })
}

/// Counts this attempt against the account's wrong codes from this address; refuses when
/// there were too many. The attempt is written before it is counted, as for passwords.
async fn throttle(app: &App, user: UserId, client_ip: &str) -> Result<(), AppError> {
    let now = app.now();
    let key = format!("second-factor:{}", user.0);
    let mut pooled = app.db.acquire().await?;
    store::users::record_login_failure(&mut pooled.conn(), &key, client_ip, now).await?;
    let since = now - Duration::minutes(crate::auth::THROTTLE_WINDOW_MINUTES);
    let failures =
        store::users::login_failures_since(&mut pooled.conn(), &key, client_ip, since).await?;
    if failures.pair > MAX_CODE_FAILURES
        || failures.account > crate::auth::MAX_FAILURES_PER_ACCOUNT_EVERYWHERE
    {
        tracing::warn!(client_ip, "second factor throttled");
        return Err(AppError::field(
            "code",
            format!(
                "Trop de codes erronés. Par sécurité, la saisie est suspendue pendant {} minutes.",
                crate::auth::THROTTLE_WINDOW_MINUTES
            ),
        ));
    }
    Ok(())
}

async fn clear_throttle(c: &mut store::Conn<'_>, user: UserId) -> Result<(), AppError> {
    store::users::clear_login_failures(c, &format!("second-factor:{}", user.0)).await?;
    Ok(())
}

fn wrong_code() -> AppError {
    AppError::field(
        "code",
        "Ce code est incorrect ou a déjà servi. Saisissez le code affiché en ce moment par votre application.",
    )
}

/// Checks an authenticator code against the account's secret (confirmed or not) and spends
/// its step, so that it never works twice.
async fn spend_totp(
    app: &App,
    c: &mut store::Conn<'_>,
    user: UserId,
    code: u32,
    confirmed: bool,
) -> Result<bool, AppError> {
    let Some(factor) = store::second_factors::of_user(c, user).await? else {
        return Ok(false);
    };
    if factor.confirmed_at.is_some() != confirmed {
        return Ok(false);
    }
    let secret = seal(app, user, &factor.nonce, &factor.sealed_secret);
    let Some(step) = totp::matching_step(&secret, code, app.now()) else {
        return Ok(false);
    };
    Ok(store::second_factors::use_step(c, user, step).await?)
}

fn recovery_hash(app: &App, user: UserId, code: &str) -> String {
    app.secret.sign(&format!("recovery-code:{}:{code}", user.0))
}

/// New recovery codes, stored hashed; returned once, as shown to their owner.
async fn new_recovery_codes(
    app: &App,
    c: &mut store::Conn<'_>,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = [0u8; RECOVERY_LENGTH];
        OsRng.fill_bytes(&mut bytes);
        // 256 is not a multiple of the alphabet's 31 letters: redraw the bytes that would bias.
        let limit = 256 - 256 % RECOVERY_ALPHABET.len();
        let code: String = bytes
            .iter()
            .map(|b| {
                let mut b = usize::from(*b);
                while b >= limit {
                    let mut one = [0u8; 1];
                    OsRng.fill_bytes(&mut one);
                    b = usize::from(one[0]);
                }
                char::from(RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.len()])
            })
            .collect();
        codes.push(code);
    }
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(app, user, c)).collect();
    store::second_factors::replace_recovery_codes(c, user, &hashes, now).await?;
    Ok(codes.iter().map(|c| show_recovery_code(c)).collect())
}

/// Replaces a session by a new one whose second factor is checked; returns the new token.
async fn upgrade_session(
    app: &App,
    c: &mut store::Conn<'_>,
    session: &str,
    user: UserId,
) -> Result<String, AppError> {
    let now = app.now();
    let taken = match store::sessions::take(c, session, now).await? {
        Some(taken) if taken.user_id == user => taken,
        // Expired meanwhile, or already replaced by a concurrent request.
        _ => return Err(AppError::NotFound),
    };
    let token = random_token();
    let idle = Duration::from_std(app.settings.session_idle).unwrap_or(Duration::hours(2));
    let new = store::sessions::NewSession {
        token_hash: &token_hash(&token),
        user,
        territory: taken.territory(),
        expires_at: now + idle,
        second_factor_at: Some(now),
        proconnect_id_token: taken.proconnect_id_token.as_deref(),
    };
    store::sessions::create(c, &new, now).await?;
    Ok(token)
}

/// Who enrols or checks a code: the pending session of a login, or a logged-in caller.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    pub user: UserId,
    /// Hash of the session's token.
    pub session: &'a str,
    pub client_ip: &'a str,
}

impl Pending {
    pub fn holder(&self) -> Holder<'_> {
        Holder {
            user: self.user_id,
            session: &self.session,
            client_ip: self.client_ip.as_deref().unwrap_or("inconnue"),
        }
    }
}

impl Caller {
    pub fn holder(&self) -> Holder<'_> {
        Holder {
            user: self.user_id,
            session: &self.session,
            client_ip: self.client_ip.as_deref().unwrap_or("inconnue"),
        }
    }
}

async fn audit(
    c: &mut store::Conn<'_>,
    holder: Holder<'_>,
    action: &str,
    territory: Option<TerritoryId>,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let event = store::audit::NewEvent {
        user: Some(holder.user),
        action,
        target_kind: "user",
        target_id: Some(holder.user.0),
        territory,
        detail,
        client_ip: Some(holder.client_ip),
        api_token: None,
    };
    store::audit::record(c, &event, now).await?;
    Ok(())
}

/// An enrolment confirmed: the session's new token and the recovery codes, shown once.
#[derive(Debug)]
pub struct Enrolled {
    pub token: String,
    pub recovery_codes: Vec<String>,
}

/// Confirms the enrolment with the first code of the app: the authenticator counts from now
/// on, recovery codes are made, and the session becomes one whose second factor is checked.
pub async fn confirm_enrolment(
    app: &App,
    holder: Holder<'_>,
    code: &str,
) -> Result<Enrolled, AppError> {
    let code = SecondFactorCode::parse_totp(code).map_err(|e| AppError::field("code", e.0))?;
    throttle(app, holder.user, holder.client_ip).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !spend_totp(app, &mut tx.conn(), holder.user, code, false).await? {
        return Err(wrong_code());
    }
    if !store::second_factors::confirm(&mut tx.conn(), holder.user, now).await? {
        return Err(wrong_code());
    }
    let recovery_codes = new_recovery_codes(app, &mut tx.conn(), holder.user, now).await?;
    clear_throttle(&mut tx.conn(), holder.user).await?;
    let token = upgrade_session(app, &mut tx.conn(), holder.session, holder.user).await?;
    audit(
        &mut tx.conn(),
        holder,
        "second_factor_enabled",
        None,
        "",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Enrolled {
        token,
        recovery_codes,
    })
}

/// A login's second factor checked.
#[derive(Debug)]
pub struct Verified {
    pub token: String,
    /// A recovery code was used: how many are left (the page suggests making new ones).
    pub recovery_codes_left: Option<i64>,
}

/// Checks a code (the app's or a recovery code) of an account; spends it.
async fn check_code(
    app: &App,
    c: &mut store::Conn<'_>,
    user: UserId,
    code: &SecondFactorCode,
) -> Result<Option<&'static str>, AppError> {
    let now = app.now();
    Ok(match code {
        SecondFactorCode::Totp(code) => spend_totp(app, c, user, *code, true)
            .await?
            .then_some("application"),
        SecondFactorCode::Recovery(code) => {
            let hash = recovery_hash(app, user, code);
            store::second_factors::use_recovery_code(c, user, &hash, now)
                .await?
                .then_some("code de secours")
        }
    })
}

/// The second step of a login: the code is right, the pending session is replaced by a full one.
pub async fn verify_login(app: &App, pending: &Pending, code: &str) -> Result<Verified, AppError> {
    if pending.step != Step::Verify {
        return Err(AppError::Forbidden);
    }
    let holder = pending.holder();
    let code = SecondFactorCode::parse(code).map_err(|e| AppError::field("code", e.0))?;
    throttle(app, holder.user, holder.client_ip).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let Some(how) = check_code(app, &mut tx.conn(), holder.user, &code).await? else {
        return Err(wrong_code());
    };
    clear_throttle(&mut tx.conn(), holder.user).await?;
    let token = upgrade_session(app, &mut tx.conn(), holder.session, holder.user).await?;
    audit(
        &mut tx.conn(),
        holder,
        "login_second_factor",
        None,
        how,
        now,
    )
    .await?;
    let recovery_codes_left = match code {
        SecondFactorCode::Recovery(_) => Some(
            store::second_factors::standing(&mut tx.conn(), holder.user)
                .await?
                .recovery_codes_left,
        ),
        SecondFactorCode::Totp(_) => None,
    };
    tx.commit().await?;
    Ok(Verified {
        token,
        recovery_codes_left,
    })
}

/// New recovery codes (the old ones stop working), on a current code of the app.
pub async fn renew_recovery_codes(
    app: &App,
    caller: &Caller,
    code: &str,
) -> Result<Vec<String>, AppError> {
    let holder = caller.holder();
    let code = SecondFactorCode::parse_totp(code).map_err(|e| AppError::field("code", e.0))?;
    throttle(app, holder.user, holder.client_ip).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !spend_totp(app, &mut tx.conn(), holder.user, code, true).await? {
        return Err(wrong_code());
    }
    let codes = new_recovery_codes(app, &mut tx.conn(), holder.user, now).await?;
    clear_throttle(&mut tx.conn(), holder.user).await?;
    audit(
        &mut tx.conn(),
        holder,
        "recovery_codes_renewed",
        None,
        "",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Turns the second factor off, on a current code (or a recovery code). Refused while a
/// territory requires it of the caller.
pub async fn disable(app: &App, caller: &Caller, code: &str) -> Result<(), AppError> {
    let holder = caller.holder();
    let code = SecondFactorCode::parse(code).map_err(|e| AppError::field("code", e.0))?;
    if standing(app, holder.user).await?.required {
        return Err(AppError::field(
            "code",
            "Un de vos territoires exige la double authentification de ses coordinateurs : elle ne peut pas être désactivée.",
        ));
    }
    throttle(app, holder.user, holder.client_ip).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if check_code(app, &mut tx.conn(), holder.user, &code)
        .await?
        .is_none()
    {
        return Err(wrong_code());
    }
    store::second_factors::remove(&mut tx.conn(), holder.user).await?;
    clear_throttle(&mut tx.conn(), holder.user).await?;
    audit(
        &mut tx.conn(),
        holder,
        "second_factor_disabled",
        None,
        "",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes the authenticator of an account whose owner lost both their phone and their
/// recovery codes (from the command line, by whoever runs the server): at their next login
/// they sign in with their password only, or enrol again where it is required. Their open
/// sessions end.
pub async fn reset_for(app: &App, email: &str) -> Result<bool, AppError> {
    let email = domain::Email::parse(email).map_err(|e| AppError::field("email", e.0))?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let user = store::users::by_email(&mut tx.conn(), &email)
        .await?
        .ok_or(AppError::NotFound)?;
    let removed = store::second_factors::remove(&mut tx.conn(), user.id).await?;
    store::sessions::delete_for_user(&mut tx.conn(), user.id).await?;
    let event = store::audit::NewEvent {
        user: None,
        action: "second_factor_reset",
        target_kind: "user",
        target_id: Some(user.id.0),
        territory: None,
        detail: "ligne de commande",
        client_ip: None,
        api_token: None,
    };
    store::audit::record(&mut tx.conn(), &event, now).await?;
    tx.commit().await?;
    Ok(removed)
}

/// Makes the second factor mandatory (or not) for the coordinators of a territory; those who
/// have none yet enrol at their next page (the team's table says who). A coordinator of the
/// territory who has none is asked to enrol first, so as not to be locked out mid-change.
pub async fn set_required(
    app: &App,
    caller: &Caller,
    slug: &str,
    required: bool,
) -> Result<(), AppError> {
    let territory = caller.territory(slug)?.clone();
    if !caller.coordinates(territory.id) {
        return Err(AppError::Forbidden);
    }
    if required
        && caller.is_coordinator_of(territory.id)
        && !standing(app, caller.user_id).await?.enabled
    {
        return Err(AppError::field(
            "second_factor_required",
            "Activez d'abord la double authentification sur votre propre compte (page « Sécurité du compte »), puis rendez-la obligatoire.",
        ));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::second_factors::set_required(&mut tx.conn(), territory.id, required).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "second_factor_requirement",
            ("territory", Some(territory.id.0)),
            Some(territory.id),
            if required {
                "obligatoire"
            } else {
                "facultative"
            },
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
