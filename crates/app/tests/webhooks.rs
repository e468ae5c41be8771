//! Webhooks of orientation events, on both backends: a coordinator gives a partner an address;
//! each event of the orientations the partner receives arrives there signed (checked here with
//! an independent HMAC), naming no one; an address that fails is retried through the job queue
//! and the delivery log says why; a stopped webhook gets nothing more; only the territory's
//! coordinators manage them.

use app::orientations::{self, DecisionInput, SendInput};
use app::testing::{Fixture, webhook_receiver};
use app::webhooks::{self, WebhookInput};
use app::{AppError, Caller};
use domain::{OrganisationId, OrientationId};
use hmac::{Hmac, Mac};
use sha2::Sha256;

macro_rules! tests {
    ($(async fn $name:ident($f:ident) $body:block)*) => {$(
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $f = fixture(store::Backend::Sqlite).await;
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let $f = fixture(store::Backend::Postgres).await;
                $body
            }
        }
    )*};
}

async fn fixture(backend: store::Backend) -> Fixture {
    let settings = app::Settings {
        // The receiving system of these tests is on this machine.
        webhooks_private_addresses: true,
        ..app::Settings::default()
    };
    Fixture::with_settings(backend, settings).await
}

struct Cast {
    coordinator: Caller,
    sender: Caller,
    receiver: Caller,
    receiver_org: OrganisationId,
}

async fn cast(f: &Fixture) -> Cast {
    let receiver = f
        .caller_in_new_organisation("accueil@asso.fr", f.territory)
        .await;
    let receiver_org = receiver.organisations_in(f.territory)[0];
    Cast {
        coordinator: f.caller("coordination@test.fr").await,
        sender: f.caller("conseil@test.fr").await,
        receiver,
        receiver_org,
    }
}

async fn orient(f: &Fixture, c: &Cast, (last, phone): (&str, &str)) -> OrientationId {
    let person = f
        .accompanied_person(&c.sender, &[c.receiver_org], ("Awa", last, phone))
        .await;
    let input = SendInput {
        receiver: format!("organisation:{}", c.receiver_org.0),
        fields: vec!["mobilite".into()],
        reason: "Préparer le permis B.".into(),
        ..SendInput::default()
    };
    orientations::send(&f.app, &c.sender, person, &input)
        .await
        .expect("sent")
}

