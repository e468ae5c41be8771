//! Benchmark support: the same « which points are in a QPV » question answered by PostGIS, as
//! one set-based query over GiST indexes, to measure the in-memory index against it.

use std::time::Instant;

use crate::{Db, StoreError};

fn pool(db: &Db) -> Result<&sqlx::PgPool, StoreError> {
    match db {
        Db::Postgres(pool) => Ok(pool),
        Db::Sqlite(_) => Err(StoreError::Database(sqlx::Error::Configuration(
            "PostGIS needs PostgreSQL".into(),
        ))),
    }
}

/// Enables PostGIS in this database; its version, or the reason it cannot be had.
pub async fn enable(db: &Db) -> Result<String, String> {
    let pool = pool(db).map_err(|e| e.to_string())?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis")
        .execute(pool)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query_scalar("SELECT postgis_lib_version()")
        .fetch_one(pool)
        .await
        .map_err(|e| e.to_string())
}

/// Loads polygons (code, GeoJSON geometry) and points, then builds GiST indexes.
pub async fn load(
    db: &Db,
    polygons: &[(String, String)],
    points: &[[f64; 2]],
) -> Result<(), StoreError> {
    let pool = pool(db)?;
    sqlx::query("CREATE TABLE bench_qpv (code TEXT PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)").execute(pool).await?;
    sqlx::query(
        "CREATE TABLE bench_points (id BIGINT PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)",
    )
    .execute(pool)
    .await?;
    let mut tx = pool.begin().await?;
    for (code, geometry) in polygons {
        sqlx::query("INSERT INTO bench_qpv (code, geom) VALUES ($1, ST_SetSRID(ST_GeomFromGeoJSON($2), 4326))")
            .bind(code)
            .bind(geometry)
            .execute(&mut *tx)
            .await?;
    }
    for (chunk_index, chunk) in points.chunks(100_000).enumerate() {
        let xs: Vec<f64> = chunk.iter().map(|p| p[0]).collect();
        let ys: Vec<f64> = chunk.iter().map(|p| p[1]).collect();
        sqlx::query(
            "INSERT INTO bench_points (id, geom)
             SELECT $3 + t.i, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326)
             FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS t(x, y, i)",
        )
        .bind(&xs)
        .bind(&ys)
        .bind((chunk_index * 100_000) as i64)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    sqlx::query("CREATE INDEX bench_qpv_geom ON bench_qpv USING GIST (geom)")
        .execute(pool)
        .await?;
    sqlx::query("CREATE INDEX bench_points_geom ON bench_points USING GIST (geom)")
        .execute(pool)
        .await?;
    sqlx::query("ANALYZE bench_qpv").execute(pool).await?;
    sqlx::query("ANALYZE bench_points").execute(pool).await?;
    Ok(())
}

/// Counts the points inside a QPV (boundary included, like the index) with one query on one
/// core; returns the count and the seconds it took.
pub async fn count_points_inside(db: &Db) -> Result<(i64, f64), StoreError> {
    let pool = pool(db)?;
    let mut conn = pool.acquire().await?;
    sqlx::query("SET max_parallel_workers_per_gather = 0")
        .execute(&mut *conn)
        .await?;
    let started = Instant::now();
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT p.id) FROM bench_points p JOIN bench_qpv q ON ST_Intersects(q.geom, p.geom)",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((count, started.elapsed().as_secs_f64()))
}
