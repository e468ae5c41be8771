//! Importing a partner's list in the browser, against the real binary: the list page, the
//! upload of a CSV file, the columns recognised, the dry run with its refused row, the import
//! run by the server's own worker, the imported persons in the caseload; axe-core clean on
//! every page.

use super::harness::{Backend, Browser, Server};
use super::log_in;
use thirtyfour::prelude::*;

/// Reloads `page` until it says `text` (the server's worker runs the job meanwhile), within a
/// bound.
async fn wait_for(b: &Browser, server: &Server, page: &str, text: &str) -> WebDriverResult<()> {
    for _ in 0..100 {
        b.visit(server, page).await?;
        let body = b.driver.find(By::Tag("body")).await?.text().await?;
        if body.contains(text) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("« {text} » never appeared on {page}");
}

async fn person_import_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let b = Browser::open().await;
    let tag = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let dir = std::env::temp_dir().join(format!("passerelle-import-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let list = dir.join("liste-partenaire.csv");
    std::fs::write(
        &list,
        "N° dossier;Prénom;Nom;Téléphone;Adresse;Code postal;Ville\n\
         P-1;Yasmina;Belkacem;06 55 44 33 22;12 rue de la Démonstration;59600;Maubeuge\n\
         P-2;;Sans prénom;;;;\n\
         P-3;Théo;Lambert;07 66 55 44 33;;;\n",
    )
    .expect("list written");
    let run = async {
        log_in(&b, &server, "conseil.ft@demo.passerelle.test").await?;
        b.expect_text("Bonjour").await?;
        b.visit(&server, "/personnes").await?;
        b.expect_text("Importer une liste").await?;
        b.driver
            .find(By::LinkText("Importer une liste"))
            .await?
            .click()
            .await?;
        b.expect_text("Colonnes reconnues").await?;
        b.check_accessibility("importer une liste").await;
        b.driver
            .find(By::Id("fichier"))
            .await?
            .send_keys(list.to_string_lossy().as_ref())
            .await?;
        b.driver
            .find(By::Css(
                "form[action='/personnes/import'] button[type=submit]",
            ))
            .await?
            .click()
            .await?;
        b.expect_text("Quelle colonne contient quoi").await?;
        b.check_accessibility("choix des colonnes").await;
        let chosen = b
            .driver
            .find(By::Css("#col-prenom option:checked"))
            .await?
            .text()
            .await?;
        assert_eq!(chosen, "Colonne 2 : Prénom");
        b.driver
            .find(By::Css("form[action$='/simulation'] button[type=submit]"))
            .await?
            .click()
            .await?;
        // The server's worker runs the dry run; the page says where it stands when reloaded.
        b.expect_text("Import de « liste-partenaire.csv »").await?;
        let page = b.path().await?;
        wait_for(&b, &server, &page, "Résultat de la simulation").await?;
        b.expect_text("Prénom : la cellule est vide").await?;
        b.check_accessibility("résultat de la simulation").await;
        b.driver
            .find(By::Css("label[for='mode-ligne-par-ligne']"))
            .await?
            .click()
            .await?;
        b.driver
            .find(By::Css("form[action$='/lancement'] button[type=submit]"))
            .await?
            .click()
            .await?;
        b.expect_text("L'import est lancé").await?;
        b.check_accessibility("import lancé").await;
        wait_for(&b, &server, &page, "Import terminé").await?;
        b.expect_text("Résultat de l'import").await?;
        b.check_accessibility("import terminé").await;
        b.driver
            .find(By::LinkText("Voir les personnes"))
            .await?
            .click()
            .await?;
        b.expect_text("Yasmina Belkacem").await?;
        b.expect_text("Théo Lambert").await?;
        Ok::<(), WebDriverError>(())
    };
    let outcome = run.await;
    b.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome.expect("person import journey");
}

#[tokio::test]
async fn a_professional_imports_a_partners_list_on_sqlite() {
    person_import_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_professional_imports_a_partners_list_on_postgres() {
    person_import_journey(Backend::Postgres).await;
}
