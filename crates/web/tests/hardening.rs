//! What an attacker or a careless user tries against the HTTP surface, and what holds.

use std::net::SocketAddr;

use app::testing::{Fixture, PASSWORD};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};

mod client;
use client::{Client, multipart};

fn sparse_xlsx() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "adresse").expect("A1");
    sheet
        .write_string(1_048_575, 16_383, "x")
        .expect("XFD1048576");
    book.save_to_buffer().expect("xlsx")
}

fn upload(client: &Client, path: &str, csrf: &str, file: &[u8]) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, client.cookie_header())
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(Body::from(multipart(
            "XyZ",
            &[("csrf_token", csrf), ("millesime", "2024")],
            Some(("a.xlsx", file)),
        )))
        .expect("request")
}

app::fixture_tests! {
    async fn a_tiny_sparse_spreadsheet_is_refused_in_french_and_the_server_keeps_answering(f) {
        let mut client = Client::new(&f);
        client.login("conseil@test.fr", PASSWORD).await;
        let csrf = client.get("/qpv/verification-en-masse").await.csrf();
        let bytes = sparse_xlsx();
        let page = client.send(upload(&client, "/qpv/verification-en-masse", &csrf, &bytes)).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("200 colonnes"), "{}", page.body);
        assert_eq!(client.get("/").await.status, StatusCode::OK);
    }

    async fn a_body_past_its_limit_is_a_french_413_page(f) {
        let mut client = Client::new(&f);
        let csrf = client.get("/connexion").await.csrf();
        let big = "x".repeat(3 * 1024 * 1024);
        let page = client.post("/connexion", &[("csrf_token", &csrf), ("email", &big)]).await;
        assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(page.body.contains("Envoi trop volumineux") && page.body.contains("<html"), "{}", page.body);
    }

    async fn bad_path_ids_and_query_values_get_a_french_page_or_a_json_error(f) {
        let mut client = Client::new(&f);
        client.login("coordination@test.fr", PASSWORD).await;
        for path in ["/personnes/abc", "/personnes/99999999999999999999999", "/admin/territoires/%00"] {
            let page = client.get(path).await;
            assert!(page.status == StatusCode::BAD_REQUEST || page.status == StatusCode::NOT_FOUND, "{path}: {}", page.status);
            assert!(page.body.contains("<html") && page.body.contains("lang=\"fr\""), "{path}: {}", page.body);
            assert!(!page.body.contains("Invalid URL") && !page.body.contains("Cannot parse"), "{path}");
        }
        let api = client.get("/api/v1/qpv/lookup?lon=abc&lat=50").await;
        assert!(api.status.is_client_error(), "{}", api.status);
        let json: serde_json::Value = serde_json::from_str(&api.body).expect("JSON error");
        assert!(json["erreur"].is_string() && json["message"].is_string(), "{json}");
    }

    async fn the_login_suite_never_leaves_the_site_and_a_crlf_never_gives_a_500(f) {
        let hostile = ["//evil.example", "/\\evil.example", "/\t/evil.example", "/%09/evil.example", "https:evil.example", "https://evil.example", "/\r\nSet-Cookie: x=1"];
        let mut client = Client::new(&f);
        for next in hostile {
            client = Client::new(&f);
            let csrf = client.get("/connexion").await.csrf();
            let page = client.post("/connexion", &[("csrf_token", &csrf), ("email", "conseil@test.fr"), ("password", PASSWORD), ("suite", next)]).await;
            assert_eq!((page.status, page.location.as_deref()), (StatusCode::SEE_OTHER, Some("/")), "{next:?}");
            let logged_in = client.get(&format!("/connexion?suite={}", url_encode(next))).await;
            assert_eq!((logged_in.status, logged_in.location.as_deref()), (StatusCode::SEE_OTHER, Some("/")), "{next:?}");
        }
        let fine = client.get("/connexion?suite=%2Fpersonnes%3Fpage%3D2").await;
        assert_eq!(fine.location.as_deref(), Some("/personnes?page=2"));
    }

    async fn metrics_labels_come_from_a_fixed_set_and_outsiders_cannot_read_them(f) {
        let mut client = Client::new(&f);
        for i in 0..20 {
            client.get(&format!("/nulle-part-{i}")).await;
        }
        let weird = Request::builder().method("FROBNICATE").uri("/connexion").body(Body::empty()).expect("request");
        client.send(weird).await;
        let metrics = client.get("/metrics").await;
        assert_eq!(metrics.status, StatusCode::OK);
        assert!(!metrics.body.contains("nulle-part") && !metrics.body.contains("FROBNICATE"), "{}", metrics.body);
        assert!(metrics.body.contains("route=\"(autre)\",status=\"4xx\"} 20"), "{}", metrics.body);
        assert!(metrics.body.contains("method=\"(autre)\""));
        let from_outside = Request::get("/metrics")
            .extension(ConnectInfo(SocketAddr::from(([203, 0, 113, 5], 5555))))
            .body(Body::empty())
            .expect("request");
        assert_eq!(client.send(from_outside).await.status, StatusCode::NOT_FOUND);
        let relayed = Request::get("/metrics").header("x-forwarded-for", "203.0.113.5").body(Body::empty()).expect("request");
        assert_eq!(client.send(relayed).await.status, StatusCode::NOT_FOUND, "a reverse proxy on this machine does not make the world local");
    }

    async fn a_csrf_token_from_another_session_is_refused_and_login_rotates_the_token(f) {
        let mut first = Client::new(&f);
        let before_login = first.get("/connexion").await.csrf();
        first.login("conseil@test.fr", PASSWORD).await;
        let after_login = first.get("/").await.csrf();
        assert_ne!(before_login, after_login);
        let mut second = Client::new(&f);
        second.login("coordination@test.fr", PASSWORD).await;
        // The victim's CSRF cookie and a token from the attacker's own session: refused.
        let victim_csrf = first.cookies.get("passerelle_csrf").cloned().expect("csrf cookie");
        second.cookies.insert("passerelle_csrf".into(), victim_csrf);
        let page = second.post("/deconnexion", &[("csrf_token", &after_login)]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        let stale = first.post("/deconnexion", &[("csrf_token", &before_login)]).await;
        assert_eq!(stale.status, StatusCode::FORBIDDEN, "a token from before the login is void");
        let ok = first.post("/deconnexion", &[("csrf_token", &after_login)]).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
    }

    async fn administrators_see_failed_jobs_and_send_them_back_to_the_queue(f) {
        let mut tx = f.app.db.begin().await.expect("tx");
        app::jobs::enqueue(&mut tx.conn(), &f.app, &app::jobs::Work::Probe { number: 1, fail: true }, None, f.app.now()).await.expect("job");
        tx.commit().await.expect("commit");
        for attempt in 1..=app::jobs::MAX_ATTEMPTS {
            app::jobs::run_one(&f.app, "w").await.expect("run");
            f.clock.advance(app::jobs::backoff(attempt));
        }
        let mut professional = Client::new(&f);
        professional.login("conseil@test.fr", PASSWORD).await;
        assert_eq!(professional.get("/admin/taches").await.status, StatusCode::FORBIDDEN);
        let mut admin = Client::new(&f);
        admin.login("admin@test.fr", PASSWORD).await;
        let page = admin.get("/admin/taches").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("En échec (1)") && page.body.contains("échoue toujours"), "{}", page.body);
        let id = {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::jobs::in_state(&mut pooled.conn(), "en-echec", 10).await.expect("jobs")[0].id
        };
        let csrf = page.csrf();
        let done = admin.post(&format!("/admin/taches/{id}/relancer"), &[("csrf_token", &csrf)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        assert!(admin.get("/admin/taches").await.body.contains("En attente (1)"));
    }
}

fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).expect("encode")[2..].to_string()
}

