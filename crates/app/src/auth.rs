//! Logging in and out, throttling failed attempts, password resets, accepting invitations and
//! creating the first administrator.

use chrono::Duration;
use domain::{Email, Label, MembershipId, NewPassword, Role, UserId};
use store::memberships::NewMembership;

use crate::secrets::{hash_password, random_token, token_hash, verify_password};
use crate::{App, AppError, FieldErrors};

/// Failed logins allowed per account from one client address within
/// [`THROTTLE_WINDOW_MINUTES`]: an attacker elsewhere does not lock the account's owner out.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed logins allowed per client address (several people may share one office address).
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// Failed logins allowed per account from all addresses together: a guess spread over many
/// addresses stays slow. A reset link always opens the account again.
pub const MAX_FAILURES_PER_ACCOUNT_EVERYWHERE: i64 = 50;
/// Password-reset requests per account, and per client address, within an hour.
pub const MAX_RESETS_PER_ACCOUNT: i64 = 3;
pub const MAX_RESETS_PER_ADDRESS: i64 = 10;
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
pub const RESET_LINK_HOURS: i64 = 1;
pub const INVITATION_DAYS: i64 = 7;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Never says which of the two was wrong, nor whether the account exists.
    #[error("Adresse électronique ou mot de passe incorrect.")]
    Invalid,
    #[error(
        "Trop de tentatives de connexion infructueuses. Par sécurité, la connexion est suspendue pendant 15 minutes. Vous pouvez aussi réinitialiser votre mot de passe."
    )]
    Throttled,
    #[error(transparent)]
    Internal(#[from] AppError),
}

impl From<store::StoreError> for LoginError {
    fn from(e: store::StoreError) -> Self {
        LoginError::Internal(e.into())
    }
}

/// A session just opened: the token goes in the cookie and is never stored in clear.
#[derive(Debug)]
pub struct Login {
    pub token: String,
    pub user: UserId,
    /// What the session still needs before it opens anything (a second factor).
    pub pending: Option<crate::second_factor::Step>,
}

pub async fn login(
    app: &App,
    email: &str,
    password: &str,
    client_ip: &str,
) -> Result<Login, LoginError> {
    let now = app.now();
    let key = email.trim().to_lowercase();
    let mut pooled = app.db.acquire().await?;
    let since = now - Duration::minutes(THROTTLE_WINDOW_MINUTES);
    // The attempt is written before it is counted and before the password is checked: of any
    // number of concurrent attempts, only the first few see a count within the limits, so at
    // most five passwords are ever checked (the row is removed if the password is right).
    store::users::record_login_failure(&mut pooled.conn(), &key, client_ip, now).await?;
    let failures =
        store::users::login_failures_since(&mut pooled.conn(), &key, client_ip, since).await?;
    if failures.pair > MAX_FAILURES_PER_ACCOUNT
        || failures.address > MAX_FAILURES_PER_ADDRESS
        || failures.account > MAX_FAILURES_PER_ACCOUNT_EVERYWHERE
    {
        tracing::warn!(client_ip, "login throttled");
        return Err(LoginError::Throttled);
    }
    let user = match Email::parse(&key) {
        Ok(email) => store::users::by_email(&mut pooled.conn(), &email).await?,
        Err(_) => None,
    };
    let hash = user
        .as_ref()
        .filter(|u| u.is_active)
        .and_then(|u| u.password_hash.as_deref());
    if !verify_password(password, hash).await {
        return Err(LoginError::Invalid);
    }
    let Some(user) = user else {
        return Err(LoginError::Invalid);
    };
    drop(pooled);
    let mut tx = app.db.begin().await?;
    store::users::clear_login_failures(&mut tx.conn(), &key).await?;
    store::users::set_last_login(&mut tx.conn(), user.id, now).await?;
    let standing = store::second_factors::standing(&mut tx.conn(), user.id).await?;
    let pending = crate::second_factor::Step::of(false, standing.enabled, standing.required);
    let opening = Opening {
        pending: pending.is_some(),
        ..Opening::default()
    };
    let token = open_session(app, &mut tx.conn(), user.id, opening).await?;
    let event = store::audit::NewEvent {
        user: Some(user.id),
        action: "login",
        target_kind: "user",
        target_id: Some(user.id.0),
        territory: None,
        detail: "",
        client_ip: Some(client_ip),
        api_token: None,
    };
    store::audit::record(&mut tx.conn(), &event, now).await?;
    tx.commit().await?;
    Ok(Login {
        token,
        user: user.id,
        pending,
    })
}

