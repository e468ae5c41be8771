//! Cohorts: their definition, référents and members' stays (docs/domain.md §11). One open stay
//! per person and cohort, by a unique partial index; the dates' order by a CHECK.

use chrono::{DateTime, NaiveDate, Utc};
use domain::cohort::LeaveReason;
use domain::{CohortId, PersonId, TerritoryId, UserId};

use crate::sql::Sql;
use crate::{Conn, StoreError};

#[derive(Debug, Clone)]
pub struct NewCohort<'a> {
    pub territory: TerritoryId,
    pub name: &'a str,
    /// `domain::cohort::Public` as JSON.
    pub public: &'a str,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub capacity: Option<i64>,
    pub wave: &'a str,
    pub referents: &'a [UserId],
    pub created_by: UserId,
}

pub async fn create(
    c: &mut Conn<'_>,
    k: &NewCohort<'_>,
    now: DateTime<Utc>,
) -> Result<CohortId, StoreError> {
    let mut q = Sql::new(
        "INSERT INTO cohorts (territory_id, name, public, starts_on, ends_on, capacity, wave, created_by, created_at, updated_at) VALUES (",
    );
    q.bind(k.territory)
        .push(", ")
        .bind(k.name)
        .push(", ")
        .bind(k.public)
        .push(", ")
        .bind(k.starts_on)
        .push(", ");
    q.bind_or_null(k.ends_on, "TEXT").push(", ");
    q.bind_or_null(k.capacity, "INTEGER")
        .push(", ")
        .bind(k.wave)
        .push(", ")
        .bind(k.created_by)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(") RETURNING id");
    let id = CohortId(q.fetch_scalar::<i64>(c).await?);
    if !k.referents.is_empty() {
        let mut r = Sql::new("INSERT INTO cohort_referents (cohort_id, user_id) VALUES ");
        r.join(k.referents, ", ", |q, u| {
            q.push("(").bind(id).push(", ").bind(*u).push(")");
        });
        r.execute(c).await?;
    }
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CohortRow {
    #[sqlx(try_from = "i64")]
    pub id: CohortId,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    pub name: String,
    pub public: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub capacity: Option<i32>,
    pub wave: String,
    /// Members now.
    pub current: i64,
    /// Everyone who ever entered.
    pub ever: i64,
    /// `id:name|id:name`.
    pub referents: String,
}

fn cohort_columns(c: &Conn<'_>) -> String {
    format!(
        "k.id, k.territory_id, k.name, k.public, k.starts_on, k.ends_on, k.capacity, k.wave,
         (SELECT COUNT(*) FROM cohort_members m WHERE m.cohort_id = k.id AND m.left_on IS NULL) AS current,
         (SELECT COUNT(DISTINCT m.person_id) FROM cohort_members m WHERE m.cohort_id = k.id) AS ever,
         COALESCE((SELECT {} FROM cohort_referents r JOIN users u ON u.id = r.user_id WHERE r.cohort_id = k.id), '') AS referents
         FROM cohorts k",
        crate::persons::list_agg(c.backend(), "CAST(u.id AS TEXT) || ':' || u.display_name")
    )
}

pub async fn list(c: &mut Conn<'_>, territory: TerritoryId) -> Result<Vec<CohortRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(&cohort_columns(c))
        .push(" WHERE k.territory_id = ")
        .bind(territory)
        .push(" ORDER BY k.starts_on DESC, k.id DESC");
    q.fetch_all(c).await
}

pub async fn get(c: &mut Conn<'_>, id: CohortId) -> Result<Option<CohortRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(&cohort_columns(c)).push(" WHERE k.id = ").bind(id);
    Ok(q.fetch_all(c).await?.into_iter().next())
}

/// One stay of a person in a cohort.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StayRow {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub cohort_id: CohortId,
    pub cohort_name: String,
    #[sqlx(try_from = "i64")]
    pub person_id: PersonId,
    pub entered_on: String,
    pub left_on: Option<String>,
    pub leave_reason: Option<String>,
    pub leave_note: String,
}

impl StayRow {
    pub fn leave_reason(&self) -> Option<LeaveReason> {
        self.leave_reason
            .as_deref()
            .and_then(LeaveReason::from_code)
    }
}

const STAY_COLUMNS: &str =
    "m.id, m.cohort_id, k.name AS cohort_name, m.person_id, m.entered_on, m.left_on,
    m.leave_reason, m.leave_note FROM cohort_members m JOIN cohorts k ON k.id = m.cohort_id";

/// Every stay in a cohort, in order of entry.
pub async fn stays(c: &mut Conn<'_>, cohort: CohortId) -> Result<Vec<StayRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(STAY_COLUMNS)
        .push(" WHERE m.cohort_id = ")
        .bind(cohort)
        .push(" ORDER BY m.entered_on, m.id");
    q.fetch_all(c).await
}

/// Every stay of a person, in any cohort.
pub async fn stays_of_person(
    c: &mut Conn<'_>,
    person: PersonId,
) -> Result<Vec<StayRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(STAY_COLUMNS)
        .push(" WHERE m.person_id = ")
        .bind(person)
        .push(" ORDER BY m.entered_on, m.id");
    q.fetch_all(c).await
}

