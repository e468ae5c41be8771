//! Accounts, sessions and authorization through the use cases, on both backends.

use app::auth::{self, LoginError};
use app::fixture_tests;
use app::team::{InvitationInput, InvitationOutcome};
use app::territories::TerritoryInput;
use app::testing::{PASSWORD, link_token};
use app::{AppError, caller};
use chrono::Duration;

fixture_tests! {
    async fn a_right_password_opens_a_session_and_a_wrong_one_says_nothing_about_the_account(f) {
        let login = auth::login(&f.app, "Coordination@Test.fr ", PASSWORD, "10.0.0.1").await.expect("logged in");
        let caller = caller::load(&f.app, &login.token).await.expect("load").expect("session");
        assert_eq!(caller.user_id, f.coordinator);
        assert_eq!(caller.active_territory.as_ref().map(|t| t.id), Some(f.territory));
        let wrong = auth::login(&f.app, "coordination@test.fr", "pas le bon", "10.0.0.1").await.expect_err("wrong password");
        let unknown = auth::login(&f.app, "personne@test.fr", PASSWORD, "10.0.0.1").await.expect_err("unknown account");
        assert!(matches!(wrong, LoginError::Invalid) && matches!(unknown, LoginError::Invalid));
        assert_eq!(wrong.to_string(), unknown.to_string());
    }

    async fn the_sixth_failure_in_a_row_is_throttled_even_with_the_right_password_until_the_window_passes(f) {
        for _ in 0..5 {
            let e = auth::login(&f.app, "conseil@test.fr", "mauvais", "10.0.0.2").await.expect_err("wrong");
            assert!(matches!(e, LoginError::Invalid));
        }
        let sixth = auth::login(&f.app, "conseil@test.fr", PASSWORD, "10.0.0.2").await.expect_err("throttled");
        assert!(matches!(sixth, LoginError::Throttled), "{sixth:?}");
        assert!(sixth.to_string().contains("15 minutes"));
        // The account's owner, elsewhere, is not locked out by the attacker's failures.
        auth::login(&f.app, "conseil@test.fr", PASSWORD, "10.0.0.3").await.expect("from another address");
        // Another account from the same address is not locked out by this account's failures.
        auth::login(&f.app, "coordination@test.fr", PASSWORD, "10.0.0.2").await.expect("other account");
        f.clock.advance(Duration::minutes(16));
        auth::login(&f.app, "conseil@test.fr", PASSWORD, "10.0.0.2").await.expect("window passed");
    }

    async fn an_unknown_address_is_throttled_like_a_real_one(f) {
        for _ in 0..5 {
            let _ = auth::login(&f.app, "inconnu@test.fr", "x", "10.0.0.4").await;
        }
        let e = auth::login(&f.app, "inconnu@test.fr", "x", "10.0.0.4").await.expect_err("throttled");
        assert!(matches!(e, LoginError::Throttled));
    }

    async fn a_reset_link_sets_a_new_password_once_and_ends_open_sessions(f) {
        let old = auth::login(&f.app, "conseil@test.fr", PASSWORD, "10.0.0.5").await.expect("login");
        auth::request_password_reset(&f.app, "conseil@test.fr", "10.0.0.5").await.expect("requested");
        auth::request_password_reset(&f.app, "personne@test.fr", "10.0.0.5").await.expect("same answer for an unknown address");
        let outbox = f.outbox().await;
        assert_eq!(outbox.len(), 1, "nothing is sent to an unknown address");
        assert_eq!(outbox[0].recipient, "conseil@test.fr");
        let token = link_token(&outbox[0].body, "/mot-de-passe/");
        assert!(auth::reset_link_is_valid(&f.app, &token).await.expect("peek"));
        let short = auth::reset_password(&f.app, &token, "court", "court").await.expect_err("too short");
        assert!(matches!(short, AppError::Invalid(ref e) if e.get("password").is_some()));
        auth::reset_password(&f.app, &token, "nouvelle phrase de passe", "nouvelle phrase de passe").await.expect("reset");
        assert!(caller::load(&f.app, &old.token).await.expect("load").is_none(), "old sessions end");
        assert!(matches!(auth::reset_password(&f.app, &token, "encore une phrase", "encore une phrase").await, Err(AppError::NotFound)));
        auth::login(&f.app, "conseil@test.fr", "nouvelle phrase de passe", "10.0.0.5").await.expect("new password works");
        assert!(matches!(auth::login(&f.app, "conseil@test.fr", PASSWORD, "10.0.0.5").await, Err(LoginError::Invalid)));
    }

    async fn a_reset_link_expires_after_an_hour(f) {
        auth::request_password_reset(&f.app, "conseil@test.fr", "10.0.0.5").await.expect("requested");
        let token = link_token(&f.outbox().await[0].body, "/mot-de-passe/");
        f.clock.advance(Duration::minutes(61));
        assert!(!auth::reset_link_is_valid(&f.app, &token).await.expect("peek"));
        let late = auth::reset_password(&f.app, &token, "nouvelle phrase de passe", "nouvelle phrase de passe").await;
        assert!(matches!(late, Err(AppError::NotFound)));
    }

    async fn a_coordinator_invites_a_partner_professional_who_joins_with_the_link_once(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let input = InvitationInput {
            email: "nouvelle@test.fr".into(),
            display_name: "Nora Nouvelle".into(),
            role: "professional".into(),
            organisation_id: f.france_travail.0.to_string(),
        };
        let outcome = app::team::invite(&f.app, &coordinator, Some("maubeuge"), &input).await.expect("invited");
        assert_eq!(outcome, InvitationOutcome::Invited);
        let mail = &f.outbox().await[0];
        assert_eq!(mail.recipient, "nouvelle@test.fr");
        let token = link_token(&mail.body, "/invitation/");
        let login = auth::accept_invitation(&f.app, &token, "Nora Nouvelle", "phrase de passe longue", "phrase de passe longue").await.expect("accepted");
        let newcomer = caller::load(&f.app, &login.token).await.expect("load").expect("session");
        assert_eq!(newcomer.territories.iter().map(|t| t.slug.as_str()).collect::<Vec<_>>(), vec!["maubeuge"]);
        assert_eq!(newcomer.organisations(), vec![f.france_travail]);
        let again = auth::accept_invitation(&f.app, &token, "Nora", "phrase de passe longue", "phrase de passe longue").await;
        assert!(matches!(again, Err(AppError::NotFound)), "single use");
    }

    async fn an_invitation_for_an_existing_account_opens_nothing_until_that_account_accepts_it(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let input = InvitationInput { email: "ailleurs@test.fr".into(), display_name: "X".into(), role: "pilot".into(), organisation_id: String::new() };
        assert_eq!(app::team::invite(&f.app, &coordinator, Some("maubeuge"), &input).await.expect("invited"), InvitationOutcome::Invited);
        assert!(!f.caller("ailleurs@test.fr").await.may_enter(f.territory), "no access before acceptance");
        let token = link_token(&f.outbox().await[0].body, "/invitation/");
        // Whoever holds the link cannot take over the account with it, nor accept it as someone else.
        let taken = auth::accept_invitation(&f.app, &token, "Intrus", "phrase de passe longue", "phrase de passe longue").await;
        assert!(matches!(taken, Err(AppError::Forbidden)), "{taken:?}");
        assert!(matches!(auth::accept_invitation_as(&f.app, &coordinator, &token).await, Err(AppError::Forbidden)));
        let invited = f.caller("ailleurs@test.fr").await;
        auth::accept_invitation_as(&f.app, &invited, &token).await.expect("accepted by the account");
        assert!(f.caller("ailleurs@test.fr").await.may_enter(f.territory));
        assert_eq!(app::team::invite(&f.app, &coordinator, Some("maubeuge"), &input).await.expect("idempotent"), InvitationOutcome::AlreadyMember);
    }

    async fn an_invitation_expires_after_seven_days(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let input = InvitationInput { email: "tard@test.fr".into(), display_name: "Tard".into(), role: "coordinator".into(), organisation_id: String::new() };
        app::team::invite(&f.app, &coordinator, Some("maubeuge"), &input).await.expect("invited");
        let token = link_token(&f.outbox().await[0].body, "/invitation/");
        f.clock.advance(Duration::days(8));
        assert!(matches!(auth::pending_invitation(&f.app, &token).await, Err(AppError::NotFound)));
    }

    async fn only_a_coordinator_of_the_territory_invites_and_only_staff_of_its_partners(f) {
        let input = |role: &str, org: String| InvitationInput { email: "x@test.fr".into(), display_name: "X".into(), role: role.into(), organisation_id: org };
        let professional = f.caller("conseil@test.fr").await;
        assert!(matches!(app::team::invite(&f.app, &professional, Some("maubeuge"), &input("professional", f.france_travail.0.to_string())).await, Err(AppError::Forbidden)));
        let coordinator = f.caller("coordination@test.fr").await;
        // Roubaix is not the coordinator's territory: it does not even exist for them.
        assert!(matches!(app::team::invite(&f.app, &coordinator, Some("roubaix"), &input("pilot", String::new())).await, Err(AppError::NotFound)));
        // The Mission locale is a partner of Roubaix, not of Maubeuge.
        let Err(AppError::Invalid(errors)) = app::team::invite(&f.app, &coordinator, Some("maubeuge"), &input("professional", f.mission_locale.0.to_string())).await else { panic!("refused") };
        assert!(errors.get("organisation_id").is_some());
        // Administrator roles are given nationally, by administrators only.
        assert!(matches!(app::team::invite(&f.app, &coordinator, Some("maubeuge"), &input("admin", String::new())).await, Err(AppError::Invalid(_))));
        assert!(matches!(app::team::invite(&f.app, &coordinator, None, &input("admin", String::new())).await, Err(AppError::Forbidden)));
        assert!(f.outbox().await.is_empty());
    }

    async fn each_role_enters_exactly_its_territories(f) {
        let slugs = |c: &app::Caller| c.territories.iter().map(|t| t.slug.clone()).collect::<Vec<_>>();
        assert_eq!(slugs(&f.caller("admin@test.fr").await), vec!["maubeuge", "roubaix"]);
        assert_eq!(slugs(&f.caller("coordination@test.fr").await), vec!["maubeuge"]);
        assert_eq!(slugs(&f.caller("conseil@test.fr").await), vec!["maubeuge"]);
        assert_eq!(slugs(&f.caller("pilote@test.fr").await), vec!["maubeuge"]);
        let outsider = f.caller("ailleurs@test.fr").await;
        assert_eq!(slugs(&outsider), vec!["roubaix"]);
        assert!(matches!(caller::switch_territory(&f.app, &outsider, "maubeuge").await, Err(AppError::NotFound)));
    }

    async fn switching_territory_is_remembered_by_the_session(f) {
        let login = auth::login(&f.app, "admin@test.fr", PASSWORD, "10.0.0.6").await.expect("login");
        let admin = caller::load(&f.app, &login.token).await.expect("load").expect("session");
        assert_eq!(admin.active_territory.as_ref().map(|t| t.slug.as_str()), Some("maubeuge"));
        caller::switch_territory(&f.app, &admin, "roubaix").await.expect("switched");
        let again = caller::load(&f.app, &login.token).await.expect("load").expect("session");
        assert_eq!(again.active_territory.as_ref().map(|t| t.slug.as_str()), Some("roubaix"));
    }

    async fn only_administrators_create_territories_and_each_creation_is_audited(f) {
        let input = TerritoryInput { name: "Cité de Lille".into(), status: "preparation".into(), communes: "59350".into(), ..TerritoryInput::default() };
        let coordinator = f.caller("coordination@test.fr").await;
        assert!(matches!(app::territories::create(&f.app, &coordinator, &input).await, Err(AppError::Forbidden)));
        let admin = f.caller("admin@test.fr").await;
        let id = app::territories::create(&f.app, &admin, &input).await.expect("created");
        let twin = app::territories::create(&f.app, &admin, &input).await.expect_err("same slug");
        assert!(matches!(twin, AppError::Invalid(ref e) if e.get("slug").is_some()));
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let events = store::audit::recent(&mut pooled.conn(), Some(id), 10).await.expect("audit");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].action, "territory_created");
        assert_eq!(events[0].user_id, Some(admin.user_id.0));
    }

    async fn a_coordinator_creates_an_organisation_that_joins_their_territory(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let input = app::organisations::OrganisationInput {
            name: "Association Les Ailes".into(), kind: "association".into(), siret: String::new(),
            address: "3 rue du Pont".into(), postal_code: "59600".into(), commune: "Maubeuge".into(),
        };
        let org = app::organisations::create(&f.app, &coordinator, &input, Some("maubeuge")).await.expect("created");
        let overview = app::team::overview(&f.app, &coordinator, "maubeuge").await.expect("overview");
        assert!(overview.partners.iter().any(|o| o.id == org));
        assert!(matches!(app::organisations::create(&f.app, &coordinator, &input, None).await, Err(AppError::Forbidden)));
        let professional = f.caller("conseil@test.fr").await;
        assert!(matches!(app::organisations::create(&f.app, &professional, &input, Some("maubeuge")).await, Err(AppError::Forbidden)));
        let seen = app::team::overview(&f.app, &professional, "maubeuge").await.expect("professionals see the partners");
        assert!(seen.management.is_none(), "but not the team management");
    }
}
