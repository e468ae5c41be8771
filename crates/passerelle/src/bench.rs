//! `passerelle bench qpv`: throughput of the QPV index on a national-size synthetic map, and of
//! PostGIS answering the same question in the same run, as a ratio.

use std::time::Instant;

use domain::Millesime;
use territory::qpv::QpvIndex;
use territory::synthetic;

fn per_second(n: usize, seconds: f64) -> String {
    let rate = n as f64 / seconds;
    if rate >= 1e6 {
        format!("{:.2} millions/s", rate / 1e6)
    } else {
        format!("{:.0}/s", rate)
    }
}

pub async fn qpv(quartiers: usize, points: usize, postgres_url: &str) -> Result<(), String> {
    let started = Instant::now();
    let shapes = synthetic::national(2024, quartiers);
    let vertices: usize = shapes
        .iter()
        .flat_map(|s| s.polygons.iter().flatten())
        .map(Vec::len)
        .sum();
    let probe = synthetic::points(7, &shapes, points);
    println!(
        "Jeu synthétique national (données fictives) : {} quartiers, {} sommets, {} points à situer (généré en {:.2} s)",
        shapes.len(),
        vertices,
        probe.len(),
        started.elapsed().as_secs_f64()
    );

    let geojson: Vec<(String, String)> = shapes
        .iter()
        .map(|s| {
            (
                s.code.to_string(),
                serde_json::json!({ "type": "MultiPolygon", "coordinates": s.polygons })
                    .to_string(),
            )
        })
        .collect();
    let started = Instant::now();
    let index = QpvIndex::build(shapes.into_iter().map(|s| (Millesime::Y2024, s)));
    let build = started.elapsed().as_secs_f64();
    println!("Index construit en {:.0} ms", build * 1000.0);

    let started = Instant::now();
    let inside = index.count_inside(&probe, Millesime::Y2024);
    let ours = started.elapsed().as_secs_f64();
    println!(
        "Passerelle, point → QPV, 1 cœur : {} points en {:.3} s → {} ({} dans un QPV)",
        probe.len(),
        ours,
        per_second(probe.len(), ours),
        inside
    );
    let started = Instant::now();
    // Every answer is used (inside, or nearest found), so none can be optimised away.
    let sample = &probe[..probe.len().min(100_000)];
    let answered = sample
        .iter()
        .filter(|p| match index.lookup(p[0], p[1], Millesime::Y2024) {
            territory::qpv::Lookup::Inside(_) => true,
            territory::qpv::Lookup::Outside { nearest } => nearest.is_some(),
        })
        .count();
    let with_distance = sample.len();
    if answered != with_distance {
        return Err(format!(
            "{} points sur {with_distance} sans réponse",
            with_distance - answered
        ));
    }
    let nearest = started.elapsed().as_secs_f64();
    println!(
        "Passerelle, point → QPV ou QPV le plus proche avec sa distance, 1 cœur : {}",
        per_second(with_distance, nearest)
    );

    let (url, name) = match store::scratch::create_postgres_database_at(postgres_url).await {
        Ok(created) => created,
        Err(e) => {
            println!(
                "PostGIS : indisponible (PostgreSQL injoignable : {e}) ; seul le chiffre de Passerelle est donné."
            );
            return Ok(());
        }
    };
    let outcome = postgis(&url, &geojson, &probe).await;
    store::scratch::drop_postgres_database(postgres_url, &name);
    match outcome {
        Ok((version, count, seconds)) => {
            println!(
                "PostGIS {version} (ST_Intersects, index GiST, une requête ensembliste, 1 cœur) : {} points en {:.3} s → {} ({} dans un QPV)",
                probe.len(),
                seconds,
                per_second(probe.len(), seconds),
                count
            );
            if count as usize != inside {
                println!("ATTENTION : les deux comptes diffèrent ({inside} contre {count}).");
            }
            println!(
                "Rapport : Passerelle est {:.1} fois plus rapide que PostGIS sur le même travail.",
                seconds / ours
            );
        }
        Err(e) => println!(
            "PostGIS : indisponible ({e}) ; seul le chiffre de Passerelle est donné. Installez le paquet Debian postgresql-15-postgis-3 (scripts/bench le fait)."
        ),
    }
    Ok(())
}

async fn postgis(
    url: &str,
    polygons: &[(String, String)],
    points: &[[f64; 2]],
) -> Result<(String, i64, f64), String> {
    let db = store::Db::connect(url, &store::PoolSettings::default())
        .await
        .map_err(|e| e.to_string())?;
    let version = store::postgis::enable(&db).await?;
    let started = Instant::now();
    store::postgis::load(&db, polygons, points)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "PostGIS : chargement et index GiST en {:.1} s (non compté)",
        started.elapsed().as_secs_f64()
    );
    let (count, seconds) = store::postgis::count_points_inside(&db)
        .await
        .map_err(|e| e.to_string())?;
    db.close().await;
    Ok((version, count, seconds))
}

