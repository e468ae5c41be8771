//! Territorial programmes, their communes and their partner organisations.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    EpciCode, InseeCode, OrganisationId, Slug, TerritoryId, TerritoryStatus, TimeZone, UserId,
};

use crate::{Conn, OptionalExt, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Territory {
    #[sqlx(try_from = "i64")]
    pub id: TerritoryId,
    pub slug: String,
    pub name: String,
    pub status: String,
    pub epci_siren: Option<String>,
    pub co_pilots: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Its coordinators must sign in with a second factor.
    pub second_factor_required: bool,
}

impl Territory {
    /// Where its clocks are (a CHECK constraint keeps the column to the known zones).
    pub fn zone(&self) -> TimeZone {
        TimeZone::from_code(&self.time_zone).unwrap_or_default()
    }

    pub fn status_label(&self) -> &'static str {
        TerritoryStatus::from_code(&self.status).map_or("Inconnu", TerritoryStatus::label)
    }
}

/// What is written for a territory, already validated.
#[derive(Debug, Clone)]
pub struct TerritoryData {
    pub slug: Slug,
    pub name: String,
    pub status: TerritoryStatus,
    pub epci: Option<EpciCode>,
    pub co_pilots: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub communes: Vec<InseeCode>,
    pub time_zone: TimeZone,
}

const COLUMNS: &str = "id, slug, name, status, epci_siren, co_pilots, starts_on, ends_on, time_zone, created_at, updated_at, second_factor_required";

/// Creates a territory with its communes; `StoreError::Conflict` when the slug is taken.
/// Call inside a transaction so that the communes land with it.
pub async fn create(
    c: &mut Conn<'_>,
    data: &TerritoryData,
    now: DateTime<Utc>,
) -> Result<TerritoryId, StoreError> {
    let sql = "INSERT INTO territories (slug, name, status, epci_siren, co_pilots, starts_on, ends_on, time_zone, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8, $8) RETURNING id";
    let id: i64 = run!(c, |c| sqlx::query_scalar(sql)
        .bind(data.slug.as_str())
        .bind(&data.name)
        .bind(data.status.as_str())
        .bind(data.epci.as_ref().map(|e| e.as_str()))
        .bind(&data.co_pilots)
        .bind(data.starts_on)
        .bind(data.ends_on)
        .bind(now)
        .bind(data.time_zone.as_str())
        .fetch_one(&mut **c)
        .await)?;
    let id = TerritoryId(id);
    set_communes(c, id, &data.communes).await?;
    Ok(id)
}

/// Rewrites a territory and its communes. Call inside a transaction.
pub async fn update(
    c: &mut Conn<'_>,
    id: TerritoryId,
    data: &TerritoryData,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql =
        "UPDATE territories SET slug = $2, name = $3, status = $4, epci_siren = $5, co_pilots = $6,
               starts_on = $7, ends_on = $8, updated_at = $9, time_zone = $10 WHERE id = $1";
    exec!(c, |c| sqlx::query(sql)
        .bind(id.0)
        .bind(data.slug.as_str())
        .bind(&data.name)
        .bind(data.status.as_str())
        .bind(data.epci.as_ref().map(|e| e.as_str()))
        .bind(&data.co_pilots)
        .bind(data.starts_on)
        .bind(data.ends_on)
        .bind(now)
        .bind(data.time_zone.as_str()))?;
    set_communes(c, id, &data.communes).await
}

async fn set_communes(
    c: &mut Conn<'_>,
    id: TerritoryId,
    communes: &[InseeCode],
) -> Result<(), StoreError> {
    let delete = "DELETE FROM territory_communes WHERE territory_id = $1";
    exec!(c, |c| sqlx::query(delete).bind(id.0))?;
    let insert = "INSERT INTO territory_communes (territory_id, insee_code) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    for code in communes {
        exec!(c, |c| sqlx::query(insert).bind(id.0).bind(code.as_str()))?;
    }
    Ok(())
}

