//! `passerelle bench televersements`: the worst uploads against the real router, one after
//! another then several at once, with the time each takes and the process's peak memory for
//! each (the peak is reset between cases through `/proc/self/clear_refs`). The baseline, in
//! the same run, is an honest file at the row limit: 200 000 rows of coordinates.

use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use crate::bench::reset_peak;

fn current_rss_mib() -> f64 {
    crate::bench::memory_mib("VmRSS:").unwrap_or(0.0)
}

fn peak_rss_mib() -> f64 {
    crate::bench::peak_memory_mib().unwrap_or(0.0)
}

fn multipart(csrf: &str, name: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n--B\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(b"\r\n--B--\r\n");
    body
}

struct Session {
    router: axum::Router,
    cookies: String,
    csrf: String,
}

impl Session {
    async fn upload(&self, name: &str, content: &[u8]) -> Result<StatusCode, String> {
        let request = Request::post("/qpv/verification-en-masse")
            .header(header::COOKIE, &self.cookies)
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B")
            .body(Body::from(multipart(&self.csrf, name, content)))
            .map_err(|e| e.to_string())?;
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        // The answer is read to the end, as a browser would.
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| e.to_string())?;
        Ok(status)
    }
}

fn sparse_xlsx() -> Result<Vec<u8>, String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .write_string(0, 0, "adresse")
        .map_err(|e| e.to_string())?;
    sheet
        .write_string(1_048_575, 16_383, "x")
        .map_err(|e| e.to_string())?;
    book.save_to_buffer().map_err(|e| e.to_string())
}

fn ods(table: &str) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored)
        .map_err(|e| e.to_string())?;
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .map_err(|e| e.to_string())?;
    zip.start_file("content.xml", zip::write::SimpleFileOptions::default())
        .map_err(|e| e.to_string())?;
    write!(zip, "<office:document-content xmlns:office=\"o\" xmlns:table=\"t\" xmlns:text=\"x\"><office:body><office:spreadsheet><table:table>{table}</table:table></office:spreadsheet></office:body></office:document-content>").map_err(|e| e.to_string())?;
    zip.finish().map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

