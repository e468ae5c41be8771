//! A coordinator gives a partner's information system a webhook in the browser: from the
//! orientations' settings, a partner and an HTTPS address, the secret shown once, the delivery
//! log, then stopping it; axe-core clean on every page.

use super::harness::{Backend, Browser, Server};
use super::log_in;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

async fn webhooks_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open().await;
    let run = async {
        log_in(&b, &server, "coordination@demo.passerelle.test").await?;
        b.expect_text("Bonjour").await?;
        b.visit(&server, "/orientations/reglages").await?;
        b.driver
            .find(By::LinkText("gérer les webhooks du territoire"))
            .await?
            .click()
            .await?;
        b.expect_text("Créer un webhook").await?;
        b.check_accessibility("webhooks des partenaires").await;
        // An address of a private network is refused at its field.
        let select = SelectElement::new(&b.driver.find(By::Id("organisation")).await?).await?;
        select.select_by_index(1).await?;
        b.driver
            .find(By::Id("url"))
            .await?
            .send_keys("https://192.168.1.20/evenements")
            .await?;
        b.driver
            .find(By::Css(
                "form[action='/orientations/webhooks'] button[type=submit]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("réseau privé").await?;
        b.check_accessibility("webhook refusé").await;
        let url = b.driver.find(By::Id("url")).await?;
        url.clear().await?;
        url.send_keys("https://si.partenaire.example/passerelle")
            .await?;
        b.driver
            .find(By::Css(
                "form[action='/orientations/webhooks'] button[type=submit]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("transmettez ce secret").await?;
        let secret = b
            .driver
            .find(By::Id("secret-webhook"))
            .await?
            .text()
            .await?;
        assert!(secret.starts_with("whsec_"), "{secret}");
        b.check_accessibility("webhook créé").await;
        b.driver
            .find(By::PartialLinkText("Livraisons"))
            .await?
            .click()
            .await?;
        b.expect_text("Aucune livraison pour l'instant").await?;
        b.check_accessibility("livraisons d'un webhook").await;
        b.visit(&server, "/orientations/webhooks").await?;
        b.driver
            .find(By::Css("form[action$='/arret'] button[type=submit]"))
            .await?
            .click()
            .await?;
        b.expect_text("Le webhook est arrêté").await?;
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("webhooks journey");
}

#[tokio::test]
async fn a_coordinator_gives_a_partner_a_webhook_and_stops_it_on_sqlite() {
    webhooks_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_coordinator_gives_a_partner_a_webhook_and_stops_it_on_postgres() {
    webhooks_journey(Backend::Postgres).await;
}
