//! The action plan: objectives per field, actions with an owner, a due date and a status.

use chrono::{DateTime, NaiveDate, Utc};
use domain::diagnostic::ActionStatus;
use domain::{Field, ObjectiveId, PersonId, PlanActionId, ServiceId, UserId};

use super::HEALTH_FIELD;
use crate::persons::Scope;
use crate::sql::{Sql, iso};
use crate::{Conn, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ObjectiveRow {
    #[sqlx(try_from = "i64")]
    pub id: ObjectiveId,
    #[sqlx(try_from = "String")]
    pub field: Field,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub author_name: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActionRow {
    #[sqlx(try_from = "i64")]
    pub id: PlanActionId,
    #[sqlx(try_from = "i64")]
    pub objective_id: ObjectiveId,
    #[sqlx(try_from = "i64")]
    pub person_id: PersonId,
    #[sqlx(try_from = "String")]
    pub field: Field,
    pub title: String,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub due_on: String,
    #[sqlx(try_from = "String")]
    pub status: ActionStatus,
    pub done_on: Option<String>,
    pub service_id: Option<i64>,
    pub service_nom: Option<String>,
}

fn without_health(q: &mut Sql, column: &str, health: bool) {
    if !health {
        q.push(" AND ").push(column).push(" <> ").bind(HEALTH_FIELD);
    }
}

pub async fn objectives(
    c: &mut Conn<'_>,
    person: PersonId,
    health: bool,
) -> Result<Vec<ObjectiveRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT o.id, o.field, o.title, o.created_at, u.display_name AS author_name
         FROM plan_objectives o LEFT JOIN users u ON u.id = o.created_by WHERE o.person_id = ",
    );
    q.bind(person);
    without_health(&mut q, "o.field", health);
    q.push(" ORDER BY o.field, o.id");
    q.fetch_all(c).await
}

const ACTION_COLUMNS: &str =
    "a.id, a.objective_id, a.person_id, o.field, a.title, a.owner_id, u.display_name AS owner_name,
    a.due_on, a.status, a.done_on, a.service_id, s.nom AS service_nom
    FROM plan_actions a JOIN plan_objectives o ON o.id = a.objective_id
    LEFT JOIN users u ON u.id = a.owner_id LEFT JOIN directory_services s ON s.id = a.service_id";

pub async fn actions(
    c: &mut Conn<'_>,
    person: PersonId,
    health: bool,
) -> Result<Vec<ActionRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(ACTION_COLUMNS)
        .push(" WHERE a.person_id = ")
        .bind(person);
    without_health(&mut q, "o.field", health);
    q.push(" ORDER BY a.due_on, a.id");
    q.fetch_all(c).await
}

pub async fn action(c: &mut Conn<'_>, id: PlanActionId) -> Result<Option<ActionRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(ACTION_COLUMNS).push(" WHERE a.id = ").bind(id);
    Ok(q.fetch_all(c).await?.into_iter().next())
}

/// The person and field of an objective.
pub async fn objective(
    c: &mut Conn<'_>,
    id: ObjectiveId,
) -> Result<Option<(PersonId, Field)>, StoreError> {
    let row: Option<(i64, String)> = run!(c, |c| sqlx::query_as(
        "SELECT person_id, field FROM plan_objectives WHERE id = $1"
    )
    .bind(id.0)
    .fetch_optional(&mut **c)
    .await)?;
    Ok(row.and_then(|(p, f)| Some((PersonId(p), Field::from_code(&f)?))))
}

pub async fn add_objective(
    c: &mut Conn<'_>,
    person: PersonId,
    field: Field,
    title: &str,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<ObjectiveId, StoreError> {
    let id: i64 = run!(c, |c| {
        sqlx::query_scalar(
        "INSERT INTO plan_objectives (person_id, field, title, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id"
    )
    .bind(person.0)
    .bind(field.as_str())
    .bind(title)
    .bind(now)
    .bind(user.0)
    .fetch_one(&mut **c)
    .await
    })?;
    Ok(ObjectiveId(id))
}

pub struct NewAction<'a> {
    pub objective: ObjectiveId,
    pub person: PersonId,
    pub title: &'a str,
    pub owner: UserId,
    pub due_on: NaiveDate,
    pub service: Option<ServiceId>,
}

