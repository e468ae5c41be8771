//! QPV of each map: names, communes and contours, as imported from the official files.

use chrono::{DateTime, Utc};
use domain::{InseeCode, Millesime, QpvCode};

use crate::{Conn, OptionalExt, StoreError, exec, run};

/// What an upsert did to one QPV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Existing {
    name: String,
    communes_label: String,
    geometry: Option<String>,
}

async fn existing(
    c: &mut Conn<'_>,
    millesime: Millesime,
    code: &QpvCode,
) -> Result<Option<Existing>, StoreError> {
    let sql =
        "SELECT name, communes_label, geometry FROM qpv_zones WHERE millesime = $1 AND code = $2";
    run!(c, |c| sqlx::query_as(sql)
        .bind(millesime.year())
        .bind(code.as_str())
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Stores a QPV's contour (from the contours file), keeping what the list file gave.
pub async fn upsert_contour(
    c: &mut Conn<'_>,
    millesime: Millesime,
    code: &QpvCode,
    name: &str,
    communes_label: &str,
    geometry: &str,
    now: DateTime<Utc>,
) -> Result<Change, StoreError> {
    match existing(c, millesime, code).await? {
        Some(e)
            if e.geometry.as_deref() == Some(geometry)
                && (name.is_empty() || e.name == name)
                && (communes_label.is_empty() || e.communes_label == communes_label) =>
        {
            Ok(Change::Unchanged)
        }
        Some(e) => {
            let name = if name.is_empty() {
                e.name
            } else {
                name.to_string()
            };
            let label = if communes_label.is_empty() {
                e.communes_label
            } else {
                communes_label.to_string()
            };
            let sql = "UPDATE qpv_zones SET name = $3, communes_label = $4, geometry = $5, updated_at = $6 WHERE millesime = $1 AND code = $2";
            exec!(c, |c| sqlx::query(sql)
                .bind(millesime.year())
                .bind(code.as_str())
                .bind(&name)
                .bind(&label)
                .bind(geometry)
                .bind(now))?;
            Ok(Change::Updated)
        }
        None => {
            let sql = "INSERT INTO qpv_zones (millesime, code, name, communes_label, geometry, updated_at) VALUES ($1, $2, $3, $4, $5, $6)";
            exec!(c, |c| sqlx::query(sql)
                .bind(millesime.year())
                .bind(code.as_str())
                .bind(name)
                .bind(communes_label)
                .bind(geometry)
                .bind(now))?;
            Ok(Change::Created)
        }
    }
}

/// Stores a QPV's name and communes (from the list file), keeping its contour.
pub async fn upsert_listing(
    c: &mut Conn<'_>,
    millesime: Millesime,
    code: &QpvCode,
    name: &str,
    communes: &[InseeCode],
    now: DateTime<Utc>,
) -> Result<Change, StoreError> {
    let sql = "SELECT insee_code FROM qpv_communes WHERE millesime = $1 AND code = $2 ORDER BY insee_code";
    let mut stored: Vec<String> = run!(c, |c| sqlx::query_scalar(sql)
        .bind(millesime.year())
        .bind(code.as_str())
        .fetch_all(&mut **c)
        .await)?;
    let mut wanted: Vec<String> = communes.iter().map(|c| c.as_str().to_string()).collect();
    wanted.sort();
    wanted.dedup();
    stored.sort();
    let change = match existing(c, millesime, code).await? {
        Some(e) if e.name == name && stored == wanted => return Ok(Change::Unchanged),
        Some(_) => {
            let sql = "UPDATE qpv_zones SET name = $3, updated_at = $4 WHERE millesime = $1 AND code = $2";
            exec!(c, |c| sqlx::query(sql)
                .bind(millesime.year())
                .bind(code.as_str())
                .bind(name)
                .bind(now))?;
            Change::Updated
        }
        None => {
            let sql =
                "INSERT INTO qpv_zones (millesime, code, name, updated_at) VALUES ($1, $2, $3, $4)";
            exec!(c, |c| sqlx::query(sql)
                .bind(millesime.year())
                .bind(code.as_str())
                .bind(name)
                .bind(now))?;
            Change::Created
        }
    };
    let delete = "DELETE FROM qpv_communes WHERE millesime = $1 AND code = $2";
    exec!(c, |c| sqlx::query(delete)
        .bind(millesime.year())
        .bind(code.as_str()))?;
    let insert = "INSERT INTO qpv_communes (millesime, code, insee_code) VALUES ($1, $2, $3)";
    for insee in &wanted {
        exec!(c, |c| sqlx::query(insert)
            .bind(millesime.year())
            .bind(code.as_str())
            .bind(insee))?;
    }
    Ok(change)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredContour {
    pub millesime: i32,
    pub code: String,
    pub name: String,
    pub geometry: String,
}

/// Every stored contour, to build the in-memory index.
pub async fn contours(c: &mut Conn<'_>) -> Result<Vec<StoredContour>, StoreError> {
    let sql = "SELECT millesime, code, name, geometry FROM qpv_zones WHERE geometry IS NOT NULL ORDER BY millesime, code";
    Ok(run!(c, |c| sqlx::query_as(sql).fetch_all(&mut **c).await)?)
}

/// How many QPV each map has, with and without contour.
pub async fn counts(c: &mut Conn<'_>) -> Result<Vec<(i32, i64, i64)>, StoreError> {
    let sql = "SELECT millesime, COUNT(*), COUNT(geometry) FROM qpv_zones GROUP BY millesime ORDER BY millesime";
    Ok(run!(c, |c| sqlx::query_as(sql).fetch_all(&mut **c).await)?)
}

/// The QPVs of a map in a territory's communes, by name: (code, name).
pub async fn of_territory(
    c: &mut Conn<'_>,
    territory: domain::TerritoryId,
    millesime: Millesime,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut q = crate::sql::Sql::new(
        "SELECT DISTINCT z.code, z.name FROM qpv_zones z
         JOIN qpv_communes qc ON qc.millesime = z.millesime AND qc.code = z.code
         JOIN territory_communes tc ON tc.insee_code = qc.insee_code
         WHERE tc.territory_id = ",
    );
    q.bind(territory)
        .push(" AND z.millesime = ")
        .bind(i64::from(millesime.year()))
        .push(" ORDER BY z.name, z.code");
    q.fetch_all(c).await
}
