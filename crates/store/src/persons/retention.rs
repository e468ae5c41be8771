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

/// Deletes one file at its person's request, with everything attached to it and the duplicates
/// merged into it; the audit trail, which refers to it by number only, stays.
pub async fn erase(c: &mut Conn<'_>, person: domain::PersonId) -> Result<u64, StoreError> {
    let merged = exec!(c, |c| sqlx::query(
        "DELETE FROM persons WHERE merged_into = $1"
    )
    .bind(person.0))?;
    let erased = exec!(c, |c| sqlx::query("DELETE FROM persons WHERE id = $1")
        .bind(person.0))?;
    Ok(merged + erased)
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
