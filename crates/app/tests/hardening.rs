//! What a hostile or careless user tries against the use cases, and what holds — on both
//! backends. Each test is named after the attempt.

use app::auth::{self, LoginError};
use app::fixture_tests;
use app::persons::{self, EntryInput, OutreachInput, Recorded, SituationInput};
use app::team::{InvitationInput, InvitationOutcome};
use app::testing::{Fixture, PASSWORD};
use app::{AppError, Caller, caller};
use domain::PersonId;

fn day(days: i64) -> String {
    (domain::calendar::france_date(chrono::Utc::now()) + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

fn link_token(body: &str, path: &str) -> String {
    let start = body.find(path).expect("link in the mail") + path.len();
    body[start..]
        .split_whitespace()
        .next()
        .expect("token")
        .to_string()
}

async fn person(f: &Fixture, who: &Caller, first: &str) -> PersonId {
    let input = OutreachInput {
        first_name: first.into(),
        last_name: "Test".into(),
        channel: "permanence-bailleur".into(),
        met_on: day(-3),
        agrees_recontact: "non".into(),
        ..OutreachInput::default()
    };
    match persons::record(&f.app, who, &input)
        .await
        .expect("recorded")
    {
        Recorded::Created(id) => id,
        Recorded::Duplicates(d) => panic!("duplicates {d:?}"),
    }
}

async fn partner_ids(f: &Fixture) -> Vec<String> {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::organisations::partners_of(&mut pooled.conn(), f.territory)
        .await
        .expect("partners")
        .iter()
        .map(|o| o.id.0.to_string())
        .collect()
}

fn entry(referent: &str, organisations: Vec<String>) -> EntryInput {
    EntryInput {
        given_on: day(-1),
        method: "ecrit".into(),
        purposes: vec!["accompagnement".into(), "partage".into()],
        organisations,
        referent: referent.into(),
        situation: SituationInput::default(),
    }
}

fixture_tests! {
    async fn thirty_parallel_wrong_passwords_get_at_most_five_password_checks(f) {
        let mut tasks = Vec::new();
        for _ in 0..30 {
            let app = f.app.clone();
            tasks.push(tokio::spawn(async move { auth::login(&app, "conseil@test.fr", "devine", "10.9.9.9").await }));
        }
        let mut checked = 0;
        let mut throttled = 0;
        for t in tasks {
            match t.await.expect("task") {
                Err(LoginError::Invalid) => checked += 1,
                Err(LoginError::Throttled) => throttled += 1,
                other => panic!("{other:?}"),
            }
        }
        assert!(checked <= 5, "{checked} password checks");
        assert_eq!(checked + throttled, 30);
    }

    async fn an_attacker_cannot_lock_a_known_account_out_and_a_reset_link_always_opens_it(f) {
        for _ in 0..10 {
            let _ = auth::login(&f.app, "conseil@test.fr", "devine", "203.0.113.7").await;
        }
        auth::login(&f.app, "conseil@test.fr", PASSWORD, "192.0.2.10").await.expect("the owner, from elsewhere");
        // A guess spread over many addresses ends up throttled for everyone…
        for i in 0..60 {
            let _ = auth::login(&f.app, "conseil@test.fr", "devine", &format!("198.51.100.{i}")).await;
        }
        assert!(matches!(auth::login(&f.app, "conseil@test.fr", PASSWORD, "192.0.2.10").await, Err(LoginError::Throttled)));
        // …until the owner follows a reset link.
        auth::request_password_reset(&f.app, "conseil@test.fr", "192.0.2.10").await.expect("requested").finished().await;
        let token = link_token(&f.outbox().await[0].body, "/mot-de-passe/");
        auth::reset_password(&f.app, &token, "une nouvelle phrase de passe", "une nouvelle phrase de passe").await.expect("reset");
        auth::login(&f.app, "conseil@test.fr", "une nouvelle phrase de passe", "192.0.2.10").await.expect("open again");
    }

    async fn flooding_the_reset_form_sends_three_mails_at_most_and_throttles_the_address(f) {
        for _ in 0..5 {
            auth::request_password_reset(&f.app, "conseil@test.fr", "203.0.113.8").await.expect("same answer").finished().await;
        }
        assert_eq!(f.outbox().await.len(), 3, "three links an hour for one account");
        for i in 0..5 {
            let _ = auth::request_password_reset(&f.app, &format!("x{i}@test.fr"), "203.0.113.8").await;
        }
        let Err(AppError::Invalid(e)) = auth::request_password_reset(&f.app, "y@test.fr", "203.0.113.8").await else { panic!("address throttled") };
        assert!(e.get("email").expect("why").contains("réessayez dans une heure"));
    }

    async fn withdrawing_consent_when_the_referent_is_a_coordinator_removes_every_partner(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let id = person(&f, &coordinator, "Salomé").await;
        persons::enter_accompaniment(&f.app, &coordinator, id, &entry("", partner_ids(&f).await)).await.expect("entered, coordinator référent");
        let partner = f.caller("conseil@test.fr").await;
        persons::add_member(&f.app, &coordinator, id, &partner.user_id.0.to_string(), false).await.expect("added");
        assert!(persons::file(&f.app, &partner, id, "/p").await.is_ok());
        let ended = persons::revoke_consent(&f.app, &coordinator, id).await.expect("revoked");
        assert_eq!(ended, 1);
        assert!(matches!(persons::file(&f.app, &partner, id, "/p").await, Err(AppError::NotFound)));
        assert!(persons::file(&f.app, &coordinator, id, "/p").await.is_ok(), "the référent keeps the file");
    }

    async fn an_administrator_cannot_invite_themself_into_a_territory(f) {
        let admin = f.caller("admin@test.fr").await;
        let me = InvitationInput { email: "Admin@Test.fr".into(), display_name: "Moi".into(), role: "coordinator".into(), organisation_id: String::new() };
        let Err(AppError::Invalid(e)) = app::team::invite(&f.app, &admin, Some("maubeuge"), &me).await else { panic!("refused") };
        assert!(e.get("email").is_some());
        let national = InvitationInput { role: "pilot".into(), ..me };
        assert!(matches!(app::team::invite(&f.app, &admin, None, &national).await, Err(AppError::Invalid(_))));
        assert!(f.outbox().await.is_empty());
        assert!(!f.caller("admin@test.fr").await.is_coordinator_of(f.territory));
    }

    async fn administrators_never_read_a_live_link_in_the_outbox(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let input = InvitationInput { email: "nouveau@test.fr".into(), display_name: "Nouveau".into(), role: "coordinator".into(), organisation_id: String::new() };
        app::team::invite(&f.app, &coordinator, Some("maubeuge"), &input).await.expect("invited");
        let token = link_token(&f.outbox().await[0].body, "/invitation/");
        let admin = f.caller("admin@test.fr").await;
        let listed = app::oversight::outbox(&f.app, &admin).await.expect("outbox");
        let read = app::oversight::mail(&f.app, &admin, listed[0].id).await.expect("mail");
        for body in [&listed[0].body, &read.body] {
            assert!(!body.contains(&token), "{body}");
            assert!(body.contains("/invitation/[lien masqué]"), "{body}");
        }
    }

    async fn a_coordinator_of_one_territory_cannot_enter_another_through_a_shared_partner(f) {
        // Roubaix's Mission locale becomes a partner of Maubeuge; Maubeuge's coordinator invites
        // a newcomer as its staff. The membership opens Maubeuge, not Roubaix.
        let coordinator = f.caller("coordination@test.fr").await;
        app::team::add_partner(&f.app, &coordinator, "maubeuge", &f.mission_locale.0.to_string()).await.expect("partner");
        let input = InvitationInput { email: "complice@test.fr".into(), display_name: "Complice".into(), role: "professional".into(), organisation_id: f.mission_locale.0.to_string() };
        assert_eq!(app::team::invite(&f.app, &coordinator, Some("maubeuge"), &input).await.expect("invited"), InvitationOutcome::Invited);
        let token = link_token(&f.outbox().await[0].body, "/invitation/");
        let login = auth::accept_invitation(&f.app, &token, "Complice", "phrase de passe longue", "phrase de passe longue").await.expect("accepted");
        let newcomer = caller::load(&f.app, &login.token).await.expect("load").expect("session");
        let slugs: Vec<&str> = newcomer.territories.iter().map(|t| t.slug.as_str()).collect();
        assert_eq!(slugs, vec!["maubeuge"]);
        assert!(newcomer.organisations_in(f.other_territory).is_empty());
        // Roubaix's own staff of the Mission locale still enter Roubaix only through it.
        let roubaix_staff = f.caller("ailleurs@test.fr").await;
        assert!(roubaix_staff.may_enter(f.other_territory));
    }

    async fn nobody_grants_health_access_to_themself_and_a_plain_member_cannot_close_the_file(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let id = person(&f, &recorder, "Nadia").await;
        persons::enter_accompaniment(&f.app, &recorder, id, &entry("", partner_ids(&f).await)).await.expect("entered");
        let coordinator = f.caller("coordination@test.fr").await;
        let Err(AppError::Invalid(e)) = persons::add_member(&f.app, &coordinator, id, &coordinator.user_id.0.to_string(), true).await else { panic!("self-grant refused") };
        assert!(e.get("user").expect("why").contains("vous-même"));
        let colleague = f.caller_in_organisation("collegue@test.fr", f.france_travail).await;
        persons::add_member(&f.app, &recorder, id, &colleague.user_id.0.to_string(), false).await.expect("member");
        assert!(matches!(persons::change_referent(&f.app, &colleague, id, &colleague.user_id.0.to_string()).await, Err(AppError::Forbidden)), "a member is no manager");
        assert!(matches!(persons::set_status(&f.app, &colleague, id, "sorti", &day(-1), "emploi-durable").await, Err(AppError::Forbidden)));
        let file = persons::file(&f.app, &recorder, id, "/p").await.expect("file");
        assert!(file.members.iter().filter(|m| m.ended_at.is_none()).count() >= 2, "nobody was removed");
        persons::set_status(&f.app, &recorder, id, "sorti", &day(-1), "emploi-durable").await.expect("the référent closes it");
    }
}
