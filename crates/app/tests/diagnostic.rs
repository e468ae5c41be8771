//! Lifting barriers through the use cases, on both backends: the diagnostic (drafts, signing,
//! history never overwritten, bad input refused field by field, the health gate), the plan
//! (owners from the group, due dates, overdue on the home page and in the caseload), the
//! eligibility rules on a file, the territory's own rules, and the suggested relays
//! (eligibility, zone and distance).

use app::diagnostic::{
    self, ActionChangeInput, ActionInput, DiagnosticInput, ObjectiveInput, PrepareInput, RuleForm,
    Saved,
};
use app::persons::{self, CaseloadInput, EntryInput, OutreachInput, Recorded, SituationInput};
use app::testing::Fixture;
use app::{AppError, Caller};
use domain::eligibility::Answer;
use domain::{Field, PersonId};
use serde_json::json;

macro_rules! tests {
    ($($t:tt)*) => { app::fixture_tests! { offline; $($t)* } };
}

fn today() -> chrono::NaiveDate {
    domain::calendar::france_date(chrono::Utc::now())
}

fn day(days: i64) -> String {
    domain::iso_date(today() + chrono::Duration::days(days))
}

/// A person recorded by `caller` in Maubeuge, accompanied with `caller` as référent.
async fn accompanied(f: &Fixture, caller: &Caller, situation: SituationInput) -> PersonId {
    let input = OutreachInput {
        first_name: "Karim".into(),
        last_name: "Benali".into(),
        phone: "0601020304".into(),
        channel: "pied-d-immeuble".into(),
        met_on: day(-20),
        postal_code: "59600".into(),
        commune: "Maubeuge".into(),
        agrees_recontact: "oui".into(),
        ..OutreachInput::default()
    };
    let Recorded::Created(id) = persons::record(&f.app, caller, &input)
        .await
        .expect("recorded")
    else {
        panic!("duplicates")
    };
    persons::enter_accompaniment(
        &f.app,
        caller,
        id,
        &EntryInput {
            given_on: day(-10),
            method: "ecrit".into(),
            purposes: vec!["accompagnement".into(), "partage".into()],
            organisations: vec![f.france_travail.0.to_string()],
            referent: String::new(),
            situation,
        },
    )
    .await
    .expect("entered");
    id
}

fn young_man() -> SituationInput {
    SituationInput {
        birth_date: domain::iso_date(today() - chrono::Duration::days(365 * 22 + 30)),
        sex: "homme".into(),
        student: "non".into(),
        in_training: "non".into(),
        ..SituationInput::default()
    }
}

