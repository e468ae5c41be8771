//! Steering the territory through the use cases, on both backends: meetings with attendees,
//! decisions and action items (on the owner's list, done by the owner), the situations
//! reviewed named only to those who may open the file, the roadmap with its measured and
//! entered indicators masked for pilots, and who may write what.

use app::governance::{self, ActionItemInput, CaseInput, MeetingInput, RoadmapInput};
use app::persons::{self, OutreachInput, Recorded};
use app::testing::Fixture;
use app::{AppError, Caller};
use domain::PersonId;

macro_rules! tests {
    ($($t:tt)*) => { app::fixture_tests! { offline; $($t)* } };
}

fn day(f: &Fixture, days: i64) -> String {
    domain::iso_date(f.app.today_in(domain::TimeZone::Paris) + chrono::Duration::days(days))
}

async fn person(f: &Fixture, who: &Caller, first: &str, phone: &str) -> PersonId {
    let input = OutreachInput {
        first_name: first.into(),
        last_name: "Lefebvre".into(),
        phone: phone.into(),
        channel: "pied-d-immeuble".into(),
        met_on: day(f, -20),
        postal_code: "59600".into(),
        commune: "Maubeuge".into(),
        agrees_recontact: "oui".into(),
        ..OutreachInput::default()
    };
    match persons::record(&f.app, who, &input)
        .await
        .expect("recorded")
    {
        Recorded::Created(id) => id,
        _ => panic!("duplicate"),
    }
}

fn cell(f: &Fixture) -> MeetingInput {
    MeetingInput {
        kind: "cellule-operationnelle".into(),
        held_on: day(f, -2),
        title: "Cellule de décembre".into(),
        agenda: "Situations bloquées ; forum de l'emploi.".into(),
        notes: String::new(),
        attendees: vec![f.france_travail.0.to_string()],
    }
}

