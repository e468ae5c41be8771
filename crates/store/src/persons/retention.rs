//! Retention: intermediate archive, then deletion.

use chrono::NaiveDate;

use crate::sql::iso;
use crate::{Conn, StoreError, exec};

/// Archives the files whose last contact (or repérage) is before `before`; returns how many.
pub async fn archive_silent(
    c: &mut Conn<'_>,
    before: NaiveDate,
    on: NaiveDate,
) -> Result<u64, StoreError> {
    Ok(exec!(c, |c| {
        sqlx::query(
        "UPDATE persons SET archived_on = $2 WHERE archived_on IS NULL AND COALESCE(last_contact_on, met_on) < $1"
    )
    .bind(iso(before))
    .bind(iso(on))
    })?)
}

/// Deletes the files whose last contact is before `before`, with everything attached to them
/// (group, consents, journal, health data) and the duplicates merged into them.
pub async fn delete_expired(c: &mut Conn<'_>, before: NaiveDate) -> Result<u64, StoreError> {
    let merged = exec!(c, |c| {
        sqlx::query(
        "DELETE FROM persons WHERE merged_into IN (SELECT id FROM persons WHERE COALESCE(last_contact_on, met_on) < $1)"
    )
    .bind(iso(before))
    })?;
    let expired = exec!(c, |c| sqlx::query(
        "DELETE FROM persons WHERE COALESCE(last_contact_on, met_on) < $1"
    )
    .bind(iso(before)))?;
    Ok(merged + expired)
}
