//! Sign-in with ProConnect against a local OpenID provider speaking the real protocol (app's
//! `fake_proconnect`), on both backends: what opens a session, and everything that must not.

use app::caller::{self, Session};
use app::fake_proconnect::{Agent, FakeProConnect, Misbehaviour};
use app::proconnect::{self, Arrival, ProConnectError, Return};
use app::second_factor::{self, Step};
use app::testing::Fixture;
use app::{Settings, totp};

use domain::{Email, OrganisationId};

use app::fake_proconnect::FRANCE_TRAVAIL_SIRET as SIRET;
/// Another valid SIRET (DINUM's).
const OTHER_SIRET: &str = "13002526500013";

async fn setup(backend: store::Backend) -> (Fixture, FakeProConnect) {
    FakeProConnect::fixture(backend).await
}

macro_rules! proconnect_tests {
    ($(async fn $name:ident($f:ident, $p:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let ($f, $p) = setup(store::Backend::Sqlite).await;
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let ($f, $p) = setup(store::Backend::Postgres).await;
                $body
            }
        }
    )*};
}

/// What the browser brings back from the provider's authorization endpoint.
struct Back {
    state: String,
    code: Option<String>,
    error: Option<String>,
    /// The state the browser kept in its cookie when it left.
    kept: String,
}

