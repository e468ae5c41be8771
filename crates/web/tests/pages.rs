//! The router driven like a browser (cookies, CSRF tokens, redirects), on both backends.

use app::testing::{Fixture, PASSWORD};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

mod client;
use client::{Client, multipart};

app::fixture_tests! {
    async fn a_session_opened_on_one_instance_works_on_another_sharing_the_database(f) {
        let mut first = Client::new(&f);
        first.login("coordination@test.fr", PASSWORD).await;
        // A second server instance (or the same one after a restart) over the same database.
        let mut second = Client::new(&f);
        second.cookies = first.cookies.clone();
        let home = second.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("Bonjour coordination@test.fr"));
    }

    async fn the_login_form_logs_in_with_its_csrf_token_and_redirects_into_the_application(f) {
        let mut client = Client::new(&f);
        let page = client.login("coordination@test.fr", PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location.as_deref(), Some("/"));
        let home = client.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("Bonjour coordination@test.fr"));
        assert!(home.body.contains("Cité de Maubeuge"));
    }

    async fn a_wrong_password_gets_a_french_error_and_the_sixth_failure_is_throttled(f) {
        let mut client = Client::new(&f);
        for _ in 0..5 {
            let page = client.login("conseil@test.fr", "mauvais mot de passe").await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED);
            assert!(page.body.contains("Adresse électronique ou mot de passe incorrect."));
            assert!(page.body.contains("value=\"conseil@test.fr\""), "the typed address is kept");
        }
        let sixth = client.login("conseil@test.fr", PASSWORD).await;
        assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(sixth.body.contains("Trop de tentatives"));
    }

    async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing(f) {
        let mut client = Client::new(&f);
        client.get("/connexion").await;
        let page = client.post("/connexion", &[("email", "coordination@test.fr"), ("password", PASSWORD)]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("Formulaire expiré"));
        let forged = client.post("/connexion", &[("email", "coordination@test.fr"), ("password", PASSWORD), ("csrf_token", "faux")]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(client.get("/").await.status, StatusCode::SEE_OTHER, "still logged out");
    }

    async fn pages_need_a_session_and_send_back_after_login(f) {
        let mut client = Client::new(&f);
        let page = client.get("/territoires/maubeuge").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location.as_deref(), Some("/connexion?suite=%2Fterritoires%2Fmaubeuge"));
        let login = client.get("/connexion?suite=%2Fterritoires%2Fmaubeuge").await;
        let csrf = login.csrf();
        let done = client.post("/connexion", &[("email", "coordination@test.fr"), ("password", PASSWORD), ("csrf_token", &csrf), ("suite", "/territoires/maubeuge")]).await;
        assert_eq!(done.location.as_deref(), Some("/territoires/maubeuge"));
        // The token of the page seen before logging in is void now: a new visitor tries.
        let mut client = Client::new(&f);
        let csrf = client.get("/connexion").await.csrf();
        let evil = client.post("/connexion", &[("email", "coordination@test.fr"), ("password", PASSWORD), ("csrf_token", &csrf), ("suite", "//evil.example")]).await;
        assert_eq!(evil.location.as_deref(), Some("/"), "never redirected off-site");
    }

    async fn logging_out_ends_the_session_on_the_server(f) {
        let mut client = Client::new(&f);
        client.login("coordination@test.fr", PASSWORD).await;
        let session = client.cookies.get("passerelle_session").cloned().expect("session cookie");
        let home = client.get("/").await;
        let out = client.post("/deconnexion", &[("csrf_token", &home.csrf())]).await;
        assert_eq!(out.location.as_deref(), Some("/connexion?message=deconnecte"));
        assert!(!client.cookies.contains_key("passerelle_session"));
        // Replaying the old cookie does not bring the session back.
        client.cookies.insert("passerelle_session".into(), session);
        assert_eq!(client.get("/").await.status, StatusCode::SEE_OTHER);
    }

    async fn a_coordinator_sees_the_team_a_professional_sees_the_partners_and_an_outsider_nothing(f) {
        let mut coordinator = Client::new(&f);
        coordinator.login("coordination@test.fr", PASSWORD).await;
        let page = coordinator.get("/territoires/maubeuge").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("France Travail Maubeuge") && page.body.contains("Inviter une personne"));
        let mut professional = Client::new(&f);
        professional.login("conseil@test.fr", PASSWORD).await;
        let page = professional.get("/territoires/maubeuge").await;
        assert!(page.body.contains("France Travail Maubeuge"));
        assert!(!page.body.contains("Inviter une personne") && !page.body.contains("coordination@test.fr"));
        let mut outsider = Client::new(&f);
        outsider.login("ailleurs@test.fr", PASSWORD).await;
        let page = outsider.get("/territoires/maubeuge").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(!page.body.contains("Cité de Maubeuge"), "nothing tells the territory exists");
        assert_eq!(outsider.get("/admin/territoires").await.status, StatusCode::FORBIDDEN);
    }

    async fn an_invitation_form_with_mistakes_keeps_what_was_typed_and_sends_nothing(f) {
        let mut client = Client::new(&f);
        client.login("coordination@test.fr", PASSWORD).await;
        let page = client.get("/territoires/maubeuge").await;
        let sent = client.post("/territoires/maubeuge/invitations", &[
            ("csrf_token", &page.csrf()), ("email", "pas-une-adresse"), ("display_name", "Nina Nouvelle"), ("role", "professional"), ("organisation_id", ""),
        ]).await;
        assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(sent.body.contains("fr-input-group--error"));
        assert!(sent.body.contains("Saisissez une adresse électronique valide"));
        assert!(sent.body.contains("value=\"Nina Nouvelle\""));
        assert!(sent.body.contains("Choisissez la structure partenaire"));
        assert!(f.outbox().await.is_empty());
    }

    async fn an_invitation_link_creates_the_account_and_logs_in(f) {
        let mut coordinator = Client::new(&f);
        coordinator.login("coordination@test.fr", PASSWORD).await;
        let page = coordinator.get("/territoires/maubeuge").await;
        let org = f.france_travail.0.to_string();
        let sent = coordinator.post("/territoires/maubeuge/invitations", &[
            ("csrf_token", &page.csrf()), ("email", "nina@test.fr"), ("display_name", "Nina Nouvelle"), ("role", "professional"), ("organisation_id", &org),
        ]).await;
        // No mail server in the fixture: the invitation waits in the outbox, and the page says so.
        assert_eq!(sent.location.as_deref(), Some("/territoires/maubeuge?message=invitation-sans-courriel#equipe"));
        let said = coordinator.get("/territoires/maubeuge?message=invitation-sans-courriel").await;
        assert!(said.body.contains("aucun serveur de courrier n"), "the coordinator is told the mail did not leave");
        let body = f.outbox().await[0].body.clone();
        let start = body.find("/invitation/").expect("link");
        let path = body[start..].split_whitespace().next().expect("path").to_string();
        let mut newcomer = Client::new(&f);
        let form = newcomer.get(&path).await;
        assert!(form.body.contains("nina@test.fr") && form.body.contains("Cité de Maubeuge"), "the page says who is invited, where");
        let short = newcomer.post(&path, &[("csrf_token", &form.csrf()), ("display_name", "Nina Nouvelle"), ("password", "court"), ("confirmation", "court")]).await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(short.body.contains("au moins 12 caractères"));
        let done = newcomer.post(&path, &[("csrf_token", &form.csrf()), ("display_name", "Nina Nouvelle"), ("password", "une longue phrase"), ("confirmation", "une longue phrase")]).await;
        assert_eq!(done.location.as_deref(), Some("/?message=bienvenue"));
        let home = newcomer.get("/?message=bienvenue").await;
        assert!(home.body.contains("Bonjour Nina Nouvelle") && home.body.contains("votre compte est créé"));
        let reused = Client::new(&f).get(&path).await;
        assert_eq!(reused.status, StatusCode::NOT_FOUND);
        assert!(reused.body.contains("Lien invalide ou expiré"));
    }

    async fn an_administrator_creates_a_territory_and_a_mistake_keeps_the_form(f) {
        let mut client = Client::new(&f);
        client.login("admin@test.fr", PASSWORD).await;
        let form = client.get("/admin/territoires/nouveau").await;
        let bad = client.post("/admin/territoires", &[
            ("csrf_token", &form.csrf()), ("name", "Cité de Lille"), ("status", "active"), ("communes", "59350 12345"), ("starts_on", ""), ("ends_on", ""),
        ]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("Communes inconnues ou périmées : 12345"));
        assert!(bad.body.contains("value=\"Cité de Lille\""));
        let good = client.post("/admin/territoires", &[
            ("csrf_token", &form.csrf()), ("name", "Cité de Lille"), ("status", "active"), ("communes", "59350"),
        ]).await;
        assert_eq!(good.location.as_deref(), Some("/admin/territoires?message=territoire-cree"));
        let list = client.get("/admin/territoires").await;
        assert!(list.body.contains("Cité de Lille") && list.body.contains("cite-de-lille"));
    }

    async fn healthz_answers_while_the_database_does_and_503_after(f) {
        let mut client = Client::new(&f);
        assert_eq!(client.get("/healthz").await.status, StatusCode::OK);
        f.app.db.close().await;
        assert_eq!(client.get("/healthz").await.status, StatusCode::SERVICE_UNAVAILABLE);
    }

    async fn metrics_count_requests_by_route_pattern_without_ids(f) {
        let mut client = Client::new(&f);
        client.get("/connexion").await;
        client.get("/mot-de-passe/un-jeton-secret").await;
        let metrics = client.get("/metrics").await.body;
        assert!(metrics.contains("passerelle_http_requests_total{method=\"GET\",route=\"/connexion\",status=\"2xx\"} 1"), "{metrics}");
        assert!(metrics.contains("route=\"/mot-de-passe/{token}\""));
        assert!(!metrics.contains("un-jeton-secret"));
        assert!(metrics.contains("passerelle_http_request_duration_seconds_bucket"));
    }

    async fn the_legal_pages_are_public(f) {
        let mut client = Client::new(&f);
        for (path, title) in [("/accessibilite", "Déclaration d&#39;accessibilité"), ("/donnees-personnelles", "Données personnelles"), ("/mentions-legales", "Mentions légales")] {
            let page = client.get(path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            assert!(page.body.contains(&format!("<title>{title} — Passerelle</title>")), "{path}");
        }
        let missing = client.get("/nulle-part").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.body.contains("Page introuvable"));
    }
}

