//! Exits and the follow-up checks after them (docs/domain.md §11). Recording an exit writes the
//! exit, its three checks (3, 6 and 12 months) and the person's status together; a return into
//! accompaniment closes the exit and cancels the checks still to do.

use chrono::{DateTime, NaiveDate, Utc};
use domain::exit::{CHECK_MONTHS, CheckStatus, ExitKind, Situation, check_due};
use domain::{CheckId, EmployerId, ExitId, PersonId, TerritoryId, UserId};

use crate::sql::Sql;
use crate::{Conn, StoreError};

#[derive(Debug, Clone)]
pub struct NewExit<'a> {
    pub person: PersonId,
    pub territory: TerritoryId,
    pub exited_on: NaiveDate,
    pub kind: ExitKind,
    pub employer: Option<EmployerId>,
    pub detail: &'a str,
    pub recorded_by: UserId,
}

/// Writes the exit and schedules its checks; the caller moves the person to « sorti ».
pub async fn create(
    c: &mut Conn<'_>,
    e: &NewExit<'_>,
    now: DateTime<Utc>,
) -> Result<ExitId, StoreError> {
    let mut q = Sql::new(
        "INSERT INTO person_exits (person_id, territory_id, exited_on, kind, employer_id, detail, recorded_by, recorded_at) VALUES (",
    );
    q.bind(e.person)
        .push(", ")
        .bind(e.territory)
        .push(", ")
        .bind(e.exited_on)
        .push(", ")
        .bind(e.kind.as_str())
        .push(", ");
    q.bind_or_null(e.employer, "BIGINT")
        .push(", ")
        .bind(e.detail)
        .push(", ")
        .bind(e.recorded_by)
        .push(", ")
        .bind(now)
        .push(") RETURNING id");
    let id = ExitId(q.fetch_scalar::<i64>(c).await?);
    let mut checks = Sql::new(
        "INSERT INTO follow_up_checks (exit_id, person_id, territory_id, months, due_on, status) VALUES ",
    );
    checks.join(&CHECK_MONTHS, ", ", |q, months| {
        q.push("(")
            .bind(id)
            .push(", ")
            .bind(e.person)
            .push(", ")
            .bind(e.territory)
            .push(", ")
            .bind(i64::from(*months))
            .push(", ")
            .bind(check_due(e.exited_on, *months))
            .push(", ")
            .bind(CheckStatus::AFaire.as_str())
            .push(")");
    });
    checks.execute(c).await?;
    Ok(id)
}

/// The person came back into accompaniment on `on`: their open exit is closed and its checks
/// still to do are cancelled (those done stay). How many checks were cancelled.
pub async fn returned(
    c: &mut Conn<'_>,
    person: PersonId,
    on: NaiveDate,
) -> Result<u64, StoreError> {
    let mut q = Sql::new("UPDATE follow_up_checks SET status = ");
    q.bind(CheckStatus::Annule.as_str())
        .push(" WHERE status = ")
        .bind(CheckStatus::AFaire.as_str())
        .push(" AND exit_id IN (SELECT id FROM person_exits WHERE person_id = ")
        .bind(person)
        .push(" AND returned_on IS NULL)");
    let cancelled = q.execute(c).await?;
    let mut q = Sql::new("UPDATE person_exits SET returned_on = ");
    q.bind(on)
        .push(" WHERE person_id = ")
        .bind(person)
        .push(" AND returned_on IS NULL");
    q.execute(c).await?;
    Ok(cancelled)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExitRow {
    #[sqlx(try_from = "i64")]
    pub id: ExitId,
    #[sqlx(try_from = "i64")]
    pub person_id: PersonId,
    pub exited_on: String,
    #[sqlx(try_from = "String")]
    pub kind: ExitKind,
    pub employer_id: Option<i64>,
    pub employer_name: Option<String>,
    pub detail: String,
    pub recorded_by_name: Option<String>,
    pub returned_on: Option<String>,
}

/// A person's exits, oldest first.
pub async fn of_person(c: &mut Conn<'_>, person: PersonId) -> Result<Vec<ExitRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT x.id, x.person_id, x.exited_on, x.kind, x.employer_id, e.name AS employer_name, x.detail,
           u.display_name AS recorded_by_name, x.returned_on
         FROM person_exits x LEFT JOIN employers e ON e.id = x.employer_id
         LEFT JOIN users u ON u.id = x.recorded_by WHERE x.person_id = ",
    );
    q.bind(person).push(" ORDER BY x.exited_on, x.id");
    q.fetch_all(c).await
}

/// One follow-up check, with what the pages show of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CheckRow {
    #[sqlx(try_from = "i64")]
    pub id: CheckId,
    #[sqlx(try_from = "i64")]
    pub exit_id: ExitId,
    #[sqlx(try_from = "i64")]
    pub person_id: PersonId,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    pub months: i32,
    pub due_on: String,
    #[sqlx(try_from = "String")]
    pub status: CheckStatus,
    pub situation: Option<String>,
    pub employer_id: Option<i64>,
    pub employer_name: Option<String>,
    pub note: String,
    pub done_on: Option<String>,
    pub done_by_name: Option<String>,
}

impl CheckRow {
    pub fn situation(&self) -> Option<Situation> {
        self.situation.as_deref().and_then(Situation::from_code)
    }
}

