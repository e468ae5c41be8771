//! `passerelle bench import-personnes`: a partner's list of 100 000 persons (fictional, one row in
//! a hundred refused, one in two hundred a likely duplicate) uploaded, dry-run, imported by the
//! job queue, then dry-run again (every row « inchangée »), on the demo territory — SQLite, then
//! PostgreSQL. Each phase prints its time, its rows per second, its ratio to the baseline
//! measured in the same run on the same bytes (reading the table alone) and the process's peak
//! memory during it (reset between phases through `/proc/self/clear_refs`), against the
//! 200 MB budget of docs/imports.md. The geocoder is an unreachable address: each chunk finds it
//! down at once, so what is measured is reading, judging and writing.

use std::collections::HashMap;
use std::time::Instant;

use crate::bench::{memory_mib, reset_peak};
use crate::bench_orientations::{caller, e};

/// The budget the issue and docs/imports.md set for 100 000 rows.
const BUDGET_MIB: f64 = 200.0;

fn peak() -> f64 {
    crate::bench::peak_memory_mib().unwrap_or(0.0)
}

/// The list: the columns partners write, in French, with their usual headings.
fn list(rows: usize) -> Vec<u8> {
    let mut text = String::with_capacity(rows * 120);
    text.push_str("N° dossier;Nom;Prénom;Date de naissance;Téléphone;Courriel;Adresse;Code postal;Ville;Freins;Observations\n");
    for i in 0..rows {
        let phone = if i % 200 == 199 {
            // The same telephone as the row above: a likely duplicate.
            format!("06{:08}", i - 1)
        } else {
            format!("06{i:08}")
        };
        let birth = format!("{:02}/{:02}/{}", 1 + i % 28, 1 + i % 12, 1960 + i % 45);
        let first = if i % 100 == 42 {
            String::new()
        } else {
            format!("Prénom{i}")
        };
        text.push_str(&format!(
            "ML-{i};Nom{i};{first};{birth};{phone};personne{i}@exemple.fr;{} rue de la Mesure;59600;Maubeuge;Mobilité, Logement;besoin noté par le partenaire\n",
            1 + i % 300
        ));
    }
    text.into_bytes()
}

struct Phase {
    name: &'static str,
    seconds: f64,
    peak: f64,
}

/// Asks for a dry run and runs the queue until it is done; its summary.
async fn dry_run(
    app: &app::App,
    me: &app::Caller,
    id: i64,
    mapping: &HashMap<String, String>,
) -> Result<app::persons::import::Summary, String> {
    app::persons::import::simulate(app, me, id, mapping)
        .await
        .map_err(crate::describe)?;
    app::jobs::drain(app, "mesure")
        .await
        .map_err(crate::describe)?;
    app::persons::import::get(app, me, id)
        .await
        .map_err(crate::describe)?
        .summary
        .ok_or_else(|| "la simulation n'a rien laissé".to_string())
}

fn phase(name: &'static str, started: Instant) -> Phase {
    Phase {
        name,
        seconds: started.elapsed().as_secs_f64(),
        peak: peak(),
    }
}

