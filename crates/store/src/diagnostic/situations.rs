//! The situations one may tick per field, shipped and edited by administrators.

use chrono::{DateTime, Utc};
use domain::{Field, SituationId, UserId};

use crate::{Conn, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SituationRow {
    #[sqlx(try_from = "i64")]
    pub id: SituationId,
    #[sqlx(try_from = "String")]
    pub field: Field,
    pub label: String,
    pub position: i32,
    pub active: bool,
}

/// Every situation, active or not, in field and position order.
pub async fn situations(c: &mut Conn<'_>) -> Result<Vec<SituationRow>, StoreError> {
    Ok(run!(c, |c| {
        sqlx::query_as(
        "SELECT id, field, label, position, active FROM diagnostic_situations ORDER BY field, position, id"
    )
    .fetch_all(&mut **c)
    .await
    })?)
}

pub async fn add_situation(
    c: &mut Conn<'_>,
    field: Field,
    label: &str,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<SituationId, StoreError> {
    let id: i64 = run!(c, |c| {
        sqlx::query_scalar(
        "INSERT INTO diagnostic_situations (field, label, position, active, updated_at, updated_by)
         VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM diagnostic_situations WHERE field = $1), TRUE, $3, $4)
         RETURNING id"
    )
    .bind(field.as_str())
    .bind(label)
    .bind(now)
    .bind(user.0)
    .fetch_one(&mut **c)
    .await
    })?;
    Ok(SituationId(id))
}

/// Renames or (de)activates a situation; false when there is no such situation.
pub async fn update_situation(
    c: &mut Conn<'_>,
    id: SituationId,
    label: &str,
    active: bool,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = exec!(c, |c| {
        sqlx::query(
        "UPDATE diagnostic_situations SET label = $2, active = $3, updated_at = $4, updated_by = $5 WHERE id = $1"
    )
    .bind(id.0)
    .bind(label)
    .bind(active)
    .bind(now)
    .bind(user.0)
    })?;
    Ok(n == 1)
}
