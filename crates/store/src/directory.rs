//! The directory of relays: data·inclusion structures and services per territory, their change
//! history, and the cached positions of communes used to order search results by distance.

use chrono::{DateTime, Utc};
use domain::{OrganisationId, ServiceId, StructureId, TerritoryId, UserId};

use crate::sql::Sql;
use crate::{Conn, OptionalExt, StoreError, exec, run};

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// A structure to write: its data·inclusion key and record (JSON text).
#[derive(Debug, Clone)]
pub struct StructureWrite<'a> {
    pub source: &'a str,
    pub record_id: &'a str,
    pub nom: &'a str,
    pub record: &'a str,
    /// Set when the structure is one of Passerelle's organisations.
    pub organisation: Option<OrganisationId>,
}

/// Inserts or updates a structure by (territory, source, id); an existing link to an
/// organisation is kept when the write brings none.
pub async fn upsert_structure(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    s: &StructureWrite<'_>,
    now: DateTime<Utc>,
) -> Result<(StructureId, Outcome), StoreError> {
    let existing: Option<(i64, String)> = run!(c, |c| sqlx::query_as(
        "SELECT id, record FROM directory_structures WHERE territory_id = $1 AND source = $2 AND record_id = $3"
    )
    .bind(territory.0)
    .bind(s.source)
    .bind(s.record_id)
    .fetch_one(&mut **c)
    .await)
    .optional()?;
    match existing {
        Some((id, record)) if record == s.record && s.organisation.is_none() => {
            Ok((StructureId(id), Outcome::Unchanged))
        }
        Some((id, _)) => {
            exec!(c, |c| {
                sqlx::query(
                "UPDATE directory_structures SET nom = $2, record = $3, organisation_id = COALESCE($4, organisation_id), updated_at = $5 WHERE id = $1"
            )
            .bind(id)
            .bind(s.nom)
            .bind(s.record)
            .bind(s.organisation.map(|o| o.0))
            .bind(now)
            })?;
            Ok((StructureId(id), Outcome::Updated))
        }
        None => {
            let id: i64 = run!(c, |c| {
                sqlx::query_scalar(
                "INSERT INTO directory_structures (territory_id, organisation_id, source, record_id, nom, record, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id"
            )
            .bind(territory.0)
            .bind(s.organisation.map(|o| o.0))
            .bind(s.source)
            .bind(s.record_id)
            .bind(s.nom)
            .bind(s.record)
            .bind(now)
            .fetch_one(&mut **c)
            .await
            })?;
            Ok((StructureId(id), Outcome::Created))
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StructureRef {
    #[sqlx(try_from = "i64")]
    pub id: StructureId,
    pub nom: String,
    pub organisation_id: Option<i64>,
}

pub async fn structure_by_key(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    source: &str,
    record_id: &str,
) -> Result<Option<StructureRef>, StoreError> {
    run!(c, |c| sqlx::query_as(
        "SELECT id, nom, organisation_id FROM directory_structures WHERE territory_id = $1 AND source = $2 AND record_id = $3"
    )
    .bind(territory.0)
    .bind(source)
    .bind(record_id)
    .fetch_one(&mut **c)
    .await)
    .optional()
}

/// The data·inclusion key (source, id) of a structure.
pub async fn structure_key(
    c: &mut Conn<'_>,
    id: StructureId,
) -> Result<Option<(String, String)>, StoreError> {
    run!(c, |c| sqlx::query_as(
        "SELECT source, record_id FROM directory_structures WHERE id = $1"
    )
    .bind(id.0)
    .fetch_one(&mut **c)
    .await)
    .optional()
}

/// The structures of a territory that belong to one of these organisations.
pub async fn structures_of(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    organisations: &[OrganisationId],
    all: bool,
) -> Result<Vec<StructureRef>, StoreError> {
    let ids: Vec<i64> = organisations.iter().map(|o| o.0).collect();
    let list = if ids.is_empty() {
        "NULL".to_string()
    } else {
        ids.iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sql = format!(
        "SELECT id, nom, organisation_id FROM directory_structures WHERE territory_id = $1 AND ($2 OR organisation_id IN ({list})) ORDER BY nom, id"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(territory.0)
        .bind(all)
        .fetch_all(&mut **c)
        .await)?)
}

/// The territory's « offre spécifique » details of a service (not part of data·inclusion).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecificOffer {
    pub funder: String,
    pub amount_euros: Option<i64>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub capacity: Option<i64>,
}

/// A service to write: its key, record and the columns derived from the record for search.
#[derive(Debug, Clone)]
pub struct ServiceWrite {
    pub structure: StructureId,
    pub source: String,
    pub record_id: String,
    pub record: String,
    pub nom: String,
    pub kind: Option<String>,
    pub thematiques: String,
    pub publics: String,
    pub frais: Option<String>,
    pub modes_accueil: String,
    pub zone: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub search_text: String,
    /// The folded name results are ordered by.
    pub nom_sort: String,
    pub date_maj: String,
}

/// Inserts or updates a service by (territory, source, id). Returns the record it replaced, for
/// the history. The specific-offer columns are left as they are.
pub async fn upsert_service(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    s: &ServiceWrite,
    now: DateTime<Utc>,
) -> Result<(ServiceId, Outcome, Option<String>), StoreError> {
    let existing: Option<(i64, String, i64)> = run!(c, |c| sqlx::query_as(
        "SELECT id, record, structure_id FROM directory_services WHERE territory_id = $1 AND source = $2 AND record_id = $3"
    )
    .bind(territory.0)
    .bind(&s.source)
    .bind(&s.record_id)
    .fetch_one(&mut **c)
    .await)
    .optional()?;
    match existing {
        Some((id, record, structure)) if record == s.record && structure == s.structure.0 => {
            Ok((ServiceId(id), Outcome::Unchanged, None))
        }
        Some((id, record, _)) => {
            write_service(c, ServiceId(id), s, now).await?;
            Ok((ServiceId(id), Outcome::Updated, Some(record)))
        }
        None => {
            let id: i64 = run!(c, |c| {
                sqlx::query_scalar(
                "INSERT INTO directory_services (territory_id, structure_id, source, record_id, record, nom, kind, thematiques, publics,
                   frais, modes_accueil, zone, longitude, latitude, search_text, date_maj, created_at, updated_at, nom_sort)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18) RETURNING id"
            )
            .bind(territory.0)
            .bind(s.structure.0)
            .bind(&s.source)
            .bind(&s.record_id)
            .bind(&s.record)
            .bind(&s.nom)
            .bind(&s.kind)
            .bind(&s.thematiques)
            .bind(&s.publics)
            .bind(&s.frais)
            .bind(&s.modes_accueil)
            .bind(&s.zone)
            .bind(s.longitude)
            .bind(s.latitude)
            .bind(&s.search_text)
            .bind(&s.date_maj)
            .bind(now)
            .bind(&s.nom_sort)
            .fetch_one(&mut **c)
            .await
            })?;
            Ok((ServiceId(id), Outcome::Created, None))
        }
    }
}

