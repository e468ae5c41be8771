//! Magic links: one per mail, for one orientation and one recipient; only the token's hash is
//! stored, and each step can be taken once per link (a conditional insert).

use chrono::{DateTime, Utc};
use domain::OrientationId;
use domain::orientation::Step;

use crate::{Conn, OptionalExt, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Link {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub orientation_id: OrientationId,
    pub recipient: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn create_link(
    c: &mut Conn<'_>,
    orientation: OrientationId,
    recipient: &str,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sql = "INSERT INTO orientation_links (orientation_id, recipient, token_hash, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5) RETURNING id";
    Ok(run!(c, |c| sqlx::query_scalar(sql)
        .bind(orientation.0)
        .bind(recipient)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .fetch_one(&mut **c)
        .await)?)
}

/// The link a token's hash names, expired or not (the page says which).
pub async fn link(c: &mut Conn<'_>, token_hash: &str) -> Result<Option<Link>, StoreError> {
    let sql = "SELECT id, orientation_id, recipient, created_at, expires_at FROM orientation_links WHERE token_hash = $1";
    run!(c, |c| sqlx::query_as(sql)
        .bind(token_hash)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// The most recent link of an orientation (to space out « m'envoyer un nouveau lien »).
pub async fn latest_link(
    c: &mut Conn<'_>,
    orientation: OrientationId,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let sql = "SELECT MAX(created_at) FROM orientation_links WHERE orientation_id = $1";
    Ok(run!(c, |c| sqlx::query_scalar(sql)
        .bind(orientation.0)
        .fetch_one(&mut **c)
        .await)?)
}

/// Takes `step` with this link: `false` when the link already served for it.
pub async fn use_link(
    c: &mut Conn<'_>,
    link: i64,
    step: Step,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql = "INSERT INTO orientation_link_uses (link_id, step, used_at) VALUES ($1, $2, $3)
               ON CONFLICT (link_id, step) DO NOTHING";
    Ok(exec!(c, |c| sqlx::query(sql)
        .bind(link)
        .bind(step.as_str())
        .bind(now))?
        == 1)
}

/// The steps a link already served for.
pub async fn link_uses(c: &mut Conn<'_>, link: i64) -> Result<Vec<String>, StoreError> {
    let sql = "SELECT step FROM orientation_link_uses WHERE link_id = $1 ORDER BY used_at";
    Ok(run!(c, |c| sqlx::query_scalar(sql)
        .bind(link)
        .fetch_all(&mut **c)
        .await)?)
}
