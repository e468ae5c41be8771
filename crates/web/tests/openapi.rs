//! The OpenAPI document exercised end to end, on both backends: the real router is served on
//! 127.0.0.1, and schemathesis (PyPI, pinned in scripts/requirements-test.txt and installed in
//! `.venv` by `scripts/setup --test`) reads `/api/v1/openapi.json` and calls every operation it
//! documents — examples, boundary values, random valid and invalid inputs — with a token holding
//! every scope, over a territory with a person and an orientation. Each answer must be no server
//! error, carry a documented status, content type and headers, and match its documented schema;
//! invalid input must be refused and valid input accepted.

use std::net::SocketAddr;
use std::path::PathBuf;

use app::testing::Fixture;
use domain::api::ApiScope;

async fn fixture(backend: store::Backend) -> Fixture {
    let settings = app::Settings {
        ban_api_url: app::testing::fake_ban_api().await,
        // Thousands of requests in a minute from one token: the limit is tested elsewhere.
        api_requests_per_minute: 1_000_000,
        ..app::Settings::default()
    };
    let f = Fixture::with_settings(backend, settings).await;
    app::qpv::seed_demo(&f.app).await.expect("demo QPVs");
    f
}

/// Serves the router as `passerelle serve` does, on a free port; returns its base URL.
async fn serve(f: &Fixture) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let router = web::router(web::AppState::new(f.app.clone(), false));
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    base
}

fn schemathesis() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/schemathesis");
    assert!(
        path.exists(),
        "schemathesis is missing from .venv: run scripts/setup --test"
    );
    path
}

/// A token of `email` with every scope.
async fn token(f: &Fixture, email: &str) -> String {
    let caller = f.caller(email).await;
    let input = app::api_tokens::TokenInput {
        name: "Schemathesis".into(),
        scopes: ApiScope::ALL
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
        days: "30".into(),
    };
    app::api_tokens::create(&f.app, &caller, &input)
        .await
        .expect("token")
        .token
}

async fn every_operation(backend: store::Backend) {
    let f = fixture(backend).await;
    let sender = f.caller("conseil@test.fr").await;
    let receiver = f
        .caller_in_new_organisation("accueil@asso.fr", f.territory)
        .await;
    let org = receiver.organisations_in(f.territory)[0];
    let person = f
        .accompanied_person(&sender, &[org], ("Awa", "Diallo", "0601020304"))
        .await;
    let input = app::orientations::SendInput {
        receiver: format!("organisation:{}", org.0),
        fields: vec!["mobilite".into()],
        reason: "Préparer le permis B.".into(),
        ..Default::default()
    };
    let orientation = app::orientations::send(&f.app, &sender, person, &input)
        .await
        .expect("an orientation");
    // A coordinator: every operation is theirs to call (the territory's files, its indicators).
    let token = token(&f, "coordination@test.fr").await;
    let base = serve(&f).await;
    let dir = tempfile::tempdir().expect("a directory for the run");
    // Real identifiers, drawn half the time, so that the operations reach their logic rather
    // than only answering 404.
    let config = format!(
        r#"[dictionaries.territoires]
values = ["maubeuge", "roubaix"]
[dictionaries.orientations]
values = [{orientation}]
[dictionaries.personnes]
values = [{person}]

[[operations]]
include-path = "/api/v1/territoires/{{slug}}/annuaire"
parameters = {{ "path.slug" = {{ dictionary = "territoires", probability = 0.5 }} }}

[[operations]]
include-path-regex = "^/api/v1/orientations/"
parameters = {{ "path.id" = {{ dictionary = "orientations", probability = 0.5 }} }}

[[operations]]
include-path = "/api/v1/personnes/{{id}}/orientations"
parameters = {{ "path.id" = {{ dictionary = "personnes", probability = 0.5 }} }}
"#,
        orientation = orientation.0,
        person = person.0
    );
    let config_file = dir.path().join("schemathesis.toml");
    std::fs::write(&config_file, config).expect("config written");
    let output = tokio::process::Command::new(schemathesis())
        .arg("--config-file")
        .arg(&config_file)
        .arg("run")
        .arg(format!("{base}/api/v1/openapi.json"))
        .args(["--url", &base])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // Every check but one: `positive_data_acceptance` wants every schema-valid request
        // accepted, and the API refuses what its rules refuse beyond any schema (a date that
        // does not exist, a consent that does not cover the receiver, a step the status does
        // not allow) with a 422 that names the field.
        .args(["--checks", "all"])
        .args(["--exclude-checks", "positive_data_acceptance"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "25"])
        .args(["--seed", "20261207"])
        .args(["--workers", "1"])
        .args(["--request-timeout", "10"])
        .arg("--no-color")
        .args(["--report", "junit"])
        .arg("--report-junit-path")
        .arg(dir.path().join("junit.xml"))
        .current_dir(dir.path())
        .kill_on_drop(true)
        .output()
        .await
        .expect("schemathesis runs");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap_or_default();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{stdout}\n{stderr}"
    );
    // Every documented operation was called — but the document's own, which schemathesis
    // reads to begin with rather than calls again.
    let doc: serde_json::Value =
        serde_json::from_str(&web::openapi_document()).expect("the document is JSON");
    let mut documented: Vec<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .as_object()
                .into_iter()
                .flat_map(|m| m.keys())
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .filter(|op| op != "GET /api/v1/openapi.json")
        .collect();
    let mut tested: Vec<String> = junit
        .split("<testcase name=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect();
    documented.sort();
    tested.sort();
    assert_eq!(tested, documented, "operations called:\n{stdout}");
}

#[tokio::test]
async fn schemathesis_calls_every_documented_operation_without_a_failure_on_sqlite() {
    every_operation(store::Backend::Sqlite).await;
}

#[tokio::test]
async fn schemathesis_calls_every_documented_operation_without_a_failure_on_postgres() {
    every_operation(store::Backend::Postgres).await;
}
