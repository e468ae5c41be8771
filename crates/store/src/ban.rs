//! BAN addresses imported for offline geocoding.

use territory::offline::BanRow;

use crate::{Conn, StoreError, exec, run};

/// Rows written per statement: 9 parameters each stays far below both backends' limits.
pub const BATCH: usize = 500;

/// Inserts or replaces a batch of addresses, keyed by their BAN identifier.
pub async fn upsert(c: &mut Conn<'_>, rows: &[BanRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            let p = i * 9;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 8,
                p + 9
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO ban_addresses (id, numero, rep, nom_voie, code_postal, code_insee, nom_commune, lon, lat) VALUES {}
         ON CONFLICT (id) DO UPDATE SET numero = excluded.numero, rep = excluded.rep, nom_voie = excluded.nom_voie,
           code_postal = excluded.code_postal, code_insee = excluded.code_insee, nom_commune = excluded.nom_commune,
           lon = excluded.lon, lat = excluded.lat",
        values.join(", ")
    );
    macro_rules! bind_all {
        ($query:expr) => {{
            let mut q = $query;
            for r in rows {
                q = q
                    .bind(&r.id)
                    .bind(r.numero.and_then(|n| i32::try_from(n).ok()))
                    .bind(&r.rep)
                    .bind(&r.nom_voie)
                    .bind(&r.code_postal)
                    .bind(&r.code_insee)
                    .bind(&r.nom_commune)
                    .bind(r.lon)
                    .bind(r.lat);
            }
            q
        }};
    }
    exec!(c, |c| bind_all!(sqlx::query(&sql)))?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Stored {
    id: String,
    numero: Option<i32>,
    rep: String,
    nom_voie: String,
    code_postal: String,
    code_insee: String,
    nom_commune: String,
    lon: f64,
    lat: f64,
}

/// Every imported address, to build the offline geocoder.
pub async fn all(c: &mut Conn<'_>) -> Result<Vec<BanRow>, StoreError> {
    let sql = "SELECT id, numero, rep, nom_voie, code_postal, code_insee, nom_commune, lon, lat FROM ban_addresses ORDER BY code_insee, nom_voie, numero";
    let rows: Vec<Stored> = run!(c, |c| sqlx::query_as(sql).fetch_all(&mut **c).await)?;
    Ok(rows
        .into_iter()
        .map(|r| BanRow {
            id: r.id,
            numero: r.numero.and_then(|n| u32::try_from(n).ok()),
            rep: r.rep,
            nom_voie: r.nom_voie,
            code_postal: r.code_postal,
            code_insee: r.code_insee,
            nom_commune: r.nom_commune,
            lon: r.lon,
            lat: r.lat,
        })
        .collect())
}

pub async fn count(c: &mut Conn<'_>) -> Result<i64, StoreError> {
    Ok(run!(c, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM ban_addresses"
    )
    .fetch_one(&mut **c)
    .await)?)
}