pub async fn uploads() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("passerelle-bench-up-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let outcome = uploads_in(&dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn uploads_in(dir: &std::path::Path) -> Result<(), String> {
    let db = crate::bench::scratch_sqlite(dir).await?;
    let settings = app::Settings {
        upload_wait: std::time::Duration::from_secs(60),
        ..app::Settings::default()
    };
    let app = app::App::new(db, settings, None)
        .await
        .map_err(|e| e.to_string())?;
    app::demo::seed(&app).await.map_err(crate::describe)?;
    let account = app::demo::ACCOUNTS[2].email;
    let login = app::auth::login(&app, account, app::demo::PASSWORD, "127.0.0.1")
        .await
        .map_err(|e| e.to_string())?;
    let router = web::router(web::AppState::new(app.clone(), false));
    let session_cookie = format!("passerelle_session={}", login.token);
    let page = router
        .clone()
        .oneshot(
            Request::get("/qpv/verification-en-masse")
                .header(header::COOKIE, &session_cookie)
                .body(Body::empty())
                .map_err(|e| e.to_string())?,
        )
        .await
        .map_err(|e| e.to_string())?;
    let csrf_cookie = page
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_string();
    let html = axum::body::to_bytes(page.into_body(), usize::MAX)
        .await
        .map_err(|e| e.to_string())?;
    let html = String::from_utf8_lossy(&html);
    let marker = "name=\"csrf_token\" value=\"";
    let csrf = html
        .find(marker)
        .map(|i| &html[i + marker.len()..])
        .and_then(|rest| rest.split('"').next())
        .ok_or("jeton CSRF introuvable")?
        .to_string();
    let session = Session {
        router,
        cookies: format!("{session_cookie}; {csrf_cookie}"),
        csrf,
    };

    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/tests/uploads");
    let read = |name: &str| std::fs::read(fixtures.join(name)).map_err(|e| format!("{name} : {e}"));
    let mut wide_csv = vec![b';'; 1_000_000];
    wide_csv.extend_from_slice(b"\n1\n");
    let mut honest = String::from("id;longitude;latitude\n");
    for i in 0..200_000 {
        honest.push_str(&format!("{i};3.96{};50.27{}\n", i % 10, i % 7));
    }
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "XLSX creux (A1 et XFD1048576)",
            "creux.xlsx",
            sparse_xlsx()?,
        ),
        (
            "XLSX bombe (feuille de 1 Gio)",
            "bombe.xlsx",
            read("bomb-1gib.xlsx")?,
        ),
        (
            "XLSX bombe, tailles mensongères",
            "bombe2.xlsx",
            read("bomb-1gib-lying-sizes.xlsx")?,
        ),
        ("CSV d'un million de colonnes", "large.csv", wide_csv),
        (
            "ODS : 16 384 colonnes répétées avec valeur",
            "large.ods",
            ods(
                "<table:table-row><table:table-cell table:number-columns-repeated=\"16384\" office:value-type=\"float\" office:value=\"1\"/></table:table-row>",
            )?,
        ),
        (
            "ODS : 1 048 576 lignes répétées avec valeur",
            "long.ods",
            ods(
                "<table:table-row table:number-rows-repeated=\"1048576\"><table:table-cell office:value-type=\"float\" office:value=\"1\"/></table:table-row>",
            )?,
        ),
    ];
    println!(
        "Mémoire du processus au départ : {:.0} Mio (base, index QPV et données de démonstration chargés)",
        current_rss_mib()
    );
    reset_peak();
    let started = Instant::now();
    let status = session.upload("coordonnees.csv", honest.as_bytes()).await?;
    let baseline_seconds = started.elapsed().as_secs_f64();
    let baseline_peak = peak_rss_mib();
    println!(
        "Référence : fichier honnête de 200 000 lignes ({:.1} Mo) → {} en {:.2} s, pic {:.0} Mio",
        honest.len() as f64 / 1e6,
        status.as_u16(),
        baseline_seconds,
        baseline_peak
    );
    let mut worst: f64 = 0.0;
    for (label, name, bytes) in &cases {
        reset_peak();
        let started = Instant::now();
        let status = session.upload(name, bytes).await?;
        let seconds = started.elapsed().as_secs_f64();
        let peak = peak_rss_mib();
        worst = worst.max(peak);
        println!(
            "{label} ({:.1} ko) → {} en {:.2} s ({:.2} × la référence), pic {:.0} Mio ({:.2} × la référence)",
            bytes.len() as f64 / 1024.0,
            status.as_u16(),
            seconds,
            seconds / baseline_seconds,
            peak,
            peak / baseline_peak
        );
    }
    // Every hostile file at once, twice over: the turns keep the memory bounded.
    reset_peak();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        for (_, name, bytes) in &cases {
            let router = session.router.clone();
            let s = Session {
                router,
                cookies: session.cookies.clone(),
                csrf: session.csrf.clone(),
            };
            let (name, bytes) = (name.to_string(), bytes.clone());
            tasks.push(tokio::spawn(async move { s.upload(&name, &bytes).await }));
        }
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.map_err(|e| e.to_string())??.as_u16());
    }
    let peak = peak_rss_mib();
    worst = worst.max(peak);
    println!(
        "{} téléversements hostiles simultanés → {:?} en {:.2} s, pic {:.0} Mio ({:.2} × la référence)",
        statuses.len(),
        statuses,
        started.elapsed().as_secs_f64(),
        peak,
        peak / baseline_peak
    );
    println!(
        "Pic mémoire le plus haut sous les pires fichiers : {worst:.0} Mio ({:.2} × la référence)",
        worst / baseline_peak
    );
    Ok(())
}
