//! Cohorts, collective actions, employers, exits and the follow-up after them, through the use
//! cases, on both backends: membership over time, candidates from the target public, capacity
//! and attendance rules, exit rules, and the 3/6/12-month schedule with the clock moved by hand
//! — including a return into accompaniment that cancels the checks still to do.

use app::actions::{self, ActionInput, InviteInput};
use app::cohorts::{self, AddInput, CohortInput, LeaveInput};
use app::employers::{self, EmployerInput, EngagementInput, OfferInput};
use app::exits::{self, CheckInput, ExitInput};
use app::persons::{self, EntryInput, OutreachInput, Recorded, SituationInput};
use app::testing::Fixture;
use app::{AppError, Caller};
use chrono::Duration;
use domain::exit::CheckStatus;
use domain::{CohortId, PersonId};

macro_rules! tests {
    ($($t:tt)*) => { app::fixture_tests! { offline; $($t)* } };
}

fn today(f: &Fixture) -> chrono::NaiveDate {
    f.app.today_in(domain::TimeZone::Paris)
}

fn day(f: &Fixture, days: i64) -> String {
    domain::iso_date(today(f) + Duration::days(days))
}

static PHONES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(10);

/// A person accompanied by `who` (their référent): a woman born `born`, or unknown sex.
async fn person(f: &Fixture, who: &Caller, first: &str, sex: &str, born: &str) -> PersonId {
    let input = OutreachInput {
        first_name: first.into(),
        last_name: "Martin".into(),
        phone: format!(
            "06020304{:02}",
            PHONES.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 100
        ),
        channel: "pied-d-immeuble".into(),
        met_on: day(f, -60),
        postal_code: "59600".into(),
        commune: "Maubeuge".into(),
        agrees_recontact: "oui".into(),
        ..OutreachInput::default()
    };
    let Recorded::Created(id) = persons::record(&f.app, who, &input)
        .await
        .expect("recorded")
    else {
        panic!("duplicate")
    };
    persons::enter_accompaniment(
        &f.app,
        who,
        id,
        &EntryInput {
            given_on: day(f, -30),
            method: "ecrit".into(),
            purposes: vec!["accompagnement".into(), "partage".into()],
            organisations: vec![f.france_travail.0.to_string()],
            referent: String::new(),
            situation: SituationInput {
                sex: sex.into(),
                birth_date: born.into(),
                ..Default::default()
            },
        },
    )
    .await
    .expect("entered");
    id
}

fn cohort_input(f: &Fixture, referent: &Caller) -> CohortInput {
    CohortInput {
        name: "Femmes 26-55 ans".into(),
        starts_on: day(f, -40),
        capacity: "2".into(),
        wave: "2027 — vague 1".into(),
        referents: vec![referent.user_id.0.to_string()],
        age_min: "26".into(),
        age_max: "55".into(),
        sex: "femme".into(),
        ..CohortInput::default()
    }
}

fn add(f: &Fixture, persons: &[PersonId], days: i64) -> AddInput {
    AddInput {
        persons: persons.iter().map(|p| p.0.to_string()).collect(),
        entered_on: day(f, days),
    }
}

fn errors(e: AppError) -> String {
    e.into_field_errors()
        .iter()
        .map(|(f, m)| format!("{f}: {m}"))
        .collect::<Vec<_>>()
        .join(" | ")
}

async fn audit_count(f: &Fixture, id: PersonId, action: &str) -> usize {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::audit::for_target(&mut pooled.conn(), "person", id.0, 1000)
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.action == action)
        .count()
}

async fn stays(f: &Fixture, id: CohortId) -> Vec<store::cohorts::StayRow> {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::cohorts::stays(&mut pooled.conn(), id)
        .await
        .expect("stays")
}

fn exit(kind: &str) -> ExitInput {
    ExitInput {
        exit_kind: kind.into(),
        ..ExitInput::default()
    }
}

