//! Throw-away PostgreSQL databases, for tests and benchmarks: created on a server given by an
//! administrator URL, dropped (closing any connection left) when done.

use crate::{Db, PoolSettings};

fn admin_settings() -> PoolSettings {
    PoolSettings {
        max_connections: 1,
        ..PoolSettings::default()
    }
}

/// Creates an empty database with a unique name; returns its URL and its name.
pub async fn create_postgres_database_at(admin_url: &str) -> Result<(String, String), String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("passerelle_scratch_{}_{nanos}_{n}", std::process::id());
    let admin = Db::connect(admin_url, &admin_settings())
        .await
        .map_err(|e| e.to_string())?;
    let Db::Postgres(pool) = &admin else {
        return Err("l'adresse d'administration doit être une adresse postgres://".into());
    };
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(pool)
        .await
        .map_err(|e| e.to_string())?;
    admin.close().await;
    let mut url = url::Url::parse(admin_url).map_err(|e| e.to_string())?;
    url.set_path(&name);
    Ok((url.to_string(), name))
}

/// Drops a database made by [`create_postgres_database_at`]. Usable from `Drop`: it runs on
/// a thread of its own with its own runtime.
pub fn drop_postgres_database(admin_url: &str, name: &str) {
    let admin_url = admin_url.to_string();
    let name = name.to_string();
    let handle = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if let Ok(Db::Postgres(pool)) = Db::connect(&admin_url, &admin_settings()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        });
    });
    let _ = handle.join();
}

/// Refreshes the planner's statistics after a bulk load (what PostgreSQL's autovacuum does
/// after a while, and `PRAGMA optimize` on SQLite), so that a benchmark measures the plans a
/// running deployment gets.
pub async fn analyze(db: &crate::Db) -> Result<(), crate::StoreError> {
    let mut pooled = db.acquire().await?;
    let c = &mut pooled.conn();
    crate::exec!(c, |c| sqlx::query("ANALYZE"))?;
    Ok(())
}