#[tokio::test]
async fn cookies_are_secure_http_only_and_same_site_when_served_over_https() {
    let settings = app::Settings {
        base_url: "https://passerelle.exemple.fr".into(),
        ..app::Settings::default()
    };
    let f = Fixture::with_settings(store::Backend::Sqlite, settings).await;
    let router = web::router(web::AppState::new(f.app.clone(), false));
    let response = router
        .oneshot(
            Request::get("/connexion")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .expect("a CSRF cookie")
        .to_str()
        .expect("ascii");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"),
        "{cookie}"
    );
}

async fn fixture_with_qpv(backend: store::Backend) -> Fixture {
    let settings = app::Settings {
        ban_api_url: app::testing::fake_ban_api().await,
        ..app::Settings::default()
    };
    let f = Fixture::with_settings(backend, settings).await;
    app::qpv::seed_demo(&f.app).await.expect("demo QPVs");
    f
}

async fn json(client: &mut Client, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let page = client.send(request).await;
    (
        page.status,
        serde_json::from_str(&page.body).unwrap_or(serde_json::Value::Null),
    )
}

async fn qpv_api_and_page(backend: store::Backend) {
    let f = fixture_with_qpv(backend).await;
    let mut client = Client::new(&f);
    // The API is for logged-in users only.
    let (status, body) = json(
        &mut client,
        Request::get("/api/v1/qpv/lookup?lon=3.962&lat=50.272")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["erreur"], "non_authentifie");
    client.login("conseil@test.fr", PASSWORD).await;
    let cookies = client.cookie_header();
    let get = |path: &str| {
        Request::get(path)
            .header(header::COOKIE, cookies.clone())
            .body(Body::empty())
            .expect("request")
    };
    let (status, body) = json(&mut client, get("/api/v1/qpv/lookup?lon=3.962&lat=50.272")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["code_qp"].as_str(), body["millesime"].as_i64()),
        (Some("QN05990N"), Some(2024))
    );
    let (_, body) = json(
        &mut client,
        get("/api/v1/qpv/lookup?adresse=1%20all%C3%A9e%20du%20Parc%2059600%20Maubeuge"),
    )
    .await;
    assert!(body["code_qp"].is_null());
    assert_eq!(body["qpv_proche"], "QN05990N");
    assert_eq!(body["label"], "1 Allée du Parc 59600 Maubeuge");
    assert_eq!(body["confidence"], "sur");
    let (status, body) = json(
        &mut client,
        get("/api/v1/qpv/lookup?lon=652000&lat=6862000"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["champs"]["lon"]
            .as_str()
            .expect("lon error")
            .contains("longitude")
    );
    let (status, body) = json(&mut client, get("/api/v1/qpv/lookup?adresse=en%20panne")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["erreur"], "service_indisponible");
    // A batch: each element answered or refused on its own, in order.
    let batch = serde_json::json!({ "elements": [
        { "id": "a", "lon": 3.962, "lat": 50.272 },
        { "id": "b", "adresse": "12 rue de la Démonstration 59600 Maubeuge" },
        { "id": "c", "lon": 500.0, "lat": 50.0 },
        { "id": "d" }
    ] });
    let post = Request::post("/api/v1/qpv/lookup")
        .header(header::COOKIE, client.cookie_header())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(batch.to_string()))
        .expect("request");
    let (status, body) = json(&mut client, post).await;
    assert_eq!(status, StatusCode::OK);
    let results = body["resultats"].as_array().expect("results");
    assert_eq!(
        results
            .iter()
            .map(|r| r["id"].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        vec!["a", "b", "c", "d"]
    );
    assert_eq!(results[0]["code_qp"], "QN05990N");
    assert_eq!(results[1]["code_qp"], "QN05990N");
    assert_eq!(results[2]["erreur"], "saisie_invalide");
    assert_eq!(results[3]["erreur"], "saisie_invalide");
    let too_many = serde_json::json!({ "elements": vec![serde_json::json!({ "lon": 3.0, "lat": 50.0 }); 1001] });
    let post = Request::post("/api/v1/qpv/lookup")
        .header(header::COOKIE, client.cookie_header())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(too_many.to_string()))
        .expect("request");
    assert_eq!(
        json(&mut client, post).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // The page.
    let page = client
        .get("/qpv/verifier?adresse=12+rue+de+la+D%C3%A9monstration+59600+Maubeuge&millesime=2024")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Dans un quartier prioritaire") && page.body.contains("QN05990N"),
        "{}",
        page.body
    );
    let page = client
        .get("/qpv/verifier?adresse=1+all%C3%A9e+du+Parc+59600+Maubeuge")
        .await;
    assert!(page.body.contains("Hors quartier prioritaire") && page.body.contains("à 107 m"));
    let page = client.get("/qpv/verifier?adresse=").await;
    assert!(
        page.body.contains("fr-input-group--error") && page.body.contains("Saisissez une adresse")
    );
    let openapi = client.get("/api/v1/openapi.json").await;
    let doc: serde_json::Value = serde_json::from_str(&openapi.body).expect("OpenAPI is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/qpv/lookup"]["post"].is_object());
}

#[tokio::test]
async fn the_qpv_api_and_page_answer_for_points_addresses_and_batches_on_sqlite() {
    qpv_api_and_page(store::Backend::Sqlite).await;
}

#[tokio::test]
async fn the_qpv_api_and_page_answer_for_points_addresses_and_batches_on_postgres() {
    qpv_api_and_page(store::Backend::Postgres).await;
}

