//! Health data, behind the health gate.

use chrono::{DateTime, Utc};
use domain::{PersonId, UserId};

use crate::{Conn, OptionalExt, StoreError, exec, run};

#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Health {
    pub rqth: Option<bool>,
    pub rqth_until: Option<String>,
    /// Allocation aux adultes handicapés: it reveals a disability, so it is health data.
    pub aah: Option<bool>,
    /// A need in the « Santé / handicap » field, and what the person said of it.
    pub need: bool,
    pub need_note: String,
    /// The référent shows the group that a health need exists (never its text).
    pub need_shared: bool,
}

/// The slug of the « Santé / handicap » field, the one need kept behind the health gate.
pub const HEALTH_NEED: &str = "sante-handicap";

/// Health data — callers check the explicit permission first.
pub async fn health(c: &mut Conn<'_>, id: PersonId) -> Result<Health, StoreError> {
    Ok(run!(c, |c| sqlx::query_as(
        "SELECT rqth, rqth_until, aah, need, need_note, need_shared FROM person_health WHERE person_id = $1"
    )
    .bind(id.0)
    .fetch_one(&mut **c)
    .await)
    .optional()?
    .unwrap_or_default())
}

pub async fn set_health(
    c: &mut Conn<'_>,
    id: PersonId,
    h: &Health,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "INSERT INTO person_health (person_id, rqth, rqth_until, need, need_note, need_shared, updated_at, updated_by, aah)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (person_id) DO UPDATE SET rqth = excluded.rqth, rqth_until = excluded.rqth_until, aah = excluded.aah,
           need = excluded.need, need_note = excluded.need_note, need_shared = excluded.need_shared,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by"
    )
    .bind(id.0)
    .bind(h.rqth)
    .bind(&h.rqth_until)
    .bind(h.need)
    .bind(&h.need_note)
    .bind(h.need_shared)
    .bind(now)
    .bind(user.0)
    .bind(h.aah)
    })?;
    // What the whole group sees follows: the health need is listed there only when shared.
    let sql = if h.need && h.need_shared {
        "INSERT INTO person_needs (person_id, field) VALUES ($1, $2) ON CONFLICT (person_id, field) DO NOTHING"
    } else {
        "DELETE FROM person_needs WHERE person_id = $1 AND field = $2"
    };
    exec!(c, |c| sqlx::query(sql).bind(id.0).bind(HEALTH_NEED))?;
    Ok(())
}

/// The health data of the persons of a scope whose référent the user is or who allowed them
/// explicitly (the health gate, for many persons in one query).
pub async fn health_in_scope(
    c: &mut Conn<'_>,
    scope: &super::Scope,
) -> Result<Vec<(PersonId, Health)>, StoreError> {
    let Some(user) = scope.user() else {
        return Ok(Vec::new());
    };
    #[derive(sqlx::FromRow)]
    struct Row {
        person_id: i64,
        #[sqlx(flatten)]
        health: Health,
    }
    let mut q = crate::sql::Sql::new(
        "SELECT h.person_id, h.rqth, h.rqth_until, h.aah, h.need, h.need_note, h.need_shared
         FROM person_health h JOIN persons p ON p.id = h.person_id WHERE ",
    );
    scope.rows(&mut q);
    q.push(
        " AND EXISTS (SELECT 1 FROM person_members hm WHERE hm.person_id = p.id AND hm.ended_at IS NULL
            AND (hm.is_referent OR hm.health_access) AND hm.user_id = ",
    )
    .bind(user)
    .push(")");
    let rows: Vec<Row> = q.fetch_all(c).await?;
    Ok(rows
        .into_iter()
        .map(|r| (PersonId(r.person_id), r.health))
        .collect())
}