/// Rewrites a service's record and derived columns (its key stays).
pub async fn write_service(
    c: &mut Conn<'_>,
    id: ServiceId,
    s: &ServiceWrite,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "UPDATE directory_services SET structure_id = $2, record = $3, nom = $4, kind = $5, thematiques = $6, publics = $7,
           frais = $8, modes_accueil = $9, zone = $10, longitude = $11, latitude = $12, search_text = $13, date_maj = $14,
           updated_at = $15, nom_sort = $16 WHERE id = $1"
    )
    .bind(id.0)
    .bind(s.structure.0)
    .bind(&s.record)
    .bind(&s.nom)
    .bind(&s.kind)
    .bind(&s.thematiques)
    .bind(&s.publics)
    .bind(&s.frais)
    .bind(&s.modes_accueil)
    .bind(&s.zone)
    .bind(s.longitude)
    .bind(s.latitude)
    .bind(&s.search_text)
    .bind(&s.date_maj)
    .bind(now)
    .bind(&s.nom_sort)
    })?;
    Ok(())
}

pub async fn service_id_by_key(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    source: &str,
    record_id: &str,
) -> Result<Option<ServiceId>, StoreError> {
    let id: Option<i64> = run!(c, |c| sqlx::query_scalar(
        "SELECT id FROM directory_services WHERE territory_id = $1 AND source = $2 AND record_id = $3"
    )
    .bind(territory.0)
    .bind(source)
    .bind(record_id)
    .fetch_one(&mut **c)
    .await)
    .optional()?;
    Ok(id.map(ServiceId))
}