const CHECK_COLUMNS: &str = "k.id, k.exit_id, k.person_id, k.territory_id, k.months, k.due_on, k.status,
    k.situation, k.employer_id, e.name AS employer_name, k.note, k.done_on, u.display_name AS done_by_name
    FROM follow_up_checks k LEFT JOIN employers e ON e.id = k.employer_id
    LEFT JOIN users u ON u.id = k.done_by";

pub async fn checks_of_person(
    c: &mut Conn<'_>,
    person: PersonId,
) -> Result<Vec<CheckRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(CHECK_COLUMNS)
        .push(" WHERE k.person_id = ")
        .bind(person)
        .push(" ORDER BY k.exit_id, k.months");
    q.fetch_all(c).await
}

pub async fn check(c: &mut Conn<'_>, id: CheckId) -> Result<Option<CheckRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(CHECK_COLUMNS).push(" WHERE k.id = ").bind(id);
    Ok(q.fetch_all(c).await?.into_iter().next())
}

#[derive(Debug, Clone)]
pub struct CheckAnswer<'a> {
    pub id: CheckId,
    pub situation: Situation,
    pub employer: Option<EmployerId>,
    pub note: &'a str,
    pub done_on: NaiveDate,
    pub by: UserId,
}

/// Records a check's answer, if it is still to do; `false` when it is not (already answered by
/// someone else, or cancelled by a return).
pub async fn answer(
    c: &mut Conn<'_>,
    a: &CheckAnswer<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Sql::new("UPDATE follow_up_checks SET status = ");
    q.bind(CheckStatus::Fait.as_str())
        .push(", situation = ")
        .bind(a.situation.as_str())
        .push(", employer_id = ");
    q.bind_or_null(a.employer, "BIGINT")
        .push(", note = ")
        .bind(a.note)
        .push(", done_on = ")
        .bind(a.done_on)
        .push(", done_by = ")
        .bind(a.by)
        .push(", done_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(a.id)
        .push(" AND status = ")
        .bind(CheckStatus::AFaire.as_str());
    Ok(q.execute(c).await? == 1)
}

/// A check to do, with the person's name, for the home page of their référent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueRow {
    #[sqlx(try_from = "i64")]
    pub id: CheckId,
    #[sqlx(try_from = "i64")]
    pub person_id: PersonId,
    pub first_name: String,
    pub last_name: String,
    pub months: i32,
    pub due_on: String,
}

/// The checks due by `today` of the persons whose référent `user` is now, oldest first.
pub async fn due_for(
    c: &mut Conn<'_>,
    user: UserId,
    territory: TerritoryId,
    today: NaiveDate,
    limit: i64,
) -> Result<Vec<DueRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT k.id, k.person_id, p.first_name, p.last_name, k.months, k.due_on
         FROM follow_up_checks k JOIN persons p ON p.id = k.person_id
         WHERE k.status = ",
    );
    q.bind(CheckStatus::AFaire.as_str())
        .push(" AND k.due_on <= ")
        .bind(today)
        .push(" AND k.territory_id = ")
        .bind(territory)
        .push(
            " AND p.merged_into IS NULL AND EXISTS (SELECT 1 FROM person_members m WHERE m.person_id = k.person_id
               AND m.is_referent AND m.ended_at IS NULL AND m.user_id = ",
        )
        .bind(user)
        .push(") ORDER BY k.due_on, k.id LIMIT ")
        .bind(limit);
    q.fetch_all(c).await
}

/// The checks that fell due by `today` and whose référent was not told yet (the job queue).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UntoldRow {
    #[sqlx(try_from = "i64")]
    pub id: CheckId,
    #[sqlx(try_from = "i64")]
    pub person_id: PersonId,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    pub months: i32,
    pub referent_id: Option<i64>,
    pub referent_email: Option<String>,
}

pub async fn untold(
    c: &mut Conn<'_>,
    today: NaiveDate,
    limit: i64,
) -> Result<Vec<UntoldRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT k.id, k.person_id, k.territory_id, k.months, m.user_id AS referent_id, u.email AS referent_email
         FROM follow_up_checks k
         LEFT JOIN person_members m ON m.person_id = k.person_id AND m.is_referent AND m.ended_at IS NULL
         LEFT JOIN users u ON u.id = m.user_id AND u.is_active
         WHERE k.status = ",
    );
    q.bind(CheckStatus::AFaire.as_str())
        .push(" AND k.notified_at IS NULL AND k.due_on <= ")
        .bind(today)
        .push(" ORDER BY k.id LIMIT ")
        .bind(limit);
    q.fetch_all(c).await
}

/// Marks a check as told; `false` when another worker did first (it sends nothing then).
pub async fn mark_told(
    c: &mut Conn<'_>,
    id: CheckId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Sql::new("UPDATE follow_up_checks SET notified_at = ");
    q.bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND notified_at IS NULL");
    Ok(q.execute(c).await? == 1)
}

/// How many checks are due and unanswered in a territory (the coordinators' home page).
pub async fn due_in_territory(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    today: NaiveDate,
) -> Result<i64, StoreError> {
    let mut q = Sql::new("SELECT COUNT(*) FROM follow_up_checks WHERE territory_id = ");
    q.bind(territory)
        .push(" AND status = ")
        .bind(CheckStatus::AFaire.as_str())
        .push(" AND due_on <= ")
        .bind(today);
    q.fetch_scalar(c).await
}
