//! What a hostile or careless user tries against the use cases, and what holds — on both
//! backends. Each test is named after the attempt.

use app::auth::{self, LoginError};
use app::fixture_tests;
use app::persons::{self, EntryInput, OutreachInput, Recorded, SituationInput};
use app::team::{InvitationInput, InvitationOutcome};
use app::testing::{Fixture, PASSWORD, link_token};
use app::{AppError, Caller, caller};
use domain::{Field, PersonId};

fn day(days: i64) -> String {
    (domain::calendar::france_date(chrono::Utc::now()) + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

fn outreach_of(first: &str) -> OutreachInput {
    OutreachInput {
        first_name: first.into(),
        last_name: "Test".into(),
        channel: "permanence-bailleur".into(),
        met_on: day(-3),
        agrees_recontact: "non".into(),
        ..OutreachInput::default()
    }
}

async fn person(f: &Fixture, who: &Caller, first: &str) -> PersonId {
    let input = outreach_of(first);
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
        auth::request_password_reset(&f.app, "conseil@test.fr", "192.0.2.10").await.expect("requested");
        let token = link_token(&f.outbox().await[0].body, "/mot-de-passe/");
        auth::reset_password(&f.app, &token, "une nouvelle phrase de passe", "une nouvelle phrase de passe").await.expect("reset");
        auth::login(&f.app, "conseil@test.fr", "une nouvelle phrase de passe", "192.0.2.10").await.expect("open again");
    }

    async fn flooding_the_reset_form_sends_three_mails_at_most_and_throttles_the_address(f) {
        for _ in 0..5 {
            auth::request_password_reset(&f.app, "conseil@test.fr", "203.0.113.8").await.expect("same answer");
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
        assert!(matches!(persons::set_status(&f.app, &colleague, id, "sorti", &day(-1), &cdi()).await, Err(AppError::Forbidden)));
        let file = persons::file(&f.app, &recorder, id, "/p").await.expect("file");
        assert!(file.members.iter().filter(|m| m.ended_at.is_none()).count() >= 2, "nobody was removed");
        persons::set_status(&f.app, &recorder, id, "sorti", &day(-1), &cdi()).await.expect("the référent closes it");
    }

    async fn a_stolen_session_kept_busy_still_ends_after_its_absolute_lifetime(f) {
        let login = auth::login(&f.app, "conseil@test.fr", PASSWORD, "10.0.0.1").await.expect("login");
        for _ in 0..11 {
            f.clock.advance(chrono::Duration::minutes(60));
            assert!(caller::load(&f.app, &login.token).await.expect("load").is_some(), "active: the idle timeout never hits");
        }
        f.clock.advance(chrono::Duration::minutes(61));
        assert!(caller::load(&f.app, &login.token).await.expect("load").is_none(), "12 h after login it ends");
    }

    async fn the_health_need_and_its_text_stay_behind_the_health_gate_in_files_lists_and_filters(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let input = OutreachInput {
            need_fields: vec!["mobilite".into(), "sante-handicap".into()],
            health_needs: "Suivi psychiatrique en cours".into(),
            ..outreach_of("Yasmine")
        };
        let Recorded::Created(id) = persons::record(&f.app, &recorder, &input).await.expect("recorded") else { panic!("created") };
        persons::enter_accompaniment(&f.app, &recorder, id, &entry("", partner_ids(&f).await)).await.expect("entered");
        let colleague = f.caller_in_organisation("collegue@test.fr", f.france_travail).await;
        persons::add_member(&f.app, &recorder, id, &colleague.user_id.0.to_string(), false).await.expect("member without health access");
        let coordinator = f.caller("coordination@test.fr").await;
        let by_need = |need: &str| persons::CaseloadInput { field: need.into(), everyone: true, page: 1, ..persons::CaseloadInput::default() };
        for outsider in [&colleague, &coordinator] {
            let file = persons::file(&f.app, outsider, id, "/p").await.expect("reads the file");
            assert_eq!(file.person.need_fields.0, vec![Field::Mobilite], "{}", outsider.email);
            assert!(file.health.is_none());
            let listed = persons::caseload(&f.app, outsider, &by_need("")).await.expect("list");
            assert!(listed.rows.iter().all(|r| !r.need_fields.contains(Field::SanteHandicap)), "{}", outsider.email);
            assert_eq!(persons::caseload(&f.app, outsider, &by_need("sante-handicap")).await.expect("filter").total, 0, "the filter does not reveal it");
        }
        // The référent reads the need and its text; lists and filters find it for them.
        let file = persons::file(&f.app, &recorder, id, "/p").await.expect("référent");
        let health = file.health.expect("health data");
        assert!(health.need && !health.need_shared);
        assert_eq!(health.need_note, "Suivi psychiatrique en cours");
        let mine = persons::caseload(&f.app, &recorder, &by_need("sante-handicap")).await.expect("filter");
        assert_eq!(mine.total, 1);
        assert!(mine.rows[0].need_fields.contains(Field::SanteHandicap));
        // The référent chooses to share the existence of the need, never its text.
        let share = persons::HealthInput { need: "oui".into(), need_note: "Suivi psychiatrique en cours".into(), need_shared: "oui".into(), ..Default::default() };
        persons::set_health(&f.app, &recorder, id, &share).await.expect("shared");
        let seen = persons::file(&f.app, &colleague, id, "/p").await.expect("reads");
        assert!(seen.person.need_fields.contains(Field::SanteHandicap));
        assert!(seen.health.is_none(), "the text stays behind the gate");
        assert_eq!(persons::caseload(&f.app, &colleague, &by_need("sante-handicap")).await.expect("filter").total, 1);
        let unshare = persons::HealthInput { need: "oui".into(), need_shared: "non".into(), ..Default::default() };
        persons::set_health(&f.app, &recorder, id, &unshare).await.expect("unshared");
        assert_eq!(persons::file(&f.app, &colleague, id, "/p").await.expect("reads").person.need_fields.0, vec![Field::Mobilite]);
    }

    async fn duplicates_shown_and_refused_attempts_are_audited_and_a_piling_account_is_flagged(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let id = person(&f, &recorder, "Mariam").await;
        // A duplicate candidate shown at repérage is a disclosure: one audit row for it.
        let again = OutreachInput { last_name: "Test".into(), ..outreach_of("Mariam") };
        let Recorded::Duplicates(d) = persons::record(&f.app, &recorder, &again).await.expect("checked") else { panic!("duplicate expected") };
        assert_eq!(d.len(), 1);
        let coordinator = f.caller("coordination@test.fr").await;
        let log = persons::territory_access_log(&f.app, &coordinator, &persons::AccessLogInput { personne: id.0.to_string(), ..Default::default() }).await.expect("log");
        assert!(log.events.iter().any(|e| e.action == "person.duplicate" && e.user_id == Some(recorder.user_id.0)));
        // Someone outside the group tries to open the file again and again.
        let prowler = f.caller_in_new_organisation("curieux@test.fr", f.territory).await;
        for _ in 0..6 {
            assert!(matches!(persons::file(&f.app, &prowler, id, "/personnes/x").await, Err(AppError::NotFound)));
        }
        let denied = persons::territory_access_log(&f.app, &coordinator, &persons::AccessLogInput { refus: "1".into(), ..Default::default() }).await.expect("log");
        assert_eq!(denied.total, 6);
        assert!(denied.events.iter().all(|e| e.action == "person.denied" && e.user_id == Some(prowler.user_id.0)));
        assert_eq!(denied.suspicious.len(), 1);
        assert_eq!((denied.suspicious[0].user_id, denied.suspicious[0].attempts), (prowler.user_id.0, 6));
        let admin = f.caller("admin@test.fr").await;
        assert_eq!(app::oversight::suspicious_accounts(&f.app, &admin).await.expect("admin").len(), 1);
        // The log pages and filters by user and date, with no silent cap.
        let by_user = persons::territory_access_log(&f.app, &coordinator, &persons::AccessLogInput { utilisateur: prowler.user_id.0.to_string(), ..Default::default() }).await.expect("log");
        assert_eq!(by_user.total, 6);
        let tomorrow = persons::AccessLogInput { du: day(1), ..Default::default() };
        assert_eq!(persons::territory_access_log(&f.app, &coordinator, &tomorrow).await.expect("log").total, 0);
        let Err(AppError::Invalid(e)) = persons::territory_access_log(&f.app, &coordinator, &persons::AccessLogInput { du: day(1), au: day(-1), ..Default::default() }).await else { panic!("refused") };
        assert!(e.get("au").is_some());
        assert!(matches!(persons::territory_access_log(&f.app, &recorder, &persons::AccessLogInput::default()).await, Err(AppError::Forbidden)));
    }
}

/// The exit part of the status form: a CDI.
fn cdi() -> app::exits::ExitInput {
    app::exits::ExitInput {
        exit_kind: "cdi".into(),
        ..Default::default()
    }
}