/// No geocoder can answer (the BAN API is out of reach, no BAN file imported): the checks do not
/// dead-end.
async fn checks_without_a_geocoder(backend: store::Backend) {
    let settings = app::Settings {
        ban_api_url: "http://127.0.0.1:9".into(),
        ..app::Settings::default()
    };
    let f = Fixture::with_settings(backend, settings).await;
    app::qpv::seed_demo(&f.app).await.expect("demo QPVs");
    let mut client = Client::new(&f);
    client.login("coordination@test.fr", PASSWORD).await;
    // The territory's page lists its quartiers prioritaires by name.
    let page = client.get("/territoires/maubeuge").await;
    assert!(
        page.body
            .contains("Les Tilleuls (données fictives) — QN05990N"),
        "the territory's QPVs"
    );
    // « Vérifier une adresse » stays on its page, the address kept, other ways offered.
    let page = client
        .get("/qpv/verifier?adresse=12+rue+des+Tilleuls+59600+Maubeuge&millesime=2024")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("adresse indisponible pour le moment"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("value=\"12 rue des Tilleuls 59600 Maubeuge\""),
        "the address is kept"
    );
    assert!(
        page.body.contains("Vérifier la position") && page.body.contains("Choisir le quartier")
    );
    assert!(
        !page.body.contains("refused") && !page.body.contains("error sending"),
        "no English text from a library"
    );
    // By position: the answer.
    let page = client
        .get("/qpv/verifier?lon=3,962&lat=50,272&millesime=2024")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Dans un quartier prioritaire") && page.body.contains("QN05990N"),
        "{}",
        page.body
    );
    // The mass check answers every row, each saying why, instead of failing the file.
    let csrf = client.get("/qpv/verification-en-masse").await.csrf();
    let request = Request::post("/qpv/verification-en-masse")
        .header(header::COOKIE, client.cookie_header())
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(Body::from(multipart(
            "XyZ",
            &[("csrf_token", &csrf), ("millesime", "2024")],
            Some((
                "adresses.csv",
                "adresse\n12 rue des Tilleuls 59600 Maubeuge\n3 rue de la Gare 59720 Louvroil\n"
                    .as_bytes(),
            )),
        )))
        .expect("request");
    let response = client
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(
        rows.iter().all(|r| r.ends_with(";géocodage indisponible")),
        "{text}"
    );
}

#[tokio::test]
async fn without_a_geocoder_the_checks_offer_other_ways_on_sqlite() {
    checks_without_a_geocoder(store::Backend::Sqlite).await;
}

#[tokio::test]
async fn without_a_geocoder_the_checks_offer_other_ways_on_postgres() {
    checks_without_a_geocoder(store::Backend::Postgres).await;
}

async fn mass_check(backend: store::Backend) {
    let f = fixture_with_qpv(backend).await;
    let mut client = Client::new(&f);
    client.login("conseil@test.fr", PASSWORD).await;
    let page = client.get("/qpv/verification-en-masse").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf();
    let upload = |client: &Client, fields: &[(&str, &str)], file: Option<(&str, &[u8])>| {
        Request::post("/qpv/verification-en-masse")
            .header(header::COOKIE, client.cookie_header())
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
            .body(Body::from(multipart("XyZ", fields, file)))
            .expect("request")
    };
    let file = "nom;voie;code_postal;commune\nA;12 rue de la Démonstration;59600;Maubeuge\nB;;;\n"
        .as_bytes();
    let request = upload(
        &client,
        &[("csrf_token", &csrf), ("millesime", "2024")],
        Some(("liste été.csv", file)),
    );
    let response = client
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"liste_ete-qpv.csv\""
    );
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "nom;voie;code_postal;commune;code_qp;lib_qp;millesime;confiance;score;adresse_reconnue;remarque"
    );
    assert!(lines[1].starts_with("A;12 rue de la Démonstration;59600;Maubeuge;QN05990N;Les Tilleuls (données fictives);2024;sûr;"), "{}", lines[1]);
    assert!(lines[2].ends_with(";adresse vide"), "{}", lines[2]);
    // No file: the form again, with the error on the file field.
    let page = client
        .send(upload(&client, &[("csrf_token", &csrf)], None))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("fr-upload-group--error")
            && page.body.contains("Choisissez un fichier CSV ou XLSX.")
    );
    // A bad column name: the form again, with the file's columns listed.
    let page = client
        .send(upload(
            &client,
            &[("csrf_token", &csrf), ("colonnes_adresse", "rue")],
            Some(("a.csv", file)),
        ))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains(
        "Colonne « rue » absente. Colonnes du fichier : nom, voie, code_postal, commune."
    ));
    // Without the CSRF token: refused.
    let page = client
        .send(upload(&client, &[], Some(("a.csv", file))))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_spreadsheet_of_addresses_comes_back_with_the_qpv_of_each_row_on_sqlite() {
    mass_check(store::Backend::Sqlite).await;
}

#[tokio::test]
async fn a_spreadsheet_of_addresses_comes_back_with_the_qpv_of_each_row_on_postgres() {
    mass_check(store::Backend::Postgres).await;
}

mod directory {
    use super::*;

    async fn client(f: &Fixture, email: &str) -> Client {
        let mut c = Client::new(f);
        let page = c.login(email, PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{email} logs in");
        c
    }

    /// A professional creates a service through the real form (repeated checkbox values).
    async fn create_service(c: &mut Client) -> String {
        let form = c.get("/annuaire/services/nouveau").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        let marker = "<option value=\"";
        let options: Vec<&str> = form
            .body
            .match_indices(marker)
            .map(|(i, _)| &form.body[i + marker.len()..])
            .collect();
        let structure = options
            .iter()
            .find_map(|o| {
                o.split('"')
                    .next()
                    .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
            })
            .expect("a structure");
        let base = [
            ("csrf_token", csrf.as_str()),
            ("structure", structure),
            ("nom", "Atelier numérique"),
            (
                "description",
                "Des ateliers pour faire ses démarches en ligne.",
            ),
            ("thematiques", "numerique--acceder-a-des-services-en-ligne"),
            (
                "thematiques",
                "numerique--maitriser-les-fondamentaux-du-numerique",
            ),
            ("publics", "jeunes"),
            ("publics", "femmes"),
            ("modes_accueil", "en-presentiel"),
            ("code_postal", "59600"),
            ("commune", "Maubeuge"),
            ("offre", "droit-commun"),
        ];
        let mut refused = base.to_vec();
        refused.push(("zone_eligibilite", "59 lune"));
        let page = c.post("/annuaire/services/nouveau", &refused).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            page.body.contains("« lune » n&#39;est ni « france »")
                || page.body.contains("« lune » n'est ni « france »"),
            "the zone error is shown"
        );
        assert!(
            page.body.contains("value=\"Atelier numérique\""),
            "what was typed is kept"
        );
        assert!(
            page.body.contains("value=\"femmes\" checked"),
            "ticked boxes stay ticked"
        );
        let page = c.post("/annuaire/services/nouveau", &base).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        page.location
            .expect("redirect to the service")
            .split('?')
            .next()
            .expect("path")
            .to_string()
    }

