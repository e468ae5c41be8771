//! Bulk import of persons, on both backends: the dry run writes nothing and says per row what
//! would happen; the import creates files as the repérage form does (follow-up group, QPV check,
//! audit); re-importing the same file changes nothing; a changed row updates its file; all or
//! nothing refuses the whole file; an import is its owner's only; a stale file is dropped.

use std::collections::HashMap;

use app::persons::import::{self, RequestInput, Summary};
use app::persons::{OutreachInput, Recorded};
use app::testing::Fixture;
use app::{AppError, Caller, Settings};
use chrono::Duration;
use domain::PersonId;
use domain::person_import::ImportState;

async fn fixture(backend: store::Backend) -> Fixture {
    let f = Fixture::with_settings(
        backend,
        Settings {
            ban_api_url: app::testing::fake_ban_api().await,
            ..Settings::default()
        },
    )
    .await;
    app::qpv::seed_demo(&f.app).await.expect("demo QPVs");
    f
}

macro_rules! both_backends {
    ($(async fn $name:ident($f:ident) $body:block)*) => {$(
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $f = fixture(store::Backend::Sqlite).await;
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let $f = fixture(store::Backend::Postgres).await;
                $body
            }
        }
    )*};
}

const HEADER: &str = "Identifiant;Prénom;Nom;Date de naissance;Tél.;E-mail;Adresse;Code postal;Ville;Champs d'action;Observations\n";

fn list(rows: &[&str]) -> Vec<u8> {
    let mut text = HEADER.to_string();
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text.into_bytes()
}

/// The recognised mapping, as the page sends it back unchanged.
async fn recognised(f: &Fixture, me: &Caller, id: i64) -> HashMap<String, String> {
    let view = import::get(&f.app, me, id).await.expect("import");
    view.mapping
        .columns()
        .map(|(c, i)| (import::field_name(c), i.to_string()))
        .collect()
}

async fn dry_run(f: &Fixture, me: &Caller, bytes: Vec<u8>) -> (i64, Summary) {
    let id = import::upload(&f.app, me, "liste.csv", bytes)
        .await
        .expect("uploaded");
    let fields = recognised(f, me, id).await;
    import::simulate(&f.app, me, id, &fields)
        .await
        .expect("dry run asked for");
    assert_eq!(
        import::get(&f.app, me, id).await.expect("import").state,
        ImportState::EnSimulation
    );
    app::jobs::drain(&f.app, "essai").await.expect("jobs");
    let view = import::get(&f.app, me, id).await.expect("import");
    assert_eq!(view.state, ImportState::Simule);
    (id, view.summary.expect("the dry run's summary"))
}

async fn launch(f: &Fixture, me: &Caller, id: i64, mode: &str) -> import::ImportView {
    import::request(
        &f.app,
        me,
        id,
        &RequestInput {
            mode: mode.into(),
            create_duplicates: false,
        },
    )
    .await
    .expect("requested");
    app::jobs::drain(&f.app, "essai").await.expect("jobs");
    import::get(&f.app, me, id).await.expect("import")
}

async fn files(f: &Fixture) -> Vec<store::persons::Person> {
    let coordinator = f.caller("coordination@test.fr").await;
    let scope = app::persons::scope(&coordinator).expect("scope");
    let mut pooled = f.app.db.acquire().await.expect("connection");
    let names = store::persons::names(&mut pooled.conn(), &scope)
        .await
        .expect("names");
    let mut out = Vec::new();
    for n in names {
        out.push(
            store::persons::get(&mut pooled.conn(), n.id)
                .await
                .expect("get")
                .expect("file"),
        );
    }
    out.sort_by_key(|p| p.id.0);
    out
}

fn outcomes(summary: &Summary) -> Vec<(usize, String, String)> {
    summary
        .shown
        .iter()
        .map(|r| (r.line, r.outcome.clone(), r.reason.clone()))
        .collect()
}

async fn by_hand(f: &Fixture, me: &Caller, first: &str, last: &str, phone: &str) -> PersonId {
    let input = OutreachInput {
        first_name: first.into(),
        last_name: last.into(),
        phone: phone.into(),
        channel: "marche".into(),
        met_on: domain::iso_date(f.app.today()),
        agrees_recontact: "oui".into(),
        confirm: true,
        ..OutreachInput::default()
    };
    match app::persons::record(&f.app, me, &input)
        .await
        .expect("recorded")
    {
        Recorded::Created(id) => id,
        Recorded::Duplicates(_) => panic!("confirmed"),
    }
}

