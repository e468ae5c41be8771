//! The audit trail: who did what, when, to what. Rows are only ever appended.

use chrono::{DateTime, Utc};
use domain::{TerritoryId, UserId};

use crate::sql::Sql;
use crate::{Conn, StoreError, exec, run};

#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub user: Option<UserId>,
    /// A stable snake_case code, e.g. `login`, `territory_created`.
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: Option<i64>,
    pub territory: Option<TerritoryId>,
    pub detail: &'a str,
    pub client_ip: Option<&'a str>,
    /// The API token the request came with, if any.
    pub api_token: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<i64>,
    pub territory_id: Option<i64>,
    pub detail: String,
    pub client_ip: Option<String>,
    /// Made through the API, with this token (its name).
    pub api_token_id: Option<i64>,
    pub api_token_name: Option<String>,
}

/// The columns of an [`Event`] and where they come from; queries add their conditions.
const EVENTS: &str = "SELECT a.id, a.at, a.user_id, u.display_name AS user_name, a.action,
                             a.target_kind, a.target_id, a.territory_id, a.detail, a.client_ip,
                             a.api_token_id, k.name AS api_token_name";
const FROM_EVENTS: &str = "FROM audit_events a LEFT JOIN users u ON u.id = a.user_id
                           LEFT JOIN api_tokens k ON k.id = a.api_token_id";

pub async fn record(
    c: &mut Conn<'_>,
    e: &NewEvent<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO audit_events (at, user_id, action, target_kind, target_id, territory_id, detail, client_ip, api_token_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    exec!(c, |c| sqlx::query(sql)
        .bind(now)
        .bind(e.user.map(|u| u.0))
        .bind(e.action)
        .bind(e.target_kind)
        .bind(e.target_id)
        .bind(e.territory.map(|t| t.0))
        .bind(e.detail)
        .bind(e.client_ip)
        .bind(e.api_token))?;
    Ok(())
}

/// Latest events, for one territory or (None) everywhere.
pub async fn recent(
    c: &mut Conn<'_>,
    territory: Option<TerritoryId>,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    let sql = format!(
        "{EVENTS} {FROM_EVENTS}
         WHERE ($1 IS NULL OR a.territory_id = $1)
         ORDER BY a.at DESC, a.id DESC LIMIT $2"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(territory.map(|t| t.0))
        .bind(limit)
        .fetch_all(&mut **c)
        .await)?)
}

/// One event per target, in one statement: a list page records each person it showed.
pub async fn record_each(
    c: &mut Conn<'_>,
    e: &NewEvent<'_>,
    targets: &[i64],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if targets.is_empty() {
        return Ok(());
    }
    // The shared values are bound once; each target is one row of a VALUES list.
    let mut q = Sql::new(
        "INSERT INTO audit_events (at, user_id, action, target_kind, target_id, territory_id, detail, client_ip, api_token_id) SELECT ",
    );
    q.bind(now)
        .push(", ")
        .bind_or_null(e.user, "BIGINT")
        .push(", ")
        .bind(e.action)
        .push(", ")
        .bind(e.target_kind)
        .push(", t.column1, ")
        .bind_or_null(e.territory, "BIGINT")
        .push(", ")
        .bind(e.detail)
        .push(", ")
        .bind_or_null(e.client_ip, "TEXT")
        .push(", ")
        .bind_or_null(e.api_token, "BIGINT")
        .push(" FROM (VALUES ")
        .join(targets, ", ", |q, id| {
            q.push("(").bind(*id).push(")");
        })
        .push(") AS t");
    q.execute(c).await?;
    Ok(())
}

/// What the coordinators' access log is narrowed to; every criterion is optional.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    pub person: Option<i64>,
    pub user: Option<UserId>,
    /// From this moment (included) …
    pub from: Option<DateTime<Utc>>,
    /// … to this one (excluded).
    pub until: Option<DateTime<Utc>>,
    /// Only refused attempts (`person.denied`).
    pub denied_only: bool,
}

/// A page of a territory's person-file events, newest first, with the number of events that
/// match in all (one statement: `COUNT(*) OVER ()`).
pub async fn person_events(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    filter: &AccessFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Event>, i64), StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        event: Event,
        total: i64,
    }
    let sql = format!(
        "{EVENTS}, COUNT(*) OVER () AS total {FROM_EVENTS}
         WHERE a.territory_id = $1 AND a.target_kind = 'person'
           AND ($2 IS NULL OR a.target_id = $2)
           AND ($3 IS NULL OR a.user_id = $3)
           AND ($4 IS NULL OR a.at >= $4)
           AND ($5 IS NULL OR a.at < $5)
           AND ($6 = FALSE OR a.action = 'person.denied')
         ORDER BY a.at DESC, a.id DESC LIMIT $7 OFFSET $8"
    );
    let rows: Vec<Row> = run!(c, |c| sqlx::query_as(&sql)
        .bind(territory.0)
        .bind(filter.person)
        .bind(filter.user.map(|u| u.0))
        .bind(filter.from)
        .bind(filter.until)
        .bind(filter.denied_only)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut **c)
        .await)?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok((rows.into_iter().map(|r| r.event).collect(), total))
}

/// An account that piled up refused attempts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Suspicious {
    pub user_id: i64,
    pub user_name: String,
    pub attempts: i64,
}

/// Accounts with at least `threshold` refused attempts on person files since `since`, in one
/// territory or (None) everywhere, most attempts first.
pub async fn suspicious_accounts(
    c: &mut Conn<'_>,
    territory: Option<TerritoryId>,
    since: DateTime<Utc>,
    threshold: i64,
) -> Result<Vec<Suspicious>, StoreError> {
    let sql = "SELECT a.user_id, u.display_name AS user_name, COUNT(*) AS attempts
               FROM audit_events a JOIN users u ON u.id = a.user_id
               WHERE a.action = 'person.denied' AND a.at >= $1 AND ($2 IS NULL OR a.territory_id = $2)
               GROUP BY a.user_id, u.display_name
               HAVING COUNT(*) >= $3
               ORDER BY COUNT(*) DESC, a.user_id";
    Ok(run!(c, |c| sqlx::query_as(sql)
        .bind(since)
        .bind(territory.map(|t| t.0))
        .bind(threshold)
        .fetch_all(&mut **c)
        .await)?)
}

/// Every event about one target, newest first (a person's access log).
pub async fn for_target(
    c: &mut Conn<'_>,
    kind: &str,
    id: i64,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    let sql = format!(
        "{EVENTS} {FROM_EVENTS}
         WHERE a.target_kind = $1 AND a.target_id = $2
         ORDER BY a.at DESC, a.id DESC LIMIT $3"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(kind)
        .bind(id)
        .bind(limit)
        .fetch_all(&mut **c)
        .await)?)
}

/// Deletes the events older than `before` (the trail is kept one year); returns how many.
pub async fn purge_before(c: &mut Conn<'_>, before: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(exec!(c, |c| sqlx::query(
        "DELETE FROM audit_events WHERE at < $1"
    )
    .bind(before))?)
}
