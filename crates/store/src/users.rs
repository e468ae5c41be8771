//! Accounts and failed-login records.

use chrono::{DateTime, Utc};
use domain::{Email, UserId};

use crate::{Conn, OptionalExt, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    #[sqlx(try_from = "i64")]
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, email, display_name, password_hash, is_active, created_at, last_login_at";

/// Creates an account; `StoreError::Conflict` when the e-mail is taken.
pub async fn create(
    c: &mut Conn<'_>,
    email: &Email,
    display_name: &str,
    password_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<UserId, StoreError> {
    let sql = "INSERT INTO users (email, display_name, password_hash, is_active, created_at)
               VALUES ($1, $2, $3, TRUE, $4) RETURNING id";
    let id: i64 = run!(c, |c| sqlx::query_scalar(sql)
        .bind(email.as_str())
        .bind(display_name)
        .bind(password_hash)
        .bind(now)
        .fetch_one(&mut **c)
        .await)?;
    Ok(UserId(id))
}

pub async fn by_email(c: &mut Conn<'_>, email: &Email) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    run!(c, |c| sqlx::query_as(&sql)
        .bind(email.as_str())
        .fetch_one(&mut **c)
        .await)
    .optional()
}

pub async fn by_id(c: &mut Conn<'_>, id: UserId) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    run!(c, |c| sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Accounts ordered by name, optionally filtered on name or e-mail (case-insensitive).
pub async fn list(c: &mut Conn<'_>, search: &str, limit: i64) -> Result<Vec<User>, StoreError> {
    let pattern = format!("%{}%", search.trim().to_lowercase());
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE LOWER(display_name) LIKE $1 OR email LIKE $1
         ORDER BY display_name, id LIMIT $2"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(&pattern)
        .bind(limit)
        .fetch_all(&mut **c)
        .await)?)
}

pub async fn set_password(c: &mut Conn<'_>, id: UserId, hash: &str) -> Result<(), StoreError> {
    let sql = "UPDATE users SET password_hash = $2 WHERE id = $1";
    exec!(c, |c| sqlx::query(sql).bind(id.0).bind(hash))?;
    Ok(())
}

pub async fn set_display_name(c: &mut Conn<'_>, id: UserId, name: &str) -> Result<(), StoreError> {
    let sql = "UPDATE users SET display_name = $2 WHERE id = $1";
    exec!(c, |c| sqlx::query(sql).bind(id.0).bind(name))?;
    Ok(())
}

pub async fn set_active(c: &mut Conn<'_>, id: UserId, active: bool) -> Result<(), StoreError> {
    let sql = "UPDATE users SET is_active = $2 WHERE id = $1";
    exec!(c, |c| sqlx::query(sql).bind(id.0).bind(active))?;
    Ok(())
}

pub async fn set_last_login(
    c: &mut Conn<'_>,
    id: UserId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "UPDATE users SET last_login_at = $2 WHERE id = $1";
    exec!(c, |c| sqlx::query(sql).bind(id.0).bind(at))?;
    Ok(())
}

/// Remembers a failed login for throttling. The e-mail is stored as typed (lower-cased), whether
/// or not an account exists, so that throttling does not reveal which accounts exist.
pub async fn record_login_failure(
    c: &mut Conn<'_>,
    email: &str,
    client_ip: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO login_failures (email, client_ip, at) VALUES ($1, $2, $3)";
    exec!(c, |c| sqlx::query(sql).bind(email).bind(client_ip).bind(at))?;
    Ok(())
}

/// Attempts counted for throttling since a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Failures {
    /// This account from this address.
    pub pair: i64,
    /// Any account from this address.
    pub address: i64,
    /// This account from any address.
    pub account: i64,
}

/// Failures since `since` for this e-mail from this address, from this address, and for this
/// e-mail from anywhere.
pub async fn login_failures_since(
    c: &mut Conn<'_>,
    email: &str,
    client_ip: &str,
    since: DateTime<Utc>,
) -> Result<Failures, StoreError> {
    let sql = "SELECT
                 (SELECT COUNT(*) FROM login_failures WHERE email = $1 AND client_ip = $2 AND at > $3) AS pair,
                 (SELECT COUNT(*) FROM login_failures WHERE client_ip = $2 AND at > $3) AS address,
                 (SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at > $3) AS account";
    Ok(run!(c, |c| sqlx::query_as(sql)
        .bind(email)
        .bind(client_ip)
        .bind(since)
        .fetch_one(&mut **c)
        .await)?)
}