pub async fn add_action(
    c: &mut Conn<'_>,
    a: &NewAction<'_>,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<PlanActionId, StoreError> {
    let id: i64 = run!(c, |c| {
        sqlx::query_scalar(
        "INSERT INTO plan_actions (objective_id, person_id, title, owner_id, due_on, status, service_id, created_at, created_by, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, 'a-faire', $6, $7, $8, $7, $8) RETURNING id"
    )
    .bind(a.objective.0)
    .bind(a.person.0)
    .bind(a.title)
    .bind(a.owner.0)
    .bind(iso(a.due_on))
    .bind(a.service.map(|s| s.0))
    .bind(now)
    .bind(user.0)
    .fetch_one(&mut **c)
    .await
    })?;
    Ok(PlanActionId(id))
}

/// What changes on an action.
pub struct ActionChange {
    pub status: ActionStatus,
    pub done_on: Option<NaiveDate>,
    pub owner: UserId,
    pub due_on: NaiveDate,
}

pub async fn change_action(
    c: &mut Conn<'_>,
    id: PlanActionId,
    ch: &ActionChange,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "UPDATE plan_actions SET status = $2, done_on = $3, owner_id = $4, due_on = $5, updated_at = $6, updated_by = $7 WHERE id = $1"
    )
    .bind(id.0)
    .bind(ch.status.as_str())
    .bind(ch.done_on.map(iso))
    .bind(ch.owner.0)
    .bind(iso(ch.due_on))
    .bind(now)
    .bind(user.0)
    })?;
    Ok(())
}

/// An overdue action on someone's home page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Overdue {
    #[sqlx(try_from = "i64")]
    pub id: PlanActionId,
    #[sqlx(try_from = "i64")]
    pub person_id: PersonId,
    pub first_name: String,
    pub last_name: String,
    pub title: String,
    pub due_on: String,
}

/// The open actions of `owner` due before `today`, among the files the scope may show (no
/// row for an aggregate scope), oldest first.
pub async fn overdue(
    c: &mut Conn<'_>,
    scope: &Scope,
    owner: UserId,
    today: NaiveDate,
    limit: i64,
) -> Result<(i64, Vec<Overdue>), StoreError> {
    let conditions = |q: &mut Sql| {
        q.push(" FROM plan_actions a JOIN persons p ON p.id = a.person_id WHERE ");
        scope.rows(q);
        q.push(" AND a.owner_id = ")
            .bind(owner)
            .push(" AND a.status IN ('a-faire', 'en-cours') AND a.due_on < ")
            .bind(today);
    };
    let mut q = Sql::new("SELECT a.id, a.person_id, p.first_name, p.last_name, a.title, a.due_on");
    conditions(&mut q);
    q.push(" ORDER BY a.due_on, a.id LIMIT ").bind(limit);
    let rows: Vec<Overdue> = q.fetch_all(c).await?;
    let total = if (rows.len() as i64) < limit {
        rows.len() as i64
    } else {
        let mut q = Sql::new("SELECT COUNT(*)");
        conditions(&mut q);
        q.fetch_scalar(c).await?
    };
    Ok((total, rows))
}

/// The condition « has an open action past its due date » over `persons p` (caseload filter).
pub fn has_overdue(q: &mut Sql, today: NaiveDate) {
    q.push(
        "EXISTS (SELECT 1 FROM plan_actions oa WHERE oa.person_id = p.id AND oa.status IN ('a-faire', 'en-cours') AND oa.due_on < ",
    )
    .bind(today)
    .push(")");
}

/// What a file page says of the diagnostic and the plan.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Summary {
    pub has_draft: bool,
    pub open_actions: i64,
    pub overdue_actions: i64,
}

pub async fn summary(
    c: &mut Conn<'_>,
    person: PersonId,
    today: NaiveDate,
    health: bool,
) -> Result<Summary, StoreError> {
    let mut q = Sql::new("SELECT EXISTS (SELECT 1 FROM diagnostics d WHERE d.person_id = ");
    q.bind(person).push(
        " AND d.status = 'brouillon') AS has_draft,
           COALESCE(SUM(CASE WHEN a.status IN ('a-faire', 'en-cours') THEN 1 ELSE 0 END), 0) AS open_actions,
           COALESCE(SUM(CASE WHEN a.status IN ('a-faire', 'en-cours') AND a.due_on < ",
    );
    q.bind(today).push(
        " THEN 1 ELSE 0 END), 0) AS overdue_actions
         FROM plan_actions a JOIN plan_objectives o ON o.id = a.objective_id WHERE a.person_id = ",
    );
    q.bind(person);
    without_health(&mut q, "o.field", health);
    Ok(q.fetch_all(c).await?.into_iter().next().unwrap_or_default())
}
