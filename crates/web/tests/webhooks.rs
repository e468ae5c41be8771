//! « Webhooks des partenaires » through the router, on both backends: a coordinator gives a
//! partner a webhook, sees its secret once, refused addresses come back at their field, the
//! delivery log opens, stopping takes effect; professionals and other territories get nothing.

use app::testing::PASSWORD;
use axum::http::StatusCode;

mod client;
use client::Client;

app::fixture_tests! {
    offline;
    async fn a_coordinator_gives_a_partner_a_webhook_sees_its_secret_once_and_stops_it(f) {
        let mut coordinator = Client::new(&f);
        coordinator.login("coordination@test.fr", PASSWORD).await;
        let page = coordinator.get("/orientations/webhooks").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Aucun webhook dans ce territoire"));
        let settings = coordinator.get("/orientations/reglages").await;
        assert!(settings.body.contains("href=\"/orientations/webhooks\""));
        let csrf = page.csrf();
        let organisation = f.france_travail.0.to_string();
        // Refused at its field, what was typed kept, nothing created.
        let refused = coordinator.post("/orientations/webhooks", &[("csrf_token", &csrf), ("organisation", &organisation), ("url", "https://10.0.0.5/evenements")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("fr-input-group--error") && refused.body.contains("réseau privé"), "{}", refused.body);
        assert!(refused.body.contains("value=\"https://10.0.0.5/evenements\""));
        let created = coordinator.post("/orientations/webhooks", &[("csrf_token", &csrf), ("organisation", &organisation), ("url", "https://si.mission-locale.example/evenements")]).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert!(created.body.contains("id=\"secret-webhook\">whsec_"));
        let again = coordinator.get("/orientations/webhooks").await;
        assert!(!again.body.contains("whsec_"), "the secret is shown once");
        assert!(again.body.contains("https://si.mission-locale.example/evenements") && again.body.contains("actif"));
        let start = again.body.find("/orientations/webhooks/").expect("a link to the log") + "/orientations/webhooks/".len();
        let id: String = again.body[start..].chars().take_while(char::is_ascii_digit).collect();
        let log = coordinator.get(&format!("/orientations/webhooks/{id}")).await;
        assert_eq!(log.status, StatusCode::OK);
        assert!(log.body.contains("Aucune livraison pour l'instant"));
        // Nobody else manages it, nor reads its log.
        let mut professional = Client::new(&f);
        professional.login("conseil@test.fr", PASSWORD).await;
        assert_eq!(professional.get("/orientations/webhooks").await.status, StatusCode::FORBIDDEN);
        assert_eq!(professional.get(&format!("/orientations/webhooks/{id}")).await.status, StatusCode::FORBIDDEN);
        let mut outsider = Client::new(&f);
        outsider.login("ailleurs@test.fr", PASSWORD).await;
        let denied = outsider.get(&format!("/orientations/webhooks/{id}")).await.status;
        assert!(denied == StatusCode::FORBIDDEN || denied == StatusCode::NOT_FOUND, "{denied}");
        // Stopped at once.
        let stopped = coordinator.post(&format!("/orientations/webhooks/{id}/arret"), &[("csrf_token", &csrf)]).await;
        assert_eq!(stopped.status, StatusCode::SEE_OTHER);
        let after = coordinator.get(stopped.location.as_deref().expect("back to the list")).await;
        assert!(after.body.contains("Le webhook est arrêté") && after.body.contains("arrêté"));
        assert!(!after.body.contains(&format!("/orientations/webhooks/{id}/arret")));
    }
}
