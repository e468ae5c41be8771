//! Login sessions, kept in the database so that a restart logs nobody out and several server
//! instances share them. Only a hash of the cookie's token is stored.

use chrono::{DateTime, Utc};
use domain::{TerritoryId, UserId};

use crate::{Conn, OptionalExt, StoreError, exec, run};

/// A live session with the account it belongs to (one query per request).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    #[sqlx(try_from = "i64")]
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub active_territory_id: Option<i64>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When this session's second factor was checked (never, for most sessions).
    pub second_factor_at: Option<DateTime<Utc>>,
    /// The account has a confirmed authenticator.
    pub second_factor_enabled: bool,
    /// One of the account's territories requires a second factor of it.
    pub second_factor_required: bool,
}

/// A session to open.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user: UserId,
    pub territory: Option<TerritoryId>,
    pub expires_at: DateTime<Utc>,
    /// Set when the session opens on a checked second factor.
    pub second_factor_at: Option<DateTime<Utc>>,
    /// The ID token of a ProConnect sign-in, sent back to the provider at logout.
    pub proconnect_id_token: Option<&'a str>,
}

/// A session ended to be replaced by another (see [`take`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Taken {
    #[sqlx(try_from = "i64")]
    pub user_id: UserId,
    pub active_territory_id: Option<i64>,
    pub proconnect_id_token: Option<String>,
}

impl Taken {
    pub fn territory(&self) -> Option<TerritoryId> {
        self.active_territory_id.map(TerritoryId)
    }
}

pub async fn create(
    c: &mut Conn<'_>,
    s: &NewSession<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO sessions (token_hash, user_id, active_territory_id, created_at, last_seen_at, expires_at, second_factor_at, proconnect_id_token)
               VALUES ($1, $2, $3, $4, $4, $5, $6, $7)";
    exec!(c, |c| sqlx::query(sql)
        .bind(s.token_hash)
        .bind(s.user.0)
        .bind(s.territory.map(|t| t.0))
        .bind(now)
        .bind(s.expires_at)
        .bind(s.second_factor_at)
        .bind(s.proconnect_id_token))?;
    Ok(())
}

/// Ends a session that has not expired, to replace it: what the new one carries over, or
/// `None` if it had ended already (of two concurrent replacements, one only gets it).
pub async fn take(
    c: &mut Conn<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Taken>, StoreError> {
    let sql = "DELETE FROM sessions WHERE token_hash = $1 AND expires_at > $2
               RETURNING user_id, active_territory_id, proconnect_id_token";
    run!(c, |c| sqlx::query_as(sql)
        .bind(token_hash)
        .bind(now)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// The session's account, unless it expired (idle) or was opened before `opened_after`
/// (its absolute lifetime is over).
pub async fn find(
    c: &mut Conn<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
    opened_after: DateTime<Utc>,
) -> Result<Option<SessionUser>, StoreError> {
    let sql = format!(
        "SELECT s.user_id, u.email, u.display_name, s.active_territory_id, s.last_seen_at, s.expires_at,
                s.second_factor_at, {} AS second_factor_enabled, {} AS second_factor_required
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.created_at > $3 AND u.is_active = TRUE",
        crate::second_factors::enabled_of("u.id"),
        crate::second_factors::required_of("u.id"),
    );
    run!(c, |c| sqlx::query_as(&sql)
        .bind(token_hash)
        .bind(now)
        .bind(opened_after)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Slides the expiry forward on activity.
pub async fn touch(
    c: &mut Conn<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1";
    exec!(c, |c| sqlx::query(sql)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at))?;
    Ok(())
}

pub async fn set_territory(
    c: &mut Conn<'_>,
    token_hash: &str,
    territory: Option<TerritoryId>,
) -> Result<(), StoreError> {
    let sql = "UPDATE sessions SET active_territory_id = $2 WHERE token_hash = $1";
    exec!(c, |c| sqlx::query(sql)
        .bind(token_hash)
        .bind(territory.map(|t| t.0)))?;
    Ok(())
}

/// Ends a session; returns the ProConnect ID token it was opened with, if any.
pub async fn delete(c: &mut Conn<'_>, token_hash: &str) -> Result<Option<String>, StoreError> {
    let sql = "DELETE FROM sessions WHERE token_hash = $1 RETURNING proconnect_id_token";
    let row: Option<(Option<String>,)> = run!(c, |c| sqlx::query_as(sql)
        .bind(token_hash)
        .fetch_one(&mut **c)
        .await)
    .optional()?;
    Ok(row.and_then(|(t,)| t))
}

/// How many open sessions an account has (tests prove with it that a refused sign-in opened none).
pub async fn count_for_user(
    c: &mut Conn<'_>,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sql = "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2";
    Ok(run!(c, |c| sqlx::query_scalar(sql)
        .bind(user.0)
        .bind(now)
        .fetch_one(&mut **c)
        .await)?)
}

/// Ends every session of an account (after a password change or deactivation).
pub async fn delete_for_user(c: &mut Conn<'_>, user: UserId) -> Result<(), StoreError> {
    let sql = "DELETE FROM sessions WHERE user_id = $1";
    exec!(c, |c| sqlx::query(sql).bind(user.0))?;
    Ok(())
}

pub async fn purge_expired(c: &mut Conn<'_>, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let sql = "DELETE FROM sessions WHERE expires_at <= $1";
    Ok(exec!(c, |c| sqlx::query(sql).bind(now))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use chrono::Duration;

    both_backends! {
        async fn a_session_is_found_until_it_expires_or_its_account_is_deactivated(db) {
            let mut pooled = db.acquire().await.expect("connection");
            let now = crate::now();
            let email = domain::Email::parse("s@exemple.fr").expect("valid");
            let user = crate::users::create(&mut pooled.conn(), &email, "S", None, now).await.expect("user");
            let session = NewSession { token_hash: "hash-1", user, territory: None, expires_at: now + Duration::hours(8), second_factor_at: None, proconnect_id_token: None };
            create(&mut pooled.conn(), &session, now).await.expect("session");
            let opened_after = now - Duration::hours(12);
            let found = find(&mut pooled.conn(), "hash-1", now, opened_after).await.expect("query").expect("found");
            assert_eq!(found.user_id, user);
            assert!(find(&mut pooled.conn(), "hash-1", now + Duration::hours(9), opened_after).await.expect("query").is_none());
            assert!(find(&mut pooled.conn(), "other", now, opened_after).await.expect("query").is_none());
            // Past its absolute lifetime a session ends, however recently it was used.
            assert!(find(&mut pooled.conn(), "hash-1", now, now + Duration::seconds(1)).await.expect("query").is_none());
            crate::users::set_active(&mut pooled.conn(), user, false).await.expect("deactivated");
            assert!(find(&mut pooled.conn(), "hash-1", now, opened_after).await.expect("query").is_none());
        }
    }
}
