//! Second factors of password sign-in: an account's TOTP secret (sealed by the application,
//! never readable here), its single-use recovery codes (hashed), and whether an account must
//! have one. See docs/security.md, « Double authentification ».

use chrono::{DateTime, Utc};
use domain::{TerritoryId, UserId};

use crate::{Conn, OptionalExt, StoreError, exec, run};

/// An account's authenticator, confirmed or still being enrolled.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SecondFactor {
    pub sealed_secret: Vec<u8>,
    pub nonce: String,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// Where an account stands: whether its authenticator is confirmed, whether one of its
/// territories requires one of it, and how many recovery codes it has left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Standing {
    pub enabled: bool,
    pub required: bool,
    pub recovery_codes_left: i64,
}

/// What the requirement means in SQL, for the account in column `user`: a live coordinator
/// membership of a territory that requires a second factor of its coordinators.
pub(crate) fn required_of(user: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM memberships m2f JOIN territories t2f ON t2f.id = m2f.territory_id
                 WHERE m2f.user_id = {user} AND m2f.role = 'coordinator' AND m2f.ended_at IS NULL
                   AND t2f.second_factor_required = TRUE)"
    )
}

/// Whether the account in column `user` has a confirmed authenticator, in SQL.
pub(crate) fn enabled_of(user: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM second_factors f2f WHERE f2f.user_id = {user} AND f2f.confirmed_at IS NOT NULL)"
    )
}

pub async fn standing(c: &mut Conn<'_>, user: UserId) -> Result<Standing, StoreError> {
    let sql = format!(
        "SELECT {} AS enabled, {} AS required,
                (SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL) AS recovery_codes_left",
        enabled_of("$1"),
        required_of("$1"),
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(user.0)
        .fetch_one(&mut **c)
        .await)?)
}

