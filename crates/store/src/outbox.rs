//! Outgoing mail. Every message is written here first, in the transaction of the change that
//! causes it; it is then sent by SMTP when configured, or read by an administrator in the
//! interface when not (that is how the demo shows mail).

use chrono::{DateTime, Utc};
use domain::MailId;

use crate::{Conn, OptionalExt, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Mail {
    #[sqlx(try_from = "i64")]
    pub id: MailId,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "id, recipient, subject, body, created_at, sent_at, attempts, last_error";

pub async fn push(
    c: &mut Conn<'_>,
    recipient: &str,
    subject: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<MailId, StoreError> {
    let sql = "INSERT INTO outbox (recipient, subject, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
    let id: i64 = run!(c, |c| sqlx::query_scalar(sql)
        .bind(recipient)
        .bind(subject)
        .bind(body)
        .bind(now)
        .fetch_one(&mut **c)
        .await)?;
    Ok(MailId(id))
}

pub async fn by_id(c: &mut Conn<'_>, id: MailId) -> Result<Option<Mail>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id = $1");
    run!(c, |c| sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Most recent first.
pub async fn recent(c: &mut Conn<'_>, limit: i64) -> Result<Vec<Mail>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1");
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(limit)
        .fetch_all(&mut **c)
        .await)?)
}

/// Unsent messages with fewer than `max_attempts` tries, oldest first.
pub async fn unsent(
    c: &mut Conn<'_>,
    max_attempts: i32,
    limit: i64,
) -> Result<Vec<Mail>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox WHERE sent_at IS NULL AND attempts < $1 ORDER BY id LIMIT $2"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(max_attempts)
        .bind(limit)
        .fetch_all(&mut **c)
        .await)?)
}

/// Marks a message sent, keeping `body` (the message with its links masked) as its copy.
pub async fn mark_sent(
    c: &mut Conn<'_>,
    id: MailId,
    now: DateTime<Utc>,
    body: &str,
) -> Result<(), StoreError> {
    let sql = "UPDATE outbox SET sent_at = $2, attempts = attempts + 1, last_error = NULL, body = $3 WHERE id = $1";
    exec!(c, |c| sqlx::query(sql).bind(id.0).bind(now).bind(body))?;
    Ok(())
}

pub async fn mark_failed(c: &mut Conn<'_>, id: MailId, error: &str) -> Result<(), StoreError> {
    let sql = "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1";
    exec!(c, |c| sqlx::query(sql).bind(id.0).bind(error))?;
    Ok(())
}
