//! The right of access on both backends: the document covers every table of the schema that
//! refers to a person's file (read off the foreign keys, so a new table cannot be forgotten),
//! holds the file's rows and its access log, and leaves health data and notes out for whoever
//! may not read them — saying so; only a coordinator or the référent produces it. An erasure (or
//! an objection) by a coordinator cancels the open orientations, telling their receivers and
//! the partners' webhooks, deletes every row of the file and keeps the audit trail.

use app::AppError;
use app::orientations::{self, SendInput};
use app::persons::{self, EntryForm, HealthInput, rights};
use app::testing::Fixture;

fn day(f: &Fixture, days: i64) -> String {
    domain::iso_date(domain::calendar::france_date(f.app.now()) + chrono::Duration::days(days))
}

app::fixture_tests! {
    offline;
    async fn the_export_covers_every_table_that_refers_to_a_person(f) {
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let mut schema = store::rights::tables_referring_to_persons(&mut pooled.conn()).await.expect("schema");
        let mut covered: Vec<String> = store::rights::PARTS.iter().map(|p| p.table.to_string()).collect();
        schema.sort();
        covered.sort();
        assert_eq!(covered, schema, "every table holding a person's data is in store::rights::PARTS");
        assert!(schema.len() > 20, "{schema:?}");
    }

    async fn a_coordinator_produces_the_file_without_health_data_and_the_referent_with_it(f) {
        let sender = f.caller("conseil@test.fr").await;
        let receiver = f.caller_in_new_organisation("accueil@asso.fr", f.territory).await;
        let org = receiver.organisations_in(f.territory)[0];
        let id = f.accompanied_person(&sender, &[org], ("Awa", "Diallo", "0601020304")).await;
        persons::set_health(&f.app, &sender, id, &HealthInput { rqth: "oui".into(), need: "oui".into(), need_note: "Suivi psychiatrique".into(), ..HealthInput::default() }).await.expect("health");
        persons::add_entry(&f.app, &sender, id, &EntryForm { kind: "note".into(), occurred_on: day(&f, 0), body: "Note du groupe sur le permis".into(), visibility: "groupe".into(), ..EntryForm::default() }).await.expect("note");
        persons::add_entry(&f.app, &sender, id, &EntryForm { kind: "note".into(), occurred_on: day(&f, 0), body: "Note réservée au référent".into(), visibility: "referent".into(), ..EntryForm::default() }).await.expect("restricted note");
        let input = SendInput { receiver: format!("organisation:{}", org.0), fields: vec!["mobilite".into(), "sante-handicap".into()], reason: "Préparer le permis B.".into(), ..SendInput::default() };
        orientations::send(&f.app, &sender, id, &input).await.expect("orientation");

        let coordinator = f.caller("coordination@test.fr").await;
        let export = rights::access_export(&f.app, &coordinator, id).await.expect("export");
        assert_eq!(export.name, "Awa Diallo");
        assert!(!export.health);
        assert!(!export.health_readers.is_empty(), "the document names who may produce it whole");
        let json = export.json();
        let text = json.to_string();
        for held in ["Diallo", "0601020304", "Note du groupe sur le permis", "Préparer le permis B.", "mobilite"] {
            assert!(text.contains(held), "{held} is held and shown");
        }
        for secret in ["Suivi psychiatrique", "Note réservée au référent", "sante-handicap"] {
            assert!(!text.contains(secret), "{secret} reached a reader without the right");
        }
        let part = |name: &str| export.parts.iter().find(|p| p.table == name).expect(name);
        assert!(part("person_health").withheld && part("person_health").rows.is_empty());
        for filled in ["persons", "person_members", "person_consents", "person_consent_purposes", "person_consent_organisations", "person_journal", "orientations", "orientation_fields", "orientation_events"] {
            assert!(!part(filled).rows.is_empty(), "{filled} has the person's rows");
        }
        assert_eq!(json["tables"].as_array().map(Vec::len), Some(store::rights::PARTS.len()));
        // The access log: the sender's writes and this very production.
        assert!(export.access_log.iter().any(|e| e.who.as_deref() == Some(sender.display_name.as_str())));
        assert!(export.access_log.iter().any(|e| e.detail == rights::page(id) && e.who.as_deref() == Some(coordinator.display_name.as_str())));

        // The référent holds health access: the whole file.
        let whole = rights::access_export(&f.app, &sender, id).await.expect("export");
        assert!(whole.health);
        let text = whole.json().to_string();
        for held in ["Suivi psychiatrique", "Note réservée au référent", "sante-handicap"] {
            assert!(text.contains(held), "{held} is in the référent's document");
        }
        assert!(!whole.parts.iter().find(|p| p.table == "person_health").expect("health").rows.is_empty());

        // A member who is not the référent, and a stranger, produce nothing.
        persons::add_member(&f.app, &sender, id, &receiver.user_id.0.to_string(), false).await.expect("member");
        assert!(matches!(rights::access_export(&f.app, &receiver, id).await, Err(AppError::Forbidden)));
        let outsider = f.caller("ailleurs@test.fr").await;
        assert!(matches!(rights::access_export(&f.app, &outsider, id).await, Err(AppError::NotFound)));
    }

    async fn a_coordinator_erases_a_file_at_once_keeping_the_audit_trail(f) {
        let sender = f.caller("conseil@test.fr").await;
        let receiver = f.caller_in_new_organisation("accueil@asso.fr", f.territory).await;
        let org = receiver.organisations_in(f.territory)[0];
        let id = f.accompanied_person(&sender, &[org], ("Awa", "Diallo", "0601020304")).await;
        let coordinator = f.caller("coordination@test.fr").await;
        let hook = app::webhooks::WebhookInput { organisation: org.0.to_string(), url: "https://si.asso.example/evenements".into() };
        app::webhooks::create(&f.app, &coordinator, &hook).await.expect("webhook");
        let input = SendInput { receiver: format!("organisation:{}", org.0), fields: vec!["mobilite".into()], reason: "Préparer le permis B.".into(), ..SendInput::default() };
        let orientation = orientations::send(&f.app, &sender, id, &input).await.expect("orientation");
        let form = rights::erasure_form(&f.app, &coordinator, id).await.expect("form");
        assert_eq!(form.open_orientations, 1);
        // Only a coordinator erases; nothing happens without the request and the confirmation.
        let asked = rights::ErasureInput { request: "effacement".into(), received_on: day(&f, 0), confirm: true };
        assert!(matches!(rights::erase(&f.app, &sender, id, &asked).await, Err(AppError::Forbidden)));
        let Err(AppError::Invalid(errors)) = rights::erase(&f.app, &coordinator, id, &rights::ErasureInput { received_on: day(&f, 3), ..Default::default() }).await else { panic!("refused") };
        for field in ["request", "received_on", "confirm"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        assert!(persons::read(&f.app, &coordinator, id, "/test").await.is_ok(), "nothing erased yet");

        let mails_before = f.outbox().await.len();
        assert_eq!(rights::erase(&f.app, &coordinator, id, &asked).await.expect("erased"), 1);
        // The file and every row attached to it are gone.
        assert!(matches!(persons::read(&f.app, &coordinator, id, "/test").await, Err(AppError::NotFound)));
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let left = store::rights::person_data(&mut pooled.conn(), id.0, true, &["groupe", "referent", "sante"]).await.expect("rows");
        assert!(left.iter().all(|p| p.rows.is_empty()), "{:?}", left.iter().filter(|p| !p.rows.is_empty()).map(|p| p.table).collect::<Vec<_>>());
        // The receiver hears of the cancellation, by mail and through its system's webhook.
        let mails = f.outbox().await;
        assert!(mails.len() > mails_before);
        assert!(mails.iter().any(|m| m.body.contains("demandé l'effacement")), "{mails:?}");
        let webhook = app::webhooks::page(&f.app, &coordinator).await.expect("webhooks").webhooks[0].id;
        let log = app::webhooks::log(&f.app, &coordinator, webhook).await.expect("log");
        assert!(log.deliveries.iter().any(|d| d.orientation_id == orientation.0 && d.to_status == "annulee"), "{:?}", log.deliveries);
        // The audit trail stays, with the erasure in it.
        let trail = store::audit::for_target(&mut pooled.conn(), "person", id.0, 100).await.expect("audit");
        let erasure = trail.iter().find(|e| e.action == "person.erasure").expect("the erasure is audited");
        assert!(erasure.detail.contains("Demande d'effacement") && erasure.detail.contains("1 orientation"), "{}", erasure.detail);
        assert!(trail.iter().any(|e| e.action == "person.create"));
    }
}
