//! The second factor of password sign-in, on both backends, with the fixture's clock: what
//! a user enrolling, signing in, losing their phone or guessing codes meets.

use app::auth;
use app::caller::{self, Session};
use app::fixture_tests;
use app::second_factor::{self, Pending, Step};
use app::testing::{Fixture, PASSWORD};
use app::{AppError, Caller, totp};
use chrono::Duration;

fn secret_of(enrolment: &second_factor::Enrolment) -> Vec<u8> {
    totp::decode_base32(&enrolment.secret).expect("base 32")
}

fn code_now(f: &Fixture, secret: &[u8]) -> String {
    format!("{:06}", totp::code_at(secret, f.app.now()))
}

/// Moves the clock to the next 30-second step (a code already used there cannot serve again).
fn next_step(f: &Fixture) {
    f.clock.advance(Duration::seconds(totp::STEP_SECONDS));
}

fn field_error(result: Result<impl std::fmt::Debug, AppError>) -> String {
    match result {
        Err(AppError::Invalid(errors)) => errors
            .iter()
            .map(|(_, m)| m.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn pending_login(f: &Fixture, email: &str) -> (String, Pending) {
    let login = auth::login(&f.app, email, PASSWORD, "127.0.0.1")
        .await
        .expect("password accepted");
    let Some(Session::Pending(pending)) = caller::load_session(&f.app, &login.token)
        .await
        .expect("load")
    else {
        panic!("the session of {email} should wait for its second factor");
    };
    assert_eq!(Some(pending.step), login.pending);
    assert!(
        caller::load(&f.app, &login.token)
            .await
            .expect("load")
            .is_none(),
        "a pending session opens nothing"
    );
    (login.token, pending)
}

async fn ready(f: &Fixture, token: &str) -> Caller {
    caller::load(&f.app, token)
        .await
        .expect("load")
        .expect("a ready session")
}

/// Enrols the caller's authenticator; returns its secret and the recovery codes.
async fn enrol(f: &Fixture, who: &Caller) -> (Vec<u8>, Vec<String>) {
    let enrolment = second_factor::begin_enrolment(&f.app, who.user_id, &who.email)
        .await
        .expect("enrolment");
    let secret = secret_of(&enrolment);
    let enrolled = second_factor::confirm_enrolment(&f.app, who.holder(), &code_now(f, &secret))
        .await
        .expect("confirmed");
    next_step(f);
    (secret, enrolled.recovery_codes)
}

fixture_tests! {
    async fn an_enrolled_account_signs_in_with_its_code_once_and_a_recovery_code_once(f) {
        let me = f.caller("conseil@test.fr").await;
        let enrolment = second_factor::begin_enrolment(&f.app, me.user_id, &me.email).await.expect("enrolment");
        assert!(enrolment.uri.starts_with("otpauth://totp/Passerelle:conseil%40test.fr?secret="), "{}", enrolment.uri);
        assert!(enrolment.qr_svg.contains("<path"), "a QR code is drawn");
        // Reloading the page keeps the secret the app may already have scanned.
        let again = second_factor::begin_enrolment(&f.app, me.user_id, &me.email).await.expect("enrolment");
        assert_eq!(again.secret, enrolment.secret);
        let secret = secret_of(&enrolment);
        // The secret is not stored as such.
        {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            let stored = store::second_factors::of_user(&mut pooled.conn(), me.user_id).await.expect("read").expect("there");
            assert_ne!(stored.sealed_secret, secret);
            assert_eq!(stored.sealed_secret.len(), secret.len());
        }
        // Until confirmed, nothing changes at login.
        let login = auth::login(&f.app, "conseil@test.fr", PASSWORD, "127.0.0.1").await.expect("login");
        assert_eq!(login.pending, None);
        let wrong = format!("{:06}", (totp::code_at(&secret, f.app.now()) + 1) % 1_000_000);
        assert!(field_error(second_factor::confirm_enrolment(&f.app, me.holder(), &wrong).await).contains("incorrect"));
        let enrolled = second_factor::confirm_enrolment(&f.app, me.holder(), &code_now(&f, &secret)).await.expect("confirmed");
        assert_eq!(enrolled.recovery_codes.len(), second_factor::RECOVERY_CODES);
        assert!(enrolled.recovery_codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'), "{:?}", enrolled.recovery_codes);
        // The session that enrolled goes on, under a new token; the old one is gone.
        {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            assert!(store::sessions::take(&mut pooled.conn(), &me.session, f.app.now()).await.expect("read").is_none(), "the old session row is gone");
        }
        let me_now = ready(&f, &enrolled.token).await;
        assert_eq!(me_now.user_id, me.user_id);
        assert!(second_factor::standing(&f.app, me.user_id).await.expect("standing").enabled);

        // The code used to confirm does not open a login in the same 30 seconds.
        let (_, pending) = pending_login(&f, "conseil@test.fr").await;
        assert_eq!(pending.step, Step::Verify);
        assert!(field_error(second_factor::verify_login(&f.app, &pending, &code_now(&f, &secret)).await).contains("déjà servi"));
        next_step(&f);
        let code = code_now(&f, &secret);
        let verified = second_factor::verify_login(&f.app, &pending, &code).await.expect("verified");
        assert_eq!(verified.recovery_codes_left, None);
        ready(&f, &verified.token).await;
        // The pending token is spent: verifying it again opens nothing.
        assert!(caller::load_session(&f.app, &pending.session).await.expect("load").is_none());
        // A code seen over someone's shoulder cannot be replayed on another login.
        let (_, other) = pending_login(&f, "conseil@test.fr").await;
        assert!(field_error(second_factor::verify_login(&f.app, &other, &code).await).contains("déjà servi"));
        // A recovery code, typed in capitals with spaces, works once.
        let recovery = enrolled.recovery_codes[3].to_uppercase().replace('-', " ");
        let verified = second_factor::verify_login(&f.app, &other, &recovery).await.expect("recovery code");
        assert_eq!(verified.recovery_codes_left, Some(9));
        ready(&f, &verified.token).await;
        let (_, third) = pending_login(&f, "conseil@test.fr").await;
        assert!(field_error(second_factor::verify_login(&f.app, &third, &recovery).await).contains("déjà servi"));
        // Malformed input is said as such.
        assert!(field_error(second_factor::verify_login(&f.app, &third, "12ab").await).contains("format"));
    }

    async fn a_pending_session_ends_after_ten_minutes(f) {
        let me = f.caller("conseil@test.fr").await;
        let (secret, _) = enrol(&f, &me).await;
        let (token, pending) = pending_login(&f, "conseil@test.fr").await;
        f.clock.advance(Duration::minutes(second_factor::PENDING_MINUTES) + Duration::seconds(1));
        assert!(caller::load_session(&f.app, &token).await.expect("load").is_none(), "expired");
        // Even with the right code, the expired session does not come back.
        assert!(matches!(second_factor::verify_login(&f.app, &pending, &code_now(&f, &secret)).await, Err(AppError::NotFound)));
        assert!(caller::load_session(&f.app, &token).await.expect("load").is_none());
    }

    async fn wrong_codes_are_throttled_after_five_even_before_the_right_one(f) {
        let me = f.caller("conseil@test.fr").await;
        let (secret, _) = enrol(&f, &me).await;
        let (_, pending) = pending_login(&f, "conseil@test.fr").await;
        let right = totp::code_at(&secret, f.app.now());
        let wrong = format!("{:06}", (right + 500_000) % 1_000_000);
        for _ in 0..second_factor::MAX_CODE_FAILURES {
            assert!(field_error(second_factor::verify_login(&f.app, &pending, &wrong).await).contains("incorrect"));
        }
        assert!(field_error(second_factor::verify_login(&f.app, &pending, &format!("{right:06}")).await).contains("Trop de codes"));
        // Fifteen minutes later the count is over (a new login: the pending one expired).
        f.clock.advance(Duration::minutes(auth::THROTTLE_WINDOW_MINUTES) + Duration::seconds(1));
        let (_, pending) = pending_login(&f, "conseil@test.fr").await;
        second_factor::verify_login(&f.app, &pending, &code_now(&f, &secret)).await.expect("right code");
    }

    async fn a_territory_requires_it_of_its_coordinators_only(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let slug = coordinator.active_territory.as_ref().expect("a territory").slug.clone();
        // The coordinator must enrol before requiring it, not to be locked out mid-change.
        assert!(field_error(second_factor::set_required(&f.app, &coordinator, &slug, true).await).contains("Activez d'abord"));
        let admin = f.caller("admin@test.fr").await;
        second_factor::set_required(&f.app, &admin, &slug, true).await.expect("required");
        // A professional may not change it.
        let professional = f.caller("conseil@test.fr").await;
        assert!(matches!(second_factor::set_required(&f.app, &professional, &slug, true).await, Err(AppError::Forbidden)));
        assert_eq!(auth::login(&f.app, "conseil@test.fr", PASSWORD, "127.0.0.1").await.expect("login").pending, None, "not a coordinator");
        // The coordinator's open session now waits for an enrolment, and so does a new login.
        let Some(Session::Pending(open)) = caller::load_session(&f.app, &open_token(&f).await).await.expect("load") else { panic!("pending") };
        assert_eq!(open.step, Step::Enrol);
        let (_, pending) = pending_login(&f, "coordination@test.fr").await;
        assert_eq!(pending.step, Step::Enrol);
        assert!(matches!(second_factor::verify_login(&f.app, &pending, "123456").await, Err(AppError::Forbidden)), "nothing to verify yet");
        let enrolment = second_factor::begin_enrolment(&f.app, pending.user_id, &pending.email).await.expect("enrolment");
        let enrolled = second_factor::confirm_enrolment(&f.app, pending.holder(), &code_now(&f, &secret_of(&enrolment))).await.expect("enrolled");
        let coordinator = ready(&f, &enrolled.token).await;
        // While required, it cannot be turned off.
        next_step(&f);
        assert!(field_error(second_factor::disable(&f.app, &coordinator, &code_now(&f, &secret_of(&enrolment))).await).contains("exige"));
        // Required no more: the coordinator turns it off with a code and signs in with a password again.
        second_factor::set_required(&f.app, &coordinator, &slug, false).await.expect("optional");
        second_factor::disable(&f.app, &coordinator, &code_now(&f, &secret_of(&enrolment))).await.expect("disabled");
        assert_eq!(auth::login(&f.app, "coordination@test.fr", PASSWORD, "127.0.0.1").await.expect("login").pending, None);
        let actions = audit_actions(&f).await;
        for action in ["second_factor_requirement", "second_factor_enabled", "second_factor_disabled"] {
            assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
        }
    }

    async fn a_coordinator_invited_where_it_is_required_enrols_before_anything_else(f) {
        let admin = f.caller("admin@test.fr").await;
        second_factor::set_required(&f.app, &admin, "maubeuge", true).await.expect("required");
        let input = app::team::InvitationInput { email: "nouvelle@test.fr".into(), display_name: "Nouvelle".into(), role: "coordinator".into(), organisation_id: String::new() };
        app::team::invite(&f.app, &admin, Some("maubeuge"), &input).await.expect("invited");
        let token = invitation_to(&f, "nouvelle@test.fr").await;
        let login = auth::accept_invitation(&f.app, &token, "Nouvelle Coordinatrice", PASSWORD, PASSWORD).await.expect("account created");
        assert_eq!(login.pending, Some(Step::Enrol));
        assert!(caller::load(&f.app, &login.token).await.expect("load").is_none(), "nothing opens before the enrolment");
        // A professional invited there signs in with the password only.
        let input = app::team::InvitationInput { email: "conseil2@test.fr".into(), display_name: "Conseil".into(), role: "professional".into(), organisation_id: f.france_travail.0.to_string() };
        app::team::invite(&f.app, &admin, Some("maubeuge"), &input).await.expect("invited");
        let token = invitation_to(&f, "conseil2@test.fr").await;
        let login = auth::accept_invitation(&f.app, &token, "Conseil Deux", PASSWORD, PASSWORD).await.expect("account created");
        assert_eq!(login.pending, None);
    }

    async fn new_recovery_codes_void_the_old_and_a_reset_from_the_command_line_ends_sessions(f) {
        let me = f.caller("conseil@test.fr").await;
        let (secret, old_codes) = enrol(&f, &me).await;
        let (_, pending) = pending_login(&f, "conseil@test.fr").await;
        let me = ready(&f, &second_factor::verify_login(&f.app, &pending, &code_now(&f, &secret)).await.expect("verified").token).await;
        next_step(&f);
        assert!(field_error(second_factor::renew_recovery_codes(&f.app, &me, &old_codes[0]).await).contains("6 chiffres"), "renewing takes the app's code");
        let new_codes = second_factor::renew_recovery_codes(&f.app, &me, &code_now(&f, &secret)).await.expect("renewed");
        assert_eq!(new_codes.len(), second_factor::RECOVERY_CODES);
        let (_, pending) = pending_login(&f, "conseil@test.fr").await;
        assert!(field_error(second_factor::verify_login(&f.app, &pending, &old_codes[0]).await).contains("incorrect"));
        second_factor::verify_login(&f.app, &pending, &new_codes[0]).await.expect("a new code works");
        // The phone and the codes are lost: whoever runs the server removes the authenticator.
        assert!(second_factor::reset_for(&f.app, "conseil@test.fr").await.expect("reset"));
        assert!(caller::load(&f.app, &me.session).await.expect("load").is_none());
        assert_eq!(auth::login(&f.app, "conseil@test.fr", PASSWORD, "127.0.0.1").await.expect("login").pending, None);
        assert!(matches!(second_factor::reset_for(&f.app, "personne@test.fr").await, Err(AppError::NotFound)));
    }
}

/// A session of the coordinator that was open, ready, before the requirement: its state is
/// read at each request, not fixed at login.
async fn open_token(f: &Fixture) -> String {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    let token = app::secrets::random_token();
    let session = store::sessions::NewSession {
        token_hash: &app::secrets::token_hash(&token),
        user: f.coordinator,
        territory: None,
        expires_at: f.app.now() + Duration::hours(1),
        second_factor_at: None,
        proconnect_id_token: None,
    };
    store::sessions::create(&mut pooled.conn(), &session, f.app.now())
        .await
        .expect("session");
    token
}

/// The link token of the invitation mailed to this address.
async fn invitation_to(f: &Fixture, email: &str) -> String {
    let mail = f
        .outbox()
        .await
        .into_iter()
        .find(|m| m.recipient == email)
        .expect("an invitation mailed");
    app::testing::link_token(&mail.body, "/invitation/")
}

async fn audit_actions(f: &Fixture) -> Vec<String> {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::audit::recent(&mut pooled.conn(), None, 200)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect()
}
