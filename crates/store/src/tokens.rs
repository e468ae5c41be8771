//! Single-use, expiring tokens: password resets and invitations. Only hashes are stored; a
//! token is consumed by one conditional UPDATE, so two concurrent uses cannot both succeed.

use chrono::{DateTime, Utc};
use domain::{OrganisationId, Role, TerritoryId, UserId};

use crate::{Conn, OptionalExt, StoreError, exec, run};

pub async fn create_password_reset(
    c: &mut Conn<'_>,
    token_hash: &str,
    user: UserId,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
    exec!(c, |c| sqlx::query(sql)
        .bind(token_hash)
        .bind(user.0)
        .bind(now)
        .bind(expires_at))?;
    Ok(())
}

/// The account a still-valid reset token is for, without consuming it (to show the form).
pub async fn peek_password_reset(
    c: &mut Conn<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserId>, StoreError> {
    let sql = "SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
    let id: Option<i64> = run!(c, |c| sqlx::query_scalar(sql)
        .bind(token_hash)
        .bind(now)
        .fetch_one(&mut **c)
        .await)
    .optional()?;
    Ok(id.map(UserId))
}

/// Consumes a reset token: the account it was for, or `None` if unknown, used or expired.
pub async fn consume_password_reset(
    c: &mut Conn<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserId>, StoreError> {
    let sql = "UPDATE password_resets SET used_at = $2
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id";
    let id: Option<i64> = run!(c, |c| sqlx::query_scalar(sql)
        .bind(token_hash)
        .bind(now)
        .fetch_one(&mut **c)
        .await)
    .optional()?;
    Ok(id.map(UserId))
}

/// Once a password is changed, other pending reset links for the account stop working.
pub async fn void_password_resets(
    c: &mut Conn<'_>,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL";
    exec!(c, |c| sqlx::query(sql).bind(user.0).bind(now))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub organisation_id: Option<i64>,
    pub organisation_name: Option<String>,
    /// The organisation's SIRET, when it is known (a ProConnect sign-in is matched on it).
    pub organisation_siret: Option<String>,
    pub territory_id: Option<i64>,
    pub territory_name: Option<String>,
    pub invited_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Invitation {
    pub fn role(&self) -> Option<Role> {
        Role::from_code(&self.role)
    }
}

#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub organisation: Option<OrganisationId>,
    pub territory: Option<TerritoryId>,
    pub invited_by: UserId,
}

pub async fn create_invitation(
    c: &mut Conn<'_>,
    token_hash: &str,
    invitation: &NewInvitation,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sql = "INSERT INTO invitations (token_hash, email, display_name, role, organisation_id, territory_id, invited_by, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    Ok(run!(c, |c| sqlx::query_scalar(sql)
        .bind(token_hash)
        .bind(&invitation.email)
        .bind(&invitation.display_name)
        .bind(invitation.role.as_str())
        .bind(invitation.organisation.map(|o| o.0))
        .bind(invitation.territory.map(|t| t.0))
        .bind(invitation.invited_by.0)
        .bind(now)
        .bind(expires_at)
        .fetch_one(&mut **c)
        .await)?)
}

const INVITATION: &str = "SELECT i.id, i.email, i.display_name, i.role, i.organisation_id, o.name AS organisation_name,
                                 o.siret AS organisation_siret, i.territory_id, t.name AS territory_name, i.invited_by, i.created_at, i.expires_at,
                                 i.accepted_at, i.revoked_at
                          FROM invitations i
                          LEFT JOIN organisations o ON o.id = i.organisation_id
                          LEFT JOIN territories t ON t.id = i.territory_id";

/// A pending invitation (not accepted, not revoked, not expired) for this token.
pub async fn pending_invitation(
    c: &mut Conn<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Invitation>, StoreError> {
    let sql = format!(
        "{INVITATION} WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2"
    );
    run!(c, |c| sqlx::query_as(&sql)
        .bind(token_hash)
        .bind(now)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// The pending invitations addressed to this e-mail address (compared without case), oldest
/// first.
pub async fn pending_invitations_for(
    c: &mut Conn<'_>,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Invitation>, StoreError> {
    let sql = format!(
        "{INVITATION} WHERE LOWER(i.email) = LOWER($1) AND i.accepted_at IS NULL AND i.revoked_at IS NULL
         AND i.expires_at > $2 ORDER BY i.id"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(email)
        .bind(now)
        .fetch_all(&mut **c)
        .await)?)
}

/// Marks an invitation accepted; false if it was no longer pending (used twice, revoked, expired).
pub async fn accept_invitation(
    c: &mut Conn<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql = "UPDATE invitations SET accepted_at = $2
               WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2";
    let n = exec!(c, |c| sqlx::query(sql).bind(id).bind(now))?;
    Ok(n == 1)
}

/// Invitations sent for a territory (or its partners' staff), most recent first.
pub async fn invitations_of_territory(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<Invitation>, StoreError> {
    let sql =
        format!("{INVITATION} WHERE i.territory_id = $1 ORDER BY i.created_at DESC, i.id DESC");
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(territory.0)
        .fetch_all(&mut **c)
        .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use chrono::Duration;

    both_backends! {
        async fn a_reset_token_works_once_and_not_after_it_expires(db) {
            let mut pooled = db.acquire().await.expect("connection");
            let now = crate::now();
            let email = domain::Email::parse("r@exemple.fr").expect("valid");
            let user = crate::users::create(&mut pooled.conn(), &email, "R", None, now).await.expect("user");
            create_password_reset(&mut pooled.conn(), "t1", user, now, now + Duration::hours(1)).await.expect("created");
            create_password_reset(&mut pooled.conn(), "t2", user, now, now + Duration::hours(1)).await.expect("created");
            assert_eq!(peek_password_reset(&mut pooled.conn(), "t1", now).await.expect("peek"), Some(user));
            assert!(consume_password_reset(&mut pooled.conn(), "t1", now + Duration::hours(2)).await.expect("late").is_none());
            assert_eq!(consume_password_reset(&mut pooled.conn(), "t1", now).await.expect("first use"), Some(user));
            assert!(consume_password_reset(&mut pooled.conn(), "t1", now).await.expect("second use").is_none());
            void_password_resets(&mut pooled.conn(), user, now).await.expect("voided");
            assert!(consume_password_reset(&mut pooled.conn(), "t2", now).await.expect("voided").is_none());
        }
    }
}