/// After a successful login the account's failure streak ends.
pub async fn clear_login_failures(c: &mut Conn<'_>, email: &str) -> Result<(), StoreError> {
    let sql = "DELETE FROM login_failures WHERE email = $1";
    exec!(c, |c| sqlx::query(sql).bind(email))?;
    Ok(())
}

/// After a password reset, the account opens again from everywhere.
pub async fn clear_login_failures_of(c: &mut Conn<'_>, user: UserId) -> Result<(), StoreError> {
    let sql = "DELETE FROM login_failures WHERE email = (SELECT email FROM users WHERE id = $1)";
    exec!(c, |c| sqlx::query(sql).bind(user.0))?;
    Ok(())
}

/// Records a password-reset request and returns how many, since `since`, came for this e-mail
/// and from this address (this one included).
pub async fn record_reset_request(
    c: &mut Conn<'_>,
    email: &str,
    client_ip: &str,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
) -> Result<(i64, i64), StoreError> {
    let sql = "INSERT INTO reset_requests (email, client_ip, at) VALUES ($1, $2, $3)";
    exec!(c, |c| sqlx::query(sql)
        .bind(email)
        .bind(client_ip)
        .bind(now))?;
    let sql = "SELECT (SELECT COUNT(*) FROM reset_requests WHERE email = $1 AND at > $3),
                      (SELECT COUNT(*) FROM reset_requests WHERE client_ip = $2 AND at > $3)";
    Ok(run!(c, |c| sqlx::query_as(sql)
        .bind(email)
        .bind(client_ip)
        .bind(since)
        .fetch_one(&mut **c)
        .await)?)
}

/// Forgets failures older than `before` (they no longer count for throttling).
pub async fn purge_login_failures(
    c: &mut Conn<'_>,
    before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let sql = "DELETE FROM login_failures WHERE at < $1";
    let done = exec!(c, |c| sqlx::query(sql).bind(before))?;
    let sql = "DELETE FROM reset_requests WHERE at < $1";
    let hour_before = before - chrono::Duration::minutes(45);
    exec!(c, |c| sqlx::query(sql).bind(hour_before))?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use chrono::Duration;

    fn email(s: &str) -> Email {
        Email::parse(s).expect("valid e-mail")
    }

    both_backends! {
        async fn an_account_is_found_by_its_email_and_a_second_one_with_the_same_email_is_refused(db) {
            let mut pooled = db.acquire().await.expect("connection");
            let now = crate::now();
            let id = create(&mut pooled.conn(), &email("a@exemple.fr"), "Alice Martin", Some("hash"), now).await.expect("created");
            let found = by_email(&mut pooled.conn(), &email("A@Exemple.fr")).await.expect("query").expect("found");
            assert_eq!(found.id, id);
            assert_eq!(found.display_name, "Alice Martin");
            assert!(found.is_active);
            assert_eq!(found.created_at, now);
            let again = create(&mut pooled.conn(), &email("a@exemple.fr"), "Autre", None, now).await;
            assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
        }

        async fn login_failures_are_counted_per_account_and_per_address_within_the_window(db) {
            let mut pooled = db.acquire().await.expect("connection");
            let now = crate::now();
            for minutes in [20, 10, 5] {
                record_login_failure(&mut pooled.conn(), "x@exemple.fr", "10.0.0.1", now - Duration::minutes(minutes)).await.expect("recorded");
            }
            record_login_failure(&mut pooled.conn(), "y@exemple.fr", "10.0.0.1", now).await.expect("recorded");
            record_login_failure(&mut pooled.conn(), "x@exemple.fr", "10.0.0.9", now).await.expect("recorded");
            let n = login_failures_since(&mut pooled.conn(), "x@exemple.fr", "10.0.0.1", now - Duration::minutes(15)).await.expect("counted");
            assert_eq!(n, Failures { pair: 2, address: 3, account: 3 });
            clear_login_failures(&mut pooled.conn(), "x@exemple.fr").await.expect("cleared");
            let n = login_failures_since(&mut pooled.conn(), "x@exemple.fr", "10.0.0.1", now - Duration::minutes(15)).await.expect("counted");
            assert_eq!(n, Failures { pair: 0, address: 1, account: 0 });
        }
    }
}