    app::fixture_tests! {
        async fn every_directory_route_answers_each_role_as_it_should(f) {
            let mut professional = client(&f, "conseil@test.fr").await;
            let service = create_service(&mut professional).await;
            let page = professional.get(&service).await;
            assert!(page.body.contains("Atelier numérique") && page.body.contains("Modifier ce service"));
            let edit = format!("{service}/modifier");
            assert_eq!(professional.get(&edit).await.status, StatusCode::OK);
            assert_eq!(professional.get("/annuaire/import").await.status, StatusCode::FORBIDDEN, "imports are for coordinators");
            assert_eq!(professional.get("/annuaire/correspondances").await.status, StatusCode::FORBIDDEN);
            let search = professional.get("/annuaire?q=NUMERIQUE&lieu=59600").await;
            assert!(search.body.contains("1 relais trouvé pour Maubeuge"), "accents and case ignored");
            let bad = professional.get("/annuaire?lieu=Atlantide").await;
            assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(bad.body.contains("Aucune commune ne correspond à « Atlantide »"));

            f.caller_in_new_organisation("voisin@test.fr", f.territory).await;
            let mut neighbour = client(&f, "voisin@test.fr").await;
            let page = neighbour.get(&service).await;
            assert_eq!(page.status, StatusCode::OK, "readable by every partner of the territory");
            assert!(!page.body.contains("Modifier ce service"));
            assert_eq!(neighbour.get(&edit).await.status, StatusCode::FORBIDDEN);
            let csrf = page.csrf();
            let post = neighbour.post(&edit, &[("csrf_token", &csrf), ("nom", "Piraté"), ("description", "Une description assez longue.")]).await;
            assert_eq!(post.status, StatusCode::FORBIDDEN);

            let mut outsider = client(&f, "ailleurs@test.fr").await;
            assert_eq!(outsider.get(&service).await.status, StatusCode::NOT_FOUND, "another territory does not see it");
            assert_eq!(outsider.get(&format!("{service}/historique")).await.status, StatusCode::NOT_FOUND);

            let mut coordinator = client(&f, "coordination@test.fr").await;
            let form = coordinator.get(&edit).await;
            assert_eq!(form.status, StatusCode::OK);
            let no_token = coordinator.post(&edit, &[("nom", "Sans jeton")]).await;
            assert_eq!(no_token.status, StatusCode::FORBIDDEN, "no CSRF token, no change");
            assert_eq!(coordinator.get("/annuaire/import").await.status, StatusCode::OK);
            assert_eq!(coordinator.get("/annuaire/correspondances").await.status, StatusCode::FORBIDDEN, "the mapping is national");
            let export = coordinator.get("/annuaire/export.json").await;
            let json: serde_json::Value = serde_json::from_str(&export.body).expect("JSON export");
            assert_eq!(json["services"][0]["thematiques"].as_array().map(Vec::len), Some(2));

            // A coordinator imports a data·inclusion file from the page and reads the report.
            let page = coordinator.get("/annuaire/import").await;
            let csrf = page.csrf();
            let file = r#"[{"source": "dora", "id": "dora--s1", "nom": "Structure importée", "date_maj": "2026-10-01"},
                           {"source": "dora", "id": "dora--s2", "nom": "No", "date_maj": "2026-10-01"}]"#;
            let boundary = "----passerelle";
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"structures.json\"\r\nContent-Type: application/json\r\n\r\n{file}\r\n--{boundary}--\r\n"
            );
            let request = Request::post("/annuaire/import")
                .header(header::COOKIE, coordinator.cookie_header())
                .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
                .body(Body::from(body))
                .expect("request");
            let report = coordinator.send(request).await;
            assert_eq!(report.status, StatusCode::OK, "{}", report.body);
            assert!(report.body.contains("1 créés, 0 mis à jour, 0 inchangés, 1 rejetés"), "{}", report.body);
            assert!(report.body.contains("nom : doit compter entre 3 et 150 caractères (2 reçus)"));

            let mut admin = client(&f, "admin@test.fr").await;
            assert_eq!(admin.get("/annuaire/correspondances").await.status, StatusCode::OK);
            let history = professional.get(&format!("{service}/historique")).await;
            assert!(history.body.contains("conseil@test.fr (saisie)"));
        }

        async fn the_knowledge_base_is_read_everywhere_and_written_by_coordinators(f) {
            let mut outsider = client(&f, "ailleurs@test.fr").await;
            let index = outsider.get("/champs-d-action").await;
            assert_eq!(index.status, StatusCode::OK);
            for field in domain::Field::ALL {
                assert!(index.body.contains(&format!("/champs-d-action/{}", field.slug())));
            }
            assert_eq!(outsider.get("/champs-d-action/inconnu").await.status, StatusCode::NOT_FOUND);
            assert_eq!(outsider.get("/champs-d-action/actions/nouvelle").await.status, StatusCode::FORBIDDEN);
            let mut coordinator = client(&f, "coordination@test.fr").await;
            let form = coordinator.get("/champs-d-action/actions/nouvelle?champ=logement").await;
            assert_eq!(form.status, StatusCode::OK);
            let csrf = form.csrf();
            let page = coordinator
                .post("/champs-d-action/actions", &[("csrf_token", &csrf), ("field", "logement"), ("title", "Colocation solidaire pour jeunes"), ("description", "Des logements partagés proposés aux jeunes en parcours d'insertion.")])
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            let found = outsider.get("/champs-d-action?q=colocation").await;
            assert!(found.body.contains("Colocation solidaire pour jeunes"), "read and found from another territory");
        }
    }
}

mod persons {
    use super::*;
    use app::persons::{OutreachInput, Recorded};