pub async fn by_id(c: &mut Conn<'_>, id: TerritoryId) -> Result<Option<Territory>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM territories WHERE id = $1");
    run!(c, |c| sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

pub async fn by_slug(c: &mut Conn<'_>, slug: &str) -> Result<Option<Territory>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM territories WHERE slug = $1");
    run!(c, |c| sqlx::query_as(&sql)
        .bind(slug)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

pub async fn list(c: &mut Conn<'_>) -> Result<Vec<Territory>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM territories ORDER BY name, id");
    Ok(run!(c, |c| sqlx::query_as(&sql).fetch_all(&mut **c).await)?)
}

/// Territories an account may enter: all of them for a national administrator or pilot; else
/// those it coordinates or steers, and those where its organisation is a partner.
pub async fn accessible_to(c: &mut Conn<'_>, user: UserId) -> Result<Vec<Territory>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}
               FROM territories t
               WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $1 AND m.ended_at IS NULL
                             AND (m.role = 'admin' OR (m.role = 'pilot' AND m.territory_id IS NULL)))
                  OR t.id IN (SELECT m.territory_id FROM memberships m
                              WHERE m.user_id = $1 AND m.ended_at IS NULL AND m.territory_id IS NOT NULL
                                AND m.role IN ('coordinator', 'pilot'))
                  OR t.id IN (SELECT tp.territory_id FROM territory_partners tp
                              JOIN memberships m ON m.organisation_id = tp.organisation_id
                              WHERE m.user_id = $1 AND m.ended_at IS NULL AND m.role = 'professional'
                                AND (m.territory_id IS NULL OR m.territory_id = tp.territory_id))
               ORDER BY t.name, t.id"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(user.0)
        .fetch_all(&mut **c)
        .await)?)
}

pub async fn communes(c: &mut Conn<'_>, id: TerritoryId) -> Result<Vec<String>, StoreError> {
    let sql =
        "SELECT insee_code FROM territory_communes WHERE territory_id = $1 ORDER BY insee_code";
    Ok(run!(c, |c| sqlx::query_scalar(sql)
        .bind(id.0)
        .fetch_all(&mut **c)
        .await)?)
}

/// Adds a partner; adding one twice changes nothing. Returns whether it was new.
pub async fn add_partner(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    organisation: OrganisationId,
    by: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql = "INSERT INTO territory_partners (territory_id, organisation_id, added_at, added_by)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
    let affected = exec!(c, |c| sqlx::query(sql)
        .bind(territory.0)
        .bind(organisation.0)
        .bind(now)
        .bind(by.map(|u| u.0)))?;
    Ok(affected == 1)
}

pub async fn is_partner(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    organisation: OrganisationId,
) -> Result<bool, StoreError> {
    let sql =
        "SELECT COUNT(*) FROM territory_partners WHERE territory_id = $1 AND organisation_id = $2";
    let n: i64 = run!(c, |c| sqlx::query_scalar(sql)
        .bind(territory.0)
        .bind(organisation.0)
        .fetch_one(&mut **c)
        .await)?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;

    fn data(slug: &str) -> TerritoryData {
        TerritoryData {
            slug: Slug::parse(slug).expect("valid slug"),
            name: "Cité de l'emploi de Maubeuge".into(),
            status: TerritoryStatus::Active,
            epci: Some(EpciCode::parse("200043396").expect("valid")),
            co_pilots: "Préfecture du Nord ; Ville de Maubeuge".into(),
            starts_on: NaiveDate::from_ymd_opt(2024, 1, 1),
            ends_on: None,
            communes: vec![
                InseeCode::parse("59392").expect("valid"),
                InseeCode::parse("59343").expect("valid"),
            ],
            time_zone: domain::TimeZone::Paris,
        }
    }

    both_backends! {
        async fn a_territory_keeps_its_communes_and_its_slug_is_unique(db) {
            let mut tx = db.begin().await.expect("tx");
            let now = crate::now();
            let id = create(&mut tx.conn(), &data("maubeuge"), now).await.expect("created");
            tx.commit().await.expect("commit");
            let mut pooled = db.acquire().await.expect("connection");
            let read = by_slug(&mut pooled.conn(), "maubeuge").await.expect("query").expect("found");
            assert_eq!(read.id, id);
            assert_eq!(read.starts_on, NaiveDate::from_ymd_opt(2024, 1, 1));
            assert_eq!(read.status_label(), "Actif");
            assert_eq!(communes(&mut pooled.conn(), id).await.expect("communes"), vec!["59343", "59392"]);
            let twin = create(&mut pooled.conn(), &data("maubeuge"), now).await;
            assert!(matches!(twin, Err(StoreError::Conflict)));
        }

        async fn a_failed_territory_creation_leaves_nothing_behind(db) {
            let now = crate::now();
            let mut tx = db.begin().await.expect("tx");
            let id = create(&mut tx.conn(), &data("premier"), now).await.expect("created");
            drop(tx); // rolled back
            let mut pooled = db.acquire().await.expect("connection");
            assert!(list(&mut pooled.conn()).await.expect("list").is_empty());
            assert!(communes(&mut pooled.conn(), id).await.expect("communes").is_empty());
        }
    }
}