/// How a session opens.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Opening<'a> {
    /// Waiting for its second factor: it lasts a few minutes only.
    pub pending: bool,
    /// The second factor was checked as the session opened (by the identity provider).
    pub second_factor_checked: bool,
    /// The ID token of a ProConnect sign-in, for the logout.
    pub proconnect_id_token: Option<&'a str>,
}

/// Opens a session; returns its token.
pub(crate) async fn open_session(
    app: &App,
    c: &mut store::Conn<'_>,
    user: UserId,
    opening: Opening<'_>,
) -> Result<String, AppError> {
    let now = app.now();
    let token = random_token();
    let lifetime = if opening.pending {
        Duration::minutes(crate::second_factor::PENDING_MINUTES)
    } else {
        Duration::from_std(app.settings.session_idle).unwrap_or(Duration::hours(2))
    };
    let session = store::sessions::NewSession {
        token_hash: &token_hash(&token),
        user,
        territory: None,
        expires_at: now + lifetime,
        second_factor_at: opening.second_factor_checked.then_some(now),
        proconnect_id_token: opening.proconnect_id_token,
    };
    store::sessions::create(c, &session, now).await?;
    Ok(token)
}

/// Where the browser goes once logged out: the provider's end of session when the session
/// came from ProConnect (it ends the sign-in there too), else nowhere in particular.
pub type LogoutRedirect = Option<String>;

pub async fn logout(app: &App, caller: &crate::Caller) -> Result<LogoutRedirect, AppError> {
    let mut tx = app.db.begin().await?;
    let id_token = store::sessions::delete(&mut tx.conn(), &caller.session).await?;
    caller
        .audit(
            &mut tx.conn(),
            app.now(),
            "logout",
            ("user", Some(caller.user_id.0)),
            None,
            "",
        )
        .await?;
    tx.commit().await?;
    Ok(crate::proconnect::logout_redirect(app, id_token.as_deref()).await)
}

/// Ends a session that waited for its second factor (the person gave up at the code page).
pub async fn abandon(
    app: &App,
    pending: &crate::second_factor::Pending,
) -> Result<LogoutRedirect, AppError> {
    let mut pooled = app.db.acquire().await?;
    let id_token = store::sessions::delete(&mut pooled.conn(), &pending.session).await?;
    drop(pooled);
    Ok(crate::proconnect::logout_redirect(app, id_token.as_deref()).await)
}

