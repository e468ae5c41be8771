//! The territory's delays, and how professionals hear of orientations (a mail each time, or
//! the notices of the day in one digest).

use chrono::{DateTime, Utc};
use domain::orientation::{Delays, NoticeMode};
use domain::{TerritoryId, UserId};

use crate::sql::Sql;
use crate::{Conn, StoreError, exec, run};

/// The territory's delays (the defaults when it set none).
pub async fn delays(c: &mut Conn<'_>, territory: TerritoryId) -> Result<Delays, StoreError> {
    let sql = "SELECT unanswered_days, study_days, reminder_days FROM orientation_settings WHERE territory_id = $1";
    let row: Option<(i32, i32, i32)> = run!(c, |c| sqlx::query_as(sql)
        .bind(territory.0)
        .fetch_optional(&mut **c)
        .await)?;
    let day = |n: i32| u32::try_from(n).unwrap_or(1);
    Ok(row.map_or_else(Delays::default, |(u, s, r)| Delays {
        unanswered_days: day(u),
        study_days: day(s),
        reminder_days: day(r),
    }))
}

/// Every territory's delays that differ from the defaults (for the job queue, one query).
pub async fn all_delays(c: &mut Conn<'_>) -> Result<Vec<(TerritoryId, Delays)>, StoreError> {
    let sql =
        "SELECT territory_id, unanswered_days, study_days, reminder_days FROM orientation_settings";
    let rows: Vec<(i64, i32, i32, i32)> =
        run!(c, |c| sqlx::query_as(sql).fetch_all(&mut **c).await)?;
    let day = |n: i32| u32::try_from(n).unwrap_or(1);
    Ok(rows
        .into_iter()
        .map(|(t, u, s, r)| {
            (
                TerritoryId(t),
                Delays {
                    unanswered_days: day(u),
                    study_days: day(s),
                    reminder_days: day(r),
                },
            )
        })
        .collect())
}

pub async fn set_delays(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    d: Delays,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO orientation_settings (territory_id, unanswered_days, study_days, reminder_days, updated_at, updated_by)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (territory_id) DO UPDATE SET unanswered_days = excluded.unanswered_days,
                 study_days = excluded.study_days, reminder_days = excluded.reminder_days,
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by";
    let n = |d: u32| i32::try_from(d).unwrap_or(i32::MAX);
    exec!(c, |c| sqlx::query(sql)
        .bind(territory.0)
        .bind(n(d.unanswered_days))
        .bind(n(d.study_days))
        .bind(n(d.reminder_days))
        .bind(now)
        .bind(by.0))?;
    Ok(())
}

/// How some users want to hear (immediate for those without a row), in one query.
pub async fn notice_modes(
    c: &mut Conn<'_>,
    users: &[UserId],
) -> Result<Vec<(UserId, NoticeMode)>, StoreError> {
    let mut q = Sql::new("SELECT user_id, mode FROM notice_preferences WHERE user_id IN ");
    q.bind_list(users.iter().copied());
    let rows: Vec<(i64, String)> = q.fetch_all(c).await?;
    Ok(users
        .iter()
        .map(|u| {
            let mode = rows
                .iter()
                .find(|(id, _)| *id == u.0)
                .and_then(|(_, m)| NoticeMode::from_code(m))
                .unwrap_or(NoticeMode::Immediate);
            (*u, mode)
        })
        .collect())
}

pub async fn set_notice_mode(
    c: &mut Conn<'_>,
    user: UserId,
    mode: NoticeMode,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO notice_preferences (user_id, mode) VALUES ($1, $2)
               ON CONFLICT (user_id) DO UPDATE SET mode = excluded.mode";
    exec!(c, |c| sqlx::query(sql).bind(user.0).bind(mode.as_str()))?;
    Ok(())
}

/// Keeps a notice for the user's next digest.
pub async fn push_notice(
    c: &mut Conn<'_>,
    user: UserId,
    subject: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql =
        "INSERT INTO pending_notices (user_id, subject, body, created_at) VALUES ($1, $2, $3, $4)";
    exec!(c, |c| sqlx::query(sql)
        .bind(user.0)
        .bind(subject)
        .bind(body)
        .bind(now))?;
    Ok(())
}

/// A notice waiting for a digest.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notice {
    pub id: i64,
    pub user_id: i64,
    pub email: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Every notice not yet digested, by user then age (one query for the whole digest).
pub async fn pending_notices(c: &mut Conn<'_>, limit: i64) -> Result<Vec<Notice>, StoreError> {
    let sql = "SELECT n.id, n.user_id, u.email, n.subject, n.body, n.created_at
               FROM pending_notices n JOIN users u ON u.id = n.user_id
               WHERE n.digested_at IS NULL ORDER BY n.user_id, n.id LIMIT $1";
    Ok(run!(c, |c| sqlx::query_as(sql)
        .bind(limit)
        .fetch_all(&mut **c)
        .await)?)
}

/// Marks notices as sent in a digest.
pub async fn digested(c: &mut Conn<'_>, ids: &[i64], now: DateTime<Utc>) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new("UPDATE pending_notices SET digested_at = ");
    q.bind(now)
        .push(" WHERE digested_at IS NULL AND id IN ")
        .bind_list(ids.iter().copied());
    q.execute(c).await?;
    Ok(())
}