tests! {
    async fn a_meeting_s_decisions_and_action_items_reach_their_owner(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let pro = f.caller("conseil@test.fr").await;
        let pilot = f.caller("pilote@test.fr").await;
        // Bad input is told field by field, nothing stored.
        let bad = MeetingInput { kind: "assemblee".into(), held_on: String::new(), title: " ".into(), attendees: vec!["999999".into()], ..cell(&f) };
        let e = governance::create_meeting(&f.app, &coordinator, &bad).await.expect_err("refused").into_field_errors();
        for field in ["kind", "held_on", "title", "attendees"] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        assert!(governance::meetings(&f.app, &coordinator).await.expect("list").is_empty());
        // Only coordinators write.
        assert!(matches!(governance::create_meeting(&f.app, &pilot, &cell(&f)).await, Err(AppError::Forbidden)));
        assert!(matches!(governance::create_meeting(&f.app, &pro, &cell(&f)).await, Err(AppError::Forbidden)));
        let id = governance::create_meeting(&f.app, &coordinator, &cell(&f)).await.expect("created");
        governance::add_decision(&f.app, &coordinator, id, "Organiser un forum de l'emploi en mars.").await.expect("decision");
        let e = governance::add_decision(&f.app, &coordinator, id, "  ").await.expect_err("empty").into_field_errors();
        assert!(e.get("decision").is_some());
        let item = ActionItemInput { title: "Réserver la salle du forum".into(), owner: f.professional.0.to_string(), due_on: day(&f, -1) };
        let action = governance::add_action(&f.app, &coordinator, id, &item).await.expect("action");
        let stranger = ActionItemInput { owner: f.outsider.0.to_string(), ..item.clone() };
        let e = governance::add_action(&f.app, &coordinator, id, &stranger).await.expect_err("not of the team").into_field_errors();
        assert!(e.get("owner").expect("why").contains("l'équipe du territoire"));
        // Everyone of the territory reads; the list counts.
        let list = governance::meetings(&f.app, &pilot).await.expect("pilot reads");
        assert_eq!((list.len(), list[0].attendees, list[0].decisions, list[0].open_actions), (1, 1, 1, 1));
        let page = governance::page(&f.app, &pro, id).await.expect("professional reads");
        assert_eq!(page.decisions[0].text, "Organiser un forum de l'emploi en mars.");
        assert!(!page.steers);
        // The owner has it on their list (and home page), and marks it done; the pilot may not.
        let mine = governance::my_actions(&f.app, &pro).await.expect("mine");
        assert_eq!(mine.iter().map(|a| a.title.as_str()).collect::<Vec<_>>(), vec!["Réserver la salle du forum"]);
        let home = app::home::week(&f.app, &pro).await.expect("home");
        assert_eq!(home.meeting_actions.len(), 1);
        assert!(matches!(governance::complete_action(&f.app, &pilot, action).await, Err(AppError::Forbidden)));
        assert_eq!(governance::complete_action(&f.app, &pro, action).await.expect("done"), id);
        assert!(governance::my_actions(&f.app, &pro).await.expect("mine").is_empty());
        let page = governance::page(&f.app, &coordinator, id).await.expect("page");
        assert!(page.actions[0].done_on.is_some());
        // Another territory's staff do not see it.
        let outsider = f.caller("ailleurs@test.fr").await;
        assert!(governance::page(&f.app, &outsider, id).await.is_err());
        // The meeting is edited; its kind stays.
        let edited = MeetingInput { title: "Cellule du 1er décembre".into(), attendees: vec![], ..cell(&f) };
        governance::update_meeting(&f.app, &coordinator, id, &edited).await.expect("edited");
        let page = governance::page(&f.app, &coordinator, id).await.expect("page");
        assert_eq!((page.meeting.title.as_str(), page.attendees.len()), ("Cellule du 1er décembre", 0));
    }

    async fn situations_reviewed_are_named_only_to_those_who_may_open_the_file(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let pro = f.caller("conseil@test.fr").await;
        let pilot = f.caller("pilote@test.fr").await;
        let followed = person(&f, &pro, "Amina", "0611223344").await;
        let other = person(&f, &coordinator, "Karim", "0611223355").await;
        let id = governance::create_meeting(&f.app, &coordinator, &cell(&f)).await.expect("created");
        governance::add_case(&f.app, &coordinator, id, &CaseInput { person: format!("http://127.0.0.1:8080/personnes/{}", followed.0), note: "Orientée vers le PLIE".into() }).await.expect("by address");
        governance::add_case(&f.app, &coordinator, id, &CaseInput { person: other.0.to_string(), note: String::new() }).await.expect("by number");
        let e = governance::add_case(&f.app, &coordinator, id, &CaseInput { person: "99999999".into(), note: String::new() }).await.expect_err("unknown").into_field_errors();
        assert!(e.get("person").expect("why").contains("Aucun dossier"));
        assert!(matches!(governance::add_case(&f.app, &pro, id, &CaseInput { person: followed.0.to_string(), note: String::new() }).await, Err(AppError::Forbidden)));
        let seen = governance::page(&f.app, &coordinator, id).await.expect("coordinator");
        assert_eq!((seen.cases.len(), seen.hidden_cases), (2, 0));
        let seen = governance::page(&f.app, &pro, id).await.expect("professional");
        assert_eq!(seen.cases.iter().map(|k| k.person).collect::<Vec<_>>(), vec![followed]);
        assert_eq!(seen.cases[0].note, "Orientée vers le PLIE");
        assert_eq!(seen.hidden_cases, 1, "Karim is not in their group");
        let seen = governance::page(&f.app, &pilot, id).await.expect("pilot");
        assert_eq!((seen.cases.len(), seen.hidden_cases), (0, 2), "a pilot never sees a person");
        // Showing a name is audited like a list of the caseload.
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let events = store::audit::recent(&mut pooled.conn(), Some(f.territory), 100).await.expect("audit");
        assert!(events.iter().any(|e| e.user_id == Some(f.professional.0) && e.target_id == Some(followed.0) && e.detail.contains("réunion")), "{events:?}");
        assert!(!events.iter().any(|e| e.user_id == Some(f.professional.0) && e.target_id == Some(other.0)));
        assert!(events.iter().any(|e| e.action == "meeting_case" && e.target_id == Some(other.0)));
        drop(pooled);
        // A steering committee never reviews a person.
        let copil = governance::create_meeting(&f.app, &coordinator, &MeetingInput { kind: "copil".into(), ..cell(&f) }).await.expect("copil");
        let e = governance::add_case(&f.app, &coordinator, copil, &CaseInput { person: followed.0.to_string(), note: String::new() }).await.expect_err("copil").into_field_errors();
        assert!(e.get("person").expect("why").contains("cellule opérationnelle"));
    }

    async fn the_roadmap_measures_its_indicators_and_masks_small_counts_for_pilots(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let pro = f.caller("conseil@test.fr").await;
        let pilot = f.caller("pilote@test.fr").await;
        f.clock.set(chrono::DateTime::parse_from_rfc3339("2026-06-15T10:00:00Z").expect("instant").to_utc());
        for (i, name) in ["Nadia", "Sofiane", "Inès"].iter().enumerate() {
            person(&f, &pro, name, &format!("06700000{i:02}")).await;
        }
        let measured = RoadmapInput {
            axis: "droit-commun".into(),
            title: "Aller vers les habitants non inscrits".into(),
            indicator: "Personnes repérées dans l'année".into(),
            measure: "reperes".into(),
            target: "12".into(),
            status: "en-cours".into(),
            ..RoadmapInput::default()
        };
        assert_eq!(governance::create_roadmap_action(&f.app, &coordinator, &measured).await.expect("created"), 2026);
        let entered = RoadmapInput {
            axis: "cooperation".into(),
            title: "Circuit d'orientation partagé".into(),
            lead: f.france_travail.0.to_string(),
            value: "3".into(),
            target: "4".into(),
            status: "en-cours".into(),
            ..RoadmapInput::default()
        };
        governance::create_roadmap_action(&f.app, &coordinator, &entered).await.expect("created");
        let bad = RoadmapInput { axis: "autre".into(), title: String::new(), progress: "150".into(), measure: "inconnu".into(), status: "en-cours".into(), ..RoadmapInput::default() };
        let e = governance::create_roadmap_action(&f.app, &coordinator, &bad).await.expect_err("refused").into_field_errors();
        for field in ["axis", "title", "progress", "measure"] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        assert!(matches!(governance::create_roadmap_action(&f.app, &pilot, &measured).await, Err(AppError::Forbidden)));
        let line = |r: &governance::Roadmap, axis: domain::governance::Axis| r.axes.iter().find(|(a, _)| *a == axis).map(|(_, l)| l[0].clone()).expect("line");
        let r = governance::roadmap(&f.app, &coordinator, None).await.expect("roadmap");
        assert_eq!(r.year, 2026);
        let m = line(&r, domain::governance::Axis::DroitCommun);
        assert_eq!((m.value, m.progress), (Some(3), 25), "three met this year out of twelve");
        let e = line(&r, domain::governance::Axis::Cooperation);
        assert_eq!((e.value, e.progress, e.row.lead_name.as_deref()), (Some(3), 75, Some("France Travail Maubeuge")));
        let r = governance::roadmap(&f.app, &pilot, None).await.expect("pilot reads");
        assert_eq!(line(&r, domain::governance::Axis::DroitCommun).value, None, "3 persons: masked for a pilot");
        assert_eq!(line(&r, domain::governance::Axis::Cooperation).value, Some(3), "a value entered by hand is no count of people of the files");
        assert!(!r.steers);
        // Marked done: 100 %.
        let id = line(&governance::roadmap(&f.app, &coordinator, None).await.expect("r"), domain::governance::Axis::DroitCommun).row.id;
        governance::update_roadmap_action(&f.app, &coordinator, id, &RoadmapInput { status: "realisee".into(), ..measured.clone() }).await.expect("updated");
        let r = governance::roadmap(&f.app, &coordinator, None).await.expect("roadmap");
        assert_eq!(line(&r, domain::governance::Axis::DroitCommun).progress, 100);
        assert!(governance::roadmap(&f.app, &coordinator, Some(2025)).await.expect("2025").axes.iter().all(|(_, l)| l.is_empty()));
    }
}
