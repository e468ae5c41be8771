//! The files a bulk import created: each keeps the key of the row it came from and a digest
//! of that row as last imported (docs/imports.md).

use chrono::NaiveDate;
use domain::{PersonId, TerritoryId};

use crate::sql::{Sql, iso};
use crate::{Conn, StoreError};

/// A file some row was imported into.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Imported {
    pub import_key: String,
    /// The file the row lives in now: the one it was imported into, or, when that one was
    /// merged into another, the file it was merged into.
    #[sqlx(try_from = "i64")]
    pub id: PersonId,
    /// The file that keeps the key (and the digest): the one the row was imported into.
    #[sqlx(try_from = "i64")]
    pub holder: PersonId,
    pub import_digest: Option<String>,
}

/// The files of these import keys in a territory (ids and digests only).
pub async fn imported(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    keys: &[String],
) -> Result<Vec<Imported>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(
        "SELECT import_key, COALESCE(merged_into, id) AS id, id AS holder, import_digest FROM persons WHERE territory_id = ",
    );
    q.bind(territory)
        .push(" AND import_key IN ")
        .bind_list(keys.iter().map(String::as_str));
    q.fetch_all(c).await
}

/// Ties a file to the row it was imported from; the birth date the row gives is kept.
pub async fn mark_imported(
    c: &mut Conn<'_>,
    id: PersonId,
    key: &str,
    digest: &str,
    birth_date: Option<NaiveDate>,
) -> Result<(), StoreError> {
    let mut q = Sql::new("UPDATE persons SET import_key = ");
    q.bind(key).push(", import_digest = ").bind(digest);
    if let Some(d) = birth_date {
        q.push(", birth_date = ").bind(iso(d));
    }
    q.push(" WHERE id = ").bind(id);
    q.execute(c).await?;
    Ok(())
}

/// After a bulk import, PostgreSQL's planner statistics are brought up to date at once: until
/// autovacuum does it, a list whose need-to-know predicate meets 100 000 new rows is planned as
/// if they were not there (seconds instead of milliseconds, measured by
/// `passerelle bench import-personnes`). SQLite plans without statistics: nothing to do.
pub async fn refresh_statistics(c: &mut Conn<'_>) -> Result<(), StoreError> {
    if let Conn::Postgres(c) = c {
        crate::queries::tick();
        sqlx::query("ANALYZE persons, person_members, person_needs")
            .execute(&mut **c)
            .await?;
    }
    Ok(())
}