/// The process's peak resident memory so far, in MiB (Linux `VmHWM`).
/// A memory figure of this process from `/proc/self/status` (`VmHWM:` peak, `VmRSS:` now), MiB.
pub(crate) fn memory_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The process's peak resident memory since it started, or since [`reset_peak`].
pub(crate) fn peak_memory_mib() -> Option<f64> {
    memory_mib("VmHWM:")
}

/// Starts a new peak-memory measurement (Linux: writing 5 to clear_refs resets VmHWM).
pub(crate) fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A migrated SQLite database in `dir`, thrown away with it.
pub(crate) async fn scratch_sqlite(dir: &std::path::Path) -> Result<store::Db, String> {
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let db = store::Db::connect(&url, &store::PoolSettings::default())
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    Ok(db)
}

/// `passerelle bench masse`: the mass check pipeline on a large file of coordinates (no
/// geocoding, so no network: what is measured is reading, looking up and writing), with the
/// national synthetic map loaded.
pub async fn mass_check(rows: usize) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("passerelle-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let outcome = mass_check_in(&dir, rows).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn mass_check_in(dir: &std::path::Path, rows: usize) -> Result<(), String> {
    let db = scratch_sqlite(dir).await?;
    let app = app::App::new(db.clone(), app::Settings::default(), None)
        .await
        .map_err(|e| e.to_string())?;
    let shapes = synthetic::national(2024, 1600);
    let points = synthetic::points(11, &shapes, rows);
    let started = Instant::now();
    app::qpv::import(
        &app,
        synthetic::to_geojson(&shapes).as_bytes(),
        Millesime::Y2024,
    )
    .await
    .map_err(crate::describe)?;
    println!(
        "Jeu synthétique national importé (1 600 quartiers, données fictives) en {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut csv = String::with_capacity(rows * 40);
    csv.push_str("id;longitude;latitude\n");
    for (i, p) in points.iter().enumerate() {
        // One row in a hundred is deliberately bad: it must come back flagged.
        if i % 100 == 99 {
            csv.push_str(&format!("{i};inconnue;{}\n", p[1]));
        } else {
            csv.push_str(&format!("{i};{};{}\n", p[0], p[1]));
        }
    }
    let before = peak_memory_mib().unwrap_or(0.0);
    let out = std::fs::File::create(dir.join("resultat.csv")).map_err(|e| e.to_string())?;
    let mut sink = app::qpv_file::CsvSink(
        csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(std::io::BufWriter::new(out)),
    );
    let started = Instant::now();
    let report = app::qpv_file::check_file(
        &app,
        csv.clone().into_bytes(),
        &app::qpv_file::FileCheckInput::default(),
        &mut sink,
    )
    .await
    .map_err(crate::describe)?;
    sink.0.flush().map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let written = std::fs::metadata(dir.join("resultat.csv"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "Vérification en masse : {} lignes ({:.1} Mo) en {:.2} s → {} ; {} en QPV, {} signalées ; fichier produit : {:.1} Mo",
        report.rows,
        csv.len() as f64 / 1e6,
        seconds,
        per_second(report.rows, seconds),
        report.inside,
        report.flagged,
        written as f64 / 1e6
    );
    if let Some(peak) = peak_memory_mib() {
        if peak > before {
            println!(
                "Mémoire : la vérification a porté le pic du processus de {before:.0} à {peak:.0} Mio."
            );
        } else {
            println!(
                "Mémoire : pic du processus {peak:.0} Mio, atteint pendant l'import du jeu national ; la vérification ne l'a pas augmenté."
            );
        }
    }
    db.close().await;
    Ok(())
}

/// `passerelle bench geocodage`: the offline geocoder on a synthetic BAN file of `lines`
/// addresses — import time and peak memory, then throughput and top-1 accuracy on noisy ways
/// of typing `queries` of its addresses.
/// An address as typed, and where the BAN puts it.
type Query = (String, f64, f64);

pub async fn offline_geocoding(lines: usize, queries: usize) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("passerelle-bench-geo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let outcome = offline_geocoding_in(&dir, lines, queries).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn offline_geocoding_in(
    dir: &std::path::Path,
    lines: usize,
    queries: usize,
) -> Result<(), String> {
    let rows = synthetic::ban(42, lines);
    let file = dir.join("adresses-bench.csv");
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_path(&file)
            .map_err(|e| e.to_string())?;
        writer
            .write_record(territory::offline::BAN_HEADER)
            .map_err(|e| e.to_string())?;
        for r in &rows {
            let numero = r.numero.map(|n| n.to_string()).unwrap_or_default();
            writer
                .write_record([
                    r.id.as_str(),
                    "",
                    &numero,
                    &r.rep,
                    &r.nom_voie,
                    &r.code_postal,
                    &r.code_insee,
                    &r.nom_commune,
                    "",
                    "",
                    "0",
                    "0",
                    &r.lon.to_string(),
                    &r.lat.to_string(),
                    "entrée",
                    "",
                    "",
                    "",
                    "",
                    "commune",
                    "commune",
                    "1",
                    "",
                ])
                .map_err(|e| e.to_string())?;
        }
        writer.flush().map_err(|e| e.to_string())?;
    }
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let mut rng = synthetic::Rng::new(7);
    let sample: Vec<Query> = (0..queries)
        .map(|_| {
            let row = &rows[(rng.next_u64() % rows.len() as u64) as usize];
            (synthetic::noisy(&mut rng, row), row.lon, row.lat)
        })
        .collect();
    // The same addresses typed each way, to compare every kind of noise with the clean line.
    let per_kind = (queries / synthetic::Noise::ALL.len()).max(1);
    let picked: Vec<usize> = (0..per_kind)
        .map(|_| (rng.next_u64() % rows.len() as u64) as usize)
        .collect();
    let by_kind: Vec<(synthetic::Noise, Vec<Query>)> = synthetic::Noise::ALL
        .iter()
        .map(|kind| {
            let queries = picked
                .iter()
                .map(|&i| {
                    let row = &rows[i];
                    (
                        synthetic::noisy_with(&mut rng, row, &[*kind]),
                        row.lon,
                        row.lat,
                    )
                })
                .collect();
            (*kind, queries)
        })
        .collect();
    drop(rows);
    let db = scratch_sqlite(dir).await?;
    let settings = app::Settings {
        geocoder: app::geocoding::GeocoderChoice::Offline,
        ..app::Settings::default()
    };
    let app = app::App::new(db.clone(), settings, None)
        .await
        .map_err(|e| e.to_string())?;
    let before = peak_memory_mib().unwrap_or(0.0);
    let started = Instant::now();
    let input = std::fs::File::open(&file).map_err(|e| e.to_string())?;
    let count = app::geocoding::import_ban(&app, input)
        .await
        .map_err(crate::describe)?;
    let import = started.elapsed().as_secs_f64();
    let peak = peak_memory_mib().unwrap_or(0.0);
    println!(
        "BAN synthétique (données fictives) : {count} adresses, fichier de {:.0} Mo, importé et indexé en {:.1} s ; mémoire de pointe {peak:.0} Mio (avant : {before:.0} Mio)",
        size as f64 / 1e6,
        import
    );
    let run = |queries: &[Query]| {
        let queries = queries.to_vec();
        let app = app.clone();
        async move {
            let started = Instant::now();
            let mut right = 0;
            for (query, lon, lat) in &queries {
                if let Ok(Some(found)) = app.geocoder.geocode(query).await
                    && (found.lon - lon).abs() < 1e-9
                    && (found.lat - lat).abs() < 1e-9
                {
                    right += 1;
                }
            }
            (right, started.elapsed().as_secs_f64())
        }
    };
    let (right, seconds) = run(&sample).await;
    println!(
        "Géocodage hors ligne, 1 cœur : {} adresses bruitées (mélange) en {:.2} s → {} ; exactes au premier résultat : {:.2} %",
        sample.len(),
        seconds,
        per_second(sample.len(), seconds),
        100.0 * right as f64 / sample.len() as f64
    );
    println!(
        "Par sorte de bruit, les mêmes {per_kind} adresses (temps rapporté à la ligne propre, même exécution) :"
    );
    let mut clean_seconds = None;
    for (kind, queries) in &by_kind {
        let (right, seconds) = run(queries).await;
        let base = *clean_seconds.get_or_insert(seconds);
        println!(
            "  {:<22} exactes {:6.2} %   {:>8}   ×{:.2} du temps de la ligne propre   ex. « {} »",
            kind.label(),
            100.0 * right as f64 / queries.len() as f64,
            per_second(queries.len(), seconds),
            seconds / base.max(1e-9),
            queries.first().map_or("", |q| q.0.as_str())
        );
    }
    for (query, _, _) in sample.iter().take(5) {
        println!("  exemple : {query}");
    }
    db.close().await;
    Ok(())
}