/// Marks a service droit commun (`None`) or part of the territory's specific offer.
pub async fn set_offer(
    c: &mut Conn<'_>,
    id: ServiceId,
    offer: Option<&SpecificOffer>,
) -> Result<(), StoreError> {
    let o = offer.cloned().unwrap_or_default();
    exec!(c, |c| {
        sqlx::query(
        "UPDATE directory_services SET offer = $2, funder = $3, amount_euros = $4, period_start = $5, period_end = $6, capacity = $7 WHERE id = $1"
    )
    .bind(id.0)
    .bind(if offer.is_some() { "specifique" } else { "droit-commun" })
    .bind(offer.map(|_| o.funder.clone()))
    .bind(o.amount_euros)
    .bind(o.period_start.clone())
    .bind(o.period_end.clone())
    .bind(o.capacity)
    })?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredService {
    #[sqlx(try_from = "i64")]
    pub id: ServiceId,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    #[sqlx(try_from = "i64")]
    pub structure_id: StructureId,
    pub structure_nom: String,
    pub structure_record: String,
    pub organisation_id: Option<i64>,
    pub record: String,
    pub offer: String,
    pub funder: Option<String>,
    pub amount_euros: Option<i64>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub capacity: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

impl StoredService {
    pub fn specific_offer(&self) -> Option<SpecificOffer> {
        (self.offer == "specifique").then(|| SpecificOffer {
            funder: self.funder.clone().unwrap_or_default(),
            amount_euros: self.amount_euros,
            period_start: self.period_start.clone(),
            period_end: self.period_end.clone(),
            capacity: self.capacity,
        })
    }
}

const SERVICE_COLUMNS: &str = "s.id, s.territory_id, s.structure_id, d.nom AS structure_nom, d.record AS structure_record, d.organisation_id,
    s.record, s.offer, s.funder, s.amount_euros, s.period_start, s.period_end, s.capacity, s.updated_at";

pub async fn service(c: &mut Conn<'_>, id: ServiceId) -> Result<Option<StoredService>, StoreError> {
    let sql = format!(
        "SELECT {SERVICE_COLUMNS} FROM directory_services s JOIN directory_structures d ON d.id = s.structure_id WHERE s.id = $1"
    );
    run!(c, |c| sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Several services by id, in one query (a result page).
pub async fn services(
    c: &mut Conn<'_>,
    ids: &[ServiceId],
) -> Result<Vec<StoredService>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids
        .iter()
        .map(|i| i.0.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {SERVICE_COLUMNS} FROM directory_services s JOIN directory_structures d ON d.id = s.structure_id WHERE s.id IN ({list})"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql).fetch_all(&mut **c).await)?)
}

/// Search filters, already folded and validated by the caller. Lists are any-of.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub thematiques: Vec<String>,
    /// When set (a field of action chosen), only services with one of these thematiques.
    pub thematiques_of_field: Option<Vec<String>>,
    pub public: Option<String>,
    pub kind: Option<String>,
    pub frais: Option<String>,
    pub mode_accueil: Option<String>,
    pub specific_only: bool,
    /// Folded words that must all appear in the service's text.
    pub words: Vec<String>,
    /// Only services whose zone d'éligibilité names one of these codes (or says nothing).
    pub zone_codes: Option<Vec<String>>,
}

/// Where results are ordered from: nearest first, then services at a distance, then the rest.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub longitude: f64,
    pub latitude: f64,
}

/// One result of a search page, with what the page needs to show distance and eligibility.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    #[sqlx(try_from = "i64")]
    pub id: ServiceId,
    pub zone: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    /// How many services match in all.
    pub total: i64,
}

fn list_value(value: &str) -> String {
    crate::like_contains(&format!("|{value}|"))
}

/// The WHERE clause of a search over `directory_services`.
fn search_conditions(q: &mut Sql, territory: TerritoryId, f: &Filters) {
    q.push("territory_id = ").bind(territory);
    let any_of = |q: &mut Sql, column: &str, values: &[String], nullable: bool| {
        q.push(" AND (");
        if values.is_empty() && !nullable {
            q.push("1 = 0");
        }
        q.join(values, " OR ", |q, v| {
            q.push(column)
                .push(" LIKE ")
                .bind(list_value(v))
                .push(" ESCAPE '\\'");
        });
        if nullable {
            if !values.is_empty() {
                q.push(" OR ");
            }
            q.push(column).push(" IS NULL");
        }
        q.push(")");
    };
    if !f.thematiques.is_empty() {
        any_of(q, "thematiques", &f.thematiques, false);
    }
    if let Some(of_field) = &f.thematiques_of_field {
        any_of(q, "thematiques", of_field, false);
    }
    if let Some(p) = &f.public {
        q.push(" AND (publics = '' OR publics LIKE ")
            .bind(list_value(p))
            .push(" ESCAPE '\\' OR publics LIKE ")
            .bind(list_value("tous-publics"))
            .push(" ESCAPE '\\')");
    }
    if let Some(m) = &f.mode_accueil {
        any_of(q, "modes_accueil", std::slice::from_ref(m), false);
    }
    if let Some(codes) = &f.zone_codes {
        any_of(q, "zone", codes, true);
    }
    if let Some(k) = &f.kind {
        q.push(" AND kind = ").bind(k.as_str());
    }
    if let Some(fr) = &f.frais {
        q.push(" AND frais = ").bind(fr.as_str());
    }
    if f.specific_only {
        q.push(" AND offer = 'specifique'");
    }
    for w in &f.words {
        q.push(" AND search_text LIKE ")
            .bind(crate::like_contains(w))
            .push(" ESCAPE '\\'");
    }
}

/// One page of the services of a territory matching the filters, and how many match in all
/// (one query; filtering, ordering and paging happen in the database).
pub async fn search(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    f: &Filters,
    origin: Option<Origin>,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Candidate>), StoreError> {
    let mut conditions = Sql::default();
    search_conditions(&mut conditions, territory, f);
    // With filters, the total comes with the page (one scan of the matching rows, not two);
    // without, the page is read in index order and the count apart is cheaper.
    let unfiltered = conditions.binds().len() == 1 && origin.is_none() && !f.specific_only;
    let mut page_sql = Sql::new(if unfiltered {
        "SELECT id, zone, longitude, latitude, CAST(0 AS BIGINT) AS total FROM directory_services WHERE "
    } else {
        "SELECT id, zone, longitude, latitude, COUNT(*) OVER () AS total FROM directory_services WHERE "
    });
    search_conditions(&mut page_sql, territory, f);
    page_sql.push(" ORDER BY ");
    match origin {
        // Squared distance in a local equirectangular projection: enough to order by.
        Some(o) => {
            let k = o.latitude.to_radians().cos();
            page_sql.push(
                "CASE WHEN longitude IS NOT NULL AND latitude IS NOT NULL THEN 0 WHEN modes_accueil LIKE '%|a-distance|%' THEN 1 ELSE 2 END, ",
            );
            // (Δlon·k)² + Δlat²
            page_sql.join(0..2, " * ", |q, _| {
                q.push("((longitude - ")
                    .bind(o.longitude)
                    .push(") * ")
                    .bind(k)
                    .push(")");
            });
            page_sql
                .push(" + (latitude - ")
                .bind(o.latitude)
                .push(") * (latitude - ")
                .bind(o.latitude)
                .push("), nom_sort, id");
        }
        None => {
            page_sql.push("nom_sort, id");
        }
    }
    page_sql
        .push(" LIMIT ")
        .bind(limit)
        .push(" OFFSET ")
        .bind(offset);
    let page: Vec<Candidate> = page_sql.fetch_all(c).await?;
    let total = match page.first() {
        Some(first) if !unfiltered => first.total,
        // Past the last page, nothing matches, or no filter: count on its own.
        _ => {
            let mut count_sql = Sql::new("SELECT COUNT(*) FROM directory_services WHERE ");
            search_conditions(&mut count_sql, territory, f);
            count_sql.fetch_scalar(c).await?
        }
    };
    Ok((total, page))
}

pub async fn count_services(c: &mut Conn<'_>, territory: TerritoryId) -> Result<i64, StoreError> {
    Ok(run!(c, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM directory_services WHERE territory_id = $1"
    )
    .bind(territory.0)
    .fetch_one(&mut **c)
    .await)?)
}

