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
    let inside = probe
        .iter()
        .filter(|p| index.find(p[0], p[1], Millesime::Y2024).is_some())
        .count();
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
