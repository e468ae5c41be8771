//! Orientations and indicators through `/api/v1` with bearer tokens, on both backends: the
//! scopes, the receiver's limited view (no health field, no log), every person read written in
//! the file's access log as a page read is, steps through the state machine with the version
//! guard, and the indicators masked exactly as the page masks them.

use app::testing::Fixture;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::PersonId;
use serde_json::{Value, json};

mod client;
use client::{Client, Page};

async fn token(f: &Fixture, caller: &app::Caller, scopes: &[&str]) -> String {
    let input = app::api_tokens::TokenInput {
        name: "Logiciel partenaire".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        days: "30".into(),
    };
    app::api_tokens::create(&f.app, caller, &input)
        .await
        .expect("token")
        .token
}

async fn call(f: &Fixture, token: &str, method: &str, path: &str, body: Option<Value>) -> Page {
    let mut client = Client::new(f);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    client.send(request).await
}

fn json_of(page: &Page) -> Value {
    serde_json::from_str(&page.body).unwrap_or_else(|_| panic!("JSON: {}", page.body))
}

async fn audit_count(f: &Fixture, id: PersonId, action: &str, user: i64) -> usize {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::audit::for_target(&mut pooled.conn(), "person", id.0, 1000)
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.action == action && e.user_id == Some(user))
        .count()
}

