//! « Importer une liste » through the router on both backends, with a real XLSX workbook:
//! upload, columns recognised and corrected, a dry run whose refusals are said in French at
//! their row, the import launched and run by the job queue, the report downloaded; an import
//! is its owner's only.

use app::testing::PASSWORD;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

mod client;
use client::{Client, multipart};

fn workbook(rows: &[&[&str]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *cell).expect("cell");
        }
    }
    book.save_to_buffer().expect("xlsx")
}

fn upload(client: &Client, csrf: &str, name: &str, file: Option<&[u8]>) -> Request<Body> {
    Request::post("/personnes/import")
        .header(header::COOKIE, client.cookie_header())
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(Body::from(multipart(
            "XyZ",
            &[("csrf_token", csrf)],
            file.map(|f| (name, f)),
        )))
        .expect("request")
}

app::fixture_tests! {
    offline;
    async fn a_list_is_uploaded_mapped_simulated_then_imported_by_the_queue(f) {
        let mut client = Client::new(&f);
        client.login("conseil@test.fr", PASSWORD).await;
        let index = client.get("/personnes/import").await;
        assert_eq!(index.status, StatusCode::OK);
        assert!(index.body.contains("Colonnes reconnues") && index.body.contains("Date de naissance"));
        let csrf = index.csrf();
        assert!(client.get("/personnes").await.body.contains("href=\"/personnes/import\""), "the caseload links to it");

        let model = client.get("/personnes/import/modele.csv").await;
        assert_eq!(model.status, StatusCode::OK);
        assert!(model.body.contains("Prénom;Nom;Date de naissance"), "{}", model.body);

        let missing = client.send(upload(&client, &csrf, "", None)).await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(missing.body.contains("Choisissez le fichier de la liste"), "{}", missing.body);

        let file = workbook(&[
            &["N° dossier", "NOM", "Prénom", "Portable", "Situation familiale"],
            &["X-1", "Lefèvre", "Samir", "06 98 76 54 32", "seul"],
            &["X-2", "Sans prénom", "", "", ""],
            &["X-3", "Garcia", "Maya", "07 11 22 33 44", "mariée"],
        ]);
        let uploaded = client.send(upload(&client, &csrf, "liste ML.xlsx", Some(&file))).await;
        assert_eq!(uploaded.status, StatusCode::SEE_OTHER);
        let path = uploaded.location.clone().expect("the import's page");
        let page = client.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Import de « liste ML.xlsx »") && page.body.contains("3 lignes"));
        // Recognised from the headings; « Situation familiale » is no known column.
        assert!(page.body.contains("<option value=\"2\" selected>Colonne 3 : Prénom</option>"), "{}", page.body);
        assert!(page.body.contains("<option value=\"3\" selected>Colonne 4 : Portable</option>"));
        assert!(!page.body.contains("value=\"4\" selected"));

        let id = path.rsplit('/').next().expect("id").to_string();
        let simulation = format!("/personnes/import/{id}/simulation");
        let refused = client.post(&simulation, &[("csrf_token", &csrf), ("col-prenom", ""), ("col-nom", "1")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("Choisissez la colonne du prénom"), "{}", refused.body);
        assert!(refused.body.contains("<option value=\"1\" selected>Colonne 2 : NOM</option>"), "the choices typed are kept");

        let done = client.post(&simulation, &[("csrf_token", &csrf), ("col-identifiant", "0"), ("col-nom", "1"), ("col-prenom", "2"), ("col-telephone", "3")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let pending = client.get(&path).await;
        assert!(pending.body.contains("Simulation en cours"), "{}", pending.body);
        app::jobs::drain(&f.app, "essai").await.expect("jobs");
        let page = client.get(&path).await;
        assert!(page.body.contains("Résultat de la simulation"), "{}", page.body);
        assert!(page.body.contains("<td>3</td><td>X-2</td><td>refusée</td><td>Prénom : la cellule est vide</td>"), "{}", page.body);
        assert!(page.body.contains("Lancer l'import"));
        assert_eq!(client.get("/personnes").await.body.matches("Samir").count(), 0, "nothing written yet");

        // Someone else may not see it, nor its report.
        let mut other = Client::new(&f);
        other.login("coordination@test.fr", PASSWORD).await;
        assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(other.get(&format!("{path}/rapport.csv")).await.status, StatusCode::NOT_FOUND);

        let no_mode = client.post(&format!("{path}/lancement"), &[("csrf_token", &csrf)]).await;
        assert_eq!(no_mode.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_mode.body.contains("Choisissez comment traiter les lignes refusées"));
        let launched = client.post(&format!("{path}/lancement"), &[("csrf_token", &csrf), ("mode", "ligne-par-ligne")]).await;
        assert_eq!(launched.status, StatusCode::SEE_OTHER);
        let waiting = client.get(launched.location.as_deref().expect("back to the import")).await;
        assert!(waiting.body.contains("L&#39;import est lancé"), "{}", waiting.body);
        assert!(waiting.body.contains("Import en cours : 0 sur 3 lignes"), "{}", waiting.body);

        app::jobs::drain(&f.app, "essai").await.expect("jobs");
        let finished = client.get(&path).await;
        assert!(finished.body.contains("Résultat de l'import"), "{}", finished.body);
        assert!(finished.body.contains("Import terminé"));
        assert!(!finished.body.contains("Simuler l"), "no more mapping once imported");
        let caseload = client.get("/personnes").await;
        assert!(caseload.body.contains("Samir") && caseload.body.contains("Maya"), "imported into the importer's caseload");

        let report = client.get(&format!("{path}/rapport.csv")).await;
        assert_eq!(report.status, StatusCode::OK);
        assert_eq!(report.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("text/csv; charset=utf-8"));
        assert!(report.body.contains("Ligne;Identifiant;Résultat;Dossier;Motif;Quartier prioritaire"));
        assert!(report.body.contains("\n2;X-1;création;"), "{}", report.body);
        assert!(report.body.contains("\n3;X-2;refusée;;Prénom : la cellule est vide;"));
    }

    async fn a_pilot_has_no_import_page_and_an_unreadable_file_stores_nothing(f) {
        let mut pilot = Client::new(&f);
        pilot.login("pilote@test.fr", PASSWORD).await;
        assert_eq!(pilot.get("/personnes/import").await.status, StatusCode::FORBIDDEN);

        let mut client = Client::new(&f);
        client.login("conseil@test.fr", PASSWORD).await;
        let csrf = client.get("/personnes/import").await.csrf();
        let broken = b"PK\x03\x04 not really a workbook".to_vec();
        let page = client.send(upload(&client, &csrf, "cassé.xlsx", Some(&broken))).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("Rien n&#39;a été enregistré"), "{}", page.body);
        assert!(!client.get("/personnes/import").await.body.contains("Vos derniers imports"), "nothing stored");
    }
}