    async fn client(f: &Fixture, email: &str) -> Client {
        let mut c = Client::new(f);
        let page = c.login(email, PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{email} logs in");
        c
    }

    app::fixture_tests! {
        async fn the_consent_form_starts_with_nothing_ticked_and_offers_every_partner(f) {
            let member = f.caller("conseil@test.fr").await;
            let input = OutreachInput { first_name: "Awa".into(), channel: "association".into(), met_on: domain::iso_date(f.app.today()), agrees_recontact: "non".into(), ..OutreachInput::default() };
            let Recorded::Created(id) = app::persons::record(&f.app, &member, &input).await.expect("recorded") else { panic!("created") };
            // A partner without any staff in Passerelle yet.
            f.caller_in_new_organisation("calme@test.fr", f.territory).await;
            let mut c = client(&f, "conseil@test.fr").await;
            let page = c.get(&format!("/personnes/{}/accompagnement", id.0)).await;
            assert_eq!(page.status, StatusCode::OK);
            for purpose in ["accompagnement", "partage", "recontact"] {
                let input = page.body.split("<input").find(|i| i.contains(&format!("value=\"{purpose}\""))).unwrap_or_else(|| panic!("{purpose} offered"));
                let input = input.split('>').next().unwrap_or_default();
                assert!(!input.contains("checked"), "{purpose} starts unticked: {input}");
            }
            let partners = {
                let mut pooled = f.app.db.acquire().await.expect("connection");
                store::organisations::partners_of(&mut pooled.conn(), f.territory).await.expect("partners")
            };
            assert!(partners.len() >= 2);
            for p in &partners {
                assert!(page.body.contains(&format!("value=\"{}\"", p.id.0)), "{} offered", p.name);
            }
            assert!(page.body.contains("pas souhaité être recontactée"), "the repérage's answer is recalled");
        }

        async fn the_list_exports_as_csv_within_the_caller_s_rights(f) {
            let member = f.caller("conseil@test.fr").await;
            let input = OutreachInput { first_name: "Awa".into(), last_name: "Diallo".into(), phone: "0612345678".into(), channel: "association".into(), met_on: domain::iso_date(f.app.today()), agrees_recontact: "oui".into(), need_fields: vec!["mobilite".into()], ..OutreachInput::default() };
            let Recorded::Created(id) = app::persons::record(&f.app, &member, &input).await.expect("recorded") else { panic!("created") };
            let mut c = client(&f, "conseil@test.fr").await;
            let page = c.get("/personnes/export.csv").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.starts_with('\u{feff}'), "a BOM for spreadsheets");
            let lines: Vec<&str> = page.body.trim_start_matches('\u{feff}').lines().collect();
            assert_eq!(lines[0], "numero_dossier;prenom;nom;statut;quartier_prioritaire;date_reperage;dernier_contact;besoins;referent");
            assert!(lines[1].starts_with(&format!("{};Awa;Diallo;Repéré;", id.0)) && lines[1].contains(";Mobilité;"), "{}", lines[1]);
            assert_eq!(lines.len(), 2);
            // Someone outside the group exports nothing of her.
            let mut outsider = client(&f, "ailleurs@test.fr").await;
            let page = outsider.get("/personnes/export.csv?tous=1").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(!page.body.contains("Diallo"));
            // The export is in her access log.
            let mut pooled = f.app.db.acquire().await.expect("connection");
            let events = store::audit::for_target(&mut pooled.conn(), "person", id.0, 100).await.expect("audit");
            assert!(events.iter().any(|e| e.detail.contains("export CSV")), "{events:?}");
        }

        async fn a_coordinator_names_one_referent_for_several_persons(f) {
            let member = f.caller("conseil@test.fr").await;
            let mut ids = Vec::new();
            for (first, phone) in [("Awa", "0611111111"), ("Bilal", "0622222222")] {
                let input = OutreachInput { first_name: first.into(), phone: phone.into(), channel: "association".into(), met_on: domain::iso_date(f.app.today()), agrees_recontact: "oui".into(), ..OutreachInput::default() };
                let Recorded::Created(id) = app::persons::record(&f.app, &member, &input).await.expect("recorded") else { panic!("created") };
                ids.push(id);
            }
            let mut c = client(&f, "coordination@test.fr").await;
            let list = c.get("/personnes?tous=1").await;
            assert!(list.body.contains("Nommer ce référent") && list.body.contains(&format!("value=\"{}\"", ids[0].0)));
            let token = list.csrf();
            let referent = member.user_id.0.to_string();
            let (a, b, missing) = (ids[0].0.to_string(), ids[1].0.to_string(), (ids[1].0 + 1000).to_string());
            let page = c.post("/personnes/referent", &[("csrf_token", &token), ("personnes", &a), ("personnes", &b), ("personnes", &missing), ("referent", &referent)]).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("Référent nommé pour 2 personnes sur 3"), "{}", page.body);
            assert!(page.body.contains("non fait : Dossier introuvable."));
            for id in &ids {
                let file = app::persons::file(&f.app, &member, *id, "/p").await.expect("file");
                assert!(file.members.iter().any(|m| m.user_id == member.user_id.0 && m.is_referent && m.ended_at.is_none()));
            }
            // Nothing ticked: nothing done, said.
            let page = c.post("/personnes/referent", &[("csrf_token", &token), ("referent", &referent)]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(page.body.contains("Cochez au moins une personne."));
            // A professional may not.
            let mut p = client(&f, "conseil@test.fr").await;
            let token = p.get("/personnes").await.csrf();
            let page = p.post("/personnes/referent", &[("csrf_token", &token), ("personnes", &a), ("referent", &referent)]).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
        }

        async fn every_person_route_answers_each_role_and_hides_health_data(f) {
            let member = f.caller("conseil@test.fr").await;
            let input = OutreachInput { first_name: "Awa".into(), last_name: "Diallo".into(), channel: "association".into(), met_on: f.app.today().format("%Y-%m-%d").to_string(), agrees_recontact: "non".into(), ..OutreachInput::default() };
            let Recorded::Created(id) = app::persons::record(&f.app, &member, &input).await.expect("recorded") else { panic!("created") };
            f.caller_in_organisation("collegue@test.fr", f.france_travail).await;
            f.caller_in_new_organisation("asso@test.fr", f.territory).await;
            let file = format!("/personnes/{}", id.0);
            let gets = [file.clone(), format!("{file}/modifier"), format!("{file}/accompagnement"), format!("{file}/acces"), format!("{file}/fusion")];
            let posts = ["statut", "journal", "groupe", "referent", "consentement/retrait", "sante", "modifier", "accompagnement", "fusion", "groupe/1/fin"];
            // Outsiders of every kind: « introuvable » on every route, nothing written.
            for email in ["collegue@test.fr", "asso@test.fr", "ailleurs@test.fr", "pilote@test.fr", "admin@test.fr"] {
                let mut c = client(&f, email).await;
                for path in &gets {
                    let page = c.get(path).await;
                    assert_eq!(page.status, StatusCode::NOT_FOUND, "{email} GET {path}");
                    assert!(!page.body.contains("Diallo"));
                }
                let token = c.get("/").await.csrf();
                for action in posts {
                    let page = c.post(&format!("{file}/{action}"), &[("csrf_token", &token), ("body", "x"), ("kind", "note"), ("visibility", "groupe"), ("occurred_on", "2026-11-26")]).await;
                    assert_eq!(page.status, StatusCode::NOT_FOUND, "{email} POST {action}");
                }
                let list = c.get("/personnes?tous=1").await;
                assert!(!list.body.contains("Diallo"), "{email} lists nobody");
                if email == "pilote@test.fr" {
                    let form = c.get("/personnes/nouvelle").await;
                    assert_eq!(form.status, StatusCode::FORBIDDEN, "a pilot never sees the repérage form");
                    assert!(!form.body.contains("first_name"));
                }
            }
            // The recorder (the référent) and the coordinator read it and its access log.
            let mut m = client(&f, "conseil@test.fr").await;
            let page = m.get(&file).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("Awa Diallo"));
            assert_eq!(m.get(&format!("{file}/acces")).await.status, StatusCode::OK, "the référent reads the access log");
            assert!(m.get("/personnes").await.body.contains("Awa Diallo"));
            let mut coordinator = client(&f, "coordination@test.fr").await;
            let page = coordinator.get(&file).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(!page.body.contains("Santé et handicap"), "no health section without permission");
            let log = coordinator.get(&format!("{file}/acces")).await;
            assert_eq!(log.status, StatusCode::OK);
            assert!(log.body.contains("conseil@test.fr") && log.body.contains("consultation"));
            assert!(coordinator.get("/personnes?tous=1").await.body.contains("Awa Diallo"));
            let territory_log = coordinator.get("/personnes/acces").await;
            assert_eq!(territory_log.status, StatusCode::OK);
            assert!(territory_log.body.contains("conseil@test.fr"));
            assert_eq!(m.get("/personnes/acces").await.status, StatusCode::FORBIDDEN);
            assert!(!coordinator.get("/personnes").await.body.contains("Awa Diallo"), "« Mes personnes » are the coordinator's own");
        }
    }
}

mod diagnostic {
    use super::*;
    use app::persons::{EntryInput, OutreachInput, Recorded, SituationInput};

    /// A client logged in as `email`.
    pub(super) async fn client(f: &Fixture, email: &str) -> Client {
        let mut c = Client::new(f);
        let page = c.login(email, PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{email} logs in");
        c
    }

    /// A person accompanied by the France Travail professional.
    async fn accompanied(f: &Fixture) -> i64 {
        let pro = f.caller("conseil@test.fr").await;
        let input = OutreachInput {
            first_name: "Awa".into(),
            last_name: "Diallo".into(),
            channel: "association".into(),
            met_on: domain::iso_date(f.app.today()),
            phone: "0612345678".into(),
            agrees_recontact: "oui".into(),
            ..OutreachInput::default()
        };
        let Recorded::Created(id) = app::persons::record(&f.app, &pro, &input)
            .await
            .expect("recorded")
        else {
            panic!("created")
        };
        let entry = EntryInput {
            given_on: domain::iso_date(f.app.today()),
            method: "oral".into(),
            purposes: vec!["accompagnement".into()],
            organisations: vec![],
            referent: String::new(),
            situation: SituationInput::default(),
        };
        app::persons::enter_accompaniment(&f.app, &pro, id, &entry)
            .await
            .expect("entered");
        id.0
    }

    app::fixture_tests! {
        async fn the_diagnostic_form_refuses_bad_levels_in_place_then_signs(f) {
            let id = accompanied(&f).await;
            let mut c = client(&f, "conseil@test.fr").await;
            let path = format!("/personnes/{id}/diagnostic");
            let page = c.get(&path).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("Nouveau diagnostic") && page.body.contains("Pas de permis de conduire"), "shipped situations offered");
            assert!(page.body.contains("5. Mobilité") && page.body.contains("8. Santé et handicap"), "the référent sees the eight fields");
            let token = page.csrf();
            let today = domain::iso_date(f.app.today());
            let mut form: Vec<(&str, &str)> = vec![("csrf_token", &token), ("held_on", &today), ("action", "signer"), ("jobs", "Z9999"), ("words", "Je veux conduire")];
            let names: Vec<&str> = domain::Field::ALL.iter().map(|f| app::diagnostic::input_names(*f).0).collect();
            for n in &names {
                form.push((n, if *n == "niveau-mobilite" { "7" } else { "0" }));
            }
            let refused = c.post(&path, &form).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains("Rien n&#39;a été enregistré") || refused.body.contains("Rien n'a été enregistré"));
            assert!(refused.body.contains("Choisissez un niveau entre 0"));
            assert!(refused.body.contains("n&#39;est pas dans le référentiel") || refused.body.contains("n'est pas dans le référentiel"));
            assert!(refused.body.contains("Je veux conduire"), "what was typed is kept");
            for (k, v) in form.iter_mut() {
                if *k == "niveau-mobilite" { *v = "3"; }
                if *k == "jobs" { *v = "N1103"; }
            }
            let signed = c.post(&path, &form).await;
            assert_eq!(signed.status, StatusCode::SEE_OTHER);
            assert_eq!(signed.location.as_deref(), Some(format!("{path}?message=diagnostic-signe").as_str()));
            let page = c.get(&format!("{path}?message=diagnostic-signe")).await;
            assert!(page.body.contains("Le diagnostic est signé"));
            assert!(page.body.contains("Évolution des freins") && page.body.contains("<svg"), "the chart and its table");
            assert!(page.body.contains("N1103 — Magasinage et préparation de commandes"));
            let plan = c.get(&format!("/personnes/{id}/plan")).await;
            assert_eq!(plan.status, StatusCode::OK);
            assert!(plan.body.contains("Relais proposés pour chaque frein") && plan.body.contains("Mobilité (3 — Frein bloquant)"));
            assert!(plan.body.contains("Contrat d&#39;engagement jeune") || plan.body.contains("Contrat d'engagement jeune"));
            let refused = c.post(&format!("/personnes/{id}/plan/objectifs"), &[("csrf_token", &plan.csrf()), ("field", "mobilite"), ("title", "")]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains("Indiquez l&#39;intitulé") || refused.body.contains("Indiquez l'intitulé"));
            // Someone outside the group: « introuvable », as for a file that does not exist.
            let mut outsider = client(&f, "ailleurs@test.fr").await;
            assert_eq!(outsider.get(&path).await.status, StatusCode::NOT_FOUND);
            assert_eq!(outsider.get(&format!("/personnes/{id}/plan")).await.status, StatusCode::NOT_FOUND);
            assert_eq!(c.get("/personnes/abc/diagnostic").await.status, StatusCode::BAD_REQUEST);
        }