fn hmac_hex(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(message.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

tests! {
    async fn each_event_of_a_partner_s_orientations_arrives_signed_and_naming_no_one(f) {
        let c = cast(&f).await;
        let (url, received) = webhook_receiver(vec![]).await;
        let input = WebhookInput { organisation: c.receiver_org.0.to_string(), url: url.clone() };
        // Only the territory's coordinators give webhooks.
        let refused = webhooks::create(&f.app, &c.sender, &input).await;
        assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
        let bad = webhooks::create(&f.app, &c.coordinator, &WebhookInput { url: "si.exemple.fr/hook".into(), ..input.clone() }).await;
        let Err(AppError::Invalid(errors)) = bad else { panic!("{bad:?}") };
        assert!(errors.get("url").is_some_and(|m| m.contains("https://")), "{errors:?}");
        let stranger = webhooks::create(&f.app, &c.coordinator, &WebhookInput { organisation: "999999".into(), ..input.clone() }).await;
        assert!(matches!(stranger, Err(AppError::Invalid(_))));
        let created = webhooks::create(&f.app, &c.coordinator, &input).await.expect("webhook");
        assert!(created.secret.starts_with("whsec_") && created.secret.len() > 40);

        let id = orient(&f, &c, ("Diallo", "0601020304")).await;
        app::jobs::drain(&f.app, "essai").await.expect("jobs");
        orientations::decide(&f.app, &c.receiver, id, &DecisionInput { step: "etude".into(), ..DecisionInput::default() }).await.expect("studied");
        app::jobs::drain(&f.app, "essai").await.expect("jobs");

        let got = received.lock().expect("received").clone();
        assert_eq!(got.len(), 2, "{got:?}");
        for (r, event) in got.iter().zip(["orientation.envoyee", "orientation.a-l-etude"]) {
            assert_eq!(r.header("passerelle-evenement"), Some(event));
            assert_eq!(r.header("content-type"), Some("application/json"));
            let signature = r.header("passerelle-signature").expect("signed");
            let (t, v1) = signature.split_once(",v1=").expect("t=…,v1=…");
            let t = t.strip_prefix("t=").expect("t=");
            assert_eq!(v1, hmac_hex(&created.secret, &format!("{t}.{}", r.body)), "the HMAC of the timestamp and the body");
            assert!((f.app.now().timestamp() - t.parse::<i64>().expect("seconds")).abs() < 60);
            assert_ne!(v1, hmac_hex("whsec_autre", &format!("{t}.{}", r.body)));
            let body: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
            assert_eq!(body["evenement"], event);
            assert_eq!(body["orientation"]["id"], id.0);
            assert_eq!(body["role"], "destinataire");
            assert_eq!(body["territoire"], "maubeuge");
            assert!(body["orientation"]["adresse"].as_str().is_some_and(|a| a.ends_with(&format!("/api/v1/orientations/{}", id.0))));
            assert_eq!(r.header("passerelle-livraison"), body["livraison"].as_i64().map(|n| n.to_string()).as_deref());
            for name in ["Awa", "Diallo", "0601020304", "permis"] {
                assert!(!r.body.contains(name), "{name} in {}", r.body);
            }
        }
        // The delivery log: both delivered at the first try.
        let log = webhooks::log(&f.app, &c.coordinator, created.id).await.expect("log");
        assert_eq!(log.deliveries.len(), 2);
        assert!(log.deliveries.iter().all(|d| d.delivered_at.is_some() && d.attempts == 1 && d.last_status == Some(200)));
        assert_eq!(log.webhook.delivered, 2);
        // Someone of another territory, or a professional, reads no log.
        let outsider = f.caller("ailleurs@test.fr").await;
        assert!(webhooks::log(&f.app, &outsider, created.id).await.is_err());
        assert!(webhooks::log(&f.app, &c.sender, created.id).await.is_err());
    }

    async fn a_failing_address_is_tried_again_through_the_queue_and_a_stopped_webhook_gets_nothing(f) {
        let c = cast(&f).await;
        let (url, received) = webhook_receiver(vec![500]).await;
        let input = WebhookInput { organisation: c.receiver_org.0.to_string(), url };
        let created = webhooks::create(&f.app, &c.coordinator, &input).await.expect("webhook");
        orient(&f, &c, ("Traoré", "0601020305")).await;
        app::jobs::drain(&f.app, "essai").await.expect("jobs");
        let log = webhooks::log(&f.app, &c.coordinator, created.id).await.expect("log");
        let d = &log.deliveries[0];
        assert_eq!((d.attempts, d.last_status, d.delivered_at), (1, Some(500), None));
        assert_eq!(d.last_error, "l'adresse a répondu 500");
        // The queue tries again after its backoff, with a fresh timestamp and the same body.
        f.clock.advance(chrono::Duration::seconds(31));
        app::jobs::drain(&f.app, "essai").await.expect("jobs");
        let log = webhooks::log(&f.app, &c.coordinator, created.id).await.expect("log");
        let d = &log.deliveries[0];
        assert_eq!((d.attempts, d.last_status), (2, Some(200)));
        assert!(d.delivered_at.is_some() && d.last_error.is_empty());
        let got = received.lock().expect("received").clone();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].body, got[1].body);
        assert_ne!(got[0].header("passerelle-signature"), got[1].header("passerelle-signature"));
        // Stopped: what follows is not delivered, nor even recorded.
        webhooks::disable(&f.app, &c.coordinator, created.id).await.expect("stopped");
        orient(&f, &c, ("Camara", "0601020306")).await;
        app::jobs::drain(&f.app, "essai").await.expect("jobs");
        assert_eq!(received.lock().expect("received").len(), 2);
        let log = webhooks::log(&f.app, &c.coordinator, created.id).await.expect("log");
        assert_eq!(log.deliveries.len(), 1);
        assert!(log.webhook.disabled_at.is_some());
    }

    async fn an_address_that_never_answers_ends_in_failure_with_its_reason(f) {
        let c = cast(&f).await;
        // Nothing listens on port 9 of this machine.
        let input = WebhookInput { organisation: c.receiver_org.0.to_string(), url: "http://127.0.0.1:9/evenements".into() };
        let created = webhooks::create(&f.app, &c.coordinator, &input).await.expect("webhook");
        orient(&f, &c, ("Keita", "0601020307")).await;
        for _ in 0..store::webhooks::ATTEMPTS {
            app::jobs::drain(&f.app, "essai").await.expect("jobs");
            f.clock.advance(chrono::Duration::hours(1));
        }
        let log = webhooks::log(&f.app, &c.coordinator, created.id).await.expect("log");
        let d = &log.deliveries[0];
        assert_eq!(d.attempts, store::webhooks::ATTEMPTS);
        assert_eq!(d.last_status, None);
        assert_eq!(d.last_error, "l'adresse n'a pas pu être jointe");
        assert!(d.delivered_at.is_none());
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let failed = store::jobs::in_state(&mut pooled.conn(), "en-echec", 10).await.expect("jobs");
        assert!(failed.iter().any(|j| j.kind == store::webhooks::JOB_KIND), "{failed:?}");
    }
}