/// Opens a stay for each person; `Conflict` when one already has an open stay (someone else
/// added them in between: nothing written, the transaction rolls back).
pub async fn enter(
    c: &mut Conn<'_>,
    cohort: CohortId,
    persons: &[PersonId],
    on: NaiveDate,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if persons.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new(
        "INSERT INTO cohort_members (cohort_id, person_id, entered_on, added_by, added_at) VALUES ",
    );
    q.join(persons, ", ", |q, p| {
        q.push("(")
            .bind(cohort)
            .push(", ")
            .bind(*p)
            .push(", ")
            .bind(on)
            .push(", ")
            .bind(by)
            .push(", ")
            .bind(now)
            .push(")");
    });
    q.execute(c).await?;
    Ok(())
}

/// Closes a person's open stay; `false` when there was none.
pub async fn leave(
    c: &mut Conn<'_>,
    cohort: CohortId,
    person: PersonId,
    on: NaiveDate,
    reason: LeaveReason,
    note: &str,
) -> Result<bool, StoreError> {
    let mut q = Sql::new("UPDATE cohort_members SET left_on = ");
    q.bind(on)
        .push(", leave_reason = ")
        .bind(reason.as_str())
        .push(", leave_note = ")
        .bind(note)
        .push(" WHERE cohort_id = ")
        .bind(cohort)
        .push(" AND person_id = ")
        .bind(person)
        .push(" AND left_on IS NULL AND entered_on <= ")
        .bind(on);
    Ok(q.execute(c).await? == 1)
}

/// Closes every open stay of a person (their exit from accompaniment), from `on` or their
/// entry when later.
pub async fn leave_all(
    c: &mut Conn<'_>,
    person: PersonId,
    on: NaiveDate,
    reason: LeaveReason,
) -> Result<u64, StoreError> {
    let mut q = Sql::new("UPDATE cohort_members SET left_on = CASE WHEN entered_on > ");
    q.bind(on)
        .push(" THEN entered_on ELSE ")
        .bind(on)
        .push(" END, leave_reason = ")
        .bind(reason.as_str())
        .push(" WHERE person_id = ")
        .bind(person)
        .push(" AND left_on IS NULL");
    q.execute(c).await
}

/// The progress of some persons, in one query each figure: what the cohort page shows.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ProgressRow {
    pub person_id: i64,
    /// Fields rated 2 or 3 at the first signed diagnostic and 0 or 1 at the last.
    pub lifted: i64,
    /// Fields rated 2 or 3 at the first signed diagnostic.
    pub barriers: i64,
    pub orientations: i64,
    pub entered: i64,
    pub attended: i64,
    pub invited: i64,
    /// The current exit's kind, if any.
    pub exit_kind: Option<String>,
}

pub async fn progress(
    c: &mut Conn<'_>,
    persons: &[PersonId],
) -> Result<Vec<ProgressRow>, StoreError> {
    if persons.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(
        "SELECT p.id AS person_id,
           (SELECT COUNT(*) FROM diagnostic_fields f1 JOIN diagnostic_fields fl ON fl.field = f1.field
              WHERE f1.diagnostic_id = (SELECT d.id FROM diagnostics d WHERE d.person_id = p.id AND d.status = 'signe' ORDER BY d.held_on, d.id LIMIT 1)
                AND fl.diagnostic_id = (SELECT d.id FROM diagnostics d WHERE d.person_id = p.id AND d.status = 'signe' ORDER BY d.held_on DESC, d.id DESC LIMIT 1)
                AND f1.level IN ('2', '3') AND fl.level IN ('0', '1')) AS lifted,
           (SELECT COUNT(*) FROM diagnostic_fields f1
              WHERE f1.diagnostic_id = (SELECT d.id FROM diagnostics d WHERE d.person_id = p.id AND d.status = 'signe' ORDER BY d.held_on, d.id LIMIT 1)
                AND f1.level IN ('2', '3')) AS barriers,
           (SELECT COUNT(*) FROM orientations o WHERE o.person_id = p.id) AS orientations,
           (SELECT COUNT(*) FROM orientations o WHERE o.person_id = p.id AND o.entered_on IS NOT NULL) AS entered,
           (SELECT COUNT(*) FROM action_registrations r WHERE r.person_id = p.id AND r.attendance = 'present') AS attended,
           (SELECT COUNT(*) FROM action_registrations r WHERE r.person_id = p.id) AS invited,
           (SELECT x.kind FROM person_exits x WHERE x.person_id = p.id AND x.returned_on IS NULL ORDER BY x.exited_on DESC, x.id DESC LIMIT 1) AS exit_kind
         FROM persons p WHERE p.id IN ",
    );
    q.bind_list(persons.iter().copied());
    q.fetch_all(c).await
}

/// The persons in the cohort now.
pub async fn open_stays_of(
    c: &mut Conn<'_>,
    cohort: CohortId,
) -> Result<Vec<PersonId>, StoreError> {
    let mut q = Sql::new("SELECT person_id FROM cohort_members WHERE cohort_id = ");
    q.bind(cohort).push(" AND left_on IS NULL");
    let ids: Vec<(i64,)> = q.fetch_all(c).await?;
    Ok(ids.into_iter().map(|(i,)| PersonId(i)).collect())
}

/// Locks a cohort until the transaction ends, so that two people adding members at once cannot
/// exceed its capacity together (SQLite's `BEGIN IMMEDIATE` already holds the write lock).
pub async fn lock(c: &mut Conn<'_>, cohort: CohortId) -> Result<(), StoreError> {
    if let Conn::Postgres(_) = c {
        let mut q = Sql::new("SELECT id FROM cohorts WHERE id = ");
        q.bind(cohort).push(" FOR UPDATE");
        let _: Vec<(i64,)> = q.fetch_all(c).await?;
    }
    Ok(())
}
