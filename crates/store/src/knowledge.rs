//! The knowledge base « Les 8 champs d'action »: the constat of each field (rewritten by an
//! administrator, else the shipped text) and the inspiring actions coordinators write.

use chrono::{DateTime, Utc};
use domain::{ActionId, TerritoryId, UserId};

use crate::{Conn, OptionalExt, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Constat {
    pub field: String,
    pub body: String,
    pub updated_at: DateTime<Utc>,
}

pub async fn constats(c: &mut Conn<'_>) -> Result<Vec<Constat>, StoreError> {
    Ok(run!(c, |c| sqlx::query_as(
        "SELECT field, body, updated_at FROM field_constats"
    )
    .fetch_all(&mut **c)
    .await)?)
}

pub async fn set_constat(
    c: &mut Conn<'_>,
    field: &str,
    body: &str,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "INSERT INTO field_constats (field, body, updated_at, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (field) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at, updated_by = excluded.updated_by"
    )
    .bind(field)
    .bind(body)
    .bind(now)
    .bind(user.0)
    })?;
    Ok(())
}

/// An inspiring action, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionData {
    pub field: String,
    pub territory: Option<TerritoryId>,
    pub territory_name: String,
    pub title: String,
    pub description: String,
    pub partners: String,
    pub results: String,
    pub contact: String,
    /// Folded text of every field, for search.
    pub search_text: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Action {
    #[sqlx(try_from = "i64")]
    pub id: ActionId,
    pub field: String,
    pub territory_id: Option<i64>,
    pub territory_name: String,
    pub title: String,
    pub description: String,
    pub partners: String,
    pub results: String,
    pub contact: String,
    pub author: Option<String>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "a.id, a.field, a.territory_id, a.territory_name, a.title, a.description, a.partners, a.results, a.contact,
    u.display_name AS author, a.updated_at";

pub async fn create_action(
    c: &mut Conn<'_>,
    a: &ActionData,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<ActionId, StoreError> {
    let id: i64 = run!(c, |c| {
        sqlx::query_scalar(
        "INSERT INTO inspiring_actions (field, territory_id, territory_name, title, description, partners, results, contact,
           search_text, created_at, created_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10) RETURNING id"
    )
    .bind(&a.field)
    .bind(a.territory.map(|t| t.0))
    .bind(&a.territory_name)
    .bind(&a.title)
    .bind(&a.description)
    .bind(&a.partners)
    .bind(&a.results)
    .bind(&a.contact)
    .bind(&a.search_text)
    .bind(now)
    .bind(user.0)
    .fetch_one(&mut **c)
    .await
    })?;
    Ok(ActionId(id))
}

pub async fn update_action(
    c: &mut Conn<'_>,
    id: ActionId,
    a: &ActionData,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "UPDATE inspiring_actions SET field = $2, title = $3, description = $4, partners = $5, results = $6, contact = $7,
           search_text = $8, updated_at = $9 WHERE id = $1"
    )
    .bind(id.0)
    .bind(&a.field)
    .bind(&a.title)
    .bind(&a.description)
    .bind(&a.partners)
    .bind(&a.results)
    .bind(&a.contact)
    .bind(&a.search_text)
    .bind(now)
    })?;
    Ok(())
}

pub async fn action(c: &mut Conn<'_>, id: ActionId) -> Result<Option<Action>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM inspiring_actions a LEFT JOIN users u ON u.id = a.created_by WHERE a.id = $1"
    );
    run!(c, |c| sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Actions of one field (or all), newest first, whose text holds every folded word.
pub async fn actions(
    c: &mut Conn<'_>,
    field: Option<&str>,
    words: &[String],
    limit: i64,
) -> Result<Vec<Action>, StoreError> {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM inspiring_actions a LEFT JOIN users u ON u.id = a.created_by WHERE ($1 IS NULL OR a.field = $1)"
    );
    for i in 0..words.len() {
        sql.push_str(&format!(" AND a.search_text LIKE ${} ESCAPE '\\'", i + 3));
    }
    sql.push_str(" ORDER BY a.updated_at DESC, a.id DESC LIMIT $2");
    Ok(run!(c, |c| {
        let mut q = sqlx::query_as(&sql).bind(field).bind(limit);
        for w in words {
            q = q.bind(crate::like_contains(w));
        }
        q.fetch_all(&mut **c).await
    })?)
}

/// Number of actions per field.
pub async fn counts(c: &mut Conn<'_>) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(run!(c, |c| sqlx::query_as(
        "SELECT field, COUNT(*) FROM inspiring_actions GROUP BY field"
    )
    .fetch_all(&mut **c)
    .await)?)
}
