//! API tokens through the router on both backends: made on the account's page and shown once,
//! then presented as a bearer token to the API, refused outside their scopes, after
//! revocation, or malformed.

use app::testing::{Fixture, PASSWORD};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

mod client;
use client::{Client, Page};

async fn with_bearer(f: &Fixture, token: &str, path: &str) -> Page {
    // A fresh client: no session cookie, only the token.
    let mut client = Client::new(f);
    let request = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    client.send(request).await
}

fn token_on(page: &Page) -> String {
    let start = page
        .body
        .find("id=\"nouveau-jeton\">")
        .expect("the new token is shown")
        + "id=\"nouveau-jeton\">".len();
    let end = start + page.body[start..].find('<').expect("end of the token");
    page.body[start..end].to_string()
}

fn error_code(page: &Page) -> String {
    let doc: serde_json::Value = serde_json::from_str(&page.body).expect("a JSON error");
    doc["erreur"].as_str().unwrap_or_default().to_string()
}

app::fixture_tests! {
    offline;
    async fn a_token_made_on_the_account_page_reads_the_api_within_its_scopes_until_revoked(f) {
        let mut client = Client::new(&f);
        client.login("coordination@test.fr", PASSWORD).await;
        let page = client.get("/compte/jetons").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.csrf();
        let refused = client.post("/compte/jetons", &[("csrf_token", &csrf), ("name", ""), ("days", "90")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("Cochez au moins une portée"), "{}", refused.body);
        assert!(refused.body.contains("Le jeton n'a pas été créé"), "the form says it was refused");
        let created = client.post("/compte/jetons", &[("csrf_token", &csrf), ("name", "SI de la coordination"), ("scopes", "annuaire"), ("days", "90")]).await;
        assert_eq!(created.status, StatusCode::CREATED);
        let directory_token = token_on(&created);
        assert!(directory_token.starts_with("passerelle_"));
        // Shown once: the list no longer has it.
        let list = client.get("/compte/jetons").await;
        assert!(list.body.contains("SI de la coordination") && !list.body.contains(&directory_token));

        // The directory of the territory, in the data·inclusion format.
        let directory = with_bearer(&f, &directory_token, "/api/v1/territoires/maubeuge/annuaire").await;
        assert_eq!(directory.status, StatusCode::OK, "{}", directory.body);
        let doc: serde_json::Value = serde_json::from_str(&directory.body).expect("JSON");
        assert!(doc["structures"].is_array() && doc["services"].is_array(), "{doc}");
        // Another territory is out of the owner's rights: it does not exist for them.
        let elsewhere = with_bearer(&f, &directory_token, "/api/v1/territoires/roubaix/annuaire").await;
        assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
        // Outside its scopes: the QPV check is refused, saying which scope is missing.
        let qpv = with_bearer(&f, &directory_token, "/api/v1/qpv/lookup?lon=3.9700&lat=50.2800").await;
        assert_eq!(qpv.status, StatusCode::FORBIDDEN);
        assert_eq!(error_code(&qpv), "portee_manquante");
        assert!(qpv.body.contains("« qpv »"));

        // Revoked on the page: refused at the next request.
        let id_start = list.body.find("/compte/jetons/").expect("a revoke form") + "/compte/jetons/".len();
        let id: String = list.body[id_start..].chars().take_while(char::is_ascii_digit).collect();
        let revoked = client.post(&format!("/compte/jetons/{id}/revocation"), &[("csrf_token", &list.csrf())]).await;
        assert_eq!(revoked.location.as_deref(), Some("/compte/jetons?message=jeton-revoque"));
        let after = with_bearer(&f, &directory_token, "/api/v1/territoires/maubeuge/annuaire").await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(&after), "jeton_invalide");
        assert!(client.get("/compte/jetons").await.body.contains("révoqué"));

        // Malformed or unknown tokens get the same JSON 401; a cookie-less call too.
        for token in ["", "passerelle_inconnu", "n'importe quoi"] {
            let page = with_bearer(&f, token, "/api/v1/qpv/lookup?lon=3.97&lat=50.28").await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{token:?}");
        }
        let mut anonymous = Client::new(&f);
        let page = anonymous.get("/api/v1/qpv/lookup?lon=3.97&lat=50.28").await;
        assert_eq!(error_code(&page), "non_authentifie");
    }

    async fn someone_else_cannot_revoke_a_token_and_the_openapi_document_describes_bearer_tokens(f) {
        let mut owner = Client::new(&f);
        owner.login("conseil@test.fr", PASSWORD).await;
        let csrf = owner.get("/compte/jetons").await.csrf();
        let created = owner.post("/compte/jetons", &[("csrf_token", &csrf), ("name", "Tableur"), ("scopes", "qpv"), ("days", "30")]).await;
        let token = token_on(&created);
        let list = owner.get("/compte/jetons").await;
        let id_start = list.body.find("/compte/jetons/").expect("a revoke form") + "/compte/jetons/".len();
        let id: String = list.body[id_start..].chars().take_while(char::is_ascii_digit).collect();
        let mut other = Client::new(&f);
        other.login("coordination@test.fr", PASSWORD).await;
        let csrf = other.get("/compte/jetons").await.csrf();
        let attempt = other.post(&format!("/compte/jetons/{id}/revocation"), &[("csrf_token", &csrf)]).await;
        assert_eq!(attempt.status, StatusCode::NOT_FOUND);
        let qpv = with_bearer(&f, &token, "/api/v1/qpv/lookup?lon=3.9700&lat=50.2800").await;
        assert_eq!(qpv.status, StatusCode::OK, "still live: {}", qpv.body);
        let doc: serde_json::Value = serde_json::from_str(&owner.get("/api/v1/openapi.json").await.body).expect("JSON");
        assert_eq!(doc["components"]["securitySchemes"]["jeton"]["scheme"], "bearer");
        assert!(doc["paths"]["/api/v1/territoires/{slug}/annuaire"]["get"]["responses"]["403"].is_object());
    }
}

