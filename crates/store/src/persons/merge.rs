//! Merging duplicates.

use chrono::{DateTime, Utc};
use domain::PersonId;

use crate::{Conn, StoreError, exec};

/// Moves everything of `from` onto `into` (group, consents, journal, health when `into` has
/// none, orientations, diagnostics and plan, exits and their checks, cohort stays, action
/// registrations, employer engagements), keeps the earliest funnel dates, and marks `from` as
/// merged: it leaves every list.
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
        "plan_objectives",
        "plan_actions",
        "person_exits",
        "follow_up_checks",
        "employer_engagements",
    ] {
        let sql = format!("UPDATE {table} SET person_id = $1 WHERE person_id = $2");
        exec!(c, |c| sqlx::query(&sql).bind(into.0).bind(from.0))?;
    }
    // Signed diagnostics move; a draft too, unless `into` has one of its own (one draft per
    // person): then the duplicate's draft stays with the merged-away file, still in the history.
    exec!(c, |c| {
        sqlx::query(
        "UPDATE diagnostics SET person_id = $1 WHERE person_id = $2
           AND (status <> 'brouillon' OR NOT EXISTS (SELECT 1 FROM diagnostics d WHERE d.person_id = $1 AND d.status = 'brouillon'))"
    )
    .bind(into.0)
    .bind(from.0)
    })?;
    // Cohort stays: one open stay per cohort — when both are in a cohort now, `into`'s stay
    // keeps the earlier entry and the duplicate's open stay goes; every other stay moves.
    exec!(c, |c| {
        sqlx::query(
        "UPDATE cohort_members SET entered_on = (SELECT MIN(m.entered_on) FROM cohort_members m
             WHERE m.cohort_id = cohort_members.cohort_id AND m.person_id IN ($1, $2) AND m.left_on IS NULL)
         WHERE person_id = $1 AND left_on IS NULL
           AND EXISTS (SELECT 1 FROM cohort_members m WHERE m.cohort_id = cohort_members.cohort_id AND m.person_id = $2 AND m.left_on IS NULL)"
    )
    .bind(into.0)
    .bind(from.0)
    })?;
    exec!(c, |c| {
        sqlx::query(
        "DELETE FROM cohort_members WHERE person_id = $2 AND left_on IS NULL
           AND EXISTS (SELECT 1 FROM cohort_members m WHERE m.cohort_id = cohort_members.cohort_id AND m.person_id = $1 AND m.left_on IS NULL)"
    )
    .bind(into.0)
    .bind(from.0)
    })?;
    exec!(c, |c| sqlx::query(
        "UPDATE cohort_members SET person_id = $1 WHERE person_id = $2"
    )
    .bind(into.0)
    .bind(from.0))?;
    // Registrations: one per action — `into`'s stays where both were invited.
    exec!(c, |c| {
        sqlx::query(
        "UPDATE action_registrations SET person_id = $1 WHERE person_id = $2
           AND NOT EXISTS (SELECT 1 FROM action_registrations r WHERE r.action_id = action_registrations.action_id AND r.person_id = $1)"
    )
    .bind(into.0)
    .bind(from.0)
    })?;
    exec!(c, |c| sqlx::query(
        "DELETE FROM action_registrations WHERE person_id = $1"
    )
    .bind(from.0))?;
    // A situation reviewed in a meeting moves, unless `into` was reviewed there too.
    exec!(c, |c| {
        sqlx::query(
        "UPDATE meeting_cases SET person_id = $1 WHERE person_id = $2
           AND NOT EXISTS (SELECT 1 FROM meeting_cases k WHERE k.meeting_id = meeting_cases.meeting_id AND k.person_id = $1)"
    )
    .bind(into.0)
    .bind(from.0)
    })?;
    exec!(c, |c| sqlx::query(
        "DELETE FROM meeting_cases WHERE person_id = $1"
    )
    .bind(from.0))?;
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
