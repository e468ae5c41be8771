//! The right of access through the router, on both backends: the page to print and its JSON for
//! a coordinator (health data left out, said so), nothing for a member who does not manage the
//! file.

use app::testing::PASSWORD;
use axum::http::{StatusCode, header};

mod client;
use client::Client;

app::fixture_tests! {
    offline;
    async fn a_coordinator_prints_and_downloads_everything_held_about_a_person(f) {
        let sender = f.caller("conseil@test.fr").await;
        let id = f.accompanied_person(&sender, &[], ("Awa", "Diallo", "0601020304")).await;
        let health = app::persons::HealthInput { rqth: "oui".into(), need: "oui".into(), need_note: "Suivi psychiatrique".into(), ..Default::default() };
        app::persons::set_health(&f.app, &sender, id, &health).await.expect("health");
        let mut coordinator = Client::new(&f);
        coordinator.login("coordination@test.fr", PASSWORD).await;
        let file = coordinator.get(&format!("/personnes/{}", id.0)).await;
        assert!(file.body.contains(&format!("href=\"/personnes/{}/droit-d-acces\"", id.0)));
        let page = coordinator.get(&format!("/personnes/{}/droit-d-acces", id.0)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Droit d&#39;accès : Awa Diallo") || page.body.contains("Droit d'accès : Awa Diallo"), "{}", page.body);
        assert!(page.body.contains("Données de santé non incluses"));
        assert!(page.body.contains("0601020304") && page.body.contains("Journal des accès à la fiche"));
        assert!(!page.body.contains("Suivi psychiatrique"));
        let json = coordinator.get(&format!("/personnes/{}/droit-d-acces.json", id.0)).await;
        assert_eq!(json.status, StatusCode::OK);
        assert!(json.headers.get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains(&format!("droit-d-acces-{}.json", id.0))));
        let doc: serde_json::Value = serde_json::from_str(&json.body).expect("JSON");
        assert_eq!(doc["personne"]["nom"], "Awa Diallo");
        assert!(doc["donnees_de_sante"].as_str().is_some_and(|s| s.starts_with("non incluses")));
        assert!(doc["journal_des_acces"].as_array().is_some_and(|a| !a.is_empty()));
        // A professional outside the group learns nothing of it.
        let mut other = Client::new(&f);
        other.login("ailleurs@test.fr", PASSWORD).await;
        assert_eq!(other.get(&format!("/personnes/{}/droit-d-acces", id.0)).await.status, StatusCode::NOT_FOUND);
    }

    async fn a_coordinator_erases_a_file_after_confirming_and_it_is_gone(f) {
        let sender = f.caller("conseil@test.fr").await;
        let id = f.accompanied_person(&sender, &[], ("Awa", "Diallo", "0601020304")).await;
        let mut coordinator = Client::new(&f);
        coordinator.login("coordination@test.fr", PASSWORD).await;
        let file = coordinator.get(&format!("/personnes/{}", id.0)).await;
        assert!(file.body.contains(&format!("href=\"/personnes/{}/effacement\"", id.0)));
        let form = coordinator.get(&format!("/personnes/{}/effacement", id.0)).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains("définitif"));
        let csrf = form.csrf();
        let today = domain::iso_date(domain::calendar::france_date(f.app.now()));
        let refused = coordinator.post(&format!("/personnes/{}/effacement", id.0), &[("csrf_token", &csrf), ("request", "opposition"), ("received_on", &today)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("fr-checkbox-group--error") && refused.body.contains("id=\"request-opposition\" name=\"request\" value=\"opposition\" checked"), "{}", refused.body);
        let erased = coordinator.post(&format!("/personnes/{}/effacement", id.0), &[("csrf_token", &csrf), ("request", "opposition"), ("received_on", &today), ("confirm", "on")]).await;
        assert_eq!(erased.status, StatusCode::SEE_OTHER);
        let list = coordinator.get(erased.location.as_deref().expect("to the list")).await;
        assert!(list.body.contains("Le dossier est effacé"));
        assert_eq!(coordinator.get(&format!("/personnes/{}", id.0)).await.status, StatusCode::NOT_FOUND);
        // A professional never sees the form.
        let mut professional = Client::new(&f);
        professional.login("conseil@test.fr", PASSWORD).await;
        let other = f.accompanied_person(&sender, &[], ("Moussa", "Camara", "0601020305")).await;
        assert_eq!(professional.get(&format!("/personnes/{}/effacement", other.0)).await.status, StatusCode::FORBIDDEN);
    }
}
