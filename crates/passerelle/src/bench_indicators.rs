//! `passerelle bench indicateurs`: the dashboards at national scale (docs/domain.md §5). The
//! national generator (`store::scale`) fills a throwaway PostgreSQL database — 84 territories
//! and 500 000 persons by default — and, on SQLite, one territory's share of it; then the
//! national dashboard and a territory's are computed at the use case (every table, masked and
//! protected for secrecy) — counted afresh, as coordinators get it, and from the day's counts
//! (`indicator_snapshots`), as pilots and the national level are served —, each printed beside
//! a plain count over the same persons measured in the same run on the same database.

use std::time::Instant;

use chrono::Duration;

use crate::bench_orientations::{e, measure};

struct Figures {
    national: Option<((f64, f64), (f64, f64))>,
    territory: ((f64, f64), (f64, f64)),
    count_all: (f64, f64),
    count_one: (f64, f64),
}

async fn run_on(
    label: &str,
    url: &str,
    territories: usize,
    persons: usize,
    national: bool,
) -> Result<Figures, String> {
    let db = store::Db::connect(url, &store::PoolSettings::default())
        .await
        .map_err(e)?;
    db.migrate().await.map_err(e)?;
    let app = app::App::new(db.clone(), app::Settings::default(), None)
        .await
        .map_err(e)?;
    let today = app.today();
    let started = Instant::now();
    let mut tx = db.begin().await.map_err(e)?;
    let g = store::scale::generate(&mut tx.conn(), territories, persons, today, app.now())
        .await
        .map_err(e)?
        .ok_or("des territoires générés sont déjà là")?;
    tx.commit().await.map_err(e)?;
    let mut pooled = db.acquire().await.map_err(e)?;
    store::scale::settle(&mut pooled.conn()).await.map_err(e)?;
    drop(pooled);
    println!(
        "{label} : {} territoires, {} personnes, {} diagnostics, {} orientations, {} sorties, {} membres de cohortes générés en {:.1} s",
        g.territories,
        g.persons,
        g.diagnostics,
        g.orientations,
        g.exits,
        g.cohort_members,
        started.elapsed().as_secs_f64()
    );
    let mut pooled = db.acquire().await.map_err(e)?;
    let first = store::territories::by_slug(&mut pooled.conn(), "national-1")
        .await
        .map_err(e)?
        .ok_or("territoire national-1 absent")?;
    drop(pooled);
    let (from, to) = (today - Duration::days(365), today);
    let reach = |r: app::indicators::Reach| {
        let app = &app;
        async move {
            app::indicators::compute(app, r, "mesure".into(), from, to)
                .await
                .map(|_| ())
                .map_err(crate::describe)
        }
    };
    let count = |territory: Option<domain::TerritoryId>| {
        let db = &db;
        async move {
            let mut q =
                store::sql::Sql::new("SELECT COUNT(*) FROM persons p WHERE p.merged_into IS NULL");
            if let Some(t) = territory {
                q.push(" AND p.territory_id = ").bind(t);
            }
            let mut pooled = db.acquire().await.map_err(e)?;
            let _: i64 = q.fetch_scalar(&mut pooled.conn()).await.map_err(e)?;
            Ok(())
        }
    };
    // What a reader of aggregates is served: the day's counts, masked and laid out again.
    let served = |r: app::indicators::Reach| {
        let app = &app;
        async move {
            let (counts, _) = app::indicators::counts_of_the_day(app, &r, from, to)
                .await
                .map_err(crate::describe)?;
            app::indicators::build(r, "mesure".into(), (from, to), counts, 5);
            Ok(())
        }
    };
    let national = if national {
        Some((
            measure(5, || reach(app::indicators::Reach::National)).await?,
            measure(5, || served(app::indicators::Reach::National)).await?,
        ))
    } else {
        None
    };
    let one = app::indicators::Reach::Territory(first.id);
    Ok(Figures {
        national,
        territory: (
            measure(5, || reach(one.clone())).await?,
            measure(5, || served(one.clone())).await?,
        ),
        count_all: measure(5, || count(None)).await?,
        count_one: measure(5, || count(Some(first.id))).await?,
    })
}

fn print(label: &str, f: &Figures) {
    let line = |what: &str, (median, slowest): (f64, f64), (base, _): (f64, f64)| {
        println!(
            "  {what:<34} médiane {median:>8.1} ms, plus lent {slowest:>8.1} ms — {:>6.1} × le comptage simple ({base:.2} ms)",
            median / base.max(0.001)
        );
    };
    println!("{label} (tableau de bord complet sur 12 mois, secret statistique compris) :");
    if let Some((fresh, served)) = f.national {
        line("France entière, recompté", fresh, f.count_all);
        line("France entière, comptes du jour", served, f.count_all);
    }
    line("Un territoire, recompté", f.territory.0, f.count_one);
    line("Un territoire, comptes du jour", f.territory.1, f.count_one);
}

pub async fn dashboards(
    territories: usize,
    persons: usize,
    postgres_url: &str,
) -> Result<(), String> {
    let (url, name) = store::scratch::create_postgres_database_at(postgres_url).await?;
    let pg = run_on("PostgreSQL", &url, territories, persons, true).await;
    store::scratch::drop_postgres_database(postgres_url, &name);
    let pg = pg?;
    let dir = std::env::temp_dir().join(format!(
        "passerelle-bench-indicateurs-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(e)?;
    let share = (persons / territories.max(1)).max(1);
    let sqlite = run_on(
        "SQLite",
        &format!("sqlite://{}?mode=rwc", dir.join("indicateurs.db").display()),
        1,
        share,
        false,
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    let sqlite = sqlite?;
    print("PostgreSQL", &pg);
    print("SQLite (un territoire seul)", &sqlite);
    Ok(())
}