/// A diagnostic form with these levels (the other fields at 0).
fn levels(held_on: &str, set: &[(Field, &str)]) -> DiagnosticInput {
    let mut input = DiagnosticInput {
        held_on: held_on.into(),
        ..DiagnosticInput::default()
    };
    for f in Field::ALL {
        let level = set.iter().find(|(g, _)| g == f).map_or("0", |(_, l)| l);
        input.levels.insert(*f, level.into());
    }
    input
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

tests! {
    async fn a_signed_diagnostic_is_kept_as_signed_and_progress_shows_barriers_lifted(f) {
        let pro = f.caller("conseil@test.fr").await;
        let id = accompanied(&f, &pro, young_man()).await;
        // A draft may leave fields blank; it is not counted.
        let mut draft = DiagnosticInput { held_on: day(-9), ..DiagnosticInput::default() };
        draft.levels.insert(Field::Mobilite, "3".into());
        draft.words = "Je veux travailler dans la logistique".into();
        assert!(matches!(diagnostic::save_diagnostic(&f.app, &pro, id, &draft, false).await, Ok(Saved::Draft(_))));
        let page = diagnostic::diagnostic_page(&f.app, &pro, id).await.expect("page");
        assert!(page.draft.is_some() && page.signed.is_empty());
        assert!(page.file.barriers.last.is_none(), "a draft is not counted");
        // Signing needs every field the caller sees.
        let Err(AppError::Invalid(e)) = diagnostic::save_diagnostic(&f.app, &pro, id, &draft, true).await else { panic!("refused") };
        assert!(e.get("niveau-logement").expect("named").contains("Logement"));
        let mut first = levels(&day(-9), &[(Field::Mobilite, "3"), (Field::Logement, "2")]);
        first.jobs = vec!["N1103 — Magasinage et préparation de commandes".into()];
        first.distance_km = "10".into();
        first.hours = vec!["horaires-decales".into()];
        let mobility = page.situations.iter().find(|s| s.field == Field::Mobilite).expect("shipped situations");
        first.ticks.insert(Field::Mobilite, vec![mobility.id.0.to_string()]);
        first.comments.insert(Field::Mobilite, "Pas de permis, bus rares".into());
        assert!(matches!(diagnostic::save_diagnostic(&f.app, &pro, id, &first, true).await, Ok(Saved::Signed(_))));
        // The draft became the signed one; a second diagnostic is a new row.
        let second = levels(&day(-1), &[(Field::Mobilite, "1"), (Field::Logement, "2")]);
        diagnostic::save_diagnostic(&f.app, &pro, id, &second, true).await.expect("second signed");
        let page = diagnostic::diagnostic_page(&f.app, &pro, id).await.expect("page");
        assert!(page.draft.is_none());
        assert_eq!(page.signed.len(), 2);
        let old = &page.signed[0];
        assert_eq!(old.level(Field::Mobilite), Some(domain::diagnostic::Level::Bloquant), "the first is unchanged");
        assert_eq!(old.content.jobs[0].as_str(), "N1103");
        assert_eq!(old.ticks_by_field.get(&Field::Mobilite).map(Vec::len), Some(1));
        assert_eq!(old.row.distance_km, Some(10));
        assert_eq!(page.progress.dates.len(), 2);
        assert_eq!(page.progress.lifted.len(), 1);
        assert_eq!(page.progress.lifted[0].0.field, Field::Mobilite);
        // A diagnostic dated before the last signed one is refused.
        let Err(AppError::Invalid(e)) = diagnostic::save_diagnostic(&f.app, &pro, id, &levels(&day(-5), &[]), true).await else { panic!("refused") };
        assert!(e.get("held_on").is_some());
        // One audit row per write: draft, signature, second signature.
        assert_eq!(audit_count(&f, id, "person.diagnostic").await, 3);
        let file = persons::file(&f.app, &pro, id, "/p").await.expect("file");
        let (on, last) = file.barriers.last.expect("latest");
        assert_eq!(on, today() - chrono::Duration::days(1));
        assert!(last.contains(&(Field::Logement, domain::diagnostic::Level::Important)));
    }

    async fn bad_input_is_refused_field_by_field_and_nothing_is_written(f) {
        let pro = f.caller("conseil@test.fr").await;
        let id = accompanied(&f, &pro, young_man()).await;
        let mut input = levels(&day(1), &[(Field::Mobilite, "4")]);
        input.jobs = vec!["Z9999".into(), "plombier".into()];
        input.distance_km = "500".into();
        input.availability = "demain".into();
        input.ticks.insert(Field::Logement, vec!["999999".into()]);
        let Err(AppError::Invalid(e)) = diagnostic::save_diagnostic(&f.app, &pro, id, &input, false).await else { panic!("refused") };
        assert!(e.get("held_on").expect("future").contains("futur"));
        assert!(e.get("niveau-mobilite").expect("level").contains("entre 0"));
        assert!(e.get("jobs").expect("rome").contains("ROME"));
        assert!(e.get("distance_km").is_some() && e.get("availability").is_some());
        assert!(e.get("situations-logement").is_some());
        let page = diagnostic::diagnostic_page(&f.app, &pro, id).await.expect("page");
        assert!(page.draft.is_none() && page.signed.is_empty(), "nothing half-written");
        assert_eq!(audit_count(&f, id, "person.diagnostic").await, 0);
        // Before the entry into accompaniment, there is no diagnostic.
        let input = OutreachInput { first_name: "Léa".into(), channel: "marche".into(), met_on: day(-1), agrees_recontact: "non".into(), ..OutreachInput::default() };
        let Recorded::Created(other) = persons::record(&f.app, &pro, &input).await.expect("recorded") else { panic!() };
        let Err(AppError::Invalid(e)) = diagnostic::save_diagnostic(&f.app, &pro, other, &levels(&day(0), &[]), true).await else { panic!("refused") };
        assert!(e.get("held_on").expect("named").contains("accompagnement"));
    }

    async fn outsiders_and_pilots_get_not_found_and_the_refusal_is_audited(f) {
        let pro = f.caller("conseil@test.fr").await;
        let id = accompanied(&f, &pro, young_man()).await;
        diagnostic::save_diagnostic(&f.app, &pro, id, &levels(&day(-1), &[(Field::Mobilite, "2")]), true).await.expect("signed");
        for email in ["ailleurs@test.fr", "pilote@test.fr"] {
            let who = f.caller(email).await;
            assert!(matches!(diagnostic::diagnostic_page(&f.app, &who, id).await, Err(AppError::NotFound)), "{email}");
            assert!(matches!(diagnostic::plan_page(&f.app, &who, id, None).await, Err(AppError::NotFound)));
            assert!(matches!(diagnostic::save_diagnostic(&f.app, &who, id, &levels(&day(0), &[]), false).await, Err(AppError::NotFound)));
            assert!(matches!(diagnostic::add_objective(&f.app, &who, id, &ObjectiveInput { field: "mobilite".into(), title: "x".into() }).await, Err(AppError::NotFound)));
            assert!(matches!(diagnostic::suggestions(&f.app, &who, id).await, Err(AppError::NotFound)));
        }
        assert!(audit_count(&f, id, "person.denied").await >= 10);
        // The coordinator sees the file (and writes to it); the pilot's home never names anyone.
        let coordinator = f.caller("coordination@test.fr").await;
        assert_eq!(diagnostic::diagnostic_page(&f.app, &coordinator, id).await.expect("coordinator").signed.len(), 1);
    }

    async fn the_health_field_follows_the_health_gate(f) {
        let pro = f.caller("conseil@test.fr").await;
        let id = accompanied(&f, &pro, young_man()).await;
        let member = f.caller_in_organisation("collegue@test.fr", f.france_travail).await;
        persons::add_member(&f.app, &pro, id, &member.user_id.0.to_string(), false).await.expect("member");
        let mut draft = levels(&day(-2), &[(Field::SanteHandicap, "3")]);
        draft.comments.insert(Field::SanteHandicap, "Suivi psychiatrique".into());
        diagnostic::save_diagnostic(&f.app, &pro, id, &draft, false).await.expect("référent's draft");
        // The member without health access neither sees nor overwrites the health answer.
        let page = diagnostic::diagnostic_page(&f.app, &member, id).await.expect("member page");
        assert!(!page.fields().contains(&Field::SanteHandicap));
        let seen = page.draft.expect("draft");
        assert!(seen.level(Field::SanteHandicap).is_none());
        assert!(seen.content.answers.iter().all(|a| !a.comment.contains("psychiatrique")));
        let mut theirs = levels(&day(-2), &[(Field::Mobilite, "2")]);
        theirs.levels.remove(&Field::SanteHandicap);
        diagnostic::save_diagnostic(&f.app, &member, id, &theirs, true).await.expect("signed without the health field");
        let mine = diagnostic::diagnostic_page(&f.app, &pro, id).await.expect("référent page");
        let signed = &mine.signed[0];
        assert_eq!(signed.level(Field::SanteHandicap), Some(domain::diagnostic::Level::Bloquant), "kept");
        assert_eq!(signed.level(Field::Mobilite), Some(domain::diagnostic::Level::Important));
        // A health objective is the référent's only.
        let Err(AppError::Invalid(e)) = diagnostic::add_objective(&f.app, &member, id, &ObjectiveInput { field: "sante-handicap".into(), title: "RQTH".into() }).await else { panic!("refused") };
        assert!(e.get("field").is_some());
        diagnostic::add_objective(&f.app, &pro, id, &ObjectiveInput { field: "sante-handicap".into(), title: "Demander la RQTH".into() }).await.expect("référent");
        let plan = diagnostic::plan_page(&f.app, &member, id, None).await.expect("member plan");
        assert!(plan.objectives.is_empty(), "the health objective is hidden from the member");
    }

    async fn actions_have_an_owner_from_the_group_and_overdue_ones_reach_the_home_page(f) {
        let pro = f.caller("conseil@test.fr").await;
        let id = accompanied(&f, &pro, young_man()).await;
        diagnostic::save_diagnostic(&f.app, &pro, id, &levels(&day(-5), &[(Field::Mobilite, "3")]), true).await.expect("signed");
        let Err(AppError::Invalid(e)) = diagnostic::add_objective(&f.app, &pro, id, &ObjectiveInput { field: "inconnu".into(), title: "".into() }).await else { panic!() };
        assert!(e.get("field").is_some() && e.get("title").is_some());
        let objective = diagnostic::add_objective(&f.app, &pro, id, &ObjectiveInput { field: "mobilite".into(), title: "Obtenir le permis B".into() }).await.expect("objective");
        let outsider = f.caller("ailleurs@test.fr").await;
        let action = |owner: String, due: String| ActionInput { objective: objective.0.to_string(), title: "S'inscrire au code".into(), owner, due_on: due, service: String::new() };
        let Err(AppError::Invalid(e)) = diagnostic::add_action(&f.app, &pro, id, &action(outsider.user_id.0.to_string(), day(-6))).await else { panic!() };
        assert!(e.get("owner").expect("owner").contains("groupe"));
        assert!(e.get("due_on").expect("due").contains("diagnostic"), "{e:?}");
        let a = diagnostic::add_action(&f.app, &pro, id, &action(pro.user_id.0.to_string(), day(3))).await.expect("action");
        let (n, _) = diagnostic::overdue_of(&f.app, &pro, 5).await.expect("overdue");
        assert_eq!(n, 0);
        // Five days later the action is overdue: on the home page and in the caseload.
        f.clock.advance(chrono::Duration::days(5));
        let home = app::home::week(&f.app, &pro).await.expect("home");
        let (n, rows) = home.overdue.expect("overdue part");
        assert_eq!((n, rows[0].person_id), (1, id));
        let list = persons::caseload(&f.app, &pro, &CaseloadInput { overdue: true, ..CaseloadInput::default() }).await.expect("caseload");
        assert_eq!(list.rows.iter().map(|r| (r.id, r.overdue_actions)).collect::<Vec<_>>(), vec![(id, 1)]);
        // Done: no longer overdue.
        diagnostic::change_action(&f.app, &pro, id, a, &ActionChangeInput { status: "fait".into(), owner: pro.user_id.0.to_string(), due_on: day(3), done_on: String::new() }).await.expect("done");
        let list = persons::caseload(&f.app, &pro, &CaseloadInput { overdue: true, ..CaseloadInput::default() }).await.expect("caseload");
        assert!(list.rows.is_empty());
        let Err(AppError::Invalid(e)) = diagnostic::change_action(&f.app, &pro, id, a, &ActionChangeInput { status: "a-faire".into(), owner: pro.user_id.0.to_string(), due_on: day(3), done_on: day(-1) }).await else { panic!() };
        assert!(e.get("done_on").is_some());
        assert_eq!(audit_count(&f, id, "person.plan").await, 3);
    }

    async fn the_plan_page_says_which_schemes_the_person_may_enter_and_why(f) {
        let pro = f.caller("conseil@test.fr").await;
        let id = accompanied(&f, &pro, young_man()).await;
        let page = diagnostic::plan_page(&f.app, &pro, id, None).await.expect("plan");
        let answer = |code: &str| page.eligibility.iter().find(|e| e.code == code).map(|e| e.answer);
        assert_eq!(answer("cej"), Some(Answer::Eligible), "22, not a student nor in training");
        assert_eq!(answer("pacea"), Some(Answer::Eligible));
        // At a reference date before the CEJ existed, it is not evaluated; the age is the one
        // the person had then.
        let then = chrono::NaiveDate::from_ymd_opt(2021, 6, 1).expect("date");
        let past = diagnostic::plan_page(&f.app, &pro, id, Some(then)).await.expect("plan in 2021");
        assert_eq!(past.rules_on, then);
        assert!(past.eligibility.iter().all(|e| e.code != "cej"), "not in force in 2021");
        let pacea = past.eligibility.iter().find(|e| e.code == "pacea").expect("pacea");
        assert!(pacea.paths[0].lines[0].why.contains("au 01/06/2021"), "{:?}", pacea.paths[0].lines[0]);
        // E2C needs the qualification, not recorded: to check, naming it.
        let e2c = page.eligibility.iter().find(|e| e.code == "e2c").expect("e2c");
        assert_eq!(e2c.answer, Answer::ToCheck);
        assert!(e2c.missing.iter().any(|m| m.contains("qualification")));
        // A territory's own version of PLIE replaces the shipped one.
        let coordinator = f.caller("coordination@test.fr").await;
        let mut form = diagnostic::rule_form(&f.app, &coordinator, Some("plie")).await.expect("form of the shipped rule");
        form.0.retain(|(k, _)| !k.starts_with("voie1-") && k != "name");
        form.0.extend([
            ("name".into(), "PLIE de la Sambre".into()),
            ("voie1-label".into(), "Jeunes de moins de 26 ans".into()),
            ("voie1-age-max".into(), "25".into()),
            ("voie1-demandeur-emploi".into(), "non".into()),
        ]);
        diagnostic::save_rule(&f.app, &coordinator, &form).await.expect("saved");
        let page = diagnostic::plan_page(&f.app, &pro, id, None).await.expect("plan");
        let plie = page.eligibility.iter().find(|e| e.code == "plie").expect("plie");
        assert_eq!(plie.name, "PLIE de la Sambre");
        assert_eq!(plie.answer, Answer::ToCheck, "France Travail registration not recorded");
        // Only coordinators write rules, and a bad one is refused part by part.
        assert!(matches!(diagnostic::save_rule(&f.app, &pro, &form).await, Err(AppError::Forbidden)));
        let bad = RuleForm(vec![("code".into(), "Mon Dispositif".into()), ("voie1-n".into(), "3".into()), ("voie1-age-min".into(), "18".into())]);
        let Err(AppError::Invalid(e)) = diagnostic::save_rule(&f.app, &coordinator, &bad).await else { panic!() };
        assert!(e.get("code").is_some() && e.get("name").is_some() && e.get("reference").is_some() && e.get("valid_from").is_some());
        assert!(e.get("voie1").expect("path").contains("entre 1 et 1"));
        let rules = diagnostic::rules(&f.app, &pro).await.expect("everyone reads the rules");
        assert!(rules.shipped.iter().find(|r| r.rule.code == "plie").expect("plie").replaced);
        assert_eq!(rules.own.len(), 1);
    }

    async fn suggestions_respect_eligibility_zone_and_distance(f) {
        let services = [
            ("proche", "Permis jeunes", "mobilite--preparer-un-permis", json!(["jeunes"]), json!(["59"]), 0.005),
            ("loin", "Garage solidaire", "mobilite--acceder-a-un-vehicule", json!(["tous-publics"]), json!(["59"]), 0.40),
            ("femmes", "Mobilité au féminin", "mobilite--preparer-un-permis", json!(["femmes"]), json!(["59"]), 0.01),
            ("roubaix", "Plateforme de Roubaix", "mobilite--preparer-un-permis", json!(["tous-publics"]), json!(["59512"]), 0.01),
            ("logement", "Accès au logement", "logement-hebergement--louer-un-logement", json!(["tous-publics"]), json!(["59"]), 0.0),
            ("e2c", "Mobilité E2C", "mobilite--preparer-un-permis", json!(["tous-publics"]), json!(["59"]), 0.02),
        ];
        let file = json!({
            "structures": [{"source": "dora", "id": "dora--s1", "nom": "Relais", "date_maj": "2026-10-01"}],
            "services": services.iter().map(|(id, nom, theme, publics, zone, dlat)| json!({
                "source": "dora", "structure_id": "dora--s1", "id": format!("dora--{id}"), "nom": nom,
                "description": "Un service fictif.", "date_maj": "2026-10-15", "thematiques": [theme],
                "publics": publics, "zone_eligibilite": zone, "modes_accueil": ["en-presentiel"],
                "longitude": 3.9737, "latitude": 50.2775 + dlat,
            })).collect::<Vec<_>>(),
        });
        let report = app::directory_file::import(&f.app, f.territory, std::io::Cursor::new(file.to_string().into_bytes()), None).await.expect("imported");
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        let coordinator = f.caller("coordination@test.fr").await;
        let e2c = {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::directory::service_id_by_key(&mut pooled.conn(), f.territory, "dora", "dora--e2c").await.expect("lookup").expect("e2c")
        };
        diagnostic::set_service_rules(&f.app, &coordinator, e2c, &["e2c".into()]).await.expect("rules");
        {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::directory::set_commune_position(&mut pooled.conn(), "59392", (3.9737, 50.2775), "test").await.expect("position");
        }
        let pro = f.caller("conseil@test.fr").await;
        let id = accompanied(&f, &pro, young_man()).await;
        assert!(diagnostic::suggestions(&f.app, &pro, id).await.expect("none yet").is_empty(), "no barrier before a signed diagnostic");
        let mut input = levels(&day(-1), &[(Field::Mobilite, "3")]);
        input.distance_km = "10".into();
        diagnostic::save_diagnostic(&f.app, &pro, id, &input, true).await.expect("signed");
        let found = diagnostic::suggestions(&f.app, &pro, id).await.expect("suggestions");
        assert_eq!(found.len(), 1, "one barrier");
        let mobility = &found[0];
        assert_eq!(mobility.field, Field::Mobilite);
        let names: Vec<&str> = mobility.suggestions.iter().map(|s| s.nom.as_str()).collect();
        assert_eq!(names, vec!["Permis jeunes", "Garage solidaire", "Mobilité E2C"], "eligible and near, eligible and far, to check");
        assert_eq!(mobility.excluded, 1, "the women's service is not for him");
        let far = &mobility.suggestions[1];
        assert!(far.beyond_distance && far.distance_m.expect("distance") > 40_000.0);
        let near = &mobility.suggestions[0];
        assert!(!near.beyond_distance && near.distance_m.expect("distance") < 1_000.0);
        let to_check = &mobility.suggestions[2];
        assert_eq!(to_check.answer, Answer::ToCheck);
        assert!(to_check.to_check.iter().any(|c| c.contains("qualification")), "{:?}", to_check.to_check);
        // One click prepares an orientation in the plan.
        diagnostic::prepare_orientation(&f.app, &pro, id, &PrepareInput { field: "mobilite".into(), service: near.service.0.to_string() }).await.expect("prepared");
        let plan = diagnostic::plan_page(&f.app, &pro, id, None).await.expect("plan");
        let action = &plan.objectives[0].actions[0];
        assert!(action.row.title.contains("Permis jeunes"));
        assert_eq!(action.row.service_id, Some(near.service.0));
        // A service of another territory is refused.
        let Err(AppError::Invalid(_)) = diagnostic::prepare_orientation(&f.app, &pro, id, &PrepareInput { field: "mobilite".into(), service: "999999".into() }).await else { panic!() };
    }

    async fn the_plan_page_runs_the_same_statements_whatever_the_plan_and_the_directory_hold(f) {
        let pro = f.caller("conseil@test.fr").await;
        let id = accompanied(&f, &pro, young_man()).await;
        diagnostic::save_diagnostic(&f.app, &pro, id, &levels(&day(-3), &[(Field::Mobilite, "3"), (Field::Logement, "2")]), true).await.expect("signed");
        let import = |n: usize, from: usize| {
            let file = json!({
                "structures": [{"source": "dora", "id": "dora--s1", "nom": "Relais", "date_maj": "2026-10-01"}],
                "services": (from..from + n).map(|i| json!({
                    "source": "dora", "structure_id": "dora--s1", "id": format!("dora--{i}"), "nom": format!("Relais {i}"),
                    "description": "Un service fictif.", "date_maj": "2026-10-15",
                    "thematiques": [if i % 2 == 0 { "mobilite--preparer-un-permis" } else { "logement-hebergement--louer-un-logement" }],
                    "publics": if i % 3 == 0 { json!(["femmes"]) } else { json!(["tous-publics"]) },
                    "zone_eligibilite": ["59"], "modes_accueil": ["en-presentiel"],
                })).collect::<Vec<_>>(),
            });
            app::directory_file::import(&f.app, f.territory, std::io::Cursor::new(file.to_string().into_bytes()), None)
        };
        import(3, 0).await.expect("imported");
        let objective = diagnostic::add_objective(&f.app, &pro, id, &ObjectiveInput { field: "mobilite".into(), title: "Permis".into() }).await.expect("objective");
        let action = ActionInput { objective: objective.0.to_string(), title: "Code".into(), owner: pro.user_id.0.to_string(), due_on: day(5), service: String::new() };
        diagnostic::add_action(&f.app, &pro, id, &action).await.expect("action");
        let (small, few) = store::queries::counted(diagnostic::plan_page(&f.app, &pro, id, None)).await;
        let small = small.expect("page");
        import(60, 3).await.expect("imported");
        for field in ["logement", "mobilite", "savoirs-de-base"] {
            let o = diagnostic::add_objective(&f.app, &pro, id, &ObjectiveInput { field: field.into(), title: "Objectif".into() }).await.expect("objective");
            diagnostic::add_action(&f.app, &pro, id, &ActionInput { objective: o.0.to_string(), ..action.clone() }).await.expect("action");
        }
        let (large, many) = store::queries::counted(diagnostic::plan_page(&f.app, &pro, id, None)).await;
        let large = large.expect("page");
        assert_eq!(few, many, "no statement per objective, action or relay");
        assert!(large.objectives.len() > small.objectives.len());
        let shown: usize = large.suggestions.iter().map(|s| s.suggestions.len()).sum();
        assert_eq!(shown, 2 * diagnostic::SUGGESTIONS_PER_FIELD);
        assert!(large.suggestions.iter().all(|s| s.excluded > 0), "the women's services set aside");
    }

    async fn the_situations_referential_is_edited_by_administrators(f) {
        let admin = f.caller("admin@test.fr").await;
        let coordinator = f.caller("coordination@test.fr").await;
        let input = diagnostic::SituationInput { field: "mobilite".into(), label: "Pas de vélo".into(), active: true };
        assert!(matches!(diagnostic::add_situation(&f.app, &coordinator, &input).await, Err(AppError::Forbidden)));
        let id = diagnostic::add_situation(&f.app, &admin, &input).await.expect("added");
        let Err(AppError::Invalid(e)) = diagnostic::add_situation(&f.app, &admin, &diagnostic::SituationInput { field: "x".into(), label: " ".into(), active: true }).await else { panic!() };
        assert!(e.get("field").is_some() && e.get("label").is_some());
        diagnostic::update_situation(&f.app, &admin, id, &diagnostic::SituationInput { label: "Pas de vélo ni de trottinette".into(), active: false, ..Default::default() }).await.expect("updated");
        let all = diagnostic::situations(&f.app, &admin).await.expect("list");
        let s = all.iter().find(|s| s.id == id).expect("kept");
        assert!(!s.active && s.label.contains("trottinette"));
        assert!(all.iter().filter(|s| s.field == Field::Mobilite).count() >= 7, "shipped ones too");
    }
}