        async fn rules_are_read_by_professionals_written_by_coordinators_and_situations_by_administrators(f) {
            let mut pro = client(&f, "conseil@test.fr").await;
            let page = pro.get("/territoire/regles").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("arrêté du 1er septembre 2021"));
            assert_eq!(pro.get("/territoire/regles/formulaire").await.status, StatusCode::FORBIDDEN);
            let mut coordinator = client(&f, "coordination@test.fr").await;
            let form = coordinator.get("/territoire/regles/formulaire?code=cej").await;
            assert_eq!(form.status, StatusCode::OK);
            assert!(form.body.contains("value=\"cej\"") && form.body.contains("value=\"29\""), "the shipped rule fills the form");
            let refused = coordinator.post("/territoire/regles/formulaire", &[("csrf_token", &form.csrf()), ("code", "Offre Locale"), ("name", "Offre locale")]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains("minuscules") && refused.body.contains("value=\"Offre locale\""));
            let saved = coordinator.post("/territoire/regles/formulaire", &[("csrf_token", &form.csrf()), ("code", "atelier-local"), ("name", "Atelier local"), ("reference", "Règlement de l'atelier, 2026"), ("valid_from", "2026-01-01"), ("voie1-age-min", "26")]).await;
            assert_eq!(saved.location.as_deref(), Some("/territoire/regles?message=regle-enregistree"));
            assert!(coordinator.get("/territoire/regles").await.body.contains("Atelier local"));
            assert_eq!(coordinator.get("/admin/situations").await.status, StatusCode::FORBIDDEN);
            let mut admin = client(&f, "admin@test.fr").await;
            let page = admin.get("/admin/situations").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("Permis suspendu ou annulé"));
        }
    }
}

mod orientations {
    use super::diagnostic::client;
    use super::*;
    use app::persons::{EntryInput, OutreachInput, Recorded, SituationInput};

    /// A person followed by France Travail, who agreed to share with `org`; the receiver's id.
    async fn accompanied(f: &Fixture, org: domain::OrganisationId) -> i64 {
        let pro = f.caller("conseil@test.fr").await;
        let input = OutreachInput {
            first_name: "Awa".into(),
            last_name: "Diallo".into(),
            channel: "association".into(),
            met_on: domain::iso_date(f.app.today()),
            phone: "0612345678".into(),
            agrees_recontact: "oui".into(),
            ..OutreachInput::default()
        };
        let Recorded::Created(id) = app::persons::record(&f.app, &pro, &input)
            .await
            .expect("recorded")
        else {
            panic!("created")
        };
        let entry = EntryInput {
            given_on: domain::iso_date(f.app.today()),
            method: "oral".into(),
            purposes: vec!["accompagnement".into(), "partage".into()],
            organisations: vec![f.france_travail.0.to_string(), org.0.to_string()],
            referent: String::new(),
            situation: SituationInput::default(),
        };
        app::persons::enter_accompaniment(&f.app, &pro, id, &entry)
            .await
            .expect("entered");
        id.0
    }

    app::fixture_tests! {
        async fn an_orientation_is_sent_answered_in_the_inbox_and_refused_in_place(f) {
            let receiver = f.caller_in_new_organisation("accueil@asso.fr", f.territory).await;
            let org = receiver.organisations_in(f.territory)[0];
            let id = accompanied(&f, org).await;
            let mut sender = client(&f, "conseil@test.fr").await;
            let file = sender.get(&format!("/personnes/{id}")).await;
            assert!(file.body.contains("Orienter la personne"), "the file leads to the form");
            let form = sender.get(&format!("/orientations/nouvelle?personne={id}")).await;
            assert_eq!(form.status, StatusCode::OK);
            assert!(form.body.contains("Structure de accueil@asso.fr"));
            let token = form.csrf();
            let receiver_code = format!("organisation:{}", org.0);
            let path = format!("/orientations/nouvelle?personne={id}");
            let refused = sender.post(&path, &[("csrf_token", token.as_str()), ("receiver", receiver_code.as_str()), ("reason", ""), ("message", "Bonjour")]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains("Cochez au moins un frein") && refused.body.contains("Bonjour"), "errors in place, input kept");
            // The form carries a fresh key: a double click sends it twice, one orientation.
            let marker = "name=\"idempotency_key\" value=\"";
            let start = form.body.find(marker).expect("the form's key") + marker.len();
            let key = form.body[start..].split('"').next().expect("key").to_string();
            let filled = [("csrf_token", token.as_str()), ("receiver", receiver_code.as_str()), ("fields", "mobilite"), ("reason", "Permis B"), ("idempotency_key", key.as_str())];
            let sent = sender.post(&path, &filled).await;
            assert_eq!(sent.status, StatusCode::SEE_OTHER);
            let twice = sender.post(&path, &filled).await;
            assert_eq!(twice.location, sent.location, "the second click lands on the same orientation");
            let location = sent.location.clone().expect("redirect");
            assert!(location.starts_with("/orientations/") && location.ends_with("?message=orientation-envoyee"), "{location}");
            let page_path = location.split('?').next().expect("path").to_string();
            let page = sender.get(&location).await;
            assert!(page.body.contains("L&#39;orientation est envoyée") || page.body.contains("L'orientation est envoyée"));
            assert!(page.body.contains("Historique"), "the group sees the log");

            let mut other = client(&f, "accueil@asso.fr").await;
            let home = other.get("/").await;
            assert!(home.body.contains("Orientations en attente de réponse"));
            let inbox = other.get("/orientations/recues").await;
            assert_eq!(inbox.status, StatusCode::OK);
            assert!(inbox.body.contains("Awa Diallo") && inbox.body.contains("Envoyée"));
            let view = other.get(&page_path).await;
            assert_eq!(view.status, StatusCode::OK);
            assert!(!view.body.contains("Historique") && view.body.contains("Vous voyez ce qu&#39;il faut pour décider") || view.body.contains("Vous voyez ce qu'il faut pour décider"));
            assert_eq!(other.get(&format!("/personnes/{id}")).await.status, StatusCode::NOT_FOUND, "no file before acceptance");
            let decide = format!("{page_path}/decision");
            let token = view.csrf();
            let refused = other.post(&decide, &[("csrf_token", token.as_str()), ("step", "decliner"), ("reasons", "autre")]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains("Précisez le motif"));
            let accepted = other.post(&decide, &[("csrf_token", token.as_str()), ("step", "accepter")]).await;
            assert_eq!(accepted.status, StatusCode::SEE_OTHER);
            assert_eq!(other.get(&format!("/personnes/{id}")).await.status, StatusCode::OK, "in the group now");
            // A stale page: the second decision is told what happened.
            let stale = other.post(&decide, &[("csrf_token", token.as_str()), ("step", "accepter"), ("version", "0")]).await;
            assert_eq!(stale.status, StatusCode::CONFLICT);
            assert!(stale.body.contains("a changé entre-temps"), "shown on the form, with the orientation as it is now");
        }

        async fn outsiders_get_not_found_and_bad_paths_a_french_error(f) {
            let receiver = f.caller_in_new_organisation("accueil@asso.fr", f.territory).await;
            let org = receiver.organisations_in(f.territory)[0];
            let id = accompanied(&f, org).await;
            let pro = f.caller("conseil@test.fr").await;
            let input = app::orientations::SendInput { receiver: format!("organisation:{}", org.0), fields: vec!["mobilite".into()], reason: "Permis".into(), ..Default::default() };
            let o = app::orientations::send(&f.app, &pro, domain::PersonId(id), &input).await.expect("sent");
            for email in ["ailleurs@test.fr", "pilote@test.fr"] {
                let mut c = client(&f, email).await;
                assert_eq!(c.get(&format!("/orientations/{}", o.0)).await.status, StatusCode::NOT_FOUND, "{email}");
                assert_eq!(c.get(&format!("/orientations/nouvelle?personne={id}")).await.status, StatusCode::NOT_FOUND, "{email}");
            }
            let mut c = client(&f, "conseil@test.fr").await;
            assert_eq!(c.get("/orientations/abc").await.status, StatusCode::BAD_REQUEST);
            assert_eq!(c.get("/orientations/nouvelle").await.status, StatusCode::BAD_REQUEST);
            let bad = c.get("/orientations/envoyees?du=2026-05-01&au=2026-04-01").await;
            assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(bad.body.contains("La fin de la période précède son début"));
            // A link page needs no account, and an unknown token is a plain 404 page.
            let mut anonymous = Client::new(&f);
            let page = anonymous.get(&format!("/orientations/{}/lien/pas-un-jeton", o.0)).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND);
            assert!(page.body.contains("Ce lien n&#39;est pas valide") || page.body.contains("Ce lien n'est pas valide"));
            let settings = c.get("/orientations/reglages").await;
            assert_eq!(settings.status, StatusCode::OK);
            assert!(!settings.body.contains("Enregistrer les délais"), "coordinators only");
            let mut coordinator = client(&f, "coordination@test.fr").await;
            let settings = coordinator.get("/orientations/reglages").await;
            let refused = coordinator.post("/orientations/reglages/delais", &[("csrf_token", settings.csrf().as_str()), ("unanswered_days", "20"), ("study_days", "60"), ("reminder_days", "25")]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains("La relance doit venir avant"));
        }
    }
}