/// Service counts of a territory per thematique list, to count relays per field (one query).
pub async fn thematique_lists(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(run!(c, |c| {
        sqlx::query_as(
        "SELECT thematiques, COUNT(*) FROM directory_services WHERE territory_id = $1 GROUP BY thematiques"
    )
    .bind(territory.0)
    .fetch_all(&mut **c)
    .await
    })?)
}

/// One page of records for export, in id order after `after` (keyset pagination keeps memory
/// bounded however large the directory). `territory` `None` means every territory.
pub async fn structure_records(
    c: &mut Conn<'_>,
    territory: Option<TerritoryId>,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(run!(c, |c| {
        sqlx::query_as(
        "SELECT id, record FROM directory_structures WHERE ($1 IS NULL OR territory_id = $1) AND id > $2 ORDER BY id LIMIT $3"
    )
    .bind(territory.map(|t| t.0))
    .bind(after)
    .bind(limit)
    .fetch_all(&mut **c)
    .await
    })?)
}

pub async fn service_records(
    c: &mut Conn<'_>,
    territory: Option<TerritoryId>,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(run!(c, |c| {
        sqlx::query_as(
        "SELECT id, record FROM directory_services WHERE ($1 IS NULL OR territory_id = $1) AND id > $2 ORDER BY id LIMIT $3"
    )
    .bind(territory.map(|t| t.0))
    .bind(after)
    .bind(limit)
    .fetch_all(&mut **c)
    .await
    })?)
}