both_backends! {
    async fn a_dry_run_says_per_row_what_the_import_then_does_and_a_second_import_changes_nothing(f) {
        let me = f.caller("conseil@test.fr").await;
        let marc = by_hand(&f, &me, "Marc", "Durand", "0611223344").await;
        let file = list(&[
            "A1;Awa;Diallo;12/03/1990;06 12 34 56 78;;12 rue de la Démonstration;59600;Maubeuge;Mobilité, logement;permis B à passer",
            "A2;Karim;Benali;;;karim@exemple.fr;;;;;",
            "A3;;Sans Prénom;;;;;;;;",
            "A4;Julie;Martin;;06 00;;;;;;",
            "A5;Awa;Diallo-Sy;;0612345678;;;;;;",
            "A6;Léa;Petit;;;;;;;Santé et handicap;",
            "A7;Marc;Durand;;06 11 22 33 44;;;;;;",
            ";;;;;;;;;;",
            "A1;Awa;Diallo;12/03/1990;;;;;;;",
            "A8;Noé;Roux;31/02/1990;;;;;;Transport;",
        ]);
        let before = files(&f).await.len();
        let (id, summary) = dry_run(&f, &me, file.clone()).await;
        let view = import::get(&f.app, &me, id).await.expect("import");
        assert_eq!(view.state, ImportState::Simule);
        assert_eq!(view.import.row_count, 9, "the blank row is not a row");
        assert_eq!(view.mapping.columns().count(), 11, "every heading recognised");
        assert_eq!(summary.counts.created, 2, "{summary:?}");
        assert_eq!(summary.counts.duplicates, 2);
        assert_eq!(summary.counts.refused, 5);
        assert_eq!(files(&f).await.len(), before, "a dry run writes no file");
        let shown = outcomes(&summary);
        assert_eq!(shown[0], (4, "refusée".into(), "Prénom : la cellule est vide".into()));
        assert_eq!(shown[1].0, 5);
        assert!(shown[1].2.starts_with("Téléphone : "), "{shown:?}");
        assert_eq!(shown[2], (6, "doublon probable".into(), "même téléphone qu'à la ligne 2".into()));
        assert!(shown[3].2.contains("« Santé et handicap » ne s'importe pas"), "{shown:?}");
        assert_eq!(shown[4], (8, "doublon probable".into(), format!("même téléphone que le dossier n° {}", marc.0)));
        assert_eq!(shown[5], (10, "refusée".into(), "même identifiant qu'à la ligne 2".into()));
        assert_eq!(shown[6].0, 11);
        assert!(shown[6].2.contains("Date de naissance : ") && shown[6].2.contains("« Transport » n'est pas l'un des huit champs d'action"), "{shown:?}");
        let report = import::report(&f.app, &me, id).await.expect("report");
        assert!(report.starts_with("\u{feff}Ligne;Identifiant;Résultat;Dossier;Motif;Quartier prioritaire"));
        assert!(report.contains("2;A1;création;;;dans le QPV"), "{report}");
        assert!(report.contains("3;A2;création;;;\n"), "{report}");
        assert!(!report.contains("Diallo"), "the report names no one");

        // The import, row by row: the valid rows become files, the others stay in the report.
        let done = launch(&f, &me, id, "ligne-par-ligne").await;
        assert_eq!(done.state, ImportState::Termine);
        assert_eq!(done.summary.as_ref().map(|s| s.counts.clone()), Some(summary.counts.clone()));
        assert!(!done.import.has_content, "the file is dropped once imported");
        let after = files(&f).await;
        assert_eq!(after.len(), before + 2);
        let awa = after.iter().find(|p| p.first_name == "Awa").expect("Awa");
        assert_eq!(awa.phone.as_deref(), Some("0612345678"));
        assert_eq!(awa.birth_date.as_deref(), Some("1990-03-12"));
        assert!(awa.qpv_code.is_some(), "the address was checked against the QPV map");
        assert_eq!(awa.needs, "permis B à passer");
        assert_eq!(awa.need_fields.0, vec![domain::Field::Mobilite, domain::Field::Logement]);
        assert_eq!(awa.channel, "partenaire");
        // The same need-to-know as a file recorded by hand: the importer's group, not others.
        let opened = app::persons::file(&f.app, &me, awa.id, "/essai").await.expect("the importer reads it");
        assert!(opened.members.iter().any(|m| m.is_referent), "the importer is the référent");
        let outsider = f.caller("ailleurs@test.fr").await;
        assert!(matches!(app::persons::file(&f.app, &outsider, awa.id, "/essai").await, Err(AppError::NotFound)));
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let events = store::audit::for_target(&mut pooled.conn(), "person", awa.id.0, 100).await.expect("audit");
        assert!(events.iter().any(|e| e.action == "person.create" && e.detail == format!("/personnes/import/{id}")), "{events:?}");
        drop(pooled);

        // The same file again: nothing changes.
        let updated_at: Vec<_> = files(&f).await.iter().map(|p| p.updated_at).collect();
        let (again, summary) = dry_run(&f, &me, file).await;
        assert_eq!((summary.counts.created, summary.counts.updated, summary.counts.unchanged), (0, 0, 2), "{summary:?}");
        assert_eq!(outcomes(&summary)[2].2, format!("même téléphone que le dossier n° {}", awa.id.0), "now a file");
        let done = launch(&f, &me, again, "ligne-par-ligne").await;
        assert_eq!(done.state, ImportState::Termine);
        assert_eq!(files(&f).await.iter().map(|p| p.updated_at).collect::<Vec<_>>(), updated_at);

        // A row changed in the partner's list updates its file, and only that.
        let changed = list(&["A2;Karim;Benali;;;karim.benali@exemple.fr;;;;;"]);
        let (third, summary) = dry_run(&f, &me, changed).await;
        assert_eq!((summary.counts.created, summary.counts.updated), (0, 1));
        launch(&f, &me, third, "ligne-par-ligne").await;
        let karim = files(&f).await.into_iter().find(|p| p.first_name == "Karim").expect("Karim");
        assert_eq!(karim.email.as_deref(), Some("karim.benali@exemple.fr"));
    }

    async fn the_model_list_offered_for_download_imports_as_it_is(f) {
        let me = f.caller("conseil@test.fr").await;
        let (id, summary) = dry_run(&f, &me, import::template().into_bytes()).await;
        assert_eq!(import::get(&f.app, &me, id).await.expect("import").mapping.columns().count(), domain::person_import::ImportColumn::ALL.len(), "every heading recognised");
        assert_eq!((summary.counts.created, summary.counts.refused), (1, 0), "{summary:?}");
    }

    async fn all_or_nothing_writes_nothing_when_one_row_is_refused(f) {
        let me = f.caller("conseil@test.fr").await;
        let (id, summary) = dry_run(&f, &me, list(&["B1;Inès;Haddad;;;;;;;;", "B2;;Oubli;;;;;;;;"])).await;
        assert_eq!((summary.counts.created, summary.counts.refused), (1, 1));
        let done = launch(&f, &me, id, "tout-ou-rien").await;
        assert_eq!(done.state, ImportState::Refuse);
        assert_eq!(done.import.error.as_deref(), Some("1 ligne(s) refusée(s) : rien n'a été importé (tout ou rien)."));
        assert!(files(&f).await.is_empty());
        assert!(import::report(&f.app, &me, id).await.expect("report").contains("3;B2;refusée;;Prénom : la cellule est vide"));
        assert!(matches!(import::request(&f.app, &me, id, &RequestInput { mode: "ligne-par-ligne".into(), create_duplicates: false }).await, Err(AppError::Invalid(_))), "once");

        // A file without a refused row goes in whole; a likely duplicate, asked for, is created.
        let (id, _) = dry_run(&f, &me, list(&["B1;Inès;Haddad;;;;;;;;", "B3;Inès;Haddad;;;;;;;;"])).await;
        import::request(&f.app, &me, id, &RequestInput { mode: "tout-ou-rien".into(), create_duplicates: true }).await.expect("requested");
        app::jobs::drain(&f.app, "essai").await.expect("jobs");
        let done = import::get(&f.app, &me, id).await.expect("import");
        assert_eq!(done.state, ImportState::Termine);
        assert_eq!(files(&f).await.len(), 2);
        let report = import::report(&f.app, &me, id).await.expect("report");
        assert!(report.contains("créée malgré un doublon probable (même nom qu'à la ligne 2)"), "{report}");
    }

    async fn a_file_already_partly_imported_is_finished_without_writing_anything_twice(f) {
        // What a job run again after a crash sees: part of the rows already written.
        let me = f.caller("conseil@test.fr").await;
        let rows: Vec<String> = (0..(import::CHUNK + 20)).map(|i| format!("C{i};Prénom{i};Nom{i};;;;;;;;")).collect();
        let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
        let (first, _) = dry_run(&f, &me, list(&refs[..300])).await;
        launch(&f, &me, first, "ligne-par-ligne").await;
        assert_eq!(files(&f).await.len(), 300);
        let (whole, summary) = dry_run(&f, &me, list(&refs)).await;
        assert_eq!((summary.counts.unchanged, summary.counts.created), (300, import::CHUNK + 20 - 300));
        let done = launch(&f, &me, whole, "tout-ou-rien").await;
        assert_eq!(done.import.rows_done, (import::CHUNK + 20) as i64);
        assert_eq!(files(&f).await.len(), import::CHUNK + 20, "each row once");
    }

    async fn an_import_whose_importer_lost_the_right_to_record_is_stopped_before_writing(f) {
        let me = f.caller("conseil@test.fr").await;
        let (id, _) = dry_run(&f, &me, list(&["E1;Lina;Perrin;;;;;;;;"])).await;
        import::request(&f.app, &me, id, &RequestInput { mode: "tout-ou-rien".into(), create_duplicates: false }).await.expect("requested");
        {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::users::set_active(&mut pooled.conn(), me.user_id, false).await.expect("deactivated");
        }
        app::jobs::drain(&f.app, "essai").await.expect("jobs");
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let stored = store::person_imports::get(&mut pooled.conn(), id).await.expect("read").expect("import");
        assert_eq!(stored.state, "refuse");
        assert!(stored.error.as_deref().is_some_and(|e| e.contains("n'a plus le droit d'enregistrer")), "{:?}", stored.error);
        assert!(!stored.has_content, "the file is dropped");
        drop(pooled);
        assert!(files(&f).await.is_empty());
    }

    async fn a_row_whose_file_was_merged_into_another_is_found_there_again(f) {
        let me = f.caller("conseil@test.fr").await;
        let kept = by_hand(&f, &me, "Sofia", "Marchand", "0622334455").await;
        let file = list(&["M1;Sofia;Marchand-Diaz;;;sofia@exemple.fr;;;;;"]);
        let (id, _) = dry_run(&f, &me, file.clone()).await;
        import::request(&f.app, &me, id, &RequestInput { mode: "tout-ou-rien".into(), create_duplicates: true }).await.expect("requested");
        app::jobs::drain(&f.app, "essai").await.expect("jobs");
        let imported = files(&f).await.into_iter().find(|p| p.last_name == "Marchand-Diaz").expect("imported").id;
        // The coordination merges the imported file into the one recorded by hand.
        let coordinator = f.caller("coordination@test.fr").await;
        app::persons::merge(&f.app, &coordinator, kept, imported).await.expect("merged");
        // The same list again: the row is known, in the kept file.
        let (_, summary) = dry_run(&f, &me, file).await;
        assert_eq!((summary.counts.created, summary.counts.unchanged, summary.counts.refused), (0, 1, 0), "{summary:?}");
        // Changed in the partner's list: the kept file is brought up to date.
        let (changed, summary) = dry_run(&f, &me, list(&["M1;Sofia;Marchand-Diaz;;;sofia.md@exemple.fr;;;;;"])).await;
        assert_eq!(summary.counts.updated, 1, "{summary:?}");
        launch(&f, &me, changed, "tout-ou-rien").await;
        let now = files(&f).await.into_iter().find(|p| p.id == kept).expect("kept");
        assert_eq!(now.email.as_deref(), Some("sofia.md@exemple.fr"));
        assert_eq!(now.phone.as_deref(), Some("0622334455"), "an empty cell erases nothing");
        assert_eq!(now.last_name, "Marchand-Diaz");
    }

    async fn an_import_is_its_owners_only_and_a_file_left_waiting_is_dropped(f) {
        let me = f.caller("conseil@test.fr").await;
        let (id, _) = dry_run(&f, &me, list(&["D1;Yanis;Morel;;;;;;;;"])).await;
        let coordinator = f.caller("coordination@test.fr").await;
        assert!(matches!(import::get(&f.app, &coordinator, id).await, Err(AppError::NotFound)));
        assert!(matches!(import::report(&f.app, &coordinator, id).await, Err(AppError::NotFound)));
        let pilot = f.caller("pilote@test.fr").await;
        assert!(matches!(import::upload(&f.app, &pilot, "x.csv", list(&["P;Pi;Lote;;;;;;;;"])).await, Err(AppError::Forbidden)), "a pilot records no file");
        // Mapping errors are said at the column's field.
        let mut fields = recognised(&f, &me, id).await;
        fields.insert("col-nom".into(), fields["col-prenom"].clone());
        let Err(AppError::Invalid(errors)) = import::simulate(&f.app, &me, id, &fields).await else { panic!("refused") };
        assert_eq!(errors.get("col-nom"), Some("La colonne « Prénom » est déjà choisie pour « Prénom »."));
        // Unreadable and empty files are refused at upload, with the reason.
        let Err(AppError::Invalid(errors)) = import::upload(&f.app, &me, "vide.csv", HEADER.as_bytes().to_vec()).await else { panic!("refused") };
        assert!(errors.get("fichier").is_some_and(|m| m.contains("aucune ligne")));

        f.clock.advance(import::STALE + Duration::minutes(1));
        assert_eq!(import::abandon_stale(&f.app).await.expect("purge"), 1);
        let view = import::get(&f.app, &me, id).await.expect("import");
        assert_eq!(view.state, ImportState::Abandonne);
        assert!(!view.import.has_content, "the file is gone");
        assert!(import::simulate(&f.app, &me, id, &recognised(&f, &me, id).await).await.is_err());
    }
}