tests! {
    async fn a_cohort_is_the_coordinators_and_its_public_suggests_candidates(f) {
        let pro = f.caller("conseil@test.fr").await;
        let coordinator = f.caller("coordination@test.fr").await;
        let bad = CohortInput { name: " ".into(), starts_on: day(&f, 0), ends_on: day(&f, -1), age_min: "40".into(), age_max: "30".into(), ..CohortInput::default() };
        let e = errors(cohorts::create(&f.app, &coordinator, &bad).await.expect_err("refused"));
        for field in ["name", "ends_on", "age_min", "referents"] {
            assert!(e.contains(&format!("{field}:")), "{field}: {e}");
        }
        let Err(AppError::Forbidden) = cohorts::create(&f.app, &pro, &cohort_input(&f, &pro)).await else { panic!("professionals do not create cohorts") };
        let k = cohorts::create(&f.app, &coordinator, &cohort_input(&f, &pro)).await.expect("created");
        let awa = person(&f, &pro, "Awa", "femme", "1985-03-01").await;
        let _young = person(&f, &pro, "Lina", "femme", "2004-03-01").await;
        let _man = person(&f, &pro, "Karim", "homme", "1985-03-01").await;
        let unknown = person(&f, &pro, "Sam", "", "").await;
        let page = cohorts::page(&f.app, &pro, k, true).await.expect("page");
        assert!(page.may_manage, "the cohort's référent manages its members");
        let cands: Vec<(PersonId, bool)> = page.candidates.expect("asked for").iter().map(|c| (c.person, c.sure)).collect();
        assert_eq!(cands, vec![(awa, true), (unknown, false)], "the public decides; what is unknown is to check");
        // Another professional of the territory sees none of these persons.
        let other = f.caller_in_organisation("autre@test.fr", f.france_travail).await;
        let page = cohorts::page(&f.app, &other, k, true).await.expect("page");
        assert!(!page.may_manage);
        assert!(page.candidates.is_none(), "not theirs to fill");
        // Pilots do not see cohorts.
        let pilot = f.caller("pilote@test.fr").await;
        assert!(matches!(cohorts::page(&f.app, &pilot, k, false).await, Err(AppError::Forbidden)));
    }

    async fn an_rqth_public_is_known_only_where_health_data_may_be_read(f) {
        let pro = f.caller("conseil@test.fr").await;
        let coordinator = f.caller("coordination@test.fr").await;
        let with = person(&f, &pro, "Awa", "femme", "1985-03-01").await;
        let without = person(&f, &pro, "Binta", "femme", "1980-03-01").await;
        for (id, rqth) in [(with, "oui"), (without, "non")] {
            persons::set_health(&f.app, &pro, id, &app::persons::HealthInput { rqth: rqth.into(), ..Default::default() }).await.expect("health");
        }
        let k = cohorts::create(&f.app, &coordinator, &CohortInput { rqth: true, ..cohort_input(&f, &pro) }).await.expect("cohort");
        // The référent reads health data: a sure candidate, the other one excluded.
        let page = cohorts::page(&f.app, &pro, k, true).await.expect("page");
        let seen: Vec<(PersonId, bool)> = page.candidates.expect("asked").iter().map(|c| (c.person, c.sure)).collect();
        assert_eq!(seen, vec![(with, true)]);
        // The coordinator does not: both are « à vérifier », nothing told of their health.
        let page = cohorts::page(&f.app, &coordinator, k, true).await.expect("page");
        let seen: Vec<(PersonId, bool)> = page.candidates.expect("asked").iter().map(|c| (c.person, c.sure)).collect();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen.iter().all(|(_, sure)| !sure), "{seen:?}");
    }

    async fn membership_is_dated_one_stay_at_a_time_within_capacity_and_history_kept(f) {
        let pro = f.caller("conseil@test.fr").await;
        let coordinator = f.caller("coordination@test.fr").await;
        let k = cohorts::create(&f.app, &coordinator, &cohort_input(&f, &pro)).await.expect("created");
        let a = person(&f, &pro, "Awa", "femme", "1985-03-01").await;
        let b = person(&f, &pro, "Binta", "femme", "1980-03-01").await;
        let c = person(&f, &pro, "Chloé", "femme", "1990-03-01").await;
        let e = errors(cohorts::add_members(&f.app, &pro, k, &add(&f, &[a, b, c], -20)).await.expect_err("3 for 2 places"));
        assert!(e.contains("Il reste 2 places sur 2 : vous en demandez 3."), "{e}");
        assert!(stays(&f, k).await.is_empty(), "all or nothing");
        let e = errors(cohorts::add_members(&f.app, &pro, k, &add(&f, &[a], -50)).await.expect_err("before the cohort"));
        assert!(e.contains("début de la cohorte"), "{e}");
        assert_eq!(cohorts::add_members(&f.app, &pro, k, &add(&f, &[a, b], -20)).await.expect("added"), 2);
        assert_eq!(audit_count(&f, a, "person.cohort").await, 1, "one audit row per file");
        let e = errors(cohorts::add_members(&f.app, &pro, k, &add(&f, &[a], -10)).await.expect_err("twice"));
        assert!(e.contains("déjà"), "{e}");
        let e = errors(cohorts::add_members(&f.app, &pro, k, &add(&f, &[c], -10)).await.expect_err("full"));
        assert!(e.contains("Complet"), "{e}");
        // Leaving: not before the entry; then back later, never before the last exit.
        let leave = |d: i64| LeaveInput { left_on: day(&f, d), reason: "abandon".into(), note: String::new() };
        let e = errors(cohorts::remove_member(&f.app, &pro, k, a, &leave(-25)).await.expect_err("before entry"));
        assert!(e.contains("précéder l'entrée"), "{e}");
        cohorts::remove_member(&f.app, &pro, k, a, &leave(-5)).await.expect("left");
        let e = errors(cohorts::add_members(&f.app, &pro, k, &add(&f, &[a], -8)).await.expect_err("back in time"));
        assert!(e.contains("nouvelle entrée ne peut pas être antérieure"), "{e}");
        cohorts::add_members(&f.app, &pro, k, &add(&f, &[a], -2)).await.expect("back");
        let history: Vec<(PersonId, Option<String>)> = stays(&f, k).await.iter().map(|s| (s.person_id, s.left_on.clone())).collect();
        assert_eq!(history, vec![(a, Some(day(&f, -5))), (b, None), (a, None)], "every stay kept, in order");
        let page = cohorts::page(&f.app, &pro, k, false).await.expect("page");
        assert_eq!((page.totals.current, page.totals.ever, page.totals.stays), (2, 2, 3));
        // Someone who does not follow them counts them without seeing them.
        let page = cohorts::page(&f.app, &coordinator, k, false).await.expect("page");
        assert_eq!(page.hidden, 0, "coordinators see the territory");
        let other = f.caller_in_organisation("autre@test.fr", f.france_travail).await;
        let page = cohorts::page(&f.app, &other, k, false).await.expect("page");
        assert_eq!((page.members.len(), page.hidden, page.totals.current), (0, 3, 2));
        // A member of no cohort's management cannot add.
        assert!(matches!(cohorts::add_members(&f.app, &other, k, &add(&f, &[c], 0)).await, Err(AppError::Forbidden)));
    }

    async fn invitations_registration_and_attendance_follow_the_rules(f) {
        let pro = f.caller("conseil@test.fr").await;
        let coordinator = f.caller("coordination@test.fr").await;
        let k = cohorts::create(&f.app, &coordinator, &CohortInput { capacity: String::new(), ..cohort_input(&f, &pro) }).await.expect("cohort");
        let a = person(&f, &pro, "Awa", "femme", "1985-03-01").await;
        let b = person(&f, &pro, "Binta", "femme", "1980-03-01").await;
        let c = person(&f, &pro, "Chloé", "femme", "1990-03-01").await;
        cohorts::add_members(&f.app, &pro, k, &add(&f, &[a, b], -1)).await.expect("members");
        let bad = ActionInput { kind: "kermesse".into(), held_on: "31/02/2027".into(), starts_at: "25:00".into(), ..ActionInput::default() };
        let e = errors(actions::create(&f.app, &pro, &bad).await.expect_err("refused"));
        for field in ["kind", "title", "held_on", "starts_at", "place"] {
            assert!(e.contains(&format!("{field}:")), "{field}: {e}");
        }
        let input = ActionInput {
            kind: "job-dating".into(),
            title: "Job dating logistique".into(),
            held_on: day(&f, 2),
            starts_at: "09:30".into(),
            ends_at: "12:00".into(),
            place: "Maison de l'emploi, salle 2".into(),
            capacity: "2".into(),
            cohort: k.0.to_string(),
            ..ActionInput::default()
        };
        let id = actions::create(&f.app, &pro, &input).await.expect("created");
        // A whole cohort in one step, by mail: only those with an address get one.
        let done = actions::invite(&f.app, &pro, id, &InviteInput { cohort: k.0.to_string(), mail: true, ..InviteInput::default() }).await.expect("invited");
        assert_eq!((done.added, done.mailed, done.without_address), (2, 0, 2));
        assert_eq!(audit_count(&f, a, "person.collective-action").await, 1);
        // The form's empty « one person » field beside a cohort is no person.
        let again = actions::invite(&f.app, &pro, id, &InviteInput { cohort: k.0.to_string(), persons: vec![String::new()], ..InviteInput::default() }).await.expect("again");
        assert_eq!((again.added, again.already), (0, 2), "invited once");
        let inv = actions::invitation(&f.app, &pro, id, a).await.expect("printable");
        assert!(inv.text.contains("Maison de l'emploi, salle 2") && inv.text.contains("09 h 30"), "{}", inv.text);
        // Attendance: for registered persons only, from the day on.
        let mark = |p: PersonId, m: &str| vec![(p.0.to_string(), m.to_string())];
        let e = errors(actions::take_attendance(&f.app, &pro, id, &mark(a, "present")).await.expect_err("invited only"));
        assert!(e.contains("invitée mais pas inscrite"), "{e}");
        actions::register(&f.app, &pro, id, a).await.expect("registered");
        actions::register(&f.app, &pro, id, b).await.expect("registered");
        let e = errors(actions::invite(&f.app, &pro, id, &InviteInput { persons: vec![c.0.to_string()], status: "inscrite".into(), ..InviteInput::default() }).await.expect_err("full"));
        assert!(e.contains("Complet"), "{e}");
        let e = errors(actions::take_attendance(&f.app, &pro, id, &mark(a, "present")).await.expect_err("too early"));
        assert!(e.contains("jour de l'action"), "{e}");
        f.clock.advance(Duration::days(2));
        let e = errors(actions::take_attendance(&f.app, &pro, id, &[(a.0.to_string(), "present".into()), (c.0.to_string(), "absent".into())]).await.expect_err("not registered"));
        assert!(e.contains("n'est pas inscrite"), "{e}");
        let page = actions::page(&f.app, &pro, id).await.expect("page");
        assert_eq!(page.action.present, 0, "nothing half-written");
        assert_eq!(actions::take_attendance(&f.app, &pro, id, &[(a.0.to_string(), "present".into()), (b.0.to_string(), "absent".into())]).await.expect("taken"), 2);
        let page = actions::page(&f.app, &pro, id).await.expect("page");
        assert_eq!((page.action.present, page.action.absent, page.no_show_rate()), (1, 1, Some(50)));
        // The cohort page counts it.
        let k_page = cohorts::page(&f.app, &pro, k, false).await.expect("cohort");
        assert_eq!((k_page.totals.attended, k_page.totals.invited), (1, 2));
    }

    async fn an_exit_is_checked_typed_and_schedules_the_follow_up(f) {
        let pro = f.caller("conseil@test.fr").await;
        let coordinator = f.caller("coordination@test.fr").await;
        let id = person(&f, &pro, "Awa", "femme", "1985-03-01").await;
        let colleague = f.caller_in_organisation("collegue@test.fr", f.france_travail).await;
        persons::add_member(&f.app, &pro, id, &colleague.user_id.0.to_string(), false).await.expect("member");
        let employer = employers::create(&f.app, &pro, &EmployerInput { siret: "130 005 481 00010".into(), name: "Logistique du Nord".into(), naf: "5210b".into(), commune: "Maubeuge".into(), ..EmployerInput::default() }).await.expect("employer");
        let k = cohorts::create(&f.app, &coordinator, &cohort_input(&f, &pro)).await.expect("cohort");
        cohorts::add_members(&f.app, &pro, k, &add(&f, &[id], -5)).await.expect("member");
        let e = errors(persons::set_status(&f.app, &pro, id, "sorti", &day(&f, -31), &exit("cdi")).await.expect_err("before entry"));
        assert!(e.contains("précéder l'entrée"), "{e}");
        let e = errors(persons::set_status(&f.app, &pro, id, "sorti", &day(&f, -1), &exit("cdd-6-mois")).await.expect_err("unknown kind"));
        assert!(e.contains("exit_kind:"), "{e}");
        let e = errors(persons::set_status(&f.app, &pro, id, "sorti", &day(&f, -1), &ExitInput { exit_kind: "demenagement".into(), employer: employer.0.to_string(), ..ExitInput::default() }).await.expect_err("no employer for a move"));
        assert!(e.contains("employer:"), "{e}");
        let file = persons::file(&f.app, &pro, id, "/p").await.expect("file");
        assert!(file.journey.exits.is_empty(), "nothing written");
        persons::set_status(&f.app, &pro, id, "sorti", &day(&f, -1), &ExitInput { exit_kind: "cdd-long".into(), employer: employer.0.to_string(), detail: "Préparateur de commandes, 8 mois".into() }).await.expect("exit");
        let file = persons::file(&f.app, &pro, id, "/p").await.expect("the référent keeps the file for the follow-up");
        let x = &file.journey.exits[0];
        assert_eq!((x.kind.category().as_str(), x.employer_id), ("emploi-durable", Some(employer.0)));
        let due: Vec<(i32, String)> = file.journey.checks.iter().map(|k| (k.months, k.due_on.clone())).collect();
        let exited = today(&f) - Duration::days(1);
        assert_eq!(due, [3, 6, 12].iter().map(|m| (*m as i32, domain::iso_date(domain::exit::check_due(exited, *m)))).collect::<Vec<_>>());
        assert!(matches!(persons::file(&f.app, &colleague, id, "/p").await, Err(AppError::NotFound)), "the rest of the group's work ended");
        assert_eq!(stays(&f, k).await[0].left_on, Some(domain::iso_date(exited)), "the cohort stay ends with the exit");
        let page = employers::page(&f.app, &pro, employer).await.expect("employer");
        assert_eq!((page.employer.hired, page.met.len()), (1, 1), "the employer shows whom it hired");
        // Out of accompaniment, out of cohorts; back in, back into the cohort, history kept.
        let e = errors(cohorts::add_members(&f.app, &pro, k, &add(&f, &[id], 0)).await.expect_err("exited"));
        assert!(e.contains("retour en accompagnement"), "{e}");
        persons::enter_accompaniment(&f.app, &pro, id, &EntryInput { given_on: day(&f, 0), method: "oral".into(), purposes: vec!["accompagnement".into()], ..EntryInput::default() }).await.expect("back");
        cohorts::add_members(&f.app, &pro, k, &add(&f, &[id], 0)).await.expect("back in the cohort");
        assert_eq!(stays(&f, k).await.len(), 2, "both stays kept");
        let file = persons::file(&f.app, &pro, id, "/p").await.expect("file");
        assert_eq!(file.journey.exits.len(), 1, "the exit stays in the history");
    }

    async fn checks_fall_due_at_3_6_12_months_once_and_a_return_cancels_those_to_come(f) {
        let pro = f.caller("conseil@test.fr").await;
        let id = person(&f, &pro, "Awa", "femme", "1985-03-01").await;
        persons::set_status(&f.app, &pro, id, "sorti", &day(&f, 0), &exit("cdi")).await.expect("exit");
        let exited = today(&f);
        assert_eq!(exits::sweep(&f.app).await.expect("sweep"), 0, "nothing due yet");
        let home = app::home::week(&f.app, &pro).await.expect("home");
        assert!(home.checks.expect("shown").mine.is_empty());
        // Three months on: the référent is told once, and sees it on the home page.
        f.clock.advance(domain::exit::check_due(exited, 3) - exited);
        let before = f.outbox().await.len();
        assert_eq!(exits::sweep(&f.app).await.expect("sweep"), 1);
        assert_eq!(exits::sweep(&f.app).await.expect("again"), 0, "never twice");
        let mails = f.outbox().await;
        assert_eq!(mails.len(), before + 1);
        assert!(mails[0].subject.contains("3 mois") && !mails[0].body.contains("Awa"), "{:?}", mails[0]);
        let home = app::home::week(&f.app, &pro).await.expect("home");
        let mine = home.checks.expect("shown").mine;
        assert_eq!((mine.len(), mine[0].months, mine[0].person_id), (1, 3, id));
        let coordinator = f.caller("coordination@test.fr").await;
        let home = app::home::week(&f.app, &coordinator).await.expect("home");
        assert_eq!(home.checks.expect("shown").territory, Some(1), "coordinators count the territory's");
        // Answering: a situation, a date not before the window; the 6-month one is not open yet.
        let file = persons::file(&f.app, &pro, id, "/p").await.expect("file");
        let check = |m: i32| file.journey.checks.iter().find(|k| k.months == m).expect("check").id;
        let answer = |s: &str, d: i64| CheckInput { situation: s.into(), done_on: day(&f, d), ..CheckInput::default() };
        let e = errors(exits::answer(&f.app, &pro, id, check(6), &answer("meme-emploi", 0)).await.expect_err("too early"));
        assert!(e.contains("se fait à partir du"), "{e}");
        let e = errors(exits::answer(&f.app, &pro, id, check(3), &answer("en-vacances", 0)).await.expect_err("unknown"));
        assert!(e.contains("situation:"), "{e}");
        exits::answer(&f.app, &pro, id, check(3), &answer("meme-emploi", 0)).await.expect("answered");
        let e = errors(exits::answer(&f.app, &pro, id, check(3), &answer("autre-emploi", 0)).await.expect_err("twice"));
        assert!(e.contains("ne peut plus être renseignée"), "{e}");
        assert!(app::home::week(&f.app, &pro).await.expect("home").checks.expect("shown").mine.is_empty());
        // A return into accompaniment: the 6- and 12-month checks are cancelled, the 3-month one stays.
        persons::enter_accompaniment(&f.app, &pro, id, &EntryInput { given_on: day(&f, 0), method: "oral".into(), purposes: vec!["accompagnement".into()], ..EntryInput::default() }).await.expect("back");
        let file = persons::file(&f.app, &pro, id, "/p").await.expect("file");
        let states: Vec<(i32, CheckStatus)> = file.journey.checks.iter().map(|k| (k.months, k.status)).collect();
        assert_eq!(states, vec![(3, CheckStatus::Fait), (6, CheckStatus::Annule), (12, CheckStatus::Annule)]);
        assert_eq!(file.journey.exits[0].returned_on, Some(day(&f, 0)));
        assert_eq!(file.person.status.as_str(), "en-accompagnement");
        f.clock.advance(Duration::days(400));
        assert_eq!(exits::sweep(&f.app).await.expect("sweep"), 0, "cancelled checks are never announced");
        // A second exit has its own schedule; the 12-month answer ends the follow-up.
        persons::set_status(&f.app, &pro, id, "sorti", &day(&f, 0), &exit("formation-qualifiante")).await.expect("second exit");
        let file = persons::file(&f.app, &pro, id, "/p").await.expect("file");
        assert_eq!((file.journey.exits.len(), file.journey.checks.len()), (2, 6));
        f.clock.advance(Duration::days(370));
        let file = persons::file(&f.app, &pro, id, "/p").await.expect("file");
        let last = file.journey.checks.iter().rev().find(|k| k.months == 12).expect("12").id;
        exits::answer(&f.app, &pro, id, last, &answer("formation", 0)).await.expect("answered");
        assert!(matches!(persons::file(&f.app, &pro, id, "/p").await, Err(AppError::NotFound)), "the follow-up is over");
        assert!(persons::file(&f.app, &coordinator, id, "/p").await.is_ok(), "the coordinators keep the file");
    }

    async fn merging_two_files_keeps_one_stay_per_cohort_and_one_place_per_action(f) {
        let pro = f.caller("conseil@test.fr").await;
        let coordinator = f.caller("coordination@test.fr").await;
        let k = cohorts::create(&f.app, &coordinator, &CohortInput { capacity: String::new(), ..cohort_input(&f, &pro) }).await.expect("cohort");
        let a = person(&f, &pro, "Awa", "femme", "1985-03-01").await;
        let b = person(&f, &pro, "Binta", "femme", "1985-03-01").await;
        cohorts::add_members(&f.app, &pro, k, &add(&f, &[a], -10)).await.expect("a");
        cohorts::add_members(&f.app, &pro, k, &add(&f, &[b], -20)).await.expect("b");
        let input = ActionInput { kind: "atelier".into(), title: "Atelier CV".into(), held_on: day(&f, 3), starts_at: "10:00".into(), place: "Salle 1".into(), ..ActionInput::default() };
        let action = actions::create(&f.app, &pro, &input).await.expect("action");
        actions::invite(&f.app, &pro, action, &InviteInput { cohort: k.0.to_string(), ..InviteInput::default() }).await.expect("both invited");
        persons::merge(&f.app, &coordinator, a, b).await.expect("merged");
        let history: Vec<(PersonId, String, Option<String>)> = stays(&f, k).await.iter().map(|s| (s.person_id, s.entered_on.clone(), s.left_on.clone())).collect();
        assert_eq!(history, vec![(a, day(&f, -20), None)], "one open stay, from the earlier entry");
        let file = persons::file(&f.app, &pro, a, "/p").await.expect("file");
        assert_eq!(file.journey.actions.len(), 1, "one place in the action");
        assert_eq!(file.journey.stays.len(), 1);
    }

    async fn employers_need_a_valid_siret_once_and_offers_a_known_job(f) {
        let pro = f.caller("conseil@test.fr").await;
        let bad = EmployerInput { siret: "130 005 481 00011".into(), name: String::new(), naf: "62-01".into(), commune: "Nulle-Part-sur-Mer".into(), contact_email: "pas une adresse".into(), ..EmployerInput::default() };
        let e = errors(employers::create(&f.app, &pro, &bad).await.expect_err("refused"));
        for field in ["siret", "name", "naf", "commune", "contact_email"] {
            assert!(e.contains(&format!("{field}:")), "{field}: {e}");
        }
        assert!(e.contains("clé de contrôle"), "{e}");
        let good = EmployerInput { siret: "13000548100010".into(), name: "Logistique du Nord".into(), naf: "5210B".into(), commune: "59392".into(), ..EmployerInput::default() };
        let id = employers::create(&f.app, &pro, &good).await.expect("created");
        let e = errors(employers::create(&f.app, &pro, &good).await.expect_err("twice"));
        assert!(e.contains("déjà le SIRET"), "{e}");
        let page = employers::page(&f.app, &pro, id).await.expect("page");
        assert_eq!((page.employer.naf.as_str(), page.employer.commune_name.as_str()), ("52.10B", "Maubeuge"));
        assert_eq!(page.sector.as_deref(), Some("Transports et entreposage"));
        let awa = person(&f, &pro, "Awa", "femme", "1985-03-01").await;
        employers::engage(&f.app, &pro, id, &EngagementInput { kind: "immersion".into(), on: day(&f, -3), person: awa.0.to_string(), note: "Deux semaines".into() }).await.expect("engaged");
        let e = errors(employers::engage(&f.app, &pro, id, &EngagementInput { kind: "immersion".into(), on: day(&f, 3), person: "999999".into(), note: String::new() }).await.expect_err("refused"));
        assert!(e.contains("on:") && e.contains("person:"), "{e}");
        let e = errors(employers::add_offer(&f.app, &pro, id, &OfferInput { title: "Magasinier".into(), rome_code: "Z9999".into(), ..OfferInput::default() }).await.expect_err("unknown job"));
        assert!(e.contains("rome_code:"), "{e}");
        let offer = employers::add_offer(&f.app, &pro, id, &OfferInput { title: "Magasinier".into(), rome_code: "N1103".into(), positions: "2".into(), ..OfferInput::default() }).await.expect("offer");
        let page = employers::page(&f.app, &pro, id).await.expect("page");
        assert_eq!(page.met.iter().map(|m| m.person).collect::<Vec<_>>(), vec![awa], "the person hosted in immersion");
        assert_eq!(page.engagements.len(), 2, "the immersion and the recruitment need");
        let m = employers::matches(&f.app, &pro, id, offer).await.expect("matches");
        assert!(m.persons.is_empty(), "nobody aims at this job yet (no signed diagnostic names it)");
        // Another territory's professional finds nothing.
        let outsider = f.caller("ailleurs@test.fr").await;
        assert!(matches!(employers::page(&f.app, &outsider, id).await, Err(AppError::NotFound)));
    }
}