app::fixture_tests! {
    offline;
    async fn a_partner_sends_reads_and_answers_orientations_through_the_api_within_its_scopes(f) {
        let sender = f.caller("conseil@test.fr").await;
        let receiver = f.caller_in_new_organisation("accueil@asso.fr", f.territory).await;
        let org = receiver.organisations_in(f.territory)[0];
        let person = f.accompanied_person(&sender, &[org], ("Awa", "Diallo", "0601020304")).await;
        let health = app::persons::HealthInput { rqth: "oui".into(), ..Default::default() };
        app::persons::set_health(&f.app, &sender, person, &health).await.expect("health");
        let write = token(&f, &sender, &["orientations", "orientations-ecriture"]).await;
        let to_person = format!("/api/v1/personnes/{}/orientations", person.0);
        // Refused at the field, named as the API names it, and nothing sent.
        let refused = call(&f, &write, "POST", &to_person, Some(json!({ "destinataire": format!("organisation:{}", org.0), "champs": [], "motif": "" }))).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        let errors = json_of(&refused);
        assert_eq!(errors["erreur"], "saisie_invalide");
        assert!(errors["champs"]["champs"].as_str().is_some_and(|m| m.contains("au moins un frein")), "{errors}");
        assert!(errors["champs"]["motif"].is_string(), "{errors}");
        let not_json = call(&f, &write, "POST", &format!("/api/v1/personnes/{}/orientations", person.0), None).await;
        assert_eq!(json_of(&not_json)["erreur"], "json_invalide");
        let sent = call(&f, &write, "POST", &to_person, Some(json!({
            "destinataire": format!("organisation:{}", org.0),
            "champs": ["mobilite", "sante-handicap"],
            "motif": "Préparer le permis B avec un atelier de code.",
            "preference_contact": "Téléphone, après 17 h",
        }))).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
        let created = json_of(&sent);
        let id = created["id"].as_i64().expect("an id");
        assert_eq!(created["statut"]["code"], "envoyee");
        assert_eq!(sent.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()), Some(format!("/api/v1/orientations/{id}").as_str()));
        // A stranger to the person cannot send for them.
        let outsider = f.caller("ailleurs@test.fr").await;
        let outsider_token = token(&f, &outsider, &["orientations-ecriture"]).await;
        let stranger = call(&f, &outsider_token, "POST", &format!("/api/v1/personnes/{}/orientations", person.0), Some(json!({ "destinataire": format!("organisation:{}", org.0), "champs": ["mobilite"], "motif": "x" }))).await;
        assert_eq!(stranger.status, StatusCode::NOT_FOUND);

        // The receiver's read-only token: its inbox names the person, and the list is audited.
        let read = token(&f, &receiver, &["orientations"]).await;
        let lists_before = audit_count(&f, person, "person.list", receiver.user_id.0).await;
        let inbox = call(&f, &read, "GET", "/api/v1/orientations?liste=recues", None).await;
        assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
        let inbox = json_of(&inbox);
        assert_eq!(inbox["total"], 1);
        assert_eq!(inbox["orientations"][0]["personne"]["nom"], "Diallo");
        assert_eq!(audit_count(&f, person, "person.list", receiver.user_id.0).await, lists_before + 1);
        let bad_filter = call(&f, &read, "GET", "/api/v1/orientations?liste=toutes", None).await;
        assert_eq!(json_of(&bad_filter)["champs"]["liste"], "Choisissez « recues » ou « envoyees ».");
        // One orientation: the referral view, without the health field or the log; audited.
        let reads_before = audit_count(&f, person, "person.read", receiver.user_id.0).await;
        let one = call(&f, &read, "GET", &format!("/api/v1/orientations/{id}"), None).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
        assert!(!one.body.contains("sante-handicap") && !one.body.contains("rqth"), "{}", one.body);
        let one = json_of(&one);
        assert_eq!(one["vue"], "orientation");
        assert_eq!(one["journal"], json!([]));
        assert_eq!(one["personne"]["telephone"], "0601020304");
        assert_eq!(audit_count(&f, person, "person.read", receiver.user_id.0).await, reads_before + 1, "a read through the API is audited like a page read");
        // … and says it came through the API, with which token.
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let trail = store::audit::for_target(&mut pooled.conn(), "person", person.0, 100).await.expect("audit");
        let through_api = trail.iter().find(|e| e.action == "person.read" && e.user_id == Some(receiver.user_id.0)).expect("the read");
        assert_eq!(through_api.api_token_name.as_deref(), Some("Logiciel partenaire"));
        assert!(app::persons::detail(through_api).ends_with("par l'API, jeton « Logiciel partenaire »"));
        assert!(trail.iter().filter(|e| e.action == "person.create").all(|e| e.api_token_id.is_none()), "the sender recorded the file on a page");
        drop(pooled);
        // The sender's référent sees the health field and the log.
        let full = json_of(&call(&f, &write, "GET", &format!("/api/v1/orientations/{id}"), None).await);
        assert_eq!(full["vue"], "complete");
        assert!(full["champs"].as_array().expect("fields").iter().any(|c| c["code"] == "sante-handicap"));
        assert_eq!(full["journal"].as_array().map(Vec::len), Some(1));
        // Reading is not acting.
        let steps = format!("/api/v1/orientations/{id}/etapes");
        let denied = call(&f, &read, "POST", &steps, Some(json!({ "etape": "etude" }))).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        assert_eq!(json_of(&denied)["erreur"], "portee_manquante");
        // With the write scope: a step on the version read, then one on a version gone by.
        let act = token(&f, &receiver, &["orientations", "orientations-ecriture"]).await;
        let version = one["version"].as_i64().expect("a version");
        let studied = call(&f, &act, "POST", &steps, Some(json!({ "etape": "etude", "version": version }))).await;
        assert_eq!(studied.status, StatusCode::OK, "{}", studied.body);
        assert_eq!(json_of(&studied)["statut"]["code"], "a-l-etude");
        let stale = call(&f, &act, "POST", &steps, Some(json!({ "etape": "accepter", "version": version }))).await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert_eq!(json_of(&stale)["erreur"], "conflit");
        assert!(json_of(&stale)["message"].as_str().is_some_and(|m| m.contains("a changé entre-temps")));
        let unknown = call(&f, &act, "POST", &steps, Some(json!({ "etape": "valider" }))).await;
        assert!(json_of(&unknown)["champs"]["etape"].is_string(), "{}", unknown.body);
        // Declining needs a reason, named as the API names it.
        let no_reason = call(&f, &act, "POST", &steps, Some(json!({ "etape": "decliner" }))).await;
        assert!(json_of(&no_reason)["champs"]["motifs"].is_string(), "{}", no_reason.body);
        // The refused steps left nothing in the log: the sending and the study.
        let full = json_of(&call(&f, &write, "GET", &format!("/api/v1/orientations/{id}"), None).await);
        assert_eq!(full["journal"].as_array().map(Vec::len), Some(2), "{full}");
        assert_eq!(full["statut"]["code"], "a-l-etude");
        // Unknown or impossible identifiers are JSON 404s.
        for path in ["/api/v1/orientations/999999", "/api/v1/orientations/0", "/api/v1/orientations/abc"] {
            let page = call(&f, &read, "GET", path, None).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(json_of(&page)["erreur"], "introuvable", "{path}");
        }
    }

    async fn the_indicators_answer_masked_as_on_the_page_and_only_to_their_readers(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let sender = f.caller("conseil@test.fr").await;
        f.accompanied_person(&sender, &[], ("Awa", "Diallo", "0601020304")).await;
        let t = token(&f, &coordinator, &["indicateurs"]).await;
        let page = call(&f, &t, "GET", "/api/v1/indicateurs", None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let answered = json_of(&page);
        // The same figures as the use case the page shows, masked with the same threshold.
        let expected = app::indicators::indicators(&f.app, &coordinator, &Default::default()).await.expect("figures");
        assert_eq!(answered, serde_json::to_value(expected.document()).expect("JSON"));
        assert_eq!(answered["seuil"], 5);
        let funnel = answered["entonnoir"].as_array().expect("funnel");
        assert!(funnel.iter().any(|s| s["masque"] == true && s["valeur"].is_null()), "one person is never shown as a count: {answered}");
        assert!(funnel.iter().all(|s| s["valeur"].as_i64().is_none_or(|v| v == 0 || v >= 5)), "{answered}");
        // A period the rules refuse, named at its field.
        let reversed = call(&f, &t, "GET", "/api/v1/indicateurs?du=2026-03-01&au=2026-01-31", None).await;
        assert_eq!(json_of(&reversed)["champs"]["au"], "La fin de la période précède son début.");
        // A professional reads no indicators, whatever the token; a token without the scope
        // reads none either.
        let professional = token(&f, &sender, &["indicateurs"]).await;
        let refused = call(&f, &professional, "GET", "/api/v1/indicateurs", None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let qpv_only = token(&f, &coordinator, &["qpv"]).await;
        let refused = call(&f, &qpv_only, "GET", "/api/v1/indicateurs", None).await;
        assert_eq!(json_of(&refused)["erreur"], "portee_manquante");
        let refused = call(&f, &qpv_only, "GET", "/api/v1/orientations", None).await;
        assert_eq!(json_of(&refused)["erreur"], "portee_manquante");
    }

    async fn a_send_repeated_with_its_idempotency_key_returns_the_first_orientation(f) {
        let sender = f.caller("conseil@test.fr").await;
        let receiver = f.caller_in_new_organisation("accueil@asso.fr", f.territory).await;
        let org = receiver.organisations_in(f.territory)[0];
        let person = f.accompanied_person(&sender, &[org], ("Awa", "Diallo", "0601020304")).await;
        let write = token(&f, &sender, &["orientations-ecriture"]).await;
        let to_person = format!("/api/v1/personnes/{}/orientations", person.0);
        let body = json!({ "destinataire": format!("organisation:{}", org.0), "champs": ["mobilite"], "motif": "Permis B." });
        let keyed = |key: &str, body: &Value| {
            Request::post(to_person.as_str())
                .header(header::AUTHORIZATION, format!("Bearer {write}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header("Idempotency-Key", key)
                .body(Body::from(body.to_string()))
                .expect("request")
        };
        let first = Client::new(&f).send(keyed("3b2d6f1e-envoi", &body)).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        // The answer was lost: the partner's system sends again.
        let again = Client::new(&f).send(keyed("3b2d6f1e-envoi", &body)).await;
        assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
        assert_eq!(json_of(&again)["id"], json_of(&first)["id"], "the same orientation");
        let other = json!({ "destinataire": format!("organisation:{}", org.0), "champs": ["mobilite"], "motif": "Autre chose." });
        let reused = Client::new(&f).send(keyed("3b2d6f1e-envoi", &other)).await;
        assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(json_of(&reused)["champs"]["Idempotency-Key"].as_str().is_some_and(|m| m.contains("déjà servi")), "{}", reused.body);
        let mut pooled = f.app.db.acquire().await.expect("connection");
        assert_eq!(store::orientations::of_person(&mut pooled.conn(), person).await.expect("list").len(), 1);
    }
}

/// The document is read off the code: each operation asks one scope the program knows, and the
/// codes it lists are the codes the program takes.
#[test]
fn the_document_lists_each_operation_with_one_known_scope_and_every_code_the_program_takes() {
    let doc: Value = serde_json::from_str(&web::openapi_document()).expect("JSON");
    for (path, methods) in doc["paths"].as_object().expect("paths") {
        for (method, op) in methods.as_object().expect("methods") {
            let security = op["security"].as_array().expect("security");
            if path == "/api/v1/openapi.json" {
                continue;
            }
            let scopes: Vec<&str> = security
                .iter()
                .filter_map(|s| s["jeton"].as_array())
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(scopes.len(), 1, "{method} {path}: one scope");
            assert!(
                domain::api::ApiScope::from_code(scopes[0]).is_some(),
                "{method} {path}: {} is a scope",
                scopes[0]
            );
            assert!(
                op["responses"]["401"].is_object() && op["responses"]["429"].is_object(),
                "{method} {path}"
            );
        }
    }
    let steps: Vec<&str> = doc["components"]["schemas"]["NewStep"]["properties"]["etape"]["enum"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let known: Vec<&str> = domain::orientation::Step::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(steps, known);
}