mod cohorts {
    use super::diagnostic::client;
    use super::*;
    use app::persons::{EntryInput, OutreachInput, Recorded, SituationInput};

    /// A woman of 40 accompanied by the France Travail professional.
    async fn accompanied(f: &Fixture) -> i64 {
        let pro = f.caller("conseil@test.fr").await;
        let input = OutreachInput {
            first_name: "Awa".into(),
            last_name: "Diallo".into(),
            channel: "association".into(),
            met_on: domain::iso_date(f.app.today() - chrono::Duration::days(30)),
            phone: "0612345678".into(),
            agrees_recontact: "oui".into(),
            ..OutreachInput::default()
        };
        let Recorded::Created(id) = app::persons::record(&f.app, &pro, &input)
            .await
            .expect("recorded")
        else {
            panic!("created")
        };
        let entry = EntryInput {
            given_on: domain::iso_date(f.app.today() - chrono::Duration::days(20)),
            method: "oral".into(),
            purposes: vec!["accompagnement".into()],
            situation: SituationInput {
                sex: "femme".into(),
                birth_date: "1986-05-04".into(),
                ..SituationInput::default()
            },
            ..EntryInput::default()
        };
        app::persons::enter_accompaniment(&f.app, &pro, id, &entry)
            .await
            .expect("entered");
        id.0
    }

    app::fixture_tests! {
        async fn cohort_action_and_employer_pages_answer_each_role_and_refuse_in_place(f) {
            let id = accompanied(&f).await;
            let mut coordinator = client(&f, "coordination@test.fr").await;
            let list = coordinator.get("/cohortes").await;
            assert_eq!(list.status, StatusCode::OK);
            assert!(list.body.contains("Créer une cohorte"));
            let form = coordinator.get("/cohortes/nouvelle").await;
            assert_eq!(form.status, StatusCode::OK);
            let token = form.csrf();
            let forged = coordinator.post("/cohortes/nouvelle", &[("name", "Sans jeton")]).await;
            assert_eq!(forged.status, StatusCode::FORBIDDEN);
            let refused = coordinator.post("/cohortes/nouvelle", &[("csrf_token", token.as_str()), ("name", "Femmes 26-55"), ("starts_on", "2026-02-30")]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains("n&#39;est pas une date") || refused.body.contains("n'est pas une date"), "{}", refused.body);
            assert!(refused.body.contains("value=\"Femmes 26-55\""), "what was typed is kept");
            let pro = f.caller("conseil@test.fr").await;
            let referent = pro.user_id.0.to_string();
            let start = domain::iso_date(f.app.today() - chrono::Duration::days(30));
            let created = coordinator.post("/cohortes/nouvelle", &[("csrf_token", token.as_str()), ("name", "Femmes 26-55"), ("starts_on", start.as_str()), ("referents", referent.as_str()), ("sex", "femme"), ("criteres", "qpv")]).await;
            assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
            let cohort = created.location.clone().expect("to the cohort");
            let mut professional = client(&f, "conseil@test.fr").await;
            let page = professional.get(&format!("{}?candidats=1", cohort.split('?').next().unwrap_or_default())).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("Résidant en QPV") || page.body.contains("résidant en QPV"));
            assert!(page.body.contains("Awa Diallo"), "the candidate, to check (QPV unknown)");
            assert!(page.body.contains("À vérifier"));
            // Pilots see no cohort; another territory's professional finds nothing here.
            let mut pilot = client(&f, "pilote@test.fr").await;
            assert_eq!(pilot.get("/cohortes").await.status, StatusCode::FORBIDDEN);
            let mut outsider = client(&f, "ailleurs@test.fr").await;
            assert_eq!(outsider.get(cohort.split('?').next().unwrap_or_default()).await.status, StatusCode::NOT_FOUND);
            // An employer with a wrong SIRET: the French error in place.
            let form = professional.get("/employeurs/nouveau").await;
            let refused = professional.post("/employeurs/nouveau", &[("csrf_token", form.csrf().as_str()), ("siret", "13000548100011"), ("name", "Logistique du Nord")]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains("clé de contrôle"));
            assert!(refused.body.contains("value=\"Logistique du Nord\""));
            assert_eq!(professional.get("/employeurs").await.status, StatusCode::OK);
            // An action, a registration, and an attendance sheet naming someone not registered.
            let input = app::actions::ActionInput { kind: "job-dating".into(), title: "Job dating".into(), held_on: domain::iso_date(f.app.today()), starts_at: "09:30".into(), place: "Salle 2".into(), ..Default::default() };
            let action = app::actions::create(&f.app, &pro, &input).await.expect("action");
            app::actions::invite(&f.app, &pro, action, &app::actions::InviteInput { persons: vec![id.to_string()], status: "inscrite".into(), ..Default::default() }).await.expect("registered");
            let sheet = professional.get(&format!("/actions-collectives/{}/presences", action.0)).await;
            assert_eq!(sheet.status, StatusCode::OK);
            assert!(sheet.body.contains("Awa Diallo") && sheet.body.contains("Excusée"));
            let field = format!("presence_{id}");
            let wrong = professional.post(&format!("/actions-collectives/{}/presences", action.0), &[("csrf_token", sheet.csrf().as_str()), (field.as_str(), "present"), ("presence_999999", "absent")]).await;
            assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(wrong.body.contains("n&#39;est pas inscrite") || wrong.body.contains("n'est pas inscrite"));
            let done = professional.post(&format!("/actions-collectives/{}/presences", action.0), &[("csrf_token", sheet.csrf().as_str()), (field.as_str(), "present")]).await;
            assert_eq!(done.status, StatusCode::SEE_OTHER);
            let page = professional.get(&format!("/actions-collectives/{}", action.0)).await;
            assert!(page.body.contains("Présente"));
            assert_eq!(professional.get(&format!("/actions-collectives/{}/invitation/{id}", action.0)).await.status, StatusCode::OK);
        }