async fn run_on(label: &str, url: &str, rows: usize) -> Result<(), String> {
    let db = store::Db::connect(url, &store::PoolSettings::default())
        .await
        .map_err(e)?;
    db.migrate().await.map_err(e)?;
    let settings = app::Settings {
        ban_api_url: "http://127.0.0.1:9".into(),
        ..app::Settings::default()
    };
    let app = app::App::new(db.clone(), settings, None).await.map_err(e)?;
    app::demo::seed(&app).await.map_err(crate::describe)?;
    let (user, territory) = {
        let mut pooled = db.acquire().await.map_err(e)?;
        let email = domain::Email::parse("conseil.ft@demo.passerelle.test").map_err(|x| x.0)?;
        let user = store::users::by_email(&mut pooled.conn(), &email)
            .await
            .map_err(e)?
            .ok_or("compte de démonstration absent")?;
        let territory = store::territories::by_slug(&mut pooled.conn(), "demo")
            .await
            .map_err(e)?
            .ok_or("territoire de démonstration absent")?;
        (user.id, territory)
    };
    let me = caller(&db, user, &territory).await?;
    let bytes = list(rows);
    println!(
        "{label} : liste de {} lignes ({:.1} Mo), territoire de démonstration",
        app::spreadsheet::format_count(rows as u64),
        bytes.len() as f64 / 1_048_576.0
    );

    // The demo's own jobs (mail, snapshots) run first: the import's phase counts only its job.
    app::jobs::drain(&app, "mesure")
        .await
        .map_err(crate::describe)?;
    let at_start = memory_mib("VmRSS:").unwrap_or(0.0);
    println!(
        "  mémoire du processus avant les mesures (application, carte des QPV, données de démonstration) : {at_start:.0} Mio ; MALLOC_ARENA_MAX={}",
        std::env::var("MALLOC_ARENA_MAX")
            .unwrap_or_else(|_| "non défini (une zone d'allocation par fil d'exécution)".into())
    );
    let mut phases = Vec::new();
    reset_peak();
    let started = Instant::now();
    let id = app::persons::import::upload(&app, &me, "liste.csv", bytes.clone())
        .await
        .map_err(crate::describe)?;
    phases.push(phase(
        "dépôt (lecture, titres reconnus, fichier gardé)",
        started,
    ));
    let mapping: HashMap<String, String> = app::persons::import::get(&app, &me, id)
        .await
        .map_err(crate::describe)?
        .mapping
        .columns()
        .map(|(c, i)| (app::persons::import::field_name(c), i.to_string()))
        .collect();

    reset_peak();
    let started = Instant::now();
    let first = dry_run(&app, &me, id, &mapping).await?;
    phases.push(phase("simulation (tâche de fond)", started));

    reset_peak();
    let started = Instant::now();
    app::persons::import::request(
        &app,
        &me,
        id,
        &app::persons::import::RequestInput {
            mode: "ligne-par-ligne".into(),
            create_duplicates: false,
        },
    )
    .await
    .map_err(crate::describe)?;
    app::jobs::drain(&app, "mesure")
        .await
        .map_err(crate::describe)?;
    phases.push(phase("import (tâche de fond, ligne par ligne)", started));

    reset_peak();
    let started = Instant::now();
    let second = app::persons::import::upload(&app, &me, "liste.csv", bytes.clone())
        .await
        .map_err(crate::describe)?;
    let again = dry_run(&app, &me, second, &mapping).await?;
    phases.push(phase(
        "même fichier de nouveau : dépôt et simulation",
        started,
    ));

    // The baseline last: what it leaves in the allocator does not count in the phases above.
    reset_peak();
    let started = Instant::now();
    let table = app::spreadsheet::read_table(&bytes, &app::spreadsheet::LIMITS).map_err(|x| x.0)?;
    let cells: usize = table.rows.iter().map(Vec::len).sum();
    drop(table);
    let baseline = phase("référence : lecture seule du tableau", started);

    let done = app::persons::import::get(&app, &me, id)
        .await
        .map_err(crate::describe)?;
    let counts = done.summary.map(|s| s.counts).unwrap_or_default();
    println!(
        "  import : {} créations, {} doublons probables, {} refusées ({}) ; {} cellules lues",
        counts.created,
        counts.duplicates,
        counts.refused,
        done.state.label(),
        app::spreadsheet::format_count(cells as u64)
    );
    println!(
        "  simulation : {} créations prévues ; de nouveau : {} inchangées, {} créations",
        first.counts.created, again.counts.unchanged, again.counts.created
    );
    if again.counts.created != 0 || again.counts.updated != 0 {
        return Err("le même fichier importé de nouveau changerait des dossiers".into());
    }
    println!(
        "  {:<50} {:>9} {:>12} {:>9} {:>13}",
        "phase", "durée", "lignes/s", "rapport", "mémoire max."
    );
    for p in std::iter::once(&baseline).chain(phases.iter()) {
        println!(
            "  {:<50} {:>7.2} s {:>12.0} {:>8.1}× {:>9.0} Mio{}",
            p.name,
            p.seconds,
            rows as f64 / p.seconds,
            p.seconds / baseline.seconds,
            p.peak,
            if p.peak > BUDGET_MIB {
                "  DÉPASSE 200 Mio"
            } else {
                ""
            }
        );
    }
    Ok(())
}

pub async fn person_import(
    rows: usize,
    base: Option<&str>,
    postgres_url: &str,
) -> Result<(), String> {
    match base {
        Some("sqlite") => {
            let dir = std::env::temp_dir()
                .join(format!("passerelle-bench-import-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(e)?;
            let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
            let outcome = run_on("SQLite", &url, rows).await;
            let _ = std::fs::remove_dir_all(&dir);
            outcome
        }
        Some("postgresql") => {
            let (url, name) = store::scratch::create_postgres_database_at(postgres_url)
                .await
                .map_err(|err| format!("PostgreSQL injoignable : {err}"))?;
            let outcome = run_on("PostgreSQL", &url, rows).await;
            store::scratch::drop_postgres_database(postgres_url, &name);
            outcome
        }
        Some(other) => Err(format!(
            "base inconnue « {other} » : « sqlite » ou « postgresql »"
        )),
        None => {
            // Each base in a process of its own: the peak memory of one is not the other's.
            for base in ["sqlite", "postgresql"] {
                let exe = std::env::current_exe().map_err(e)?;
                let status = std::process::Command::new(exe)
                    .args([
                        "bench",
                        "import-personnes",
                        "--lignes",
                        &rows.to_string(),
                        "--base",
                        base,
                        "--postgres-url",
                        postgres_url,
                    ])
                    .status()
                    .map_err(e)?;
                if !status.success() {
                    return Err(format!("la mesure sur {base} a échoué"));
                }
            }
            Ok(())
        }
    }
}
