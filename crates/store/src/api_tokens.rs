//! Access tokens of the API — personal, or of a partner organisation in a territory — and their
//! per-minute request counts. Only the SHA-256 of a token is stored (docs/security.md,
//! « Jetons d'API »).

use chrono::{DateTime, Utc};
use domain::{OrganisationId, TerritoryId, UserId};

use crate::{Conn, OptionalExt, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub user_id: UserId,
    pub name: String,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// For an organisation's token: the organisation, by name.
    pub organisation_name: Option<String>,
    /// Who made it (for an organisation's token, a coordinator).
    pub made_by: String,
}

const COLUMNS: &str =
    "t.id, t.user_id, t.name, t.scopes, t.created_at, t.expires_at, t.revoked_at, t.last_used_at,
                       o.name AS organisation_name, u.display_name AS made_by";
const FROM: &str = "FROM api_tokens t JOIN users u ON u.id = t.user_id
                    LEFT JOIN organisations o ON o.id = t.organisation_id";

/// A token to create, already validated.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub user: UserId,
    pub name: &'a str,
    pub scopes: &'a str,
    pub expires_at: DateTime<Utc>,
    /// An organisation's token: the organisation and the territory it acts in.
    pub organisation: Option<(OrganisationId, TerritoryId)>,
}

pub async fn create(
    c: &mut Conn<'_>,
    t: &NewToken<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sql = "INSERT INTO api_tokens (token_hash, user_id, name, scopes, created_at, expires_at, organisation_id, territory_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    Ok(run!(c, |c| sqlx::query_scalar(sql)
        .bind(t.token_hash)
        .bind(t.user.0)
        .bind(t.name)
        .bind(t.scopes)
        .bind(now)
        .bind(t.expires_at)
        .bind(t.organisation.map(|(o, _)| o.0))
        .bind(t.organisation.map(|(_, t)| t.0))
        .fetch_one(&mut **c)
        .await)?)
}

/// A live token with its owner, as a request authenticates with it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LiveToken {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub user_id: UserId,
    pub scopes: String,
    pub email: String,
    pub display_name: String,
    /// An organisation's token: the organisation (by name) and the territory it acts in.
    pub organisation_name: Option<String>,
    pub territory_id: Option<i64>,
}

/// The live token of this hash: not revoked, not expired; a personal token's owner active, an
/// organisation's token's organisation still a partner of its territory (whoever made it).
pub async fn live(
    c: &mut Conn<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<LiveToken>, StoreError> {
    let sql = "SELECT t.id, t.user_id, t.scopes, u.email, u.display_name, o.name AS organisation_name, t.territory_id
               FROM api_tokens t JOIN users u ON u.id = t.user_id
               LEFT JOIN organisations o ON o.id = t.organisation_id
               WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2
               AND CASE WHEN t.organisation_id IS NULL THEN u.is_active = TRUE
                        ELSE EXISTS (SELECT 1 FROM territory_partners p
                                     WHERE p.territory_id = t.territory_id AND p.organisation_id = t.organisation_id) END";
    run!(c, |c| sqlx::query_as(sql)
        .bind(token_hash)
        .bind(now)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// An account's personal tokens, the most recent first (revoked and expired ones included).
pub async fn of_user(c: &mut Conn<'_>, user: UserId) -> Result<Vec<ApiToken>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE t.user_id = $1 AND t.organisation_id IS NULL
         ORDER BY t.created_at DESC, t.id DESC"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(user.0)
        .fetch_all(&mut **c)
        .await)?)
}

/// The tokens of a territory's partner organisations, the most recent first.
pub async fn of_territory(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<ApiToken>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE t.territory_id = $1 ORDER BY t.created_at DESC, t.id DESC"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(territory.0)
        .fetch_all(&mut **c)
        .await)?)
}

/// Whose tokens a revocation may reach.
#[derive(Debug, Clone, Copy)]
pub enum Holder {
    /// An account's personal tokens.
    User(UserId),
    /// The tokens of a territory's partner organisations.
    Territory(TerritoryId),
}

/// Revokes one live token of the holder; false if it has no such live token.
pub async fn revoke(
    c: &mut Conn<'_>,
    holder: Holder,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (sql, owner) = match holder {
        Holder::User(u) => (
            "UPDATE api_tokens SET revoked_at = $3
             WHERE id = $1 AND user_id = $2 AND organisation_id IS NULL AND revoked_at IS NULL",
            u.0,
        ),
        Holder::Territory(t) => (
            "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND territory_id = $2 AND revoked_at IS NULL",
            t.0,
        ),
    };
    Ok(exec!(c, |c| sqlx::query(sql).bind(id).bind(owner).bind(now))? == 1)
}

/// Counts one request of the token in its minute and returns the minute's count so far, in
/// one statement (every instance shares the count); notes the token's last use.
pub async fn count_request(
    c: &mut Conn<'_>,
    token: i64,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let minute = now.timestamp().div_euclid(60);
    let sql = "INSERT INTO api_request_counts (token_id, minute, requests) VALUES ($1, $2, 1)
               ON CONFLICT (token_id, minute) DO UPDATE SET requests = api_request_counts.requests + 1
               RETURNING requests";
    let count: i64 = run!(c, |c| sqlx::query_scalar(sql)
        .bind(token)
        .bind(minute)
        .fetch_one(&mut **c)
        .await)?;
    if count == 1 {
        // Once a minute at most: the first request of each minute says the token is in use.
        let touch = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";
        exec!(c, |c| sqlx::query(touch).bind(token).bind(now))?;
    }
    Ok(count)
}