pub async fn of_user(c: &mut Conn<'_>, user: UserId) -> Result<Option<SecondFactor>, StoreError> {
    let sql = "SELECT sealed_secret, nonce, created_at, confirmed_at FROM second_factors WHERE user_id = $1";
    run!(c, |c| sqlx::query_as(sql)
        .bind(user.0)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Starts an enrolment with a new secret, replacing one that was never confirmed. Returns
/// false (and changes nothing) when the account already has a confirmed one.
pub async fn begin(
    c: &mut Conn<'_>,
    user: UserId,
    sealed_secret: &[u8],
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql = "INSERT INTO second_factors (user_id, sealed_secret, nonce, created_at, last_step)
               VALUES ($1, $2, $3, $4, 0)
               ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret,
                   nonce = excluded.nonce, created_at = excluded.created_at, last_step = 0
               WHERE second_factors.confirmed_at IS NULL";
    Ok(exec!(c, |c| sqlx::query(sql)
        .bind(user.0)
        .bind(sealed_secret)
        .bind(nonce)
        .bind(now))?
        == 1)
}

/// Marks the code of `step` as used, if no code of this step or a later one was: of two
/// concurrent uses of the same code, one only succeeds.
pub async fn use_step(c: &mut Conn<'_>, user: UserId, step: i64) -> Result<bool, StoreError> {
    let sql = "UPDATE second_factors SET last_step = $2 WHERE user_id = $1 AND last_step < $2";
    Ok(exec!(c, |c| sqlx::query(sql).bind(user.0).bind(step))? == 1)
}

/// Confirms an enrolment (its first code was right). False if there was nothing to confirm.
pub async fn confirm(
    c: &mut Conn<'_>,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql =
        "UPDATE second_factors SET confirmed_at = $2 WHERE user_id = $1 AND confirmed_at IS NULL";
    Ok(exec!(c, |c| sqlx::query(sql).bind(user.0).bind(now))? == 1)
}

/// Removes the authenticator and the recovery codes of an account.
pub async fn remove(c: &mut Conn<'_>, user: UserId) -> Result<bool, StoreError> {
    let codes = "DELETE FROM recovery_codes WHERE user_id = $1";
    exec!(c, |c| sqlx::query(codes).bind(user.0))?;
    let sql = "DELETE FROM second_factors WHERE user_id = $1";
    Ok(exec!(c, |c| sqlx::query(sql).bind(user.0))? == 1)
}

/// Replaces every recovery code of an account (used or not) by these hashes.
pub async fn replace_recovery_codes(
    c: &mut Conn<'_>,
    user: UserId,
    hashes: &[String],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let delete = "DELETE FROM recovery_codes WHERE user_id = $1";
    exec!(c, |c| sqlx::query(delete).bind(user.0))?;
    let insert = "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)";
    for hash in hashes {
        exec!(c, |c| sqlx::query(insert).bind(user.0).bind(hash).bind(now))?;
    }
    Ok(())
}

/// Uses a recovery code once: true if it was one of the account's unused codes.
pub async fn use_recovery_code(
    c: &mut Conn<'_>,
    user: UserId,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql = "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL";
    Ok(exec!(c, |c| sqlx::query(sql).bind(user.0).bind(hash).bind(now))? == 1)
}

/// Whether a territory requires a second factor of its coordinators.
pub async fn set_required(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    required: bool,
) -> Result<(), StoreError> {
    let sql = "UPDATE territories SET second_factor_required = $2 WHERE id = $1";
    exec!(c, |c| sqlx::query(sql).bind(territory.0).bind(required))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;

    both_backends! {
        async fn an_authenticator_is_confirmed_once_and_each_step_and_code_is_used_once(db) {
            let mut pooled = db.acquire().await.expect("connection");
            let now = crate::now();
            let email = domain::Email::parse("f@exemple.fr").expect("valid");
            let user = crate::users::create(&mut pooled.conn(), &email, "F", None, now).await.expect("user");
            assert!(of_user(&mut pooled.conn(), user).await.expect("read").is_none());
            assert!(begin(&mut pooled.conn(), user, &[1, 2, 3], "n1", now).await.expect("begin"));
            // A second start before confirmation replaces the secret.
            assert!(begin(&mut pooled.conn(), user, &[4, 5, 6], "n2", now).await.expect("begin"));
            let pending = of_user(&mut pooled.conn(), user).await.expect("read").expect("there");
            assert_eq!((pending.sealed_secret, pending.nonce.as_str(), pending.confirmed_at), (vec![4, 5, 6], "n2", None));
            assert!(!standing(&mut pooled.conn(), user).await.expect("standing").enabled);
            assert!(confirm(&mut pooled.conn(), user, now).await.expect("confirm"));
            assert!(!confirm(&mut pooled.conn(), user, now).await.expect("confirm"), "confirmed once");
            // Once confirmed, a new start does not replace it.
            assert!(!begin(&mut pooled.conn(), user, &[7], "n3", now).await.expect("begin"));
            assert_eq!(of_user(&mut pooled.conn(), user).await.expect("read").expect("there").nonce, "n2");
            assert!(use_step(&mut pooled.conn(), user, 100).await.expect("step"));
            assert!(!use_step(&mut pooled.conn(), user, 100).await.expect("step"), "a code is used once");
            assert!(!use_step(&mut pooled.conn(), user, 99).await.expect("step"), "an older code is refused after a newer one");
            replace_recovery_codes(&mut pooled.conn(), user, &["h1".into(), "h2".into()], now).await.expect("codes");
            assert!(use_recovery_code(&mut pooled.conn(), user, "h1", now).await.expect("code"));
            assert!(!use_recovery_code(&mut pooled.conn(), user, "h1", now).await.expect("code"), "a recovery code is used once");
            let standing_now = standing(&mut pooled.conn(), user).await.expect("standing");
            assert_eq!(standing_now, Standing { enabled: true, required: false, recovery_codes_left: 1 });
            assert!(remove(&mut pooled.conn(), user).await.expect("remove"));
            assert_eq!(standing(&mut pooled.conn(), user).await.expect("standing"), Standing { enabled: false, required: false, recovery_codes_left: 0 });
        }
    }
}
