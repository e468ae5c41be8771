//! End-to-end journeys: the real `passerelle demo` binary on SQLite and on PostgreSQL, driven
//! in headless Chromium (Debian's `chromium` + `chromium-driver`), with axe-core run on every
//! page visited: no serious or critical accessibility violation is accepted. A missing browser
//! fails the test: it is never skipped. Later features add their journeys here.

mod harness;
#[path = "browser/person_import.rs"]
mod person_import;
#[path = "browser/proconnect.rs"]
mod proconnect;
#[path = "browser/second_factor.rs"]
mod second_factor;
#[path = "browser/webhooks.rs"]
mod webhooks;

use harness::{Backend, Browser, Server};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

const PASSWORD: &str = "demo-passerelle";

async fn log_in(b: &Browser, server: &Server, email: &str) -> WebDriverResult<()> {
    b.visit(server, "/connexion").await?;
    b.driver
        .find(By::Id("email"))
        .await?
        .send_keys(email)
        .await?;
    b.driver
        .find(By::Id("password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    b.driver
        .find(By::Css("form[action='/connexion'] button[type=submit]"))
        .await?
        .click()
        .await?;
    Ok(())
}

async fn coordinator_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open().await;
    let run = async {
        // A wrong password first: the French error, on an accessible page.
        b.visit(&server, "/connexion").await?;
        b.driver
            .find(By::Id("email"))
            .await?
            .send_keys("coordination@demo.passerelle.test")
            .await?;
        b.driver
            .find(By::Id("password"))
            .await?
            .send_keys("pas le bon")
            .await?;
        b.driver
            .find(By::Css("form[action='/connexion'] button[type=submit]"))
            .await?
            .click()
            .await?;
        b.expect_text("Adresse électronique ou mot de passe incorrect.")
            .await?;
        b.check_accessibility("connexion refusée").await;

        log_in(&b, &server, "coordination@demo.passerelle.test").await?;
        b.expect_text("Bonjour Camille Coordinatrice").await?;
        assert_eq!(b.path().await?, "/");
        b.check_accessibility("accueil").await;

        // Switch the working territory with the header form.
        let select = SelectElement::new(&b.driver.find(By::Id("territoire-actif")).await?).await?;
        select.select_by_value("demo-roubaix").await?;
        b.driver
            .find(By::XPath(
                "//button[normalize-space()='Changer de territoire']",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Vous travaillez maintenant dans ce territoire.")
            .await?;
        assert_eq!(b.path().await?, "/territoires/demo-roubaix");
        b.check_accessibility("territoire Roubaix").await;
        b.visit(&server, "/").await?;
        let chosen = b
            .driver
            .find(By::Css("#territoire-actif option[selected]"))
            .await?
            .value()
            .await?;
        assert_eq!(
            chosen.as_deref(),
            Some("demo-roubaix"),
            "the session remembers the territory"
        );

        // The coordinator's management page, with its forms.
        b.visit(&server, "/territoires/demo").await?;
        b.expect_text("Inviter une personne").await?;
        b.check_accessibility("territoire demo (coordination)")
            .await;
        b.driver
            .find(By::Css("#formulaire-invitation button[type=submit]"))
            .await?
            .click()
            .await?;
        b.expect_text("L'invitation n'a pas été envoyée").await?;
        b.check_accessibility("invitation refusée").await;

        // A token for a partner's information system, from the territory's page.
        b.driver
            .find(By::LinkText("Jetons d'API des structures partenaires"))
            .await?
            .click()
            .await?;
        b.expect_text("Un jeton de structure permet").await?;
        SelectElement::new(&b.driver.find(By::Id("organisation_id")).await?)
            .await?
            .select_by_visible_text("France Travail Maubeuge")
            .await?;
        b.driver
            .find(By::Id("name"))
            .await?
            .send_keys("SI de l'agence")
            .await?;
        b.driver
            .find(By::XPath(
                "//input[@name='scopes'][@value='annuaire']/following-sibling::label",
            ))
            .await?
            .click()
            .await?;
        b.driver
            .find(By::Css(
                "form[action='/territoires/demo/jetons'] button[type=submit]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("copiez-le maintenant").await?;
        b.check_accessibility("jeton d'une structure partenaire")
            .await;

        // « Vérifier une adresse » from the menu: in a QPV, then near one, both accessible.
        b.driver
            .find(By::LinkText("Vérifier une adresse"))
            .await?
            .click()
            .await?;
        b.expect_text("Base Adresse Nationale").await?;
        b.check_accessibility("vérifier une adresse").await;
        b.driver
            .find(By::Id("adresse"))
            .await?
            .send_keys("12 rue de la Démonstration, 59600 Maubeuge")
            .await?;
        b.driver
            .find(By::Css("form[action='/qpv/verifier'] button[type=submit]"))
            .await?
            .click()
            .await?;
        b.expect_text(
            "L'adresse est dans le QPV QN05990N « Les Tilleuls (données fictives) » (carte 2024).",
        )
        .await?;
        b.check_accessibility("adresse en QPV").await;
        b.visit(
            &server,
            "/qpv/verifier?adresse=1+all%C3%A9e+du+Parc+59600+Maubeuge",
        )
        .await?;
        b.expect_text("Hors quartier prioritaire").await?;
        b.check_accessibility("adresse hors QPV").await;

        // « Vérification en masse »: the form, and its error when no file is sent.
        b.driver
            .find(By::LinkText("vérification en masse"))
            .await?
            .click()
            .await?;
        b.expect_text("Envoyez un fichier d'adresses").await?;
        b.check_accessibility("vérification en masse").await;
        b.driver
            .find(By::Css(
                "form[action='/qpv/verification-en-masse'] button[type=submit]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Choisissez un fichier CSV ou XLSX.").await?;
        b.check_accessibility("vérification en masse sans fichier")
            .await;

        // On a phone, nothing is wider than the screen.
        b.driver.set_window_rect(0, 0, 375, 812).await?;
        b.visit(&server, "/territoires/demo").await?;
        b.check_no_horizontal_scroll("territoire sur téléphone")
            .await?;
        b.driver.set_window_rect(0, 0, 1280, 1000).await?;

        // Back in the territory « demo »: the whole territory's people, a file, the access logs.
        let select = SelectElement::new(&b.driver.find(By::Id("territoire-actif")).await?).await?;
        select.select_by_value("demo").await?;
        b.driver
            .find(By::XPath(
                "//button[normalize-space()='Changer de territoire']",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Vous travaillez maintenant dans ce territoire.")
            .await?;
        b.visit(&server, "/personnes?tous=1").await?;
        b.expect_text("200 personnes").await?;
        b.check_accessibility("personnes du territoire").await;
        b.driver
            .find(By::Css("#contenu table tbody a"))
            .await?
            .click()
            .await?;
        b.expect_text("Groupe de suivi").await?;
        b.check_accessibility("dossier (coordination)").await;
        let file = b.path().await?;
        b.visit(&server, &format!("{file}/fusion")).await?;
        b.expect_text("Fusionner un doublon").await?;
        b.check_accessibility("fusion").await;
        b.visit(&server, &format!("{file}/droit-d-acces")).await?;
        b.expect_text("Journal des accès à la fiche").await?;
        b.check_accessibility("droit d'accès").await;
        b.visit(&server, &format!("{file}/effacement")).await?;
        b.expect_text("Effacer définitivement le dossier").await?;
        b.check_accessibility("effacement d'un dossier").await;
        b.visit(&server, "/personnes/acces").await?;
        b.expect_text("Accès aux dossiers du territoire").await?;
        b.check_accessibility("accès aux dossiers du territoire")
            .await;

        b.driver
            .find(By::XPath("//button[normalize-space()='Se déconnecter']"))
            .await?
            .click()
            .await?;
        b.expect_text("Vous êtes déconnecté.").await?;
        assert_eq!(b.path().await?, "/connexion");
        b.check_accessibility("déconnexion").await;
        b.visit(&server, "/").await?;
        assert_eq!(b.path().await?, "/connexion", "the session is over");
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("the coordinator journey completes");
}

async fn administrator_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open().await;
    let run = async {
        log_in(&b, &server, "admin@demo.passerelle.test").await?;
        b.expect_text("Bonjour Alix Administratrice").await?;
        for (path, text) in [
            ("/admin", "Administration"),
            ("/admin/territoires", "Cité de l'emploi de démonstration"),
            ("/admin/territoires/nouveau", "Créer un territoire"),
            ("/admin/structures", "Mission locale Sambre-Avesnois"),
            ("/admin/structures/nouvelle", "Créer une structure"),
            ("/admin/comptes", "conseil.ml@demo.passerelle.test"),
            ("/admin/journal", "login"),
            (
                "/annuaire/correspondances",
                "Correspondance des 69 thématiques",
            ),
            ("/annuaire/import", "Importer des services dans l'annuaire"),
            (
                "/annuaire/services/nouveau",
                "Ajouter un service à l'annuaire",
            ),
            (
                "/champs-d-action/actions/nouvelle",
                "Partager une action inspirante",
            ),
            ("/accessibilite", "non conforme"),
            ("/donnees-personnelles", "Durées de conservation"),
            ("/mentions-legales", "Licences et réutilisation"),
        ] {
            b.visit(&server, path).await?;
            b.expect_text(text).await?;
            b.check_accessibility(path).await;
        }
        // A territory form with mistakes: per-field errors, input kept, accessible.
        b.visit(&server, "/admin/territoires/nouveau").await?;
        b.driver
            .find(By::Id("name"))
            .await?
            .send_keys("Cité de test")
            .await?;
        b.driver
            .find(By::Id("communes"))
            .await?
            .send_keys("99999")
            .await?;
        b.driver
            .find(By::Css(
                "form[action='/admin/territoires'] button[type=submit]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Communes inconnues ou périmées : 99999.")
            .await?;
        assert_eq!(
            b.driver
                .find(By::Id("name"))
                .await?
                .value()
                .await?
                .as_deref(),
            Some("Cité de test")
        );
        b.check_accessibility("territoire refusé").await;

        // A password reset request lands in the outbox, readable by the administrator.
        b.visit(&server, "/mot-de-passe-oublie").await?;
        b.check_accessibility("mot de passe oublié").await;
        b.driver
            .find(By::Id("email"))
            .await?
            .send_keys("conseil.ml@demo.passerelle.test")
            .await?;
        b.driver
            .find(By::Css(
                "form[action='/mot-de-passe-oublie'] button[type=submit]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Demande enregistrée").await?;
        b.visit(&server, "/admin/courriels").await?;
        b.expect_text("Réinitialisation de votre mot de passe Passerelle")
            .await?;
        b.check_accessibility("courriels").await;
        b.driver
            .find(By::LinkText(
                "Réinitialisation de votre mot de passe Passerelle",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("/mot-de-passe/").await?;
        b.check_accessibility("courriel").await;
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("the administrator journey completes");
}

async fn journey_without_javascript(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open_without_javascript().await;
    let run = async {
        log_in(&b, &server, "conseil.ft@demo.passerelle.test").await?;
        b.expect_text("Bonjour Farid Conseiller").await?;
        b.visit(&server, "/territoires/demo").await?;
        b.expect_text("France Travail Maubeuge").await?;
        b.driver
            .find(By::XPath("//button[normalize-space()='Se déconnecter']"))
            .await?
            .click()
            .await?;
        b.expect_text("Vous êtes déconnecté.").await?;
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("the pages work without JavaScript");
}

/// « Trouver un relais »: a professional searches by need and place on a phone-sized window,
/// opens a service of their organisation, edits it (a refused value first), and finds the change
/// in its history; then the knowledge base.
async fn directory_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open().await;
    let run = async {
        log_in(&b, &server, "conseil.ft@demo.passerelle.test").await?;
        b.expect_text("Bonjour Farid Conseiller").await?;
        b.driver
            .find(By::XPath("//a[normalize-space()='Trouver un relais']"))
            .await?
            .click()
            .await?;
        b.expect_text("Indiquez un besoin, un lieu").await?;
        b.check_accessibility("trouver un relais").await;
        b.driver.set_window_rect(0, 0, 375, 800).await?;
        b.driver
            .find(By::Id("q"))
            .await?
            .send_keys("PERMIS")
            .await?;
        b.driver
            .find(By::Id("lieu"))
            .await?
            .send_keys("59600")
            .await?;
        b.driver
            .find(By::XPath("//button[normalize-space()='Rechercher']"))
            .await?
            .click()
            .await?;
        b.expect_text("2 relais trouvés pour Maubeuge (59)").await?;
        b.check_accessibility("résultats de recherche").await;
        b.check_no_horizontal_scroll("résultats de recherche")
            .await?;
        let first = b
            .driver
            .find(By::Css("#contenu .fr-card__title a"))
            .await?
            .text()
            .await?;
        assert_eq!(
            first, "Aides à la mobilité de France Travail",
            "nearest first"
        );
        b.driver.set_window_rect(0, 0, 1280, 900).await?;
        b.driver
            .find(By::XPath(
                "//a[normalize-space()='Aides à la mobilité de France Travail']",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Comment le mobiliser").await?;
        b.check_accessibility("fiche service").await;
        b.driver
            .find(By::XPath("//a[normalize-space()='Modifier ce service']"))
            .await?
            .click()
            .await?;
        b.expect_text("Droit commun ou offre spécifique").await?;
        b.check_accessibility("modifier un service").await;
        let name = b.driver.find(By::Id("nom")).await?;
        name.clear().await?;
        name.send_keys("Aides à la mobilité (France Travail)")
            .await?;
        let mail = b.driver.find(By::Id("courriel")).await?;
        mail.clear().await?;
        mail.send_keys("pas une adresse").await?;
        b.driver
            .find(By::XPath("//button[normalize-space()='Enregistrer']"))
            .await?
            .click()
            .await?;
        b.expect_text("Rien n'a été enregistré").await?;
        b.check_accessibility("service refusé").await;
        let kept = b.driver.find(By::Id("nom")).await?.value().await?;
        assert_eq!(
            kept.as_deref(),
            Some("Aides à la mobilité (France Travail)"),
            "what was typed is kept"
        );
        let mail = b.driver.find(By::Id("courriel")).await?;
        mail.clear().await?;
        mail.send_keys("mobilite@demo.passerelle.test").await?;
        b.driver
            .find(By::XPath("//button[normalize-space()='Enregistrer']"))
            .await?
            .click()
            .await?;
        b.expect_text("Le service a été modifié").await?;
        b.driver
            .find(By::XPath(
                "//a[normalize-space()='Historique des modifications']",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Farid Conseiller (saisie)").await?;
        b.expect_text("Aides à la mobilité (France Travail)")
            .await?;
        b.check_accessibility("historique du service").await;
        b.visit(&server, "/champs-d-action").await?;
        b.expect_text("5. Mobilité").await?;
        b.check_accessibility("les 8 champs d'action").await;
        b.visit(&server, "/champs-d-action/mobilite").await?;
        b.expect_text("Un scooter pour les trois premiers mois d'emploi")
            .await?;
        b.check_accessibility("champ mobilité").await;
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("the directory journey");
}

#[tokio::test]
async fn a_professional_finds_a_relay_and_edits_their_service_on_sqlite() {
    directory_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_professional_finds_a_relay_and_edits_their_service_on_postgres() {
    directory_journey(Backend::Postgres).await;
}

/// From repérage to accompaniment: a professional records a person met at a permanence (a
/// refused phone number first), finds them in « Mes personnes », records their consent and
/// situation, writes a note only the référent may read, and opens the access log.
async fn person_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open().await;
    let run = async {
        log_in(&b, &server, "conseil.ft@demo.passerelle.test").await?;
        b.expect_text("Bonjour Farid Conseiller").await?;
        b.driver
            .find(By::XPath("//a[normalize-space()='Personnes']"))
            .await?
            .click()
            .await?;
        b.expect_text("Les personnes dont vous faites partie du groupe de suivi")
            .await?;
        b.check_accessibility("mes personnes").await;
        // Repérage happens on a phone, in the street: both pages fit a phone's width.
        b.driver.set_window_rect(0, 0, 375, 800).await?;
        b.check_no_horizontal_scroll("mes personnes").await?;
        b.visit(&server, "/personnes/nouvelle").await?;
        b.check_no_horizontal_scroll("repérage").await?;
        b.driver.set_window_rect(0, 0, 1280, 900).await?;
        b.visit(&server, "/personnes").await?;
        b.driver
            .find(By::XPath("//a[normalize-space()='Repérer une personne']"))
            .await?
            .click()
            .await?;
        b.expect_text("La rencontre").await?;
        b.check_accessibility("repérage").await;
        b.driver
            .find(By::Id("first_name"))
            .await?
            .send_keys("Zéphirine")
            .await?;
        b.driver
            .find(By::Id("last_name"))
            .await?
            .send_keys("Testeuse")
            .await?;
        b.driver
            .find(By::Id("phone"))
            .await?
            .send_keys("06 12")
            .await?;
        // The address folds away on a phone: opened only when it is known.
        b.driver
            .find(By::XPath(
                "//summary[starts-with(normalize-space(), 'Adresse ou quartier')]",
            ))
            .await?
            .click()
            .await?;
        b.driver
            .find(By::Id("address"))
            .await?
            .send_keys("12 rue de la Démonstration")
            .await?;
        b.driver
            .find(By::Id("postal_code"))
            .await?
            .send_keys("59600")
            .await?;
        b.driver
            .find(By::Id("commune"))
            .await?
            .send_keys("Maubeuge")
            .await?;
        SelectElement::new(&b.driver.find(By::Id("channel")).await?)
            .await?
            .select_by_value("permanence-bailleur")
            .await?;
        b.driver
            .find(By::Css("label[for='need_fields-5']"))
            .await?
            .click()
            .await?;
        SelectElement::new(&b.driver.find(By::Id("agrees_recontact")).await?)
            .await?
            .select_by_value("oui")
            .await?;
        b.driver
            .find(By::XPath("//button[normalize-space()='Enregistrer']"))
            .await?
            .click()
            .await?;
        b.expect_text("n'est pas un numéro de téléphone français")
            .await?;
        b.check_accessibility("repérage refusé").await;
        assert_eq!(
            b.driver
                .find(By::Id("first_name"))
                .await?
                .value()
                .await?
                .as_deref(),
            Some("Zéphirine"),
            "what was typed is kept"
        );
        let phone = b.driver.find(By::Id("phone")).await?;
        phone.clear().await?;
        phone.send_keys("06 12 34 56 78").await?;
        b.driver
            .find(By::XPath("//button[normalize-space()='Enregistrer']"))
            .await?
            .click()
            .await?;
        b.expect_text("La personne est enregistrée").await?;
        b.expect_text("Quartier prioritaire : Les Tilleuls (données fictives) (QN05990N)")
            .await?;
        b.expect_text("06 12 34 56 78").await?;
        b.check_accessibility("dossier repéré").await;
        // The file never scrolls sideways, at desktop width with « Changer le statut » open
        // and on a phone.
        b.driver
            .find(By::XPath(
                "//summary[normalize-space()='Changer le statut']",
            ))
            .await?
            .click()
            .await?;
        b.check_no_horizontal_scroll("dossier à 1 280 px").await?;
        b.driver.set_window_rect(0, 0, 375, 800).await?;
        b.check_no_horizontal_scroll("dossier sur téléphone")
            .await?;
        b.driver.set_window_rect(0, 0, 1280, 900).await?;
        b.driver
            .find(By::XPath(
                "//a[normalize-space()='Entrée en accompagnement']",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Recueillez le consentement").await?;
        b.check_accessibility("entrée en accompagnement").await;
        SelectElement::new(&b.driver.find(By::Id("method")).await?)
            .await?
            .select_by_value("ecrit")
            .await?;
        // Nothing is ticked in advance: the person's agreement is ticked, purpose by purpose.
        for purpose in [
            "Être accompagné vers l'emploi",
            "Partage des informations nécessaires avec les structures choisies",
        ] {
            let label = b
                .driver
                .find(By::XPath(format!(
                    "//label[normalize-space()=\"{purpose}\"]"
                )))
                .await?;
            let input = b
                .driver
                .find(By::Id(label.attr("for").await?.unwrap_or_default()))
                .await?;
            assert!(!input.is_selected().await?, "« {purpose} » starts unticked");
            label.click().await?;
        }
        b.driver
            .find(By::XPath(
                "//label[normalize-space()='France Travail Maubeuge']",
            ))
            .await?
            .click()
            .await?;
        b.driver
            .execute(
                "document.getElementById('birth_date').value = '1990-07-14';",
                Vec::new(),
            )
            .await?;
        SelectElement::new(&b.driver.find(By::Id("single_parent")).await?)
            .await?
            .select_by_value("oui")
            .await?;
        b.driver
            .find(By::XPath(
                "//button[normalize-space()=\"Enregistrer l'entrée en accompagnement\"]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("L'entrée en accompagnement est enregistrée")
            .await?;
        b.expect_text("Santé et handicap (accès restreint)").await?;
        b.check_accessibility("dossier en accompagnement").await;
        b.driver
            .find(By::XPath(
                "//summary[normalize-space()='Ajouter une note ou un contact']",
            ))
            .await?
            .click()
            .await?;
        SelectElement::new(&b.driver.find(By::Id("kind")).await?)
            .await?
            .select_by_value("note")
            .await?;
        SelectElement::new(&b.driver.find(By::Id("visibility")).await?)
            .await?
            .select_by_value("referent")
            .await?;
        b.driver
            .find(By::Id("body"))
            .await?
            .send_keys("Souhaite travailler le matin uniquement")
            .await?;
        b.driver
            .find(By::XPath(
                "//button[normalize-space()='Ajouter au journal']",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("L'entrée a été ajoutée au journal.").await?;
        b.expect_text("Souhaite travailler le matin uniquement")
            .await?;
        b.driver
            .find(By::XPath("//a[normalize-space()='Journal des accès']"))
            .await?
            .click()
            .await?;
        b.expect_text("Journal des accès au dossier de Zéphirine Testeuse")
            .await?;
        b.expect_text("consultation").await?;
        b.check_accessibility("journal des accès").await;
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("the person journey");
}

#[tokio::test]
async fn a_professional_records_a_person_and_opens_their_accompaniment_on_sqlite() {
    person_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_professional_records_a_person_and_opens_their_accompaniment_on_postgres() {
    person_journey(Backend::Postgres).await;
}

/// Each role's home page shows the week's work: figures that open the filtered lists for those
/// who follow people, the territory's for its coordinator, aggregates only for a pilot, what
/// waits for an administrator — accessible, and never wider than the screen.
async fn home_pages_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open().await;
    let run = async {
        for (email, expected, absent) in [
            (
                "conseil.ft@demo.passerelle.test",
                "Mes personnes",
                "Tout le territoire",
            ),
            (
                "coordination@demo.passerelle.test",
                "Tout le territoire",
                "Chiffres du territoire",
            ),
            (
                "pilotage@demo.passerelle.test",
                "Chiffres du territoire",
                "Mes personnes",
            ),
            ("admin@demo.passerelle.test", "En attente", "Mes personnes"),
        ] {
            b.driver.delete_all_cookies().await?;
            b.driver.set_window_rect(0, 0, 1280, 1000).await?;
            log_in(&b, &server, email).await?;
            b.expect_text(expected).await?;
            let source = b.driver.source().await?;
            assert!(
                !source.contains(absent),
                "{email}: « {absent} » is not theirs"
            );
            if email.starts_with("pilotage") {
                assert!(
                    !source.contains("href=\"/personnes"),
                    "a pilot is never led to a person"
                );
            }
            b.check_accessibility(&format!("accueil de {email}")).await;
            b.check_no_horizontal_scroll(&format!("accueil de {email} à 1 280 px"))
                .await?;
            b.driver.set_window_rect(0, 0, 375, 812).await?;
            b.visit(&server, "/").await?;
            b.check_no_horizontal_scroll(&format!("accueil de {email} sur téléphone"))
                .await?;
            b.check_accessibility(&format!("accueil de {email} sur téléphone"))
                .await;
        }
        // A figure opens its list: the professional's people not yet contacted.
        b.driver.delete_all_cookies().await?;
        b.driver.set_window_rect(0, 0, 1280, 1000).await?;
        log_in(&b, &server, "conseil.ft@demo.passerelle.test").await?;
        b.expect_text("Mes personnes").await?;
        b.driver
            .find(By::Css("a[href='/personnes?statut=repere']"))
            .await?
            .click()
            .await?;
        b.expect_text("Mes personnes").await?;
        b.check_accessibility("personnes repérées").await;
        // A fresh demo checks addresses without any network: its own address extract answers.
        b.visit(
            &server,
            "/qpv/verifier?adresse=B%C3%A2t.+B%2C+5+rue+des+Tilleuls+59600+Maubeuge&millesime=2024",
        )
        .await?;
        b.expect_text("Dans un quartier prioritaire").await?;
        b.check_accessibility("adresse vérifiée hors ligne").await;
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("the home pages journey");
}

#[tokio::test]
async fn each_role_sees_the_week_s_work_on_its_home_page_on_sqlite() {
    home_pages_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn each_role_sees_the_week_s_work_on_its_home_page_on_postgres() {
    home_pages_journey(Backend::Postgres).await;
}

/// Diagnostic → plan → suggestion: a professional signs a diagnostic (a bad ROME code refused
/// in place first), sees the levels over time, adds to the plan and prepares an orientation
/// from a suggested relay — axe-core clean on every page, no sideways scroll on a phone.
async fn diagnostic_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open().await;
    let run = async {
        log_in(&b, &server, "conseil.ft@demo.passerelle.test").await?;
        b.expect_text("Mes actions en retard").await?;
        b.check_accessibility("accueil avec actions en retard")
            .await;
        b.visit(&server, "/personnes?statut=en-accompagnement")
            .await?;
        b.driver
            .find(By::Css("table tbody tr td a[href^='/personnes/']"))
            .await?
            .click()
            .await?;
        b.expect_text("Freins et plan d'action").await?;
        b.check_accessibility("dossier avec freins").await;
        b.driver
            .find(By::XPath(
                "//section[@aria-labelledby='freins']//a[normalize-space()='Diagnostic']",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Signer le diagnostic").await?;
        b.check_accessibility("diagnostic").await;
        b.driver
            .find(By::Css("label[for='niveau-mobilite-3']"))
            .await?
            .click()
            .await?;
        let job = b.driver.find(By::Id("job-0")).await?;
        job.clear().await?;
        job.send_keys("Z9999").await?;
        b.driver
            .find(By::XPath(
                "//button[normalize-space()='Signer le diagnostic']",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("n'est pas dans le référentiel").await?;
        b.check_accessibility("diagnostic refusé").await;
        let job = b.driver.find(By::Id("job-0")).await?;
        assert_eq!(
            job.value().await?.as_deref(),
            Some("Z9999"),
            "what was typed is kept"
        );
        job.clear().await?;
        job.send_keys("N1103").await?;
        b.driver
            .find(By::XPath(
                "//button[normalize-space()='Signer le diagnostic']",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Le diagnostic est signé").await?;
        b.expect_text("Évolution des freins").await?;
        b.expect_text("Freins levés").await?;
        b.check_accessibility("diagnostic signé").await;
        b.driver.set_window_rect(0, 0, 375, 800).await?;
        b.check_no_horizontal_scroll("diagnostic sur téléphone")
            .await?;
        b.driver.set_window_rect(0, 0, 1280, 900).await?;
        b.driver
            .find(By::XPath(
                "//a[normalize-space()=\"Plan d'action et relais\"]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Relais proposés pour chaque frein").await?;
        b.expect_text("Mobilité (3 — Frein bloquant)").await?;
        b.check_accessibility("plan d'action").await;
        SelectElement::new(&b.driver.find(By::Id("field")).await?)
            .await?
            .select_by_value("competences-numeriques")
            .await?;
        b.driver
            .find(By::Id("title"))
            .await?
            .send_keys("Créer son espace France Travail")
            .await?;
        b.driver
            .find(By::XPath(
                "//button[normalize-space()=\"Ajouter l'objectif\"]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("L'objectif est ajouté au plan d'action.")
            .await?;
        b.expect_text("Compétences numériques — Créer son espace France Travail")
            .await?;
        b.driver
            .find(By::XPath(
                "//button[starts-with(normalize-space(), 'Ajouter au plan')]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("L'orientation est préparée").await?;
        b.expect_text("Orienter vers « ").await?;
        b.check_accessibility("orientation préparée").await;
        b.driver.set_window_rect(0, 0, 375, 800).await?;
        b.check_no_horizontal_scroll("plan sur téléphone").await?;
        b.driver.set_window_rect(0, 0, 1280, 900).await?;
        b.visit(&server, "/territoire/regles").await?;
        b.expect_text("Règles livrées avec Passerelle").await?;
        b.check_accessibility("règles d'éligibilité").await;
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("the diagnostic journey");
}

/// Send → study → accept → entry → outcome across two organisations: France Travail orients a
/// person to the Mission locale (a form refused in place first), the Mission locale answers from
/// its inbox, records the entry and the outcome; axe-core clean on every page.
async fn orientation_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open().await;
    let today = domain::iso_date(domain::calendar::france_date(chrono::Utc::now()));
    let set_date = |id: &'static str| {
        let script = format!("document.getElementById('{id}').value = '{today}';");
        let driver = b.driver.clone();
        async move { driver.execute(&script, Vec::new()).await.map(|_| ()) }
    };
    let click = |xpath: String| {
        let driver = b.driver.clone();
        async move { driver.find(By::XPath(&xpath)).await?.click().await }
    };
    let run = async {
        log_in(&b, &server, "conseil.ft@demo.passerelle.test").await?;
        b.expect_text("Orientations en attente de réponse").await?;
        b.check_accessibility("accueil avec orientations en attente")
            .await;
        b.visit(&server, "/personnes?statut=en-accompagnement")
            .await?;
        b.driver
            .find(By::Css("table tbody tr td a[href^='/personnes/']"))
            .await?
            .click()
            .await?;
        b.expect_text("Orienter la personne").await?;
        click("//a[normalize-space()='Orienter la personne']".into()).await?;
        b.expect_text("Envoyer l'orientation").await?;
        b.check_accessibility("formulaire d'orientation").await;
        click("//select[@id='receiver']/option[starts-with(normalize-space(), 'Mission locale Sambre-Avesnois')]".into()).await?;
        b.driver
            .find(By::Id("reason"))
            .await?
            .send_keys("Entrer en CEJ")
            .await?;
        click("//button[normalize-space()=\"Envoyer l'orientation\"]".into()).await?;
        b.expect_text("Cochez au moins un frein").await?;
        b.check_accessibility("orientation refusée").await;
        assert_eq!(
            b.driver
                .find(By::Id("reason"))
                .await?
                .value()
                .await?
                .as_deref(),
            Some("Entrer en CEJ"),
            "what was typed is kept"
        );
        click("//label[@for='champ-mobilite']".into()).await?;
        click("//button[normalize-space()=\"Envoyer l'orientation\"]".into()).await?;
        b.expect_text("L'orientation est envoyée").await?;
        b.expect_text("Historique").await?;
        b.check_accessibility("orientation envoyée").await;
        let page = b.driver.current_url().await?.path().to_string();

        b.driver.delete_all_cookies().await?;
        log_in(&b, &server, "conseil.ml@demo.passerelle.test").await?;
        b.expect_text("Orientations en attente de réponse").await?;
        b.visit(&server, "/orientations/recues").await?;
        b.expect_text("Orientations reçues").await?;
        b.check_accessibility("orientations reçues").await;
        b.visit(&server, &page).await?;
        b.expect_text("Vous voyez ce qu'il faut pour décider")
            .await?;
        b.check_accessibility("orientation, vue du destinataire")
            .await;
        click("//button[normalize-space()=\"Mettre à l'étude\"]".into()).await?;
        b.expect_text("Votre décision est enregistrée").await?;
        click("//button[normalize-space()='Accepter']".into()).await?;
        b.expect_text("Votre décision est enregistrée").await?;
        b.expect_text("Dossier de la personne").await?;
        set_date("date-entree").await?;
        click("//button[normalize-space()=\"Confirmer l'entrée effective\"]".into()).await?;
        b.expect_text("Entrée effective").await?;
        b.check_accessibility("orientation acceptée").await;
        set_date("date-terminer").await?;
        SelectElement::new(&b.driver.find(By::Id("resultat")).await?)
            .await?
            .select_by_value("parcours-realise")
            .await?;
        click("//button[normalize-space()='Clore avec un résultat']".into()).await?;
        b.expect_text("Parcours réalisé").await?;
        b.check_accessibility("orientation terminée").await;
        let source = b.driver.source().await?;
        for status in ["À l'étude", "Acceptée", "Entrée effective", "Terminée"] {
            assert!(source.contains(status), "the log shows « {status} »");
        }
        b.driver.set_window_rect(0, 0, 375, 800).await?;
        b.check_no_horizontal_scroll("orientation sur téléphone")
            .await?;
        b.driver.set_window_rect(0, 0, 1280, 900).await?;
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("the orientation journey");
}

/// A coordinator creates a cohort, fills it from the candidates, organises a job dating for it,
/// registers its members, takes attendance on a phone, records a member's exit (dated back, as
/// when the news comes late) and, the 3-month check being due, records the situation then.
async fn cohort_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open().await;
    let today = domain::calendar::france_date(chrono::Utc::now());
    let set_value = |id: &'static str, value: String| {
        let script = format!("document.getElementById('{id}').value = '{value}';");
        let driver = b.driver.clone();
        async move { driver.execute(&script, Vec::new()).await.map(|_| ()) }
    };
    let click = |xpath: String| {
        let driver = b.driver.clone();
        async move { driver.find(By::XPath(&xpath)).await?.click().await }
    };
    let run = async {
        log_in(&b, &server, "coordination@demo.passerelle.test").await?;
        b.expect_text("Vérifications de suivi à faire").await?;
        b.visit(&server, "/indicateurs").await?;
        b.expect_text("L'entonnoir sur la période").await?;
        b.check_accessibility("indicateurs du territoire").await;
        // The printed report: a PDF with a page per section at least (the print stylesheet
        // starts each section on a new page and drops the menus and the form).
        let pdf = b
            .driver
            .print_page(thirtyfour::common::print::PrintParameters::default())
            .await?;
        assert!(pdf.starts_with(b"%PDF-"), "a PDF");
        let text = String::from_utf8_lossy(&pdf);
        let pages = text.matches("/Type /Page\n").count()
            + text.matches("/Type /Page ").count()
            + text.matches("/Type /Page/").count()
            + text.matches("/Type /Page>").count();
        assert!(pages >= 7, "one page per section at least, {pages} pages");
        b.visit(&server, "/gouvernance").await?;
        b.expect_text("Pilotage du territoire").await?;
        b.check_accessibility("pilotage").await;
        b.visit(&server, "/gouvernance/reunions/nouvelle").await?;
        b.check_accessibility("nouvelle réunion").await;
        click("//button[normalize-space()='Enregistrer la réunion']".into()).await?;
        b.expect_text("La réunion n'est pas enregistrée").await?;
        b.check_accessibility("réunion refusée").await;
        b.visit(&server, "/gouvernance/feuille-de-route").await?;
        b.expect_text("Recours au droit commun").await?;
        b.check_accessibility("feuille de route").await;
        b.visit(&server, "/cohortes").await?;
        b.expect_text("Femmes 26-55 ans — vague 1").await?;
        b.check_accessibility("cohortes").await;
        click("//a[normalize-space()='Créer une cohorte']".into()).await?;
        b.expect_text("Public visé").await?;
        b.check_accessibility("nouvelle cohorte").await;
        click("//button[normalize-space()='Créer la cohorte']".into()).await?;
        b.expect_text("La cohorte n'est pas créée").await?;
        b.check_accessibility("cohorte refusée").await;
        b.driver
            .find(By::Id("name"))
            .await?
            .send_keys("Parcours logistique")
            .await?;
        set_value("starts_on", domain::iso_date(today)).await?;
        click("//label[normalize-space()='En accompagnement']".into()).await?;
        click("(//fieldset[@id='referents']//label)[1]".into()).await?;
        click("//button[normalize-space()='Créer la cohorte']".into()).await?;
        b.expect_text("La cohorte est créée").await?;
        click("//a[normalize-space()='Voir les candidats correspondant au public']".into()).await?;
        b.expect_text("Candidats parmi les personnes que vous suivez")
            .await?;
        b.check_accessibility("candidats de la cohorte").await;
        // A candidate accompanied for more than 80 days: their exit can be dated 80 days back.
        let mut chosen = None;
        for label in b.driver.find_all(By::Css("fieldset#persons label")).await? {
            let text = label.text().await?;
            let since = text
                .split("depuis le ")
                .nth(1)
                .and_then(|t| domain::parse_date(&t[..10.min(t.len())]).ok());
            if since.is_some_and(|d| d <= today - chrono::Duration::days(80)) {
                chosen = label.attr("for").await?;
                break;
            }
        }
        let chosen = chosen.expect("a candidate accompanied long ago");
        let person = chosen.trim_start_matches("candidat-").to_string();
        click(format!("//label[@for='{chosen}']")).await?;
        click("//button[normalize-space()='Faire entrer dans la cohorte']".into()).await?;
        b.expect_text("Les personnes sont entrées dans la cohorte.")
            .await?;
        b.check_accessibility("cohorte et ses membres").await;

        click("//a[normalize-space()='Organiser une action pour la cohorte']".into()).await?;
        b.expect_text("Nouvelle action collective").await?;
        SelectElement::new(&b.driver.find(By::Id("kind")).await?)
            .await?
            .select_by_value("job-dating")
            .await?;
        b.driver
            .find(By::Id("title"))
            .await?
            .send_keys("Job dating des entrepôts")
            .await?;
        set_value("held_on", domain::iso_date(today)).await?;
        set_value("starts_at", "09:30".into()).await?;
        b.driver
            .find(By::Id("place"))
            .await?
            .send_keys("Maison de l'emploi, salle 2")
            .await?;
        // A coordinator works for no structure: the organiser is to choose.
        click("(//fieldset[@id='organisers']//label)[1]".into()).await?;
        b.check_accessibility("nouvelle action collective").await;
        click("//button[normalize-space()=\"Créer l'action\"]".into()).await?;
        b.expect_text("L'action collective est créée").await?;
        click("//label[@for='status-inscrite']".into()).await?;
        click("//button[normalize-space()='Inviter']".into()).await?;
        b.expect_text("Les invitations sont enregistrées.").await?;
        b.check_accessibility("action avec ses inscrites").await;

        click("//a[normalize-space()='Relever les présences']".into()).await?;
        b.driver.set_window_rect(0, 0, 375, 800).await?;
        b.expect_text("Enregistrer les présences").await?;
        b.check_no_horizontal_scroll("présences sur téléphone")
            .await?;
        b.check_accessibility("présences sur téléphone").await;
        click(format!("//label[@for='presence-{person}-present']")).await?;
        click("//button[normalize-space()='Enregistrer les présences']".into()).await?;
        b.expect_text("Les présences sont enregistrées.").await?;
        b.driver.set_window_rect(0, 0, 1280, 900).await?;

        b.visit(&server, &format!("/personnes/{person}")).await?;
        click("//summary[normalize-space()='Changer le statut']".into()).await?;
        click("//label[@for='status-sorti']".into()).await?;
        set_value("on", domain::iso_date(today - chrono::Duration::days(80))).await?;
        SelectElement::new(&b.driver.find(By::Id("exit_kind")).await?)
            .await?
            .select_by_value("cdd-long")
            .await?;
        click("//button[normalize-space()='Enregistrer le statut']".into()).await?;
        b.expect_text("Le statut de la personne a été mis à jour.")
            .await?;
        b.expect_text("Vérifications de situation après la sortie")
            .await?;
        b.check_accessibility("dossier après la sortie").await;
        click("//summary[normalize-space()='Renseigner la vérification à 3 mois']".into()).await?;
        SelectElement::new(&b.driver.find(By::Id("situation")).await?)
            .await?
            .select_by_value("meme-emploi")
            .await?;
        set_value("done_on", domain::iso_date(today)).await?;
        click("//button[normalize-space()='Enregistrer la vérification']".into()).await?;
        b.expect_text("La vérification de situation est enregistrée.")
            .await?;
        b.expect_text("Toujours dans le même emploi").await?;
        b.check_accessibility("suivi à 3 mois enregistré").await;
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    outcome.expect("the cohort journey");
}

#[tokio::test]
async fn a_cohort_goes_to_a_job_dating_and_a_member_is_followed_after_exit_on_sqlite() {
    cohort_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_cohort_goes_to_a_job_dating_and_a_member_is_followed_after_exit_on_postgres() {
    cohort_journey(Backend::Postgres).await;
}

#[tokio::test]
async fn an_orientation_goes_from_one_organisation_to_another_and_ends_on_sqlite() {
    orientation_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_orientation_goes_from_one_organisation_to_another_and_ends_on_postgres() {
    orientation_journey(Backend::Postgres).await;
}

#[tokio::test]
async fn a_professional_signs_a_diagnostic_plans_and_prepares_an_orientation_on_sqlite() {
    diagnostic_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_professional_signs_a_diagnostic_plans_and_prepares_an_orientation_on_postgres() {
    diagnostic_journey(Backend::Postgres).await;
}

/// The harness itself: a page with a real defect must be caught, or a clean run proves nothing.
#[tokio::test]
async fn the_accessibility_check_catches_an_image_without_text_and_an_unlabelled_field() {
    let b = Browser::open().await;
    let page = "data:text/html;charset=utf-8,<!doctype html><html lang=fr><head><title>t</title></head><body><main><img src='x.png'><input type='text'></main></body></html>";
    let outcome = b.driver.goto(page).await;
    let ids: Vec<String> = match outcome {
        Ok(()) => b
            .grave_violations()
            .await
            .iter()
            .filter_map(|v| v["id"].as_str().map(str::to_string))
            .collect(),
        Err(_) => Vec::new(),
    };
    b.close().await;
    assert!(
        ids.contains(&"image-alt".to_string()) && ids.contains(&"label".to_string()),
        "{ids:?}"
    );
}

#[tokio::test]
async fn a_coordinator_logs_in_switches_territory_and_logs_out_on_sqlite() {
    coordinator_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_coordinator_logs_in_switches_territory_and_logs_out_on_postgres() {
    coordinator_journey(Backend::Postgres).await;
}

#[tokio::test]
async fn an_administrator_visits_every_administration_page_on_sqlite() {
    administrator_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_administrator_visits_every_administration_page_on_postgres() {
    administrator_journey(Backend::Postgres).await;
}

#[tokio::test]
async fn a_professional_works_without_javascript_on_sqlite() {
    journey_without_javascript(Backend::Sqlite).await;
}
