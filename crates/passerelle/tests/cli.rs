//! The command line as an operator meets it: clear French lines, never a panic.

use std::process::{Command, Output, Stdio};

fn passerelle(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("tmp");
    let mut command = Command::new(env!("CARGO_BIN_EXE_passerelle"));
    command
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .env_remove("PASSERELLE_DATABASE_URL");
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

/// Runs a blocking CLI scenario against a fresh PostgreSQL database, dropped afterwards.
async fn on_postgres(scenario: fn(&str)) {
    let (url, admin, name) = store::testing::create_postgres_database().await;
    let run = tokio::task::spawn_blocking(move || scenario(&url)).await;
    store::testing::drop_postgres_database(&admin, &name);
    run.expect("the CLI scenario completes");
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_unreachable_database_is_reported_in_one_french_line_without_its_password() {
    let out = passerelle(
        &[
            "migrate",
            "--database-url",
            "postgres://passerelle:secret@127.0.0.1:1/passerelle",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("passerelle : impossible de joindre la base de données"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        !err.contains("secret") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn an_unknown_option_or_command_is_explained_in_french() {
    let out = passerelle(&["serve", "--port", "80"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("option inconnue « --port »"),
        "{}",
        stderr(&out)
    );
    let out = passerelle(&["lancer"], &[]);
    assert!(
        stderr(&out).contains("commande inconnue « lancer »"),
        "{}",
        stderr(&out)
    );
    let out = passerelle(&["serve", "--addr", "localhost"], &[]);
    assert!(
        stderr(&out).contains("adresse d'écoute « localhost » invalide"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_environment_variable_is_named() {
    let out = passerelle(
        &["migrate"],
        &[("PASSERELLE_SESSION_IDLE_MINUTES", "beaucoup")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("PASSERELLE_SESSION_IDLE_MINUTES"),
        "{}",
        stderr(&out)
    );
}

fn admin_create_then_log_in(url: &str) {
    let out = passerelle(&["migrate", "--database-url", url], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = passerelle(
        &[
            "admin",
            "create",
            "--email",
            "chef@exemple.fr",
            "--database-url",
            url,
        ],
        &[("PASSERELLE_ADMIN_PASSWORD", "court")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("au moins 12 caractères"),
        "{}",
        stderr(&out)
    );
    let out = passerelle(
        &[
            "admin",
            "create",
            "--email",
            "Chef@Exemple.fr",
            "--database-url",
            url,
        ],
        &[("PASSERELLE_ADMIN_PASSWORD", "une phrase de passe")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Compte créé : Chef@Exemple.fr est administrateur national.")
    );
    let again = passerelle(
        &[
            "admin",
            "create",
            "--email",
            "chef@exemple.fr",
            "--database-url",
            url,
        ],
        &[("PASSERELLE_ADMIN_PASSWORD", "une autre phrase")],
    );
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("Compte mis à jour"),
        "{}",
        stderr(&again)
    );
    // A lost phone: the second factor is removed from the command line (none here yet).
    let reset = passerelle(
        &[
            "admin",
            "reset-second-factor",
            "--email",
            "chef@exemple.fr",
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(reset.status.success(), "{}", stderr(&reset));
    assert!(
        String::from_utf8_lossy(&reset.stdout).contains("n'avait pas de double authentification")
    );
    let unknown = passerelle(
        &[
            "admin",
            "reset-second-factor",
            "--email",
            "personne@exemple.fr",
            "--database-url",
            url,
        ],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("aucun compte n'a l'adresse personne@exemple.fr"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn admin_create_makes_a_national_administrator_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    admin_create_then_log_in(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.db").display()
    ));
}

#[tokio::test]
async fn admin_create_makes_a_national_administrator_on_postgres() {
    on_postgres(admin_create_then_log_in).await;
}

fn qpv_import_and_lookup(url: &str) {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../app/data/qpv-demo.geojson");
    let out = passerelle(
        &[
            "qpv",
            "import",
            file,
            "--millesime",
            "2024",
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 créés, 0 mis à jour, 0 inchangés"));
    let again = passerelle(
        &[
            "qpv",
            "import",
            file,
            "--millesime",
            "2024",
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 créés, 0 mis à jour, 3 inchangés"));
    let wrong_map = passerelle(
        &[
            "qpv",
            "import",
            file,
            "--millesime",
            "2015",
            "--database-url",
            url,
        ],
        &[],
    );
    assert_eq!(wrong_map.status.code(), Some(1));
    assert!(
        stderr(&wrong_map).contains("rien n'a été modifié")
            && stderr(&wrong_map).contains("entité n° 1"),
        "{}",
        stderr(&wrong_map)
    );
    let inside = passerelle(
        &[
            "qpv",
            "lookup",
            "--lon",
            "3.962",
            "--lat",
            "50.272",
            "--format",
            "json",
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(inside.status.success(), "{}", stderr(&inside));
    let json: serde_json::Value = serde_json::from_slice(&inside.stdout).expect("one JSON object");
    assert_eq!(json["code_qp"], "QN05990N");
    assert_eq!(json["millesime"], 2024);
    let outside = passerelle(
        &[
            "qpv",
            "lookup",
            "--lon",
            "3.9655",
            "--lat",
            "50.275",
            "--format",
            "json",
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(outside.status.success(), "outside is not an error");
    let json: serde_json::Value = serde_json::from_slice(&outside.stdout).expect("one JSON object");
    assert!(json["code_qp"].is_null());
    assert_eq!(json["qpv_proche"], "QN05990N");
}

#[test]
fn qpv_files_are_imported_once_and_points_looked_up_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    qpv_import_and_lookup(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.db").display()
    ));
}

#[tokio::test]
async fn qpv_files_are_imported_once_and_points_looked_up_on_postgres() {
    on_postgres(qpv_import_and_lookup).await;
}

const BAN_FILE: &str = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles
59392_0001_00012;;12;;Rue de la Démonstration;59600;59392;Maubeuge;;;0;0;3.962;50.272;entrée;;;MAUBEUGE;;commune;commune;1;
";

fn offline_geocoding(url: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let qpv = concat!(env!("CARGO_MANIFEST_DIR"), "/../app/data/qpv-demo.geojson");
    assert!(
        passerelle(
            &[
                "qpv",
                "import",
                qpv,
                "--millesime",
                "2024",
                "--database-url",
                url
            ],
            &[]
        )
        .status
        .success()
    );
    let bad = dir.path().join("adresses-59-bad.csv");
    std::fs::write(&bad, BAN_FILE.replace("3.962;50.272", "x;50.272")).expect("write");
    let out = passerelle(
        &[
            "geocode",
            "import-ban",
            &bad.display().to_string(),
            "--database-url",
            url,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("rien n'a été modifié")
            && stderr(&out).contains("ligne 2 : longitude"),
        "{}",
        stderr(&out)
    );
    let good = dir.path().join("adresses-59.csv");
    std::fs::write(&good, BAN_FILE).expect("write");
    let out = passerelle(
        &[
            "geocode",
            "import-ban",
            &good.display().to_string(),
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 adresses importées"));
    let out = passerelle(
        &[
            "qpv",
            "lookup",
            "--address",
            "12 r. de la demonstration 59600 maubeuge",
            "--format",
            "json",
            "--database-url",
            url,
        ],
        &[("PASSERELLE_GEOCODER", "offline")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(
        (json["code_qp"].as_str(), json["confidence"].as_str()),
        (Some("QN05990N"), Some("sur"))
    );
    assert_eq!(json["label"], "12 Rue de la Démonstration 59600 Maubeuge");
}

#[test]
fn ban_files_are_imported_and_addresses_geocoded_offline_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    offline_geocoding(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.db").display()
    ));
}

#[tokio::test]
async fn ban_files_are_imported_and_addresses_geocoded_offline_on_postgres() {
    on_postgres(offline_geocoding).await;
}

/// Creates a territory the way the administration page would, in a migrated database.
fn territory(url: &str, slug: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let db = store::Db::connect(url, &store::PoolSettings::default())
            .await
            .expect("database");
        db.migrate().await.expect("migrated");
        let mut tx = db.begin().await.expect("tx");
        let data = store::territories::TerritoryData {
            slug: domain::Slug::parse(slug).expect("slug"),
            name: format!("Territoire {slug}"),
            status: domain::TerritoryStatus::Active,
            epci: None,
            co_pilots: String::new(),
            starts_on: None,
            ends_on: None,
            communes: vec![domain::InseeCode::parse("59392").expect("insee")],
            time_zone: domain::TimeZone::Paris,
        };
        store::territories::create(&mut tx.conn(), &data, store::now())
            .await
            .expect("territory");
        tx.commit().await.expect("commit");
        db.close().await;
    });
}

fn services_import_and_export(url: &str) {
    territory(url, "sambre");
    let dir = tempfile::tempdir().expect("tmp");
    let structures = dir.path().join("structures.json");
    std::fs::write(
        &structures,
        r#"[{"source": "dora", "id": "dora--s1", "nom": "Mission locale Sambre", "date_maj": "2026-10-01", "siret": "13002526500013"},
            {"source": "dora", "id": "dora--s2", "nom": "X", "date_maj": "2026-10-01"}]"#,
    )
    .expect("file");
    let services = dir.path().join("services.csv");
    std::fs::write(
        &services,
        "source;structure_id;id;nom;description;date_maj;publics;thematiques\n\
         dora;dora--s1;dora--a;Aide au permis;Financer son permis de conduire.;2026-10-15;jeunes;mobilite--preparer-un-permis\n\
         dora;dora--s1;dora--b;Atelier;Un atelier.;2026-10-15;tous-publics,jeunes;\n",
    )
    .expect("file");
    let import = |file: &std::path::Path| {
        passerelle(
            &[
                "services",
                "import",
                &file.display().to_string(),
                "--format",
                "data-inclusion",
                "--territory",
                "sambre",
                "--database-url",
                url,
            ],
            &[],
        )
    };
    let out = import(&structures);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("1 créés, 0 mis à jour, 0 inchangés, 1 rejetés"),
        "{stdout}"
    );
    assert!(stdout.contains("rejeté — structure n° 2 « dora--s2 » : nom : doit compter entre 3 et 150 caractères (1 reçus)"), "{stdout}");
    let out = import(&services);
    assert_eq!(
        out.status.code(),
        Some(0),
        "valid records were stored: {}",
        stderr(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("1 créés, 0 mis à jour, 0 inchangés, 1 rejetés"),
        "{stdout}"
    );
    assert!(
        stdout.contains("service n° 3 « dora--b »"),
        "the CSV line: {stdout}"
    );
    let again = import(&services);
    assert!(
        String::from_utf8_lossy(&again.stdout)
            .contains("0 créés, 0 mis à jour, 1 inchangés, 1 rejetés")
    );

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, r#"[{"source": "dora", "id": "dora--s3", "nom": "Structure C", "date_maj": "2026-10-01"}, {"#).expect("file");
    let out = import(&broken);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unreadable file exits with 2"
    );
    assert!(
        stderr(&out).contains("illisible, rien n'a été modifié : ligne 1"),
        "{}",
        stderr(&out)
    );
    let missing = import(&dir.path().join("absent.json"));
    assert_eq!(missing.status.code(), Some(2));
    let unknown = passerelle(
        &[
            "services",
            "import",
            &structures.display().to_string(),
            "--format",
            "data-inclusion",
            "--territory",
            "nulle-part",
            "--database-url",
            url,
        ],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("aucun territoire n'a l'identifiant « nulle-part »"));

    let export = passerelle(
        &[
            "services",
            "export",
            "--format",
            "data-inclusion",
            "--territory",
            "sambre",
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(export.status.success(), "{}", stderr(&export));
    let json: serde_json::Value = serde_json::from_slice(&export.stdout).expect("JSON on stdout");
    assert_eq!(
        json["structures"].as_array().map(Vec::len),
        Some(1),
        "the broken file stored nothing"
    );
    assert_eq!(json["services"][0]["id"], "dora--a");
    assert_eq!(
        json["services"][0]["thematiques"],
        serde_json::json!(["mobilite--preparer-un-permis"])
    );
    // The export is itself an importable file: importing it changes nothing.
    let exported = dir.path().join("export.json");
    std::fs::write(&exported, &export.stdout).expect("file");
    let round = import(&exported);
    assert!(
        String::from_utf8_lossy(&round.stdout)
            .contains("0 créés, 0 mis à jour, 2 inchangés, 0 rejetés"),
        "{}",
        String::from_utf8_lossy(&round.stdout)
    );
}

#[test]
fn directory_files_are_imported_with_a_report_and_exported_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    services_import_and_export(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.db").display()
    ));
}

#[tokio::test]
async fn directory_files_are_imported_with_a_report_and_exported_on_postgres() {
    on_postgres(services_import_and_export).await;
}

fn indicators_printed(url: &str) {
    territory(url, "maubeuge");
    let out = passerelle(
        &[
            "indicators",
            "--territory",
            "maubeuge",
            "--from",
            "2026-01-01",
            "--to",
            "31/03/2026",
            "--format",
            "csv",
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        csv.starts_with('\u{feff}'),
        "a byte-order mark for spreadsheets"
    );
    assert!(
        csv.contains("Indicateurs;Territoire maubeuge;du 01/01/2026 au 31/03/2026"),
        "{csv}"
    );
    assert!(csv.contains("Sexe;Repérés;Contactés"), "{csv}");
    let out = passerelle(
        &[
            "indicators",
            "--national",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["perimetre"], "France entière");
    assert_eq!(json["seuil"], 5);
    // The funnel by 8 breakdowns and by territory, the barriers, the orientations by kind of
    // receiver, by offer and their decline reasons, the actions, the employers, the partners
    // by kind, the situation after the exit.
    let keys: Vec<&str> = json["tableaux"]
        .as_array()
        .expect("tables")
        .iter()
        .filter_map(|t| t["cle"].as_str())
        .collect();
    assert_eq!(keys.len(), 17, "{keys:?}");
    for key in [
        "parcours-territoire",
        "freins",
        "orientations-structure",
        "orientations-motifs",
        "actions",
        "employeurs",
        "partenaires",
        "suivi",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    assert_eq!(json["entonnoir"][0]["masque"], false);
    // Mistakes are told in French, naming what is wrong.
    let out = passerelle(
        &[
            "indicators",
            "--territory",
            "inconnu",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("aucun territoire n'a l'identifiant « inconnu »"),
        "{}",
        stderr(&out)
    );
    let out = passerelle(
        &[
            "indicators",
            "--national",
            "--from",
            "2026-04-01",
            "--to",
            "2026-03-31",
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--to : La fin de la période précède son début."),
        "{}",
        stderr(&out)
    );
}

#[test]
fn indicators_are_printed_masked_in_csv_and_json_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    indicators_printed(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.db").display()
    ));
}

#[tokio::test]
async fn indicators_are_printed_masked_in_csv_and_json_on_postgres() {
    on_postgres(indicators_printed).await;
}

/// The national generator through the command line: sizes printed, a second run adds nothing,
/// and the national indicators read the generated territories.
fn country_generated(url: &str) {
    let args = [
        "generate",
        "--territories",
        "3",
        "--persons",
        "300",
        "--database-url",
        url,
    ];
    let out = passerelle(&args, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        printed.contains("3 territoires, 300 personnes"),
        "{printed}"
    );
    let again = passerelle(&args, &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        String::from_utf8(again.stdout)
            .expect("utf-8")
            .contains("rien n'est ajouté"),
        "idempotent"
    );
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Duration::days(800))
        .format("%Y-%m-%d")
        .to_string();
    let to = today.format("%Y-%m-%d").to_string();
    let out = passerelle(
        &[
            "indicators",
            "--national",
            "--from",
            &from,
            "--to",
            &to,
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        json["entonnoir"][0]["valeur"], 300,
        "every generated person met in the two years"
    );
    let territories = json["tableaux"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["cle"] == "parcours-territoire"))
        .and_then(|t| t["lignes"].as_array().map(Vec::len));
    assert_eq!(territories, Some(3));
}

#[test]
fn a_country_is_generated_once_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    country_generated(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.db").display()
    ));
}

#[tokio::test]
async fn a_country_is_generated_once_on_postgres() {
    on_postgres(country_generated).await;
}