/// Forgets the counts of minutes before `before`.
pub async fn purge_counts(c: &mut Conn<'_>, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let sql = "DELETE FROM api_request_counts WHERE minute < $1";
    Ok(exec!(c, |c| sqlx::query(sql)
        .bind(before.timestamp().div_euclid(60)))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use chrono::Duration;

    both_backends! {
        async fn a_token_is_live_until_revoked_or_expired_and_its_requests_are_counted_per_minute(db) {
            let mut pooled = db.acquire().await.expect("connection");
            let now = crate::now();
            let email = domain::Email::parse("t@exemple.fr").expect("valid");
            let user = crate::users::create(&mut pooled.conn(), &email, "T", None, now).await.expect("user");
            let new = NewToken { token_hash: "h1", user, name: "SI", scopes: "qpv", expires_at: now + Duration::days(30), organisation: None };
            let id = create(&mut pooled.conn(), &new, now).await.expect("token");
            assert_eq!(live(&mut pooled.conn(), "h1", now).await.expect("read").expect("live").id, id);
            assert!(live(&mut pooled.conn(), "h1", now + Duration::days(31)).await.expect("read").is_none(), "expired");
            assert_eq!(count_request(&mut pooled.conn(), id, now).await.expect("count"), 1);
            assert_eq!(count_request(&mut pooled.conn(), id, now).await.expect("count"), 2);
            assert_eq!(count_request(&mut pooled.conn(), id, now + Duration::minutes(1)).await.expect("count"), 1, "a new minute");
            assert!(of_user(&mut pooled.conn(), user).await.expect("list")[0].last_used_at.is_some());
            assert_eq!(purge_counts(&mut pooled.conn(), now + Duration::minutes(1)).await.expect("purge"), 1);
            let other = crate::users::create(&mut pooled.conn(), &domain::Email::parse("o@exemple.fr").expect("valid"), "O", None, now).await.expect("user");
            assert!(!revoke(&mut pooled.conn(), Holder::User(other), id, now).await.expect("revoke"), "not someone else's token");
            assert!(revoke(&mut pooled.conn(), Holder::User(user), id, now).await.expect("revoke"));
            assert!(live(&mut pooled.conn(), "h1", now).await.expect("read").is_none(), "revoked");
            assert!(!revoke(&mut pooled.conn(), Holder::User(user), id, now).await.expect("revoke"), "once");
        }

        async fn an_organisations_token_outlives_its_maker_and_dies_with_the_partnership(db) {
            let mut pooled = db.acquire().await.expect("connection");
            let now = crate::now();
            let maker = crate::users::create(&mut pooled.conn(), &domain::Email::parse("coord@exemple.fr").expect("valid"), "C", None, now).await.expect("user");
            let territory = crate::territories::create(&mut pooled.conn(), &crate::territories::TerritoryData {
                slug: domain::Slug::parse("sambre").expect("slug"),
                name: "Sambre".into(),
                status: domain::TerritoryStatus::Active,
                epci: None,
                co_pilots: String::new(),
                starts_on: None,
                ends_on: None,
                communes: vec![domain::InseeCode::parse("59392").expect("insee")],
                time_zone: domain::TimeZone::Paris,
            }, now).await.expect("territory");
            let org = crate::organisations::create(&mut pooled.conn(), &crate::organisations::OrganisationData {
                name: "Mission locale".into(),
                kind: domain::OrganisationKind::MissionLocale,
                siret: None,
                address: String::new(),
                postal_code: "59600".into(),
                commune_insee: domain::InseeCode::parse("59392").expect("insee"),
            }, now).await.expect("organisation");
            crate::territories::add_partner(&mut pooled.conn(), territory, org, None, now).await.expect("partner");
            let new = NewToken { token_hash: "h2", user: maker, name: "SI", scopes: "annuaire", expires_at: now + Duration::days(30), organisation: Some((org, territory)) };
            let id = create(&mut pooled.conn(), &new, now).await.expect("token");
            crate::users::set_active(&mut pooled.conn(), maker, false).await.expect("deactivated");
            let live_token = live(&mut pooled.conn(), "h2", now).await.expect("read").expect("live without its maker");
            assert_eq!(live_token.organisation_name.as_deref(), Some("Mission locale"));
            assert!(of_user(&mut pooled.conn(), maker).await.expect("list").is_empty(), "not among the maker's own");
            assert_eq!(of_territory(&mut pooled.conn(), territory).await.expect("list")[0].id, id);
            exec!(&mut pooled.conn(), |c| sqlx::query("DELETE FROM territory_partners WHERE organisation_id = $1").bind(org.0)).expect("partnership ended");
            assert!(live(&mut pooled.conn(), "h2", now).await.expect("read").is_none(), "dead with the partnership");
        }
    }
}