/// One entry of a service's history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Change {
    pub at: DateTime<Utc>,
    pub user_name: Option<String>,
    pub origin: String,
    /// JSON list of `{"champ", "avant", "apres"}`.
    pub changes: String,
}

pub async fn add_change(
    c: &mut Conn<'_>,
    service: ServiceId,
    user: Option<UserId>,
    origin: &str,
    changes: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "INSERT INTO directory_service_changes (service_id, at, user_id, origin, changes) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(service.0)
    .bind(now)
    .bind(user.map(|u| u.0))
    .bind(origin)
    .bind(changes)
    })?;
    Ok(())
}

pub async fn changes(c: &mut Conn<'_>, service: ServiceId) -> Result<Vec<Change>, StoreError> {
    Ok(run!(c, |c| {
        sqlx::query_as(
        "SELECT h.at, u.display_name AS user_name, h.origin, h.changes FROM directory_service_changes h
         LEFT JOIN users u ON u.id = h.user_id WHERE h.service_id = $1 ORDER BY h.at DESC, h.id DESC"
    )
    .bind(service.0)
    .fetch_all(&mut **c)
    .await
    })?)
}

/// Administrator overrides of the shipped thematique → fields mapping (`fields` is a list of
/// field slugs separated by spaces, possibly empty).
pub async fn mapping_overrides(c: &mut Conn<'_>) -> Result<Vec<(String, String)>, StoreError> {
    Ok(run!(c, |c| sqlx::query_as(
        "SELECT thematique, fields FROM thematique_fields ORDER BY thematique"
    )
    .fetch_all(&mut **c)
    .await)?)
}