/// Leaves for the provider as a browser would and follows its redirection back.
async fn go_to_provider(f: &Fixture, p: &FakeProConnect, next: &str) -> Back {
    let departure = proconnect::begin(&f.app, next).await.expect("departure");
    let location = p.visit(&departure.url).await;
    let back = url::Url::parse(&location).expect("return address");
    assert_eq!(back.path(), proconnect::RETURN_PATH);
    let param = |name: &str| {
        back.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    Back {
        state: param("state").expect("state"),
        code: param("code"),
        error: param("error"),
        kept: departure.state,
    }
}

async fn come_back(f: &Fixture, back: &Back) -> Result<Arrival, ProConnectError> {
    proconnect::finish(
        &f.app,
        Return {
            state: &back.state,
            browser_state: Some(&back.kept),
            code: back.code.as_deref(),
            error: back.error.as_deref(),
            error_description: None,
            client_ip: "127.0.0.1",
        },
    )
    .await
}

async fn sign_in(f: &Fixture, p: &FakeProConnect) -> Result<Arrival, ProConnectError> {
    let back = go_to_provider(f, p, "/personnes").await;
    come_back(f, &back).await
}

fn refusal(result: Result<Arrival, ProConnectError>) -> String {
    match result {
        Err(ProConnectError::Refused(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Open sessions of the fixture's France Travail professional.
async fn sessions(f: &Fixture) -> i64 {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::sessions::count_for_user(&mut pooled.conn(), f.professional, f.app.now())
        .await
        .expect("count")
}

async fn logins_by_proconnect(f: &Fixture, user: domain::UserId) -> usize {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::audit::for_target(&mut pooled.conn(), "user", user.0, 50)
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.action == "login" && e.detail == "proconnect")
        .count()
}

proconnect_tests! {
    async fn a_professional_signs_in_and_lands_where_they_asked(f, p) {
        p.sign_in(Some(Agent::new("conseil@test.fr", SIRET)));
        let arrival = sign_in(&f, &p).await.expect("signed in");
        assert_eq!(arrival.next, "/personnes");
        assert_eq!(arrival.login.user, f.professional);
        assert_eq!(arrival.login.pending, None, "no second factor on this account");
        let me = caller::load(&f.app, &arrival.login.token).await.expect("load").expect("a ready session");
        assert_eq!(me.email, "conseil@test.fr");
        assert_eq!(logins_by_proconnect(&f, f.professional).await, 1, "the login is audited as ProConnect's");
    }

    async fn forged_expired_or_misdirected_id_tokens_open_nothing(f, p) {
        p.sign_in(Some(Agent::new("conseil@test.fr", SIRET)));
        for misbehaviour in [Misbehaviour::ForeignKey, Misbehaviour::WrongNonce, Misbehaviour::WrongAudience, Misbehaviour::Expired] {
            p.misbehave(misbehaviour);
            let message = refusal(sign_in(&f, &p).await);
            assert!(message.contains("n'a pas pu être vérifiée"), "{misbehaviour:?}: {message}");
        }
        assert_eq!(sessions(&f).await, 0, "no session was opened");
        // The same person, with an honest answer, gets in: the refusals were the tokens'.
        p.misbehave(Misbehaviour::None);
        sign_in(&f, &p).await.expect("signed in");
        assert_eq!(sessions(&f).await, 1);
    }

    async fn a_replayed_return_or_code_opens_nothing(f, p) {
        p.sign_in(Some(Agent::new("conseil@test.fr", SIRET)));
        let back = go_to_provider(&f, &p, "/").await;
        come_back(&f, &back).await.expect("first return");
        // The same address again: the state is spent.
        assert!(refusal(come_back(&f, &back).await).contains("a déjà servi"));
        // The captured code under a sign-in of the attacker's own: the provider refuses it.
        let mut fresh = go_to_provider(&f, &p, "/").await;
        fresh.code = back.code.clone();
        assert!(refusal(come_back(&f, &fresh).await).contains("refusé le code"));
        assert_eq!(sessions(&f).await, 1, "only the first return opened a session");
    }

    async fn a_return_in_another_browser_is_refused_and_spends_the_state(f, p) {
        p.sign_in(Some(Agent::new("conseil@test.fr", SIRET)));
        let mut back = go_to_provider(&f, &p, "/").await;
        let kept = back.kept.clone();
        back.kept = "un-autre-navigateur".into();
        assert!(refusal(come_back(&f, &back).await).contains("expiré ou a déjà servi"));
        back.kept = kept;
        assert!(refusal(come_back(&f, &back).await).contains("expiré ou a déjà servi"), "the state died with the first attempt");
        assert_eq!(p.token_requests(), 0, "the code never left for the provider");
    }

    async fn a_return_after_ten_minutes_is_refused(f, p) {
        p.sign_in(Some(Agent::new("conseil@test.fr", SIRET)));
        let back = go_to_provider(&f, &p, "/").await;
        f.clock.advance(chrono::Duration::minutes(proconnect::LOGIN_MINUTES + 1));
        assert!(refusal(come_back(&f, &back).await).contains("expiré"));
    }

    async fn an_unknown_address_gets_no_account(f, p) {
        p.sign_in(Some(Agent::new("inconnu@exemple.fr", SIRET)));
        let message = refusal(sign_in(&f, &p).await);
        assert!(message.contains("Aucun compte Passerelle ni aucune invitation en cours ne correspond à l'adresse inconnu@exemple.fr"), "{message}");
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let email = Email::parse("inconnu@exemple.fr").expect("email");
        assert!(store::users::by_email(&mut pooled.conn(), &email).await.expect("read").is_none(), "no account was created");
    }

    async fn an_account_of_another_establishment_is_refused(f, p) {
        p.sign_in(Some(Agent::new("conseil@test.fr", OTHER_SIRET)));
        let message = refusal(sign_in(&f, &p).await);
        assert!(message.contains("aucune structure de SIRET 13002526500013"), "{message}");
        // An account whose memberships carry no SIRET at all (the coordinator's) neither.
        p.sign_in(Some(Agent::new("coordination@test.fr", SIRET)));
        assert!(refusal(sign_in(&f, &p).await).contains("aucune structure de SIRET"));
        assert_eq!(sessions(&f).await, 0);
    }

    async fn an_invitation_to_the_establishment_opens_the_account_and_nothing_more(f, p) {
        let coordinator = f.caller("coordination@test.fr").await;
        let invite = |email: &str, org: OrganisationId| app::team::InvitationInput {
            email: email.into(),
            display_name: "Nom choisi par la coordination".into(),
            role: "professional".into(),
            organisation_id: org.0.to_string(),
        };
        app::team::invite(&f.app, &coordinator, Some("maubeuge"), &invite("nouvelle@francetravail.fr", f.france_travail)).await.expect("invited");
        // A second partner of the territory, without this SIRET: its invitation stays pending.
        let other = f.caller_in_new_organisation("autre@test.fr", f.territory).await;
        let other_org = other.memberships[0].organisation().expect("organisation");
        app::team::invite(&f.app, &coordinator, Some("maubeuge"), &invite("nouvelle@francetravail.fr", other_org)).await.expect("invited");

        let mut agent = Agent::new("Nouvelle@FranceTravail.fr", SIRET);
        agent.given_name = "Inès".into();
        agent.usual_name = "Benali".into();
        p.sign_in(Some(agent));
        let arrival = sign_in(&f, &p).await.expect("signed in");
        let me = caller::load(&f.app, &arrival.login.token).await.expect("load").expect("ready");
        assert_eq!(me.display_name, "Inès Benali");
        assert_eq!(me.memberships.len(), 1, "only the invitation to France Travail was accepted");
        assert_eq!(me.memberships[0].organisation(), Some(f.france_travail));
        assert_eq!(me.memberships[0].role(), Some(domain::Role::Professional));
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let pending = store::tokens::pending_invitations_for(&mut pooled.conn(), "nouvelle@francetravail.fr", f.app.now()).await.expect("read");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].organisation_id, Some(other_org.0));
        let user = store::users::by_email(&mut pooled.conn(), &Email::parse("nouvelle@francetravail.fr").expect("email")).await.expect("read").expect("account");
        assert!(user.password_hash.is_none(), "the account has no password of its own");
    }

    async fn the_second_factor_is_asked_unless_the_provider_checked_one(f, p) {
        let me = f.caller("conseil@test.fr").await;
        let enrolment = second_factor::begin_enrolment(&f.app, me.user_id, &me.email).await.expect("enrolment");
        let secret = totp::decode_base32(&enrolment.secret).expect("base 32");
        let code = format!("{:06}", totp::code_at(&secret, f.app.now()));
        second_factor::confirm_enrolment(&f.app, me.holder(), &code).await.expect("confirmed");

        p.sign_in(Some(Agent::new("conseil@test.fr", SIRET)));
        let arrival = sign_in(&f, &p).await.expect("signed in");
        assert_eq!(arrival.login.pending, Some(Step::Verify));
        assert!(matches!(caller::load_session(&f.app, &arrival.login.token).await.expect("load"), Some(Session::Pending(_))));

        let mut agent = Agent::new("conseil@test.fr", SIRET);
        agent.amr = vec!["pwd".into(), "mfa".into()];
        p.sign_in(Some(agent));
        let arrival = sign_in(&f, &p).await.expect("signed in");
        assert_eq!(arrival.login.pending, None, "ProConnect's own second factor counts");
        caller::load(&f.app, &arrival.login.token).await.expect("load").expect("a ready session");
    }

    async fn logging_out_ends_the_sign_in_at_the_provider_too(f, p) {
        p.sign_in(Some(Agent::new("conseil@test.fr", SIRET)));
        let arrival = sign_in(&f, &p).await.expect("signed in");
        let me = caller::load(&f.app, &arrival.login.token).await.expect("load").expect("ready");
        let to = app::auth::logout(&f.app, &me).await.expect("logged out").expect("the provider's end of session");
        let end = url::Url::parse(&to).expect("address");
        assert!(to.starts_with(&format!("{}/session/end?", p.issuer)), "{to}");
        let hint = end.query_pairs().find(|(k, _)| k == "id_token_hint").map(|(_, v)| v.into_owned()).expect("id_token_hint");
        assert_eq!(hint.split('.').count(), 3, "the ID token goes back to the provider");
        let back = p.visit(&to).await;
        assert!(back.contains(proconnect::LOGGED_OUT_PATH), "{back}");
        assert_eq!(p.logouts().len(), 1);
        assert!(caller::load(&f.app, &arrival.login.token).await.expect("load").is_none(), "the local session is over");

        // A password session logs out locally only.
        let login = app::auth::login(&f.app, "conseil@test.fr", app::testing::PASSWORD, "127.0.0.1").await.expect("login");
        let me = caller::load(&f.app, &login.token).await.expect("load").expect("ready");
        assert_eq!(app::auth::logout(&f.app, &me).await.expect("logged out"), None);
    }

    async fn cancelling_at_the_provider_says_so(f, p) {
        p.sign_in(None);
        let message = refusal(sign_in(&f, &p).await);
        assert!(message.contains("Vous avez interrompu la connexion"), "{message}");
    }
}

app::fixture_tests! {
    offline;
    async fn an_unreachable_provider_is_said_so_and_a_service_without_it_refuses(f) {
        assert!(matches!(proconnect::begin(&f.app, "/").await, Err(ProConnectError::NotConfigured)));
        let settings = Settings {
            proconnect: Some(app::proconnect::ProConnectSettings {
                issuer: "http://127.0.0.1:9/api/v2".into(),
                client_id: "passerelle".into(),
                client_secret: "secret".into(),
            }),
            ..Settings::default()
        };
        let app = app::App::new(f.app.db.clone(), settings, None).await.expect("app");
        let refused = proconnect::begin(&app, "/").await.expect_err("unreachable");
        assert!(matches!(refused, ProConnectError::Unavailable));
        assert!(refused.to_string().contains("ne répond pas"), "{refused}");
    }
}