#[tokio::test]
async fn uploads_past_the_concurrent_turns_are_asked_to_come_back_in_french() {
    let settings = app::Settings {
        concurrent_uploads: 1,
        upload_wait: std::time::Duration::ZERO,
        ..app::Settings::default()
    };
    let f = Fixture::with_settings(store::Backend::Sqlite, settings).await;
    let mut client = Client::new(&f);
    client.login("conseil@test.fr", PASSWORD).await;
    let csrf = client.get("/qpv/verification-en-masse").await.csrf();
    let busy = f
        .app
        .uploads
        .clone()
        .acquire_owned()
        .await
        .expect("the only turn");
    let page = client
        .send(upload(
            &client,
            "/qpv/verification-en-masse",
            &csrf,
            b"adresse\n1 rue X\n",
        ))
        .await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        page.body
            .contains("Trop de fichiers en cours de traitement")
    );
    assert_eq!(page.headers[header::RETRY_AFTER], "60");
    drop(busy);
    assert_eq!(
        client.get("/").await.status,
        StatusCode::OK,
        "other pages answer meanwhile"
    );
}

#[tokio::test]
async fn over_https_cookies_take_the_host_prefix_and_browsers_are_told_to_stay_on_https() {
    let settings = app::Settings {
        base_url: "https://passerelle.exemple.fr".into(),
        metrics_token: Some("un-jeton-de-supervision".into()),
        ..app::Settings::default()
    };
    let f = Fixture::with_settings(store::Backend::Sqlite, settings).await;
    let mut client = Client::new(&f);
    let page = client.get("/connexion").await;
    let cookie = page.headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(
        cookie.starts_with("__Host-passerelle_csrf=")
            && cookie.contains("Secure")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        page.headers[header::STRICT_TRANSPORT_SECURITY]
            .to_str()
            .expect("ascii")
            .contains("max-age=31536000")
    );
    let csrf = page.csrf();
    let login = client
        .post(
            "/connexion",
            &[
                ("csrf_token", &csrf),
                ("email", "conseil@test.fr"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert!(client.cookies.contains_key("__Host-passerelle_session"));
    assert_eq!(client.get("/").await.status, StatusCode::OK);
    // With a token configured, loopback alone is not enough: the bearer token is.
    assert_eq!(client.get("/metrics").await.status, StatusCode::NOT_FOUND);
    let with_token = Request::get("/metrics")
        .header(header::AUTHORIZATION, "Bearer un-jeton-de-supervision")
        .body(Body::empty())
        .expect("request");
    assert_eq!(client.send(with_token).await.status, StatusCode::OK);
}

app::fixture_tests! {
    offline;
    async fn a_database_that_refuses_writes_is_said_so_in_french_and_loses_nothing(f) {
        let mut read_only = f.app.clone();
        read_only.db = f.test_db.read_only().await;
        let mut client = client::Client::over(read_only);
        // Logging in writes (the attempt, the session): refused with the reason, not a 500.
        let refused = client.login("coordination@test.fr", PASSWORD).await;
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.body);
        assert!(refused.body.contains("accepte plus d") && refused.body.contains("rien n") && refused.body.contains("Réessayez"), "{}", refused.body);
        // Reading still works, and what was stored is intact.
        assert_eq!(client.get("/connexion").await.status, StatusCode::OK);
        let mut writable = client::Client::new(&f);
        assert_eq!(writable.login("coordination@test.fr", PASSWORD).await.status, StatusCode::SEE_OTHER);
    }
}
