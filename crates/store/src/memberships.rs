//! Memberships: what role an account holds, in which organisation or territory.

use chrono::{DateTime, Utc};
use domain::{MembershipId, OrganisationId, Role, TerritoryId, UserId};

use crate::{Conn, StoreError, exec, run};

/// A current membership with the names it points to, for display and authorization.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Membership {
    #[sqlx(try_from = "i64")]
    pub id: MembershipId,
    #[sqlx(try_from = "i64")]
    pub user_id: UserId,
    pub role: String,
    pub organisation_id: Option<i64>,
    pub organisation_name: Option<String>,
    /// The organisation's SIRET, when it is known (a ProConnect sign-in is matched on it).
    pub organisation_siret: Option<String>,
    pub territory_id: Option<i64>,
    pub territory_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Membership {
    pub fn role(&self) -> Option<Role> {
        Role::from_code(&self.role)
    }
    pub fn organisation(&self) -> Option<OrganisationId> {
        self.organisation_id.map(OrganisationId)
    }
    pub fn territory(&self) -> Option<TerritoryId> {
        self.territory_id.map(TerritoryId)
    }
}

/// A membership to create; which ids are required depends on the role and is checked by `app`.
#[derive(Debug, Clone)]
pub struct NewMembership {
    pub user: UserId,
    pub role: Role,
    pub organisation: Option<OrganisationId>,
    pub territory: Option<TerritoryId>,
    pub created_by: Option<UserId>,
}

pub async fn create(
    c: &mut Conn<'_>,
    m: &NewMembership,
    now: DateTime<Utc>,
) -> Result<MembershipId, StoreError> {
    let sql = "INSERT INTO memberships (user_id, role, organisation_id, territory_id, created_at, created_by)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    let id: i64 = run!(c, |c| sqlx::query_scalar(sql)
        .bind(m.user.0)
        .bind(m.role.as_str())
        .bind(m.organisation.map(|o| o.0))
        .bind(m.territory.map(|t| t.0))
        .bind(now)
        .bind(m.created_by.map(|u| u.0))
        .fetch_one(&mut **c)
        .await)?;
    Ok(MembershipId(id))
}

const SELECT: &str =
    "SELECT m.id, m.user_id, m.role, m.organisation_id, o.name AS organisation_name,
                             o.siret AS organisation_siret, m.territory_id, t.name AS territory_name, m.created_at
                      FROM memberships m
                      LEFT JOIN organisations o ON o.id = m.organisation_id
                      LEFT JOIN territories t ON t.id = m.territory_id";

/// An account's current memberships.
pub async fn of_user(c: &mut Conn<'_>, user: UserId) -> Result<Vec<Membership>, StoreError> {
    let sql = format!("{SELECT} WHERE m.user_id = $1 AND m.ended_at IS NULL ORDER BY m.id");
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(user.0)
        .fetch_all(&mut **c)
        .await)?)
}

/// Whether an account already holds exactly this current membership.
pub async fn exists(c: &mut Conn<'_>, m: &NewMembership) -> Result<bool, StoreError> {
    let sql = "SELECT COUNT(*) FROM memberships WHERE user_id = $1 AND role = $2 AND ended_at IS NULL
               AND COALESCE(organisation_id, 0) = COALESCE($3, 0) AND COALESCE(territory_id, 0) = COALESCE($4, 0)";
    let n: i64 = run!(c, |c| sqlx::query_scalar(sql)
        .bind(m.user.0)
        .bind(m.role.as_str())
        .bind(m.organisation.map(|o| o.0))
        .bind(m.territory.map(|t| t.0))
        .fetch_one(&mut **c)
        .await)?;
    Ok(n > 0)
}

/// A member of a territory's team, as the coordinator sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamMember {
    #[sqlx(try_from = "i64")]
    pub user_id: UserId,
    pub display_name: String,
    pub email: String,
    pub role: String,
    pub organisation_id: Option<i64>,
    pub organisation_name: Option<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Signs in with a second factor (docs/security.md).
    pub second_factor: bool,
}

impl TeamMember {
    pub fn role(&self) -> Option<Role> {
        Role::from_code(&self.role)
    }
}

/// Everyone working in a territory: its coordinators and pilots, and the staff of its partners.
pub async fn team_of(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<TeamMember>, StoreError> {
    let sql = format!("SELECT u.id AS user_id, u.display_name, u.email, m.role, m.organisation_id, o.name AS organisation_name, u.last_login_at,
                      {} AS second_factor
               FROM memberships m
               JOIN users u ON u.id = m.user_id
               LEFT JOIN organisations o ON o.id = m.organisation_id
               WHERE m.ended_at IS NULL AND u.is_active = TRUE
                 AND (m.territory_id = $1
                      OR (m.role = 'professional' AND m.territory_id IS NULL AND m.organisation_id IN
                          (SELECT organisation_id FROM territory_partners WHERE territory_id = $1)))
               ORDER BY o.name, u.display_name, u.id", crate::second_factors::enabled_of("u.id"));
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(territory.0)
        .fetch_all(&mut **c)
        .await)?)
}

pub async fn end(c: &mut Conn<'_>, id: MembershipId, now: DateTime<Utc>) -> Result<(), StoreError> {
    let sql = "UPDATE memberships SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL";
    exec!(c, |c| sqlx::query(sql).bind(id.0).bind(now))?;
    Ok(())
}