/// Sends a reset link if an active account has this address. The answer is the same either
/// way, so the form does not reveal which addresses have accounts; the mail leaves after the
/// answer (a job delivers it), so neither does the page's timing. Requests are throttled per account (silently:
/// the answer stays the same) and per client address (said, since it reveals nothing).
pub async fn request_password_reset(
    app: &App,
    email: &str,
    client_ip: &str,
) -> Result<(), AppError> {
    let email = Email::parse(email).map_err(|e| AppError::field("email", e.0))?;
    let now = app.now();
    let (by_account, by_address) = {
        let mut pooled = app.db.acquire().await?;
        store::users::record_reset_request(
            &mut pooled.conn(),
            email.as_str(),
            client_ip,
            now,
            now - Duration::hours(1),
        )
        .await?
    };
    if by_address > MAX_RESETS_PER_ADDRESS {
        return Err(AppError::field(
            "email",
            "Trop de demandes de réinitialisation depuis votre connexion : réessayez dans une heure.",
        ));
    }
    if by_account > MAX_RESETS_PER_ACCOUNT {
        tracing::warn!(client_ip, "password reset throttled for an account");
        return Ok(());
    }
    let mut tx = app.db.begin().await?;
    let Some(user) = store::users::by_email(&mut tx.conn(), &email)
        .await?
        .filter(|u| u.is_active)
    else {
        return Ok(());
    };
    let token = random_token();
    store::tokens::create_password_reset(
        &mut tx.conn(),
        &token_hash(&token),
        user.id,
        now,
        now + Duration::hours(RESET_LINK_HOURS),
    )
    .await?;
    let body = format!(
        "Bonjour {name},\n\nUne réinitialisation du mot de passe de votre compte Passerelle a été demandée.\n\
         Pour choisir un nouveau mot de passe, ouvrez ce lien (valable {RESET_LINK_HOURS} heure, utilisable une seule fois) :\n\n\
         {base}/mot-de-passe/{token}\n\n\
         Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.",
        name = user.display_name,
        base = app.settings.base_url,
    );
    crate::mail::enqueue(
        &mut tx.conn(),
        app,
        &user.email,
        "Réinitialisation de votre mot de passe Passerelle",
        &body,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether a reset link is still usable (to show the form or explain that it is not).
pub async fn reset_link_is_valid(app: &App, token: &str) -> Result<bool, AppError> {
    let mut pooled = app.db.acquire().await?;
    Ok(
        store::tokens::peek_password_reset(&mut pooled.conn(), &token_hash(token), app.now())
            .await?
            .is_some(),
    )
}

/// Sets a new password through a reset link; every open session of the account ends.
pub async fn reset_password(
    app: &App,
    token: &str,
    password: &str,
    confirmation: &str,
) -> Result<(), AppError> {
    let password =
        NewPassword::parse(password, confirmation).map_err(|e| AppError::field("password", e.0))?;
    let hash = hash_password(password.expose()).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let user = store::tokens::consume_password_reset(&mut tx.conn(), &token_hash(token), now)
        .await?
        .ok_or(AppError::NotFound)?;
    store::users::set_password(&mut tx.conn(), user, &hash).await?;
    store::users::clear_login_failures_of(&mut tx.conn(), user).await?;
    store::tokens::void_password_resets(&mut tx.conn(), user, now).await?;
    store::sessions::delete_for_user(&mut tx.conn(), user).await?;
    let event = store::audit::NewEvent {
        user: Some(user),
        action: "password_reset",
        target_kind: "user",
        target_id: Some(user.0),
        territory: None,
        detail: "",
        client_ip: None,
        api_token: None,
    };
    store::audit::record(&mut tx.conn(), &event, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A pending invitation, for the page where it is accepted.
pub async fn pending_invitation(
    app: &App,
    token: &str,
) -> Result<store::tokens::Invitation, AppError> {
    let mut pooled = app.db.acquire().await?;
    store::tokens::pending_invitation(&mut pooled.conn(), &token_hash(token), app.now())
        .await?
        .ok_or(AppError::NotFound)
}

/// Whether the invited address already has an account: then the invitation is accepted by
/// that account, logged in ([`accept_invitation_as`]), never by whoever holds the link.
pub async fn invitation_has_account(
    app: &App,
    invitation: &store::tokens::Invitation,
) -> Result<bool, AppError> {
    let Ok(email) = Email::parse(&invitation.email) else {
        return Ok(false);
    };
    let mut pooled = app.db.acquire().await?;
    Ok(store::users::by_email(&mut pooled.conn(), &email)
        .await?
        .is_some())
}

/// Accepts an invitation addressed to the caller's own account: the membership is granted.
pub async fn accept_invitation_as(
    app: &App,
    caller: &crate::Caller,
    token: &str,
) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let invitation = store::tokens::pending_invitation(&mut tx.conn(), &token_hash(token), now)
        .await?
        .ok_or(AppError::NotFound)?;
    if !invitation.email.eq_ignore_ascii_case(&caller.email) {
        return Err(AppError::Forbidden);
    }
    if !store::tokens::accept_invitation(&mut tx.conn(), invitation.id, now).await? {
        return Err(AppError::NotFound);
    }
    let membership = membership_of(&invitation, caller.user_id)?;
    if !store::memberships::exists(&mut tx.conn(), &membership).await? {
        store::memberships::create(&mut tx.conn(), &membership, now).await?;
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "invitation_accepted",
            ("invitation", Some(invitation.id)),
            membership.territory,
            membership.role.as_str(),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) fn membership_of(
    invitation: &store::tokens::Invitation,
    user: UserId,
) -> Result<NewMembership, AppError> {
    let role = invitation
        .role()
        .ok_or_else(|| AppError::Internal(format!("rôle inconnu {}", invitation.role)))?;
    Ok(NewMembership {
        user,
        role,
        organisation: invitation.organisation_id.map(domain::OrganisationId),
        territory: invitation.territory_id.map(domain::TerritoryId),
        created_by: invitation.invited_by.map(UserId),
    })
}

/// Accepts an invitation: creates the account with the chosen name and password, grants the
/// membership, and opens a session. An address that has an account accepts it logged in.
pub async fn accept_invitation(
    app: &App,
    token: &str,
    display_name: &str,
    password: &str,
    confirmation: &str,
) -> Result<Login, AppError> {
    let mut errors = FieldErrors::default();
    let name = errors.check(
        "display_name",
        Label::parse(display_name, "vos prénom et nom", 100),
    );
    let password = errors.check("password", NewPassword::parse(password, confirmation));
    let (name, password) = errors.into_result(|| Some((name?, password?)))?;
    let hash = hash_password(password.expose()).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let invitation = store::tokens::pending_invitation(&mut tx.conn(), &token_hash(token), now)
        .await?
        .ok_or(AppError::NotFound)?;
    if !store::tokens::accept_invitation(&mut tx.conn(), invitation.id, now).await? {
        return Err(AppError::NotFound);
    }
    let email = Email::parse(&invitation.email).map_err(|e| AppError::Internal(e.0))?;
    if store::users::by_email(&mut tx.conn(), &email)
        .await?
        .is_some()
    {
        // Whoever holds the link does not get into an existing account.
        return Err(AppError::Forbidden);
    }
    let user =
        store::users::create(&mut tx.conn(), &email, name.as_str(), Some(&hash), now).await?;
    let membership = membership_of(&invitation, user)?;
    let role = membership.role;
    store::memberships::create(&mut tx.conn(), &membership, now).await?;
    let standing = store::second_factors::standing(&mut tx.conn(), user).await?;
    let pending = crate::second_factor::Step::of(false, standing.enabled, standing.required);
    let opening = Opening {
        pending: pending.is_some(),
        ..Opening::default()
    };
    let token = open_session(app, &mut tx.conn(), user, opening).await?;
    let event = store::audit::NewEvent {
        user: Some(user),
        action: "invitation_accepted",
        target_kind: "invitation",
        target_id: Some(invitation.id),
        territory: membership.territory,
        detail: role.as_str(),
        client_ip: None,
        api_token: None,
    };
    store::audit::record(&mut tx.conn(), &event, now).await?;
    tx.commit().await?;
    Ok(Login {
        token,
        user,
        pending,
    })
}

/// Creates (or updates the password of) a national administrator, from the command line.
pub async fn create_admin(
    app: &App,
    email: &str,
    display_name: &str,
    password: &str,
) -> Result<(UserId, bool), AppError> {
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(email));
    let name = errors.check(
        "display_name",
        Label::parse(display_name, "le nom affiché", 100),
    );
    let password = errors.check("password", NewPassword::parse(password, password));
    let (email, name, password) = errors.into_result(|| Some((email?, name?, password?)))?;
    let hash = hash_password(password.expose()).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let (user, created) = match store::users::by_email(&mut tx.conn(), &email).await? {
        Some(u) => {
            store::users::set_password(&mut tx.conn(), u.id, &hash).await?;
            store::users::set_active(&mut tx.conn(), u.id, true).await?;
            (u.id, false)
        }
        None => (
            store::users::create(&mut tx.conn(), &email, name.as_str(), Some(&hash), now).await?,
            true,
        ),
    };
    let membership = NewMembership {
        user,
        role: Role::Admin,
        organisation: None,
        territory: None,
        created_by: None,
    };
    if !store::memberships::exists(&mut tx.conn(), &membership).await? {
        let _: MembershipId = store::memberships::create(&mut tx.conn(), &membership, now).await?;
    }
    tx.commit().await?;
    Ok((user, created))
}

/// Removes expired sessions, login failures that no longer count and API request counts of
/// past minutes.
pub async fn purge_expired(app: &App) -> Result<(), AppError> {
    let now = app.now();
    let mut pooled = app.db.acquire().await?;
    store::sessions::purge_expired(&mut pooled.conn(), now).await?;
    store::proconnect::purge_expired(&mut pooled.conn(), now).await?;
    store::api_tokens::purge_counts(&mut pooled.conn(), now - Duration::minutes(2)).await?;
    store::users::purge_login_failures(
        &mut pooled.conn(),
        now - Duration::minutes(THROTTLE_WINDOW_MINUTES),
    )
    .await?;
    Ok(())
}
