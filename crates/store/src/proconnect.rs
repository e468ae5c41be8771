//! ProConnect sign-ins under way (migration 0022): what the return from the provider needs,
//! kept between the two requests so that any server instance can take the return.

use chrono::{DateTime, Utc};

use crate::{Conn, OptionalExt, StoreError, exec, run};

/// A sign-in that left for the provider and has not come back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: String,
}

pub async fn create(
    c: &mut Conn<'_>,
    state_hash: &str,
    login: &PendingLogin,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO proconnect_logins (state_hash, nonce, pkce_verifier, next_path, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6)";
    exec!(c, |c| sqlx::query(sql)
        .bind(state_hash)
        .bind(&login.nonce)
        .bind(&login.pkce_verifier)
        .bind(&login.next_path)
        .bind(now)
        .bind(expires_at))?;
    Ok(())
}

/// Takes the sign-in of this state, once: a second return with the same state (a replayed
/// address) finds nothing, as does one after it expired.
pub async fn take(
    c: &mut Conn<'_>,
    state_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<PendingLogin>, StoreError> {
    let sql = "DELETE FROM proconnect_logins WHERE state_hash = $1 AND expires_at > $2
               RETURNING nonce, pkce_verifier, next_path";
    run!(c, |c| sqlx::query_as(sql)
        .bind(state_hash)
        .bind(now)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Forgets the sign-ins that never came back.
pub async fn purge_expired(c: &mut Conn<'_>, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let sql = "DELETE FROM proconnect_logins WHERE expires_at <= $1";
    Ok(exec!(c, |c| sqlx::query(sql).bind(now))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use chrono::Duration;

    both_backends! {
        async fn a_sign_in_under_way_is_taken_once_and_not_after_it_expires(db) {
            let mut pooled = db.acquire().await.expect("connection");
            let now = crate::now();
            let login = PendingLogin {
                nonce: "n".into(),
                pkce_verifier: "v".into(),
                next_path: "/personnes".into(),
            };
            create(&mut pooled.conn(), "s1", &login, now, now + Duration::minutes(10)).await.expect("created");
            create(&mut pooled.conn(), "s2", &login, now, now + Duration::minutes(10)).await.expect("created");
            assert!(take(&mut pooled.conn(), "s1", now + Duration::minutes(11)).await.expect("late").is_none());
            let taken = take(&mut pooled.conn(), "s1", now).await.expect("first").expect("there");
            assert_eq!(taken.next_path, "/personnes");
            assert!(take(&mut pooled.conn(), "s1", now).await.expect("second").is_none());
            assert_eq!(purge_expired(&mut pooled.conn(), now + Duration::minutes(10)).await.expect("purged"), 1);
            assert!(take(&mut pooled.conn(), "s2", now).await.expect("purged").is_none());
        }
    }
}
