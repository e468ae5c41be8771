//! Sign-in with ProConnect in the browser: the demo registered with a local OpenID provider on
//! 127.0.0.1; a France Travail agent clicks the button, comes back signed in, and logs out of
//! both (a form whose answer leads to the provider, which the content security policy must let
//! through); axe-core clean on the login page with its ProConnect button.

use super::harness::{Backend, Browser, Server};
use app::fake_proconnect::{Agent, FakeProConnect};
use thirtyfour::prelude::*;

async fn proconnect_journey(backend: Backend) {
    let provider = FakeProConnect::start().await;
    let server = Server::with_proconnect(backend, &provider).await;
    let b = Browser::open().await;
    let run = async {
        b.visit(&server, "/connexion").await?;
        b.expect_text("Agents publics et professionnels").await?;
        b.check_accessibility("connexion avec ProConnect").await;

        // Someone ProConnect knows, but not Passerelle: refused, with the reason.
        provider.sign_in(Some(Agent::new(
            "inconnue@francetravail.fr",
            "13000548100010",
        )));
        b.driver
            .find(By::LinkText("S'identifier avec ProConnect"))
            .await?
            .click()
            .await?;
        b.expect_text("Aucun compte Passerelle ni aucune invitation en cours")
            .await?;
        b.check_accessibility("connexion ProConnect refusée").await;

        // The demo's France Travail agent: signed in, on the page asked for.
        provider.sign_in(Some(Agent::new(
            "conseil.ft@demo.passerelle.test",
            "13000548100010",
        )));
        b.visit(&server, "/connexion?suite=/compte/securite")
            .await?;
        b.driver
            .find(By::LinkText("S'identifier avec ProConnect"))
            .await?
            .click()
            .await?;
        b.expect_text("protégez-le par un second facteur").await?;
        assert_eq!(b.path().await?, "/compte/securite");

        b.driver
            .find(By::Css("form[action='/deconnexion'] button"))
            .await?
            .click()
            .await?;
        b.expect_text("Vous êtes déconnecté.").await?;
        assert_eq!(
            provider.logouts().len(),
            1,
            "the provider's session ended too"
        );
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("ProConnect journey");
}

#[tokio::test]
async fn an_agent_signs_in_and_out_with_proconnect_on_sqlite() {
    proconnect_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_agent_signs_in_and_out_with_proconnect_on_postgres() {
    proconnect_journey(Backend::Postgres).await;
}