app::fixture_tests! {
    offline;
    async fn a_coordinator_makes_a_token_for_a_partner_that_reads_the_directory_and_no_person(f) {
        let mut professional = Client::new(&f);
        professional.login("conseil@test.fr", PASSWORD).await;
        assert_eq!(professional.get("/territoires/maubeuge/jetons").await.status, StatusCode::FORBIDDEN);

        let mut client = Client::new(&f);
        client.login("coordination@test.fr", PASSWORD).await;
        let page = client.get("/territoires/maubeuge/jetons").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Structure partenaire") && page.body.contains("France Travail"), "{}", page.body);
        assert!(!page.body.contains("value=\"orientations\""), "no scope that touches a person is offered");
        let csrf = page.csrf();
        let org = f.france_travail.0.to_string();
        let refused = client.post("/territoires/maubeuge/jetons", &[("csrf_token", &csrf), ("organisation_id", &org), ("name", "SI"), ("scopes", "orientations"), ("days", "90")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("jeton nominatif"), "{}", refused.body);
        let created = client.post("/territoires/maubeuge/jetons", &[("csrf_token", &csrf), ("organisation_id", &org), ("name", "SI de l'agence"), ("scopes", "annuaire"), ("days", "90")]).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let token = token_on(&created);
        assert!(created.body.contains("créé par"), "the list names who made it");

        let directory = with_bearer(&f, &token, "/api/v1/territoires/maubeuge/annuaire").await;
        assert_eq!(directory.status, StatusCode::OK, "{}", directory.body);
        let elsewhere = with_bearer(&f, &token, "/api/v1/territoires/roubaix/annuaire").await;
        assert_eq!(elsewhere.status, StatusCode::NOT_FOUND, "{}", elsewhere.body);
        let orientations = with_bearer(&f, &token, "/api/v1/orientations").await;
        assert_eq!(orientations.status, StatusCode::FORBIDDEN);
        assert_eq!(error_code(&orientations), "portee_manquante");

        let list = client.get("/territoires/maubeuge/jetons").await;
        let marker = "action=\"/territoires/maubeuge/jetons/";
        let start = list.body.find(marker).expect("a revocation form") + marker.len();
        let id = list.body[start..].split('/').next().expect("id").to_string();
        let revoked = client.post(&format!("/territoires/maubeuge/jetons/{id}/revocation"), &[("csrf_token", &list.csrf())]).await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER);
        assert_eq!(with_bearer(&f, &token, "/api/v1/territoires/maubeuge/annuaire").await.status, StatusCode::UNAUTHORIZED);
    }
}
