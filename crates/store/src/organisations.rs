//! Organisations (« structures »): France Travail agencies, Missions locales, associations…

use chrono::{DateTime, Utc};
use domain::{InseeCode, OrganisationId, OrganisationKind, Siret, TerritoryId};

use crate::{Conn, OptionalExt, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Organisation {
    #[sqlx(try_from = "i64")]
    pub id: OrganisationId,
    pub name: String,
    pub kind: String,
    pub siret: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub commune_insee: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Organisation {
    pub fn kind_label(&self) -> &'static str {
        OrganisationKind::from_code(&self.kind).map_or("Autre", OrganisationKind::label)
    }
}

/// What is written for an organisation, already validated.
#[derive(Debug, Clone)]
pub struct OrganisationData {
    pub name: String,
    pub kind: OrganisationKind,
    pub siret: Option<Siret>,
    pub address: String,
    pub postal_code: String,
    pub commune_insee: InseeCode,
}

const COLUMNS: &str =
    "id, name, kind, siret, address, postal_code, commune_insee, created_at, updated_at";

/// `StoreError::Conflict` when another organisation has the same SIRET.
pub async fn create(
    c: &mut Conn<'_>,
    data: &OrganisationData,
    now: DateTime<Utc>,
) -> Result<OrganisationId, StoreError> {
    let sql = "INSERT INTO organisations (name, kind, siret, address, postal_code, commune_insee, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id";
    let id: i64 = run!(c, |c| sqlx::query_scalar(sql)
        .bind(&data.name)
        .bind(data.kind.as_str())
        .bind(data.siret.as_ref().map(|s| s.as_str()))
        .bind(&data.address)
        .bind(&data.postal_code)
        .bind(data.commune_insee.as_str())
        .bind(now)
        .fetch_one(&mut **c)
        .await)?;
    Ok(OrganisationId(id))
}

pub async fn update(
    c: &mut Conn<'_>,
    id: OrganisationId,
    data: &OrganisationData,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql =
        "UPDATE organisations SET name = $2, kind = $3, siret = $4, address = $5, postal_code = $6,
               commune_insee = $7, updated_at = $8 WHERE id = $1";
    exec!(c, |c| sqlx::query(sql)
        .bind(id.0)
        .bind(&data.name)
        .bind(data.kind.as_str())
        .bind(data.siret.as_ref().map(|s| s.as_str()))
        .bind(&data.address)
        .bind(&data.postal_code)
        .bind(data.commune_insee.as_str())
        .bind(now))?;
    Ok(())
}

pub async fn by_id(
    c: &mut Conn<'_>,
    id: OrganisationId,
) -> Result<Option<Organisation>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM organisations WHERE id = $1");
    run!(c, |c| sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

pub async fn by_siret(c: &mut Conn<'_>, siret: &Siret) -> Result<Option<Organisation>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM organisations WHERE siret = $1");
    run!(c, |c| sqlx::query_as(&sql)
        .bind(siret.as_str())
        .fetch_one(&mut **c)
        .await)
    .optional()
}

pub async fn list(c: &mut Conn<'_>) -> Result<Vec<Organisation>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM organisations ORDER BY name, id");
    Ok(run!(c, |c| sqlx::query_as(&sql).fetch_all(&mut **c).await)?)
}

/// The partner organisations of a territory.
pub async fn partners_of(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<Organisation>, StoreError> {
    let sql = "SELECT o.id, o.name, o.kind, o.siret, o.address, o.postal_code, o.commune_insee, o.created_at, o.updated_at
               FROM organisations o JOIN territory_partners tp ON tp.organisation_id = o.id
               WHERE tp.territory_id = $1 ORDER BY o.name, o.id";
    Ok(run!(c, |c| sqlx::query_as(sql)
        .bind(territory.0)
        .fetch_all(&mut **c)
        .await)?)
}

/// Organisations that are not yet partners of a territory (to add one).
pub async fn not_partners_of(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<Organisation>, StoreError> {
    let sql = "SELECT o.id, o.name, o.kind, o.siret, o.address, o.postal_code, o.commune_insee, o.created_at, o.updated_at
               FROM organisations o
               WHERE NOT EXISTS (SELECT 1 FROM territory_partners tp WHERE tp.organisation_id = o.id AND tp.territory_id = $1)
               ORDER BY o.name, o.id";
    Ok(run!(c, |c| sqlx::query_as(sql)
        .bind(territory.0)
        .fetch_all(&mut **c)
        .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;

    pub(crate) fn sample(name: &str, siret: Option<&str>) -> OrganisationData {
        OrganisationData {
            name: name.to_string(),
            kind: OrganisationKind::MissionLocale,
            siret: siret.map(|s| Siret::parse(s).expect("valid SIRET")),
            address: "1 rue de la Gare".into(),
            postal_code: "59600".into(),
            commune_insee: InseeCode::parse("59392").expect("valid"),
        }
    }

    both_backends! {
        async fn an_organisation_reads_back_as_written_and_a_siret_is_used_once(db) {
            let mut pooled = db.acquire().await.expect("connection");
            let now = crate::now();
            let id = create(&mut pooled.conn(), &sample("Mission locale", Some("13002526500013")), now).await.expect("created");
            let read = by_id(&mut pooled.conn(), id).await.expect("query").expect("found");
            assert_eq!(read.name, "Mission locale");
            assert_eq!(read.kind_label(), "Mission locale");
            assert_eq!(read.siret.as_deref(), Some("13002526500013"));
            let twin = create(&mut pooled.conn(), &sample("Autre", Some("13002526500013")), now).await;
            assert!(matches!(twin, Err(StoreError::Conflict)));
            // Organisations without a SIRET do not collide with each other.
            create(&mut pooled.conn(), &sample("Association A", None), now).await.expect("no SIRET");
            create(&mut pooled.conn(), &sample("Association B", None), now).await.expect("no SIRET either");
        }
    }
}
