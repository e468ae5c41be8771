//! Merging duplicates.

use chrono::{DateTime, Utc};
use domain::PersonId;

use crate::{Conn, StoreError, exec};

/// Moves everything of `from` onto `into` (group, consents, journal, health when `into` has
/// none), keeps the earliest funnel dates, and marks `from` as merged: it leaves every list.
pub async fn merge(
    c: &mut Conn<'_>,
    into: PersonId,
    from: PersonId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "INSERT INTO person_needs (person_id, field) SELECT $1, field FROM person_needs WHERE person_id = $2
         ON CONFLICT (person_id, field) DO NOTHING"
    )
    .bind(into.0)
    .bind(from.0)
    })?;
    for table in [
        "person_members",
        "person_consents",
        "person_journal",
        "orientations",
    ] {
        let sql = format!("UPDATE {table} SET person_id = $1 WHERE person_id = $2");
        exec!(c, |c| sqlx::query(&sql).bind(into.0).bind(from.0))?;
    }
    exec!(c, |c| {
        sqlx::query(
        "UPDATE person_health SET person_id = $1 WHERE person_id = $2 AND NOT EXISTS (SELECT 1 FROM person_health h WHERE h.person_id = $1)"
    )
    .bind(into.0)
    .bind(from.0)
    })?;
    exec!(c, |c| sqlx::query(
        "UPDATE persons SET
           met_on = (SELECT MIN(x.met_on) FROM persons x WHERE x.id IN ($1, $2)),
           contacted_on = (SELECT MIN(x.contacted_on) FROM persons x WHERE x.id IN ($1, $2)),
           accompanied_on = (SELECT MIN(x.accompanied_on) FROM persons x WHERE x.id IN ($1, $2)),
           last_contact_on = (SELECT MAX(x.last_contact_on) FROM persons x WHERE x.id IN ($1, $2)),
           phone = COALESCE(phone, (SELECT x.phone FROM persons x WHERE x.id = $2)),
           email = COALESCE(email, (SELECT x.email FROM persons x WHERE x.id = $2)),
           birth_date = COALESCE(birth_date, (SELECT x.birth_date FROM persons x WHERE x.id = $2)),
           updated_at = $3
         WHERE id = $1"
    )
    .bind(into.0)
    .bind(from.0)
    .bind(now))?;
    exec!(c, |c| sqlx::query(
        "UPDATE persons SET merged_into = $1, updated_at = $3 WHERE id = $2"
    )
    .bind(into.0)
    .bind(from.0)
    .bind(now))?;
    Ok(())
}
