//! The account's security in the browser: a professional enrols an authenticator from the
//! account page (QR code, key, first code), notes the recovery codes, signs in again with one
//! of them, then makes an API token; axe-core clean on every page.

use super::harness::{Backend, Browser, Server};
use super::log_in;
use thirtyfour::prelude::*;

async fn second_factor_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open().await;
    let run = async {
        log_in(&b, &server, "conseil.ft@demo.passerelle.test").await?;
        b.expect_text("Bonjour").await?;
        // The account's name in the header leads to its security page.
        b.driver
            .find(By::Css("a[href='/compte/securite']"))
            .await?
            .click()
            .await?;
        b.expect_text("protégez-le par un second facteur").await?;
        b.check_accessibility("sécurité du compte").await;
        b.driver
            .find(By::LinkText("Activer la double authentification"))
            .await?
            .click()
            .await?;
        b.expect_text("scannant ce code QR").await?;
        b.check_accessibility("activation de la double authentification")
            .await;
        let key = b
            .driver
            .find(By::Css(".passerelle-secret"))
            .await?
            .text()
            .await?;
        let secret = app::totp::decode_base32(&key).expect("the key is base 32");
        // The app reads the same key from the QR code; the code is the one of this moment.
        let code = format!("{:06}", app::totp::code_at(&secret, chrono::Utc::now()));
        b.driver
            .find(By::Id("code"))
            .await?
            .send_keys(&code)
            .await?;
        b.driver
            .find(By::Css(
                "form[action='/compte/securite/activation'] button[type=submit]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Notez-les maintenant").await?;
        b.check_accessibility("codes de secours").await;
        let mut codes = Vec::new();
        for element in b
            .driver
            .find_all(By::Css(".passerelle-recovery-codes code"))
            .await?
        {
            codes.push(element.text().await?);
        }
        assert_eq!(codes.len(), 10, "{codes:?}");
        b.driver
            .find(By::LinkText("J'ai noté mes codes, continuer"))
            .await?
            .click()
            .await?;
        b.expect_text("10 sur 10").await?;

        // Signing in again: after the password, the code page; a recovery code opens the account.
        b.driver
            .find(By::Css("form[action='/deconnexion'] button"))
            .await?
            .click()
            .await?;
        b.expect_text("Vous êtes déconnecté.").await?;
        log_in(&b, &server, "conseil.ft@demo.passerelle.test").await?;
        b.expect_text("protégé par la double authentification")
            .await?;
        assert_eq!(b.path().await?, "/connexion/code");
        b.check_accessibility("code de vérification").await;
        b.driver
            .find(By::Id("code"))
            .await?
            .send_keys(&codes[0])
            .await?;
        b.driver
            .find(By::Css(
                "form[action='/connexion/code'] button[type=submit]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("ne servira plus").await?;
        b.expect_text("9 sur 10").await?;
        b.check_accessibility("sécurité du compte après un code de secours")
            .await;

        // From the same page, an API token for a spreadsheet that checks addresses.
        b.driver
            .find(By::LinkText("Gérer vos jetons d'API"))
            .await?
            .click()
            .await?;
        b.expect_text("Créer un jeton").await?;
        b.check_accessibility("jetons d'API").await;
        b.driver
            .find(By::Id("name"))
            .await?
            .send_keys("Tableur de repérage")
            .await?;
        b.driver
            .find(By::XPath(
                "//input[@name='scopes'][@value='qpv']/following-sibling::label",
            ))
            .await?
            .click()
            .await?;
        b.driver
            .find(By::Css("form[action='/compte/jetons'] button[type=submit]"))
            .await?
            .click()
            .await?;
        b.expect_text("copiez-le maintenant").await?;
        let token = b.driver.find(By::Id("nouveau-jeton")).await?.text().await?;
        assert!(token.starts_with("passerelle_"), "{token}");
        b.check_accessibility("jeton d'API créé").await;
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("second factor journey");
}

#[tokio::test]
async fn a_professional_enrols_an_authenticator_and_signs_in_with_a_recovery_code_on_sqlite() {
    second_factor_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_professional_enrols_an_authenticator_and_signs_in_with_a_recovery_code_on_postgres() {
    second_factor_journey(Backend::Postgres).await;
}
