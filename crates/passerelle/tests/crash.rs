//! The real binary killed with SIGKILL in the middle of its work, then started again, on both
//! backends (docs/design.md, « Pannes de la base »): what it was writing is either all there or
//! not at all, and the service takes up where it was — an orientation's decision in the server,
//! a directory import (the command line's `services import`; the upload page runs the same
//! `directory_file::import`).

#[allow(dead_code)]
mod harness;

use std::time::Duration;

use domain::OrientationId;
use domain::orientation::Status;
use harness::Server;

const PASSWORD: &str = "demo-passerelle";
const RECEIVER: &str = "conseil.ml@demo.passerelle.test";

/// A database of the test's own, and its address.
struct Database {
    url: String,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl Database {
    async fn new(postgres: bool) -> Database {
        let dir = tempfile::tempdir().expect("temporary directory");
        if postgres {
            let (url, admin, name) = store::testing::create_postgres_database().await;
            Database {
                url,
                _dir: dir,
                postgres: Some((admin, name)),
            }
        } else {
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("crash.db").display()
            );
            Database {
                url,
                _dir: dir,
                postgres: None,
            }
        }
    }

    async fn open(&self) -> store::Db {
        store::Db::connect(&self.url, &store::PoolSettings::default())
            .await
            .expect("the database opens")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres {
            store::testing::drop_postgres_database(admin, name);
        }
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// The value of the first `name="…" value="…"` hidden input of a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} on the page"))
        + marker.len();
    page[start..].split('"').next().expect("value").to_string()
}

async fn log_in(client: &reqwest::Client, base: &str, email: &str) {
    let page = client
        .get(format!("{base}/connexion"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let answer = client
        .post(format!("{base}/connexion"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", &hidden(&page, "csrf_token")),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(answer.status().as_u16(), 303, "logged in");
}

/// An orientation the receiver may put under study, and its page.
async fn waiting_orientation(client: &reqwest::Client, base: &str) -> (OrientationId, String) {
    let inbox = client
        .get(format!("{base}/orientations/recues"))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("body");
    for part in inbox.split("href=\"/orientations/").skip(1) {
        let Some(id) = part.split('"').next().and_then(|i| i.parse::<i64>().ok()) else {
            continue;
        };
        let page = client
            .get(format!("{base}/orientations/{id}"))
            .send()
            .await
            .expect("orientation")
            .text()
            .await
            .expect("body");
        if page.contains("value=\"etude\"") {
            return (OrientationId(id), page);
        }
    }
    panic!("the demo has an orientation waiting for the Mission locale");
}

async fn study(client: &reqwest::Client, base: &str, id: OrientationId, page: &str) -> u16 {
    client
        .post(format!("{base}/orientations/{}/decision", id.0))
        .form(&[
            ("csrf_token", hidden(page, "csrf_token")),
            ("step", "etude".to_string()),
            ("version", hidden(page, "version")),
        ])
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// The orientation's status and the number of rows of its log.
async fn state(db: &store::Db, id: OrientationId) -> (Status, usize) {
    let mut pooled = db.acquire().await.expect("connection");
    let row = store::orientations::get(&mut pooled.conn(), id)
        .await
        .expect("read")
        .expect("the orientation");
    let events = store::orientations::events(&mut pooled.conn(), &[id])
        .await
        .expect("log");
    assert_eq!(
        events.last().map(|e| e.to_status),
        Some(row.status),
        "the log ends on the orientation's status"
    );
    (row.status, events.len())
}

async fn a_decision_killed_before_it_commits_is_not_there_and_can_be_taken_again(postgres: bool) {
    let database = Database::new(postgres).await;
    let pause = [(
        app::faults::VARIABLE,
        app::faults::ORIENTATION_DECISION.to_string(),
    )];
    let mut server = Server::on_database_with("demo", &database.url, &pause).await;
    let client = browser();
    log_in(&client, &server.base, RECEIVER).await;
    let (id, page) = waiting_orientation(&client, &server.base).await;
    let db = database.open().await;
    let before = state(&db, id).await;
    assert_eq!(before.0, Status::Envoyee);
    db.close().await;

    let base = server.base.clone();
    let decision = tokio::spawn({
        let (client, page) = (client.clone(), page.clone());
        async move { study(&client, &base, id, &page).await }
    });
    server.kill_at(app::faults::ORIENTATION_DECISION);
    assert_eq!(decision.await.expect("request"), 0, "the answer never came");

    // Nothing of the decision is stored: not the status, not the log.
    let db = database.open().await;
    assert_eq!(state(&db, id).await, before);
    db.close().await;

    // Started again, the service takes the same decision (no lock left behind).
    let server = Server::on_database_with("serve", &database.url, &[]).await;
    let client = browser();
    log_in(&client, &server.base, RECEIVER).await;
    let page = client
        .get(format!("{}/orientations/{}", server.base, id.0))
        .send()
        .await
        .expect("orientation")
        .text()
        .await
        .expect("body");
    assert_eq!(study(&client, &server.base, id, &page).await, 303);
    let db = database.open().await;
    assert_eq!(state(&db, id).await, (Status::AEtude, before.1 + 1));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_killed_before_it_commits_is_not_there_and_can_be_taken_again_on_sqlite() {
    a_decision_killed_before_it_commits_is_not_there_and_can_be_taken_again(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_killed_before_it_commits_is_not_there_and_can_be_taken_again_on_postgres() {
    a_decision_killed_before_it_commits_is_not_there_and_can_be_taken_again(true).await;
}

/// A territory for the import, in a migrated database.
async fn territory(database: &Database) -> domain::TerritoryId {
    let db = database.open().await;
    db.migrate().await.expect("migrated");
    let mut tx = db.begin().await.expect("tx");
    let data = store::territories::TerritoryData {
        slug: domain::Slug::parse("sambre").expect("slug"),
        name: "Territoire de la Sambre".into(),
        status: domain::TerritoryStatus::Active,
        epci: None,
        co_pilots: String::new(),
        starts_on: None,
        ends_on: None,
        communes: vec![domain::InseeCode::parse("59392").expect("insee")],
        time_zone: domain::TimeZone::Paris,
    };
    let id = store::territories::create(&mut tx.conn(), &data, store::now())
        .await
        .expect("territory");
    tx.commit().await.expect("commit");
    db.close().await;
    id
}

async fn services(database: &Database, territory: domain::TerritoryId) -> i64 {
    let db = database.open().await;
    let mut pooled = db.acquire().await.expect("connection");
    let n = store::directory::count_services(&mut pooled.conn(), territory)
        .await
        .expect("count");
    drop(pooled);
    db.close().await;
    n
}

/// `passerelle services import` of a data·inclusion file, stopping before its commit if asked.
fn import(database: &Database, file: &std::path::Path, pause: bool) -> std::process::Child {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"));
    command
        .args(["services", "import"])
        .arg(file)
        .args(["--format", "data-inclusion", "--territory", "sambre"])
        .args(["--database-url", &database.url])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    if pause {
        command.env(app::faults::VARIABLE, app::faults::DIRECTORY_IMPORT);
    }
    command.spawn().expect("the import starts")
}

async fn a_directory_import_killed_before_it_commits_leaves_nothing_and_runs_again(postgres: bool) {
    use std::io::{BufRead, BufReader};
    let database = Database::new(postgres).await;
    let territory = territory(&database).await;
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("annuaire.json");
    // One structure and its services, in one data·inclusion array.
    let mut records = vec![serde_json::json!({
        "source": "dora", "id": "dora--s1", "nom": "Mission locale Sambre", "date_maj": "2026-10-01"
    })];
    for i in 0..2_000 {
        records.push(serde_json::json!({
            "source": "dora", "structure_id": "dora--s1", "id": format!("dora--{i}"),
            "nom": format!("Atelier numéro {i}"), "description": "Un atelier pour avancer.",
            "date_maj": "2026-10-15"
        }));
    }
    let text = serde_json::Value::Array(records).to_string();
    std::fs::write(&file, text).expect("file");

    let mut child = import(&database, &file, true);
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let paused = lines
        .find_map(|l| {
            l.ok()
                .and_then(|l| l.strip_prefix(app::faults::ANNOUNCE).map(str::to_string))
        })
        .expect("the import reaches its pause point");
    assert_eq!(paused, app::faults::DIRECTORY_IMPORT);
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_eq!(
        services(&database, territory).await,
        0,
        "all or nothing: nothing"
    );

    let out = import(&database, &file, false)
        .wait_with_output()
        .expect("import");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("créés") && said.contains("0 rejetés"),
        "{said}"
    );
    assert_eq!(
        services(&database, territory).await,
        2_000,
        "all or nothing: all"
    );
    let again = import(&database, &file, false)
        .wait_with_output()
        .expect("import");
    let said = String::from_utf8_lossy(&again.stdout).into_owned();
    assert!(
        said.contains("0 créés, 0 mis à jour"),
        "run again, it changes nothing: {said}"
    );
    assert_eq!(services(&database, territory).await, 2_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_import_killed_before_it_commits_leaves_nothing_and_runs_again_on_sqlite() {
    a_directory_import_killed_before_it_commits_leaves_nothing_and_runs_again(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_import_killed_before_it_commits_leaves_nothing_and_runs_again_on_postgres() {
    a_directory_import_killed_before_it_commits_leaves_nothing_and_runs_again(true).await;
}