        async fn the_file_records_an_exit_with_its_type_and_shows_its_follow_up(f) {
            let id = accompanied(&f).await;
            let mut pro = client(&f, "conseil@test.fr").await;
            let file = pro.get(&format!("/personnes/{id}")).await;
            assert!(file.body.contains("Sorties et suivi") && file.body.contains("Emploi durable — CDI"));
            let today = domain::iso_date(f.app.today());
            let token = file.csrf();
            let refused = pro.post(&format!("/personnes/{id}/statut"), &[("csrf_token", token.as_str()), ("status", "sorti"), ("on", today.as_str())]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains("Choisissez une valeur de la liste"));
            let done = pro.post(&format!("/personnes/{id}/statut"), &[("csrf_token", token.as_str()), ("status", "sorti"), ("on", today.as_str()), ("exit_kind", "cdd-long")]).await;
            assert_eq!(done.status, StatusCode::SEE_OTHER);
            let file = pro.get(&format!("/personnes/{id}")).await;
            assert_eq!(file.status, StatusCode::OK, "the référent keeps the file");
            assert!(file.body.contains("Vérifications de situation après la sortie"));
            assert!(file.body.contains("À 3 mois") && file.body.contains("À 12 mois"));
            assert!(file.body.contains("Retour en accompagnement"));
            let back = pro.get(&format!("/personnes/{id}/accompagnement")).await;
            assert!(back.body.contains("Enregistrer le retour en accompagnement"));
        }
    }
}

mod indicators {
    use super::diagnostic::client;
    use super::*;

    app::fixture_tests! {
        async fn the_indicators_page_and_its_csv_answer_coordinators_and_pilots_only(f) {
            let mut coordinator = client(&f, "coordination@test.fr").await;
            let page = coordinator.get("/indicateurs").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("L'entonnoir sur la période") && page.body.contains("Parcours par sexe"));
            for section in ["Les freins périphériques", "Les orientations", "Les actions collectives", "Les employeurs", "Les partenaires", "La situation après la sortie"] {
                assert!(page.body.contains(&format!("<h2>{section}</h2>")), "{section}");
            }
            assert!(page.body.contains("<svg class=\"passerelle-chart\""), "a chart beside its table");
            assert!(page.body.contains("<summary>Définitions"), "definitions one click away");
            assert!(page.body.contains("Motifs de refus des orientations"));
            assert!(page.body.contains("href=\"/indicateurs\""), "in the menu");
            let bad = coordinator.get("/indicateurs?du=2026-05-01&au=2026-04-01").await;
            assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(bad.body.contains("La fin de la période précède son début."));
            let csv = coordinator.get("/indicateurs.csv?du=2026-01-01&au=2026-03-31").await;
            assert_eq!(csv.status, StatusCode::OK);
            assert_eq!(csv.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("text/csv; charset=utf-8"));
            assert!(csv.body.starts_with('\u{feff}') && csv.body.contains("du 01/01/2026 au 31/03/2026"));
            let book = coordinator.get("/indicateurs.xlsx?du=2026-01-01&au=2026-03-31").await;
            assert_eq!(book.status, StatusCode::OK);
            assert!(book.headers.get("content-disposition").and_then(|v| v.to_str().ok()).is_some_and(|v| v.ends_with(".xlsx\"")));
            let mut pilot = client(&f, "pilote@test.fr").await;
            let page = pilot.get("/indicateurs").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("par mois entiers déjà écoulés"), "the pilot is told why");
            let days = pilot.get("/indicateurs?du=2026-01-02&au=2026-01-31").await;
            assert_eq!(days.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(days.body.contains("Choisissez le premier jour d&#39;un mois"), "{}", days.body);
            assert_eq!(pilot.get("/indicateurs?perimetre=france").await.status, StatusCode::FORBIDDEN, "a territory's pilot is not national");
            let mut pro = client(&f, "conseil@test.fr").await;
            let denied = pro.get("/indicateurs").await;
            assert_eq!(denied.status, StatusCode::FORBIDDEN);
            assert!(!pro.get("/").await.body.contains("href=\"/indicateurs\""), "not in their menu");
        }
    }
}

mod governance {
    use super::diagnostic::client;
    use super::*;

    app::fixture_tests! {
        async fn a_coordinator_holds_a_meeting_and_its_owner_finds_the_action_on_the_home_page(f) {
            let mut coordinator = client(&f, "coordination@test.fr").await;
            let home = coordinator.get("/").await;
            assert!(home.body.contains("href=\"/gouvernance\""), "in the menu");
            let form = coordinator.get("/gouvernance/reunions/nouvelle").await;
            assert_eq!(form.status, StatusCode::OK);
            let csrf = form.csrf();
            let ft = f.france_travail.0.to_string();
            let refused = coordinator.post("/gouvernance/reunions/nouvelle", &[("csrf_token", &csrf), ("kind", "copil"), ("held_on", "31/02/2026"), ("title", ""), ("attendees", &ft)]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains("La réunion n'est pas enregistrée") && refused.body.contains("Donnez un intitulé à la réunion."), "{}", refused.body);
            let created = coordinator.post("/gouvernance/reunions/nouvelle", &[("csrf_token", &csrf), ("kind", "copil"), ("held_on", "2026-11-20"), ("title", "COPIL de novembre"), ("agenda", "Bilan"), ("attendees", &ft)]).await;
            assert_eq!(created.status, StatusCode::SEE_OTHER);
            let path = created.location.clone().expect("to the meeting");
            let path = path.split('?').next().expect("path").to_string();
            let page = coordinator.get(&path).await;
            assert!(page.body.contains("COPIL de novembre") && page.body.contains("France Travail Maubeuge"));
            assert!(!page.body.contains("Situations examinées"), "a COPIL reviews no person");
            let owner = f.professional.0.to_string();
            let added = coordinator.post(&format!("{path}/actions"), &[("csrf_token", &csrf), ("title", "Envoyer le bilan aux partenaires"), ("owner", &owner), ("due_on", "2026-12-15")]).await;
            assert_eq!(added.status, StatusCode::SEE_OTHER);
            let mut pro = client(&f, "conseil@test.fr").await;
            let home = pro.get("/").await;
            assert!(home.body.contains("Actions décidées en réunion qui vous sont confiées") && home.body.contains("Envoyer le bilan aux partenaires"), "{}", home.body);
            let csrf = home.csrf();
            let marker = "action=\"/gouvernance/actions/";
            let start = home.body.find(marker).expect("a button") + marker.len();
            let action = home.body[start..].split('/').next().expect("id").to_string();
            let done = pro.post(&format!("/gouvernance/actions/{action}/faite"), &[("csrf_token", &csrf), ("retour", "accueil")]).await;
            assert_eq!(done.status, StatusCode::SEE_OTHER);
            assert!(done.location.as_deref().is_some_and(|l| l.starts_with("/?message=action-faite")), "{:?}", done.location);
            assert!(!pro.get("/").await.body.contains("Envoyer le bilan aux partenaires"));
            // The professional reads but does not write.
            assert_eq!(pro.get(&path).await.status, StatusCode::OK);
            assert_eq!(pro.get("/gouvernance/reunions/nouvelle").await.status, StatusCode::FORBIDDEN);
            let roadmap = coordinator.get("/gouvernance/feuille-de-route").await;
            assert_eq!(roadmap.status, StatusCode::OK);
            assert!(roadmap.body.contains("Recours au droit commun") && roadmap.body.contains("Ajouter une action"));
            let csrf = roadmap.csrf();
            let saved = coordinator.post("/gouvernance/feuille-de-route", &[("csrf_token", &csrf), ("year", "2026"), ("axis", "offre-specifique"), ("title", "Forum de l'emploi"), ("status", "a-lancer"), ("measure", ""), ("progress", "")]).await;
            assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
            let roadmap = coordinator.get("/gouvernance/feuille-de-route?annee=2026").await;
            assert!(roadmap.body.contains("Forum de l&#39;emploi") && roadmap.body.contains("<progress"), "{}", roadmap.body);
            let outsider = client(&f, "ailleurs@test.fr").await.get(&path).await;
            assert_ne!(outsider.status, StatusCode::OK);
        }
    }
}
