//! Person files through the use cases, on both backends: need-to-know for every use case and
//! every role, health data and restricted notes, the audit trail, consent, the group, the
//! caseload (scoped and with a constant number of queries), duplicates and merges.

use app::persons::{
    self, CaseloadInput, EntryForm, EntryInput, OutreachInput, Recorded, SituationInput,
};
use app::testing::Fixture;
use app::{AppError, Caller};
use domain::PersonId;

macro_rules! tests {
    ($($t:tt)*) => { app::fixture_tests! { offline; $($t)* } };
}

/// A date `days` from today (negative: in the past), as a form sends it: tests never age.
fn day(days: i64) -> String {
    (domain::calendar::france_date(chrono::Utc::now()) + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

fn outreach(first: &str, last: &str, phone: &str) -> OutreachInput {
    OutreachInput {
        first_name: first.into(),
        last_name: last.into(),
        phone: phone.into(),
        channel: "permanence-bailleur".into(),
        place: "Hall B, résidence des Tilleuls".into(),
        met_on: day(-7),
        need_fields: vec!["mobilite".into()],
        needs: "Cherche un emploi, pas de permis".into(),
        agrees_recontact: if phone.is_empty() {
            "non".into()
        } else {
            "oui".into()
        },
        ..OutreachInput::default()
    }
}

async fn record(f: &Fixture, caller: &Caller, input: OutreachInput) -> PersonId {
    match persons::record(&f.app, caller, &input)
        .await
        .expect("recorded")
    {
        Recorded::Created(id) => id,
        Recorded::Duplicates(d) => panic!("unexpected duplicates {d:?}"),
    }
}

fn entry(referent: &str, organisations: Vec<String>) -> EntryInput {
    EntryInput {
        given_on: day(-2),
        method: "ecrit".into(),
        purposes: vec!["accompagnement".into(), "partage".into()],
        organisations,
        referent: referent.into(),
        situation: SituationInput {
            birth_date: "14/07/1990".into(),
            sex: "femme".into(),
            single_parent: "oui".into(),
            children_under_12: "2".into(),
            ft_registered: "oui".into(),
            ft_since: day(-700),
            ..SituationInput::default()
        },
    }
}

async fn reads(f: &Fixture, id: PersonId) -> usize {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::audit::for_target(&mut pooled.conn(), "person", id.0, 1000)
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.action == "person.read")
        .count()
}

/// The person-file audit actions of one file, oldest first.
async fn events(f: &Fixture, id: PersonId) -> Vec<String> {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    let mut rows = store::audit::for_target(&mut pooled.conn(), "person", id.0, 1000)
        .await
        .expect("audit");
    rows.sort_by_key(|e| e.id);
    rows.into_iter()
        .map(|e| e.action)
        .filter(|a| a != "person.read" && a != "person.list" && a != "person.duplicate")
        .collect()
}

fn health(rqth: &str, until: &str) -> app::persons::HealthInput {
    app::persons::HealthInput {
        rqth: rqth.into(),
        rqth_until: until.into(),
        ..Default::default()
    }
}

fn note(visibility: &str, body: &str) -> EntryForm {
    EntryForm {
        kind: "note".into(),
        occurred_on: day(-1),
        body: body.into(),
        visibility: visibility.into(),
        ..EntryForm::default()
    }
}

tests! {
    async fn every_use_case_answers_each_role_as_need_to_know_requires(f) {
        let member = f.caller("conseil@test.fr").await;
        let id = record(&f, &member, outreach("Awa", "Diallo", "06 12 34 56 78")).await;
        let coordinator = f.caller("coordination@test.fr").await;
        let colleague = f.caller_in_organisation("collegue@test.fr", f.france_travail).await;
        let other_org = f.caller_in_new_organisation("asso@test.fr", f.territory).await;
        let other_territory = f.caller("ailleurs@test.fr").await;
        let pilot = f.caller("pilote@test.fr").await;
        let admin = f.caller("admin@test.fr").await;

        // Readers: the group and the territory's coordinators, each read audited.
        for who in [&member, &coordinator] {
            let before = reads(&f, id).await;
            let file = persons::file(&f.app, who, id, "/personnes/x").await.expect("readable");
            assert_eq!(file.person.first_name, "Awa");
            assert_eq!(reads(&f, id).await, before + 1, "an audit row for each read");
        }
        // Everyone else: « introuvable », like a person who does not exist — for every use case.
        let missing = PersonId(id.0 + 1000);
        for who in [&colleague, &other_org, &other_territory, &pilot, &admin] {
            assert!(matches!(persons::file(&f.app, who, id, "/p").await, Err(AppError::NotFound)), "{}", who.email);
            assert!(matches!(persons::set_status(&f.app, who, id, "contacte", &day(-1), &app::exits::ExitInput::default()).await, Err(AppError::NotFound)));
            assert!(matches!(persons::add_entry(&f.app, who, id, &note("groupe", "x")).await, Err(AppError::NotFound)));
            assert!(matches!(persons::enter_accompaniment(&f.app, who, id, &entry("", vec![])).await, Err(AppError::NotFound)));
            assert!(matches!(persons::add_member(&f.app, who, id, &who.user_id.0.to_string(), true).await, Err(AppError::NotFound)));
            assert!(matches!(persons::change_referent(&f.app, who, id, &who.user_id.0.to_string()).await, Err(AppError::NotFound)));
            assert!(matches!(persons::revoke_consent(&f.app, who, id).await, Err(AppError::NotFound)));
            assert!(matches!(persons::set_health(&f.app, who, id, &health("oui", "")).await, Err(AppError::NotFound)));
            assert!(matches!(persons::update(&f.app, who, id, &outreach("X", "Y", ""), &SituationInput::default()).await, Err(AppError::NotFound)));
            assert!(matches!(persons::access_log(&f.app, who, id).await, Err(AppError::NotFound)));
            assert!(matches!(persons::merge(&f.app, who, id, missing).await, Err(AppError::NotFound)));
            let same = persons::file(&f.app, who, missing, "/p").await;
            assert!(matches!(same, Err(AppError::NotFound)), "a missing file and a hidden one look the same");
        }
        // Lists and counts follow the same rule.
        // Each caseload answers (an error is a failure, never « sees nobody »).
        for (who, expected) in [(&member, 1), (&colleague, 0), (&other_org, 0), (&other_territory, 0), (&pilot, 0)] {
            let list = persons::caseload(&f.app, who, &CaseloadInput { page: 1, ..CaseloadInput::default() })
                .await
                .unwrap_or_else(|e| panic!("{}: {e:?}", who.email));
            assert_eq!((list.total, list.rows.len()), (expected, expected), "{}", who.email);
        }
        let all = persons::caseload(&f.app, &coordinator, &CaseloadInput { everyone: true, page: 1, ..CaseloadInput::default() }).await.expect("caseload");
        assert_eq!(all.total, 1, "coordinators see the whole territory");
        // A pilot's scope is aggregates: counts of the territory, never a row.
        let pilot_scope = persons::scope(&pilot).expect("the pilot's territory");
        assert!(matches!(pilot_scope, store::persons::Scope::Aggregate { .. }), "{pilot_scope:?}");
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let counts = store::persons::count_by_status(&mut pooled.conn(), &pilot_scope).await.expect("counts");
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 1, "{counts:?}");
        assert!(store::persons::names(&mut pooled.conn(), &pilot_scope).await.expect("names").is_empty(), "no name for a pilot");
        drop(pooled);
        // Whoever records is the référent: they read the access log (a plain member may not:
        // see the health-data test).
        assert!(persons::access_log(&f.app, &member, id).await.is_ok(), "the recorder is the référent");
        assert!(!persons::access_log(&f.app, &coordinator, id).await.expect("log").1.is_empty());
    }

    async fn health_data_and_restricted_notes_need_explicit_permission(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let id = record(&f, &recorder, outreach("Karim", "Benali", "0611111111")).await;
        let coordinator = f.caller("coordination@test.fr").await;
        let other_org = f.caller_in_new_organisation("asso@test.fr", f.territory).await;
        let orgs = {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::organisations::partners_of(&mut pooled.conn(), f.territory).await.expect("partners").iter().map(|o| o.id.0.to_string()).collect::<Vec<_>>()
        };
        // The recorder becomes référent at the entry into accompaniment.
        persons::enter_accompaniment(&f.app, &recorder, id, &entry("", orgs)).await.expect("entered");
        persons::set_health(&f.app, &recorder, id, &health("oui", "31/12/2030")).await.expect("référent writes health data");
        persons::add_entry(&f.app, &recorder, id, &note("sante", "Suivi MDPH en cours")).await.expect("health note");
        persons::add_entry(&f.app, &recorder, id, &note("referent", "Situation familiale délicate")).await.expect("référent note");
        persons::add_entry(&f.app, &recorder, id, &note("groupe", "Atelier CV mardi")).await.expect("group note");
        // A member without health permission, then one with it.
        persons::add_member(&f.app, &recorder, id, &other_org.user_id.0.to_string(), false).await.expect("member added");
        let plain = persons::file(&f.app, &other_org, id, "/p").await.expect("member reads");
        assert!(matches!(persons::access_log(&f.app, &other_org, id).await, Err(AppError::Forbidden)), "a plain member does not read the access log");
        assert!(plain.health.is_none(), "no health data without permission");
        let bodies: Vec<&str> = plain.journal.iter().map(|e| e.body.as_str()).collect();
        assert_eq!(bodies, vec!["Atelier CV mardi"], "restricted notes hidden");
        assert!(matches!(persons::set_health(&f.app, &other_org, id, &health("non", "")).await, Err(AppError::NotFound)));
        let Err(AppError::Invalid(e)) = persons::add_entry(&f.app, &other_org, id, &note("sante", "x")).await else { panic!("refused") };
        assert!(e.get("visibility").is_some());
        // Coordinators read the file, but not health data unless explicitly allowed.
        let seen = persons::file(&f.app, &coordinator, id, "/p").await.expect("coordinator reads");
        assert!(seen.health.is_none());
        assert_eq!(seen.journal.len(), 1);
        let referent_view = persons::file(&f.app, &recorder, id, "/p").await.expect("référent reads");
        assert_eq!(referent_view.health.as_ref().and_then(|h| h.rqth), Some(true));
        assert_eq!(referent_view.journal.len(), 3);
        // Explicit permission: a member added with health access reads it.
        let allowed = f.caller_in_new_organisation("sante@test.fr", f.territory).await;
        let Err(AppError::Invalid(e)) = persons::add_member(&f.app, &recorder, id, &allowed.user_id.0.to_string(), true).await else { panic!("not consented") };
        assert!(e.get("user").expect("why").contains("n'a pas accepté le partage"), "the consent names the organisations");
        let colleague = f.caller_in_organisation("collegue@test.fr", f.france_travail).await;
        persons::add_member(&f.app, &recorder, id, &colleague.user_id.0.to_string(), true).await.expect("added with health access");
        let with_health = persons::file(&f.app, &colleague, id, "/p").await.expect("reads");
        assert_eq!(with_health.health.and_then(|h| h.rqth), Some(true));
        assert_eq!(with_health.journal.len(), 2, "health notes, not the référent's own");
    }

    async fn revoking_consent_removes_the_other_organisations_at_once(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let id = record(&f, &recorder, outreach("Inès", "Moreau", "0622222222")).await;
        let other_org = f.caller_in_new_organisation("asso@test.fr", f.territory).await;
        let orgs = {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::organisations::partners_of(&mut pooled.conn(), f.territory).await.expect("partners").iter().map(|o| o.id.0.to_string()).collect::<Vec<_>>()
        };
        let Err(AppError::Invalid(e)) = persons::enter_accompaniment(&f.app, &recorder, id, &EntryInput { purposes: vec!["partage".into()], ..entry("", orgs.clone()) }).await else { panic!("refused") };
        assert!(e.get("purposes").is_some(), "accompaniment needs its own consent");
        persons::enter_accompaniment(&f.app, &recorder, id, &entry("", orgs)).await.expect("entered");
        persons::add_member(&f.app, &recorder, id, &other_org.user_id.0.to_string(), false).await.expect("added");
        assert!(persons::file(&f.app, &other_org, id, "/p").await.is_ok());
        let ended = persons::revoke_consent(&f.app, &recorder, id).await.expect("revoked");
        assert_eq!(ended, 1);
        assert!(matches!(persons::file(&f.app, &other_org, id, "/p").await, Err(AppError::NotFound)), "access ends with the consent");
        let file = persons::file(&f.app, &recorder, id, "/p").await.expect("référent keeps the file");
        assert!(file.consent_in_force().is_none());
        assert!(file.members.iter().any(|m| m.end_reason.as_deref() == Some("retrait-consentement")));
        assert!(matches!(persons::add_member(&f.app, &recorder, id, &other_org.user_id.0.to_string(), false).await, Err(AppError::Invalid(_))), "nothing more is shared");
    }

    async fn the_funnel_moves_forward_with_dates_and_changing_referent_keeps_history(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let id = record(&f, &recorder, outreach("Léa", "Petit", "0633333333")).await;
        let contact = EntryForm { kind: "contact".into(), occurred_on: day(-6), channel: "telephone".into(), outcome: "joint".into(), visibility: "groupe".into(), ..EntryForm::default() };
        persons::add_entry(&f.app, &recorder, id, &contact).await.expect("contact");
        let file = persons::file(&f.app, &recorder, id, "/p").await.expect("file");
        assert_eq!(file.person.status, domain::person::FunnelStatus::Contacte, "a contact that reached the person");
        assert_eq!(file.person.contacted_on.as_deref(), Some(day(-6).as_str()));
        let Err(AppError::Invalid(e)) = persons::set_status(&f.app, &recorder, id, "contacte", &day(40), &app::exits::ExitInput::default()).await else { panic!("future") };
        assert!(e.get("on").is_some());
        let Err(AppError::Invalid(e)) = persons::enter_accompaniment(&f.app, &recorder, id, &EntryInput { situation: SituationInput { birth_date: "31/02/1990".into(), ..SituationInput::default() }, ..entry("", vec![]) }).await else { panic!("bad birth date") };
        assert!(e.get("birth_date").is_some());
        let coordinator = f.caller("coordination@test.fr").await;
        persons::enter_accompaniment(&f.app, &recorder, id, &EntryInput { purposes: vec!["accompagnement".into()], ..entry("", vec![]) }).await.expect("entered");
        let Err(AppError::Invalid(e)) = persons::change_referent(&f.app, &coordinator, id, &f.coordinator.0.to_string()).await else { panic!("a coordinator does not take the référent's place (and its health access) alone") };
        assert!(e.get("referent").is_some());
        persons::change_referent(&f.app, &recorder, id, &f.coordinator.0.to_string()).await.expect("the référent hands over");
        let file = persons::file(&f.app, &coordinator, id, "/p").await.expect("file");
        let referents: Vec<(&str, bool)> = file.members.iter().filter(|m| m.is_referent).map(|m| (m.user_name.as_str(), m.ended_at.is_none())).collect();
        assert_eq!(referents, vec![("coordination@test.fr", true), ("conseil@test.fr", false)], "the previous référent stays in the history");
        persons::set_status(&f.app, &coordinator, id, "sorti", &day(-1), &cdi()).await.expect("exit");
        let Err(AppError::Invalid(e)) = persons::set_status(&f.app, &coordinator, id, "contacte", &day(-1), &app::exits::ExitInput::default()).await else { panic!("backwards") };
        assert!(e.get("status").expect("why").contains("ne peut pas redevenir"));
        let file = persons::file(&f.app, &coordinator, id, "/p").await.expect("coordinators keep reading");
        assert_eq!(file.person.status.as_str(), "sorti");
        let kinds: Vec<&str> = file.journey.exits.iter().map(|x| x.kind.as_str()).collect();
        assert_eq!(kinds, vec!["cdi"], "the exit and its type are in the history");
        assert_eq!(file.journey.checks.len(), 3, "checks at 3, 6 and 12 months");
        assert!(matches!(persons::file(&f.app, &recorder, id, "/p").await, Err(AppError::NotFound)), "the group's work ended with the exit");
    }

    async fn bad_input_is_refused_by_field_and_nothing_is_stored(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let input = OutreachInput { phone: "12345".into(), email: "pas-une-adresse".into(), postal_code: "59600".into(), commune: "Paris".into(), met_on: day(400), channel: "".into(), agrees_recontact: "".into(), ..outreach("", "", "") };
        let Err(AppError::Invalid(e)) = persons::record(&f.app, &recorder, &input).await else { panic!("refused") };
        for field in ["first_name", "phone", "email", "commune", "met_on", "channel", "agrees_recontact"] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        assert_eq!(persons::caseload(&f.app, &recorder, &CaseloadInput::default()).await.expect("caseload").total, 0);
        let pilot = f.caller("pilote@test.fr").await;
        assert!(matches!(persons::record(&f.app, &pilot, &outreach("A", "B", "")).await, Err(AppError::Forbidden)), "pilots record nobody");
    }

    async fn duplicates_are_shown_before_saving_and_a_coordinator_merges_them(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let first = record(&f, &recorder, outreach("Mohamed", "Benali", "06 44 44 44 44")).await;
        persons::add_entry(&f.app, &recorder, first, &note("groupe", "Premier dossier")).await.expect("note");
        let Recorded::Duplicates(found) = persons::record(&f.app, &recorder, &outreach("Mohammed", "Ben Ali", "")).await.expect("checked") else { panic!("a likely duplicate") };
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].why, "nom très proche");
        let Recorded::Duplicates(by_phone) = persons::record(&f.app, &recorder, &outreach("Momo", "", "0644444444")).await.expect("checked") else { panic!("same phone") };
        assert_eq!(by_phone[0].why, "même téléphone");
        // Another organisation's professional sees no hint of a file they may not read.
        let other_org = f.caller_in_new_organisation("asso@test.fr", f.territory).await;
        let Recorded::Created(theirs) = persons::record(&f.app, &other_org, &outreach("Mohammed", "Ben Ali", "")).await.expect("recorded") else { panic!("no duplicate shown to an outsider") };
        let second = match persons::record(&f.app, &recorder, &OutreachInput { confirm: true, ..outreach("Mohammed", "Ben Ali", "") }).await.expect("recorded") {
            Recorded::Created(id) => id,
            Recorded::Duplicates(_) => panic!("confirmed"),
        };
        persons::add_entry(&f.app, &recorder, second, &note("groupe", "Second dossier")).await.expect("note");
        assert!(matches!(persons::merge(&f.app, &recorder, first, second).await, Err(AppError::Forbidden)), "merging is the coordinator's");
        let coordinator = f.caller("coordination@test.fr").await;
        persons::merge(&f.app, &coordinator, first, second).await.expect("merged");
        let merged = persons::file(&f.app, &coordinator, first, "/p").await.expect("file");
        let mut bodies: Vec<&str> = merged.journal.iter().map(|e| e.body.as_str()).collect();
        bodies.sort_unstable();
        assert_eq!(bodies, vec!["Premier dossier", "Second dossier"], "all history kept");
        assert!(matches!(persons::file(&f.app, &coordinator, second, "/p").await, Err(AppError::NotFound)));
        let all = persons::caseload(&f.app, &coordinator, &CaseloadInput { everyone: true, page: 1, ..CaseloadInput::default() }).await.expect("caseload");
        let mut listed: Vec<PersonId> = all.rows.iter().map(|r| r.id).collect();
        listed.sort();
        assert_eq!(listed, vec![first, theirs], "the merged file leaves the lists");
    }

    async fn the_caseload_filters_and_its_query_count_does_not_grow_with_the_people_shown(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let mut ids = Vec::new();
        for (i, name) in ["Zoé Martin", "Élodie Durand", "Hugo Lefèvre", "Nina Roux", "Sami Haddad"].iter().enumerate() {
            let (first, last) = name.split_once(' ').expect("two words");
            let mut input = outreach(first, last, &format!("06000000{i:02}"));
            input.met_on = day(-150 + 30 * i as i64);
            input.need_fields = if i % 2 == 0 { vec!["logement".into()] } else { vec!["mobilite".into()] };
            ids.push(record(&f, &recorder, input).await);
        }
        let list = |input: CaseloadInput| {
            let app = f.app.clone();
            let caller = recorder.clone();
            async move { persons::caseload(&app, &caller, &CaseloadInput { page: 1, ..input }).await.expect("caseload") }
        };
        assert_eq!(list(CaseloadInput { field: "logement".into(), ..CaseloadInput::default() }).await.total, 3);
        assert_eq!(list(CaseloadInput { name: "elodie".into(), ..CaseloadInput::default() }).await.rows[0].first_name, "Élodie", "accents forgiven");
        assert_eq!(list(CaseloadInput { name: "lefevbre".into(), ..CaseloadInput::default() }).await.rows.first().map(|r| r.last_name.as_str()), Some("Lefèvre"), "a typo forgiven");
        assert_eq!(list(CaseloadInput { without_referent: true, ..CaseloadInput::default() }).await.total, 0, "the recorder is the référent");
        let silent = list(CaseloadInput { silent_days: "90".into(), ..CaseloadInput::default() }).await;
        assert!(silent.total >= 2 && silent.total < 5, "{}", silent.total);
        let Err(AppError::Invalid(e)) = persons::caseload(&f.app, &recorder, &CaseloadInput { silent_days: "45".into(), ..CaseloadInput::default() }).await else { panic!("refused") };
        assert!(e.get("sans_contact").is_some());
        // Query count: the same for one person shown and for five.
        // Exact counts: one statement per step, whatever the number of people shown.
        let (one, q1) = store::queries::counted(list(CaseloadInput { field: "mobilite".into(), status: "repere".into(), name: String::new(), silent_days: String::new(), ..CaseloadInput::default() })).await;
        let (five, q5) = store::queries::counted(list(CaseloadInput::default())).await;
        assert_eq!((one.rows.len(), five.rows.len()), (2, 5));
        assert_eq!((q1, q5), (2, 2), "the page, then the audit rows of everyone shown");
        let (found, q_name) = store::queries::counted(list(CaseloadInput { name: "zoe".into(), ..CaseloadInput::default() })).await;
        assert_eq!((found.rows.len(), q_name), (1, 3), "the names in scope, the page, the audit rows");
        // Each person shown is recorded in their access log, in one statement.
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let events = store::audit::for_target(&mut pooled.conn(), "person", ids[0].0, 100).await.expect("events");
        assert!(events.iter().any(|e| e.action == "person.list"));
        drop(pooled);
        // The référent steps down from one file: the coordination sees it without référent.
        let coordinator = f.caller("coordination@test.fr").await;
        let theirs = persons::file(&f.app, &recorder, ids[0], "/p").await.expect("file").members.into_iter().find(|m| m.is_referent).expect("référent").id;
        persons::end_member(&f.app, &recorder, ids[0], theirs, "fin-intervention").await.expect("ended");
        let orphans = persons::caseload(&f.app, &coordinator, &CaseloadInput { without_referent: true, everyone: true, page: 1, ..CaseloadInput::default() }).await.expect("caseload");
        assert_eq!(orphans.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![ids[0]]);
    }

    async fn files_are_archived_two_years_after_the_last_contact_then_deleted(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let id = record(&f, &recorder, outreach("Rose", "Ancien", "0655555555")).await;
        let kept = record(&f, &recorder, outreach("Paul", "Récent", "0666666666")).await;
        let coordinator = f.caller("coordination@test.fr").await;
        let nothing = app::retention::apply(&f.app).await.expect("retention");
        assert_eq!((nothing.archived, nothing.deleted), (0, 0));
        // Two years without contact: intermediate archive, the coordinators' only.
        f.clock.advance(chrono::Duration::days(365 * 2));
        let contact = EntryForm { kind: "contact".into(), occurred_on: f.app.today().format("%Y-%m-%d").to_string(), channel: "telephone".into(), outcome: "joint".into(), visibility: "groupe".into(), ..EntryForm::default() };
        let recorder = f.caller("conseil@test.fr").await;
        persons::add_entry(&f.app, &recorder, kept, &contact).await.expect("a recent contact keeps the file alive");
        let report = app::retention::apply(&f.app).await.expect("retention");
        assert_eq!(report.archived, 1);
        assert!(report.audit_deleted > 0, "audit rows older than a year are deleted");
        assert!(matches!(persons::file(&f.app, &recorder, id, "/p").await, Err(AppError::NotFound)), "the group no longer reads an archived file");
        let coordinator_view = persons::file(&f.app, &coordinator, id, "/p").await.expect("the coordination still can");
        assert!(coordinator_view.person.archived_on.is_some());
        let listed = persons::caseload(&f.app, &coordinator, &CaseloadInput { everyone: true, page: 1, ..CaseloadInput::default() }).await.expect("caseload");
        assert_eq!(listed.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![kept], "archived files leave the lists");
        assert!(persons::file(&f.app, &recorder, kept, "/p").await.is_ok());
        // Two more years: deleted, with everything attached; the other file stays.
        f.clock.advance(chrono::Duration::days(365 * 2 + 1));
        let report = app::retention::apply(&f.app).await.expect("retention");
        assert_eq!(report.deleted, 1);
        assert!(matches!(persons::file(&f.app, &coordinator, id, "/p").await, Err(AppError::NotFound)));
        let mut pooled = f.app.db.acquire().await.expect("connection");
        assert!(store::persons::get(&mut pooled.conn(), id).await.expect("query").is_none());
        assert!(store::persons::members(&mut pooled.conn(), id).await.expect("query").is_empty());
        assert!(store::persons::get(&mut pooled.conn(), kept).await.expect("query").is_some());
        // Once a day only, through the job queue, however many instances schedule it.
        drop(pooled);
        // At noon in Paris, so that the day's digest of orientation notices is due too.
        let noon = domain::calendar::france_midnight(domain::calendar::france_date(f.app.now())) + chrono::Duration::hours(12);
        f.clock.set(noon);
        app::jobs::schedule_periodic(&f.app).await.expect("scheduled");
        app::jobs::schedule_periodic(&f.app).await.expect("scheduled again");
        assert_eq!(app::jobs::drain(&f.app, "essai").await.expect("ran"), 6, "one retention, one purge, one sweep of orientations, one digest, one follow-up sweep, one day's indicator counts");
        app::jobs::schedule_periodic(&f.app).await.expect("scheduled a third time");
        assert_eq!(app::jobs::drain(&f.app, "essai").await.expect("ran"), 0);
    }

    async fn each_write_leaves_exactly_one_audit_row_and_a_refused_one_leaves_none(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let coordinator = f.caller("coordination@test.fr").await;
        let other_org = f.caller_in_new_organisation("asso@test.fr", f.territory).await;
        let id = record(&f, &recorder, outreach("Inès", "Traoré", "0622222222")).await;
        let twin = record(&f, &recorder, OutreachInput { confirm: true, ..outreach("Ines", "Traore", "0633333333") }).await;
        assert_eq!(events(&f, id).await, vec!["person.create"], "the repérage: one row");
        let orgs = {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::organisations::partners_of(&mut pooled.conn(), f.territory).await.expect("partners").iter().map(|o| o.id.0.to_string()).collect::<Vec<_>>()
        };
        let member_id = || async {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::persons::members(&mut pooled.conn(), id).await.expect("members").into_iter().find(|m| m.user_id == other_org.user_id.0 && m.ended_at.is_none()).expect("member").id
        };
        let mut expected = vec!["person.create"];
        // Each write of the file, one after the other: exactly one new row each, naming the write.
        macro_rules! step {
            ($action:expr, $call:expr) => {{
                $call.await.unwrap_or_else(|e| panic!("{}: {e:?}", $action));
                expected.push($action);
                assert_eq!(events(&f, id).await, expected, "after {}", $action);
            }};
        }
        let mut corrected = outreach("Inès", "Traoré", "0622222222");
        corrected.address = String::new();
        step!("person.update", persons::set_status(&f.app, &recorder, id, "contacte", &day(-3), &app::exits::ExitInput::default()));
        step!("person.journal", persons::add_entry(&f.app, &recorder, id, &note("groupe", "Appel")));
        step!("person.update", persons::enter_accompaniment(&f.app, &recorder, id, &entry("", orgs.clone())));
        step!("person.health", persons::set_health(&f.app, &recorder, id, &health("oui", "")));
        step!("person.group", persons::add_member(&f.app, &recorder, id, &other_org.user_id.0.to_string(), false));
        step!("person.update", persons::update(&f.app, &recorder, id, &corrected, &SituationInput::default()));
        let member = member_id().await;
        persons::end_member(&f.app, &recorder, id, member, "fin-intervention").await.expect("ended");
        expected.push("person.group");
        assert_eq!(events(&f, id).await, expected);
        persons::change_referent(&f.app, &coordinator, id, &recorder.user_id.0.to_string()).await.expect("same référent again");
        expected.push("person.group");
        assert_eq!(events(&f, id).await, expected);
        persons::revoke_consent(&f.app, &recorder, id).await.expect("revoked");
        expected.push("person.consent");
        assert_eq!(events(&f, id).await, expected);
        // A refused value writes nothing: no row, no change.
        let Err(AppError::Invalid(_)) = persons::add_entry(&f.app, &recorder, id, &note("groupe", "")).await else { panic!("an empty note is refused") };
        let Err(AppError::Invalid(_)) = persons::set_status(&f.app, &recorder, id, "repere", &day(-1), &app::exits::ExitInput::default()).await else { panic!("no way back") };
        assert_eq!(events(&f, id).await, expected, "refused writes leave no row");
        // A merge changes two files: one row on each.
        persons::merge(&f.app, &coordinator, id, twin).await.expect("merged");
        expected.push("person.merge");
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let twin_rows = store::audit::for_target(&mut pooled.conn(), "person", twin.0, 100).await.expect("audit");
        drop(pooled);
        assert_eq!(events(&f, id).await, expected);
        assert_eq!(twin_rows.iter().filter(|e| e.action == "person.merge").count(), 1);
        // A write by someone outside the group: one row, the refusal.
        let stranger = f.caller_in_new_organisation("autre@test.fr", f.territory).await;
        assert!(matches!(persons::add_entry(&f.app, &stranger, id, &note("groupe", "x")).await, Err(AppError::NotFound)));
        expected.push("person.denied");
        assert_eq!(events(&f, id).await, expected);
    }

    async fn a_name_search_returns_the_best_match_first_whatever_the_dates(f) {
        let recorder = f.caller("conseil@test.fr").await;
        // The close name was met recently, the exact one long ago: by date, the close one would
        // come first.
        let mut exact = outreach("Lina", "Morel", "0644444441");
        exact.met_on = day(-300);
        let exact = record(&f, &recorder, exact).await;
        let mut close = outreach("Lina", "Moreau", "0644444442");
        close.met_on = day(-1);
        close.confirm = true;
        let close = record(&f, &recorder, close).await;
        let found = persons::caseload(&f.app, &recorder, &CaseloadInput { name: "morel".into(), page: 1, ..CaseloadInput::default() }).await.expect("caseload");
        assert_eq!(found.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![exact, close], "best match first");
        let plain = persons::caseload(&f.app, &recorder, &CaseloadInput { page: 1, ..CaseloadInput::default() }).await.expect("caseload");
        assert_eq!(plain.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![close, exact], "without a search: latest contact first");
    }


    async fn concurrent_writes_to_one_file_all_land_with_their_audit_rows(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let id = record(&f, &recorder, outreach("Yanis", "Belkacem", "0655555500")).await;
        // Twenty notes at once: each write checks, writes and audits under the write lock, so
        // none fails at commit on SQLite and none is lost on PostgreSQL.
        let mut writes = tokio::task::JoinSet::new();
        for i in 0..20 {
            let (app, caller) = (f.app.clone(), recorder.clone());
            writes.spawn(async move { persons::add_entry(&app, &caller, id, &note("groupe", &format!("note {i}"))).await });
        }
        while let Some(w) = writes.join_next().await {
            w.expect("task").expect("each concurrent write lands");
        }
        let file = persons::file(&f.app, &recorder, id, "/p").await.expect("file");
        assert_eq!(file.journal.len(), 20);
        assert_eq!(events(&f, id).await.iter().filter(|a| *a == "person.journal").count(), 20);
    }


    async fn dates_are_checked_against_the_calendar_of_the_territory(f) {
        // 21:30 UTC on 1 December: 22:30 in Paris, already 01:30 on the 2nd in La Réunion.
        f.clock.set(chrono::DateTime::parse_from_rfc3339("2026-12-01T21:30:00Z").expect("instant").with_timezone(&chrono::Utc));
        let recorder = f.caller("conseil@test.fr").await;
        let met_today_in_reunion = OutreachInput { met_on: "02/12/2026".into(), ..outreach("Maëva", "Payet", "0692000001") };
        let Err(AppError::Invalid(e)) = persons::record(&f.app, &recorder, &met_today_in_reunion).await else { panic!("the 2nd is tomorrow in Paris") };
        assert_eq!(e.get("met_on"), Some("La date est dans le futur."));
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let mut q = store::sql::Sql::new("UPDATE territories SET time_zone = ");
        q.bind(domain::TimeZone::Reunion.as_str()).push(" WHERE id = ").bind(f.territory);
        q.execute(&mut pooled.conn()).await.expect("zone");
        drop(pooled);
        let recorder = f.caller("conseil@test.fr").await;
        let id = record(&f, &recorder, met_today_in_reunion).await;
        let file = persons::file(&f.app, &recorder, id, "/p").await.expect("file");
        assert_eq!(file.person.met_on, "2026-12-02", "today, in La Réunion");
    }


    async fn a_contact_attempt_is_not_a_contact(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let id = record(&f, &recorder, OutreachInput { met_on: day(-40), ..outreach("Sofia", "Mendes", "0644000001") }).await;
        let attempt = |outcome: &str, days: i64| EntryForm { kind: "contact".into(), occurred_on: day(days), channel: "telephone".into(), outcome: outcome.into(), visibility: "groupe".into(), ..EntryForm::default() };
        for (outcome, days) in [("non-joint", -20), ("message-laisse", -10), ("faux-numero", -5)] {
            persons::add_entry(&f.app, &recorder, id, &attempt(outcome, days)).await.unwrap_or_else(|e| panic!("{outcome}: {e:?}"));
        }
        let file = persons::file(&f.app, &recorder, id, "/p").await.expect("file");
        assert_eq!(file.person.last_contact_on.as_deref(), Some(day(-40).as_str()), "« dernier contact » unchanged by attempts");
        assert_eq!(file.person.status, domain::person::FunnelStatus::Repere, "still not contacted");
        assert_eq!(file.attempts_since_contact, 3);
        let silent = persons::caseload(&f.app, &recorder, &CaseloadInput { silent_days: "30".into(), page: 1, ..CaseloadInput::default() }).await.expect("caseload");
        assert_eq!(silent.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![id], "still « sans contact depuis 30 jours »");
        // A contact that reaches the person is one: it dates the last contact and moves the funnel.
        persons::add_entry(&f.app, &recorder, id, &attempt("joint", -2)).await.expect("reached");
        let file = persons::file(&f.app, &recorder, id, "/p").await.expect("file");
        assert_eq!(file.person.last_contact_on.as_deref(), Some(day(-2).as_str()));
        assert_eq!(file.person.status, domain::person::FunnelStatus::Contacte);
        assert_eq!(file.attempts_since_contact, 0);
    }

    async fn the_consent_decides_whether_the_person_may_be_recontacted(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let id = record(&f, &recorder, outreach("Nadia", "Belhadj", "0644000002")).await;
        assert!(persons::file(&f.app, &recorder, id, "/p").await.expect("file").person.agrees_recontact, "yes at the repérage");
        let orgs = {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::organisations::partners_of(&mut pooled.conn(), f.territory).await.expect("partners").iter().map(|o| o.id.0.to_string()).collect::<Vec<_>>()
        };
        // The consent recorded without « être recontacté »: the file says no.
        persons::enter_accompaniment(&f.app, &recorder, id, &EntryInput { purposes: vec!["accompagnement".into(), "partage".into()], ..entry("", orgs) }).await.expect("entered");
        assert!(!persons::file(&f.app, &recorder, id, "/p").await.expect("file").person.agrees_recontact);
    }


    async fn the_repérage_takes_an_age_and_a_declared_quartier(f) {
        app::qpv::seed_demo(&f.app).await.expect("demo QPVs");
        let recorder = f.caller("conseil@test.fr").await;
        let year = chrono::Datelike::year(&f.app.today());
        // A year of birth gives the band; a band that disagrees, or a year that makes no sense,
        // is refused on its field.
        let young = OutreachInput { birth_year: (year - 20).to_string(), ..outreach("Yanis", "Kaci", "0655000001") };
        let id = record(&f, &recorder, young).await;
        let file = persons::file(&f.app, &recorder, id, "/p").await.expect("file");
        assert_eq!((file.person.age_band.as_deref(), file.person.birth_year), (Some("16-25"), Some(year - 20)));
        let wrong = OutreachInput { birth_year: (year - 20).to_string(), age_band: "50-plus".into(), confirm: true, ..outreach("Léa", "Morin", "0655000002") };
        let Err(AppError::Invalid(e)) = persons::record(&f.app, &recorder, &wrong).await else { panic!("refused") };
        assert!(e.get("age_band").is_some(), "{e:?}");
        let odd = OutreachInput { birth_year: "1850".into(), confirm: true, ..outreach("Léa", "Morin", "0655000002") };
        let Err(AppError::Invalid(e)) = persons::record(&f.app, &recorder, &odd).await else { panic!("refused") };
        assert!(e.get("birth_year").is_some_and(|m| m.contains("quatre chiffres")));
        // No address: the quartier the person names, from the territory's list, is kept as declared.
        let declared = OutreachInput { declared_qpv: "QN05990N".into(), confirm: true, ..outreach("Inès", "Roy", "0655000003") };
        let id = record(&f, &recorder, declared).await;
        let p = persons::file(&f.app, &recorder, id, "/p").await.expect("file").person;
        assert_eq!(p.qpv_code.as_deref(), Some("QN05990N"));
        assert_eq!(p.qpv_confidence.as_deref(), Some(persons::DECLARED));
        let elsewhere = OutreachInput { declared_qpv: "QN99999X".into(), confirm: true, ..outreach("Inès", "Roy", "0655000004") };
        let Err(AppError::Invalid(e)) = persons::record(&f.app, &recorder, &elsewhere).await else { panic!("refused") };
        assert!(e.get("declared_qpv").is_some());
    }


    async fn the_follow_up_group_lists_the_referent_once(f) {
        let recorder = f.caller("conseil@test.fr").await;
        let id = record(&f, &recorder, outreach("Omar", "Said", "0655000009")).await;
        let orgs = {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::organisations::partners_of(&mut pooled.conn(), f.territory).await.expect("partners").iter().map(|o| o.id.0.to_string()).collect::<Vec<_>>()
        };
        // The recorder, a member since the repérage, becomes the référent at the entry.
        persons::enter_accompaniment(&f.app, &recorder, id, &entry("", orgs)).await.expect("entered");
        persons::change_referent(&f.app, &recorder, id, &recorder.user_id.0.to_string()).await.expect("the same référent again");
        let file = persons::file(&f.app, &recorder, id, "/p").await.expect("file");
        let theirs: Vec<_> = file.members.iter().filter(|m| m.user_id == recorder.user_id.0).collect();
        assert_eq!(theirs.len(), 1, "{:?}", file.members);
        assert!(theirs[0].is_referent && theirs[0].health_access && theirs[0].ended_at.is_none());
    }

}

/// The exit part of the status form: a CDI.
fn cdi() -> app::exits::ExitInput {
    app::exits::ExitInput {
        exit_kind: "cdi".into(),
        ..Default::default()
    }
}