pub async fn set_mapping(
    c: &mut Conn<'_>,
    thematique: &str,
    fields: Option<&str>,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match fields {
        None => exec!(c, |c| sqlx::query(
            "DELETE FROM thematique_fields WHERE thematique = $1"
        )
        .bind(thematique))?,
        Some(f) => exec!(c, |c| {
            sqlx::query(
            "INSERT INTO thematique_fields (thematique, fields, updated_at, updated_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (thematique) DO UPDATE SET fields = excluded.fields, updated_at = excluded.updated_at, updated_by = excluded.updated_by"
        )
        .bind(thematique)
        .bind(f)
        .bind(now)
        .bind(user.0)
        })?,
    };
    Ok(())
}

/// A commune's position cached for distance ordering.
pub async fn commune_position(
    c: &mut Conn<'_>,
    insee: &str,
) -> Result<Option<(f64, f64)>, StoreError> {
    run!(c, |c| sqlx::query_as(
        "SELECT longitude, latitude FROM commune_positions WHERE insee = $1"
    )
    .bind(insee)
    .fetch_one(&mut **c)
    .await)
    .optional()
}

/// Keeps the first known position of a commune (from a directory record placed there).
pub async fn remember_commune_position(
    c: &mut Conn<'_>,
    insee: &str,
    position: (f64, f64),
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "INSERT INTO commune_positions (insee, longitude, latitude, source) VALUES ($1, $2, $3, 'annuaire')
         ON CONFLICT (insee) DO NOTHING"
    )
    .bind(insee)
    .bind(position.0)
    .bind(position.1)
    })?;
    Ok(())
}

pub async fn set_commune_position(
    c: &mut Conn<'_>,
    insee: &str,
    position: (f64, f64),
    source: &str,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "INSERT INTO commune_positions (insee, longitude, latitude, source) VALUES ($1, $2, $3, $4)
         ON CONFLICT (insee) DO UPDATE SET longitude = excluded.longitude, latitude = excluded.latitude, source = excluded.source"
    )
    .bind(insee)
    .bind(position.0)
    .bind(position.1)
    .bind(source)
    })?;
    Ok(())
}

/// A service that may answer a person's barriers, with what suggestions rank and filter on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Relay {
    #[sqlx(try_from = "i64")]
    pub id: ServiceId,
    pub thematiques: String,
    pub publics: String,
    pub modes_accueil: String,
    pub zone: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub offer: String,
}

/// The services of a territory with one of `thematiques` whose zone d'éligibilité names one
/// of `zone_codes` (or says nothing); every zone when `zone_codes` is `None`. One statement.
pub async fn relays(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    thematiques: &[String],
    zone_codes: Option<&[String]>,
) -> Result<Vec<Relay>, StoreError> {
    if thematiques.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(
        "SELECT s.id, s.thematiques, s.publics, s.modes_accueil, s.zone, s.longitude, s.latitude, s.offer
         FROM directory_services s WHERE s.territory_id = ",
    );
    q.bind(territory).push(" AND (");
    q.join(thematiques, " OR ", |q, t| {
        q.push("s.thematiques LIKE ")
            .bind(list_value(t))
            .push(" ESCAPE '\\'");
    });
    q.push(")");
    if let Some(codes) = zone_codes {
        q.push(" AND (s.zone IS NULL");
        for code in codes {
            q.push(" OR s.zone LIKE ")
                .bind(list_value(code))
                .push(" ESCAPE '\\'");
        }
        q.push(")");
    }
    q.fetch_all(c).await
}

/// The names of these services and of their structures (for the few a page shows).
pub async fn names(
    c: &mut Conn<'_>,
    ids: &[ServiceId],
) -> Result<Vec<(ServiceId, String, String)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(
        "SELECT s.id, s.nom, d.nom FROM directory_services s JOIN directory_structures d ON d.id = s.structure_id WHERE s.id IN ",
    );
    q.bind_list(ids.iter().copied());
    let rows: Vec<(i64, String, String)> = q.fetch_all(c).await?;
    Ok(rows
        .into_iter()
        .map(|(id, a, b)| (ServiceId(id), a, b))
        .collect())
}
