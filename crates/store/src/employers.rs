//! Employers, their engagements over time and their job offers (docs/domain.md §11). A SIRET is
//! known once per territory (a unique constraint).

use chrono::{DateTime, NaiveDate, Utc};
use domain::employer::{Engagement, OfferStatus};
use domain::{CollectiveActionId, EmployerId, OfferId, PersonId, TerritoryId, UserId};

use crate::sql::Sql;
use crate::{Conn, StoreError};

#[derive(Debug, Clone)]
pub struct NewEmployer<'a> {
    pub territory: TerritoryId,
    pub siret: &'a str,
    pub name: &'a str,
    pub naf: &'a str,
    pub commune_insee: Option<&'a str>,
    pub commune_name: &'a str,
    pub contact_name: &'a str,
    pub contact_email: &'a str,
    pub contact_phone: &'a str,
    pub notes: &'a str,
    pub created_by: UserId,
}

/// `Conflict` when the territory already knows this SIRET.
pub async fn create(
    c: &mut Conn<'_>,
    e: &NewEmployer<'_>,
    now: DateTime<Utc>,
) -> Result<EmployerId, StoreError> {
    let mut q = Sql::new(
        "INSERT INTO employers (territory_id, siret, name, naf, commune_insee, commune_name, contact_name, contact_email,
           contact_phone, notes, created_by, created_at, updated_at) VALUES (",
    );
    q.bind(e.territory)
        .push(", ")
        .bind(e.siret)
        .push(", ")
        .bind(e.name)
        .push(", ")
        .bind(e.naf)
        .push(", ");
    q.bind_or_null(e.commune_insee, "TEXT");
    for t in [
        e.commune_name,
        e.contact_name,
        e.contact_email,
        e.contact_phone,
        e.notes,
    ] {
        q.push(", ").bind(t);
    }
    q.push(", ")
        .bind(e.created_by)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(") RETURNING id");
    Ok(EmployerId(q.fetch_scalar::<i64>(c).await?))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmployerRow {
    #[sqlx(try_from = "i64")]
    pub id: EmployerId,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    pub siret: String,
    pub name: String,
    pub naf: String,
    pub commune_insee: Option<String>,
    pub commune_name: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub notes: String,
    pub engagements: i64,
    pub last_engaged_on: Option<String>,
    pub open_offers: i64,
    pub hired: i64,
}

const COLUMNS: &str = "e.id, e.territory_id, e.siret, e.name, e.naf, e.commune_insee, e.commune_name, e.contact_name,
    e.contact_email, e.contact_phone, e.notes,
    (SELECT COUNT(*) FROM employer_engagements g WHERE g.employer_id = e.id) AS engagements,
    (SELECT MAX(g.happened_on) FROM employer_engagements g WHERE g.employer_id = e.id) AS last_engaged_on,
    (SELECT COUNT(*) FROM job_offers o WHERE o.employer_id = e.id AND o.status = 'ouverte') AS open_offers,
    (SELECT COUNT(*) FROM person_exits x WHERE x.employer_id = e.id) AS hired
    FROM employers e";

/// A territory's employers by name, those whose name or SIRET contains `search` (folded by
/// the caller) when given.
pub async fn list(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    search: Option<&str>,
) -> Result<Vec<EmployerRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(COLUMNS)
        .push(" WHERE e.territory_id = ")
        .bind(territory);
    if let Some(s) = search.filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", s.replace(['%', '_'], ""));
        q.push(" AND (LOWER(e.name) LIKE ")
            .bind(pattern.to_lowercase())
            .push(" OR e.siret LIKE ")
            .bind(pattern)
            .push(")");
    }
    q.push(" ORDER BY e.name, e.id LIMIT 500");
    q.fetch_all(c).await
}

pub async fn get(c: &mut Conn<'_>, id: EmployerId) -> Result<Option<EmployerRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(COLUMNS).push(" WHERE e.id = ").bind(id);
    Ok(q.fetch_all(c).await?.into_iter().next())
}

#[derive(Debug, Clone)]
pub struct NewEngagement<'a> {
    pub employer: EmployerId,
    pub kind: Engagement,
    pub on: NaiveDate,
    pub action: Option<CollectiveActionId>,
    pub person: Option<PersonId>,
    pub note: &'a str,
    pub by: UserId,
}

pub async fn engage(
    c: &mut Conn<'_>,
    g: &NewEngagement<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut q = Sql::new(
        "INSERT INTO employer_engagements (employer_id, kind, happened_on, action_id, person_id, note, recorded_by, recorded_at) VALUES (",
    );
    q.bind(g.employer)
        .push(", ")
        .bind(g.kind.as_str())
        .push(", ")
        .bind(g.on)
        .push(", ");
    q.bind_or_null(g.action, "BIGINT").push(", ");
    q.bind_or_null(g.person, "BIGINT")
        .push(", ")
        .bind(g.note)
        .push(", ")
        .bind(g.by)
        .push(", ")
        .bind(now)
        .push(")");
    q.execute(c).await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EngagementRow {
    #[sqlx(try_from = "String")]
    pub kind: Engagement,
    pub happened_on: String,
    pub action_id: Option<i64>,
    pub action_title: Option<String>,
    pub person_id: Option<i64>,
    pub note: String,
    pub recorded_by_name: Option<String>,
}

pub async fn engagements(
    c: &mut Conn<'_>,
    employer: EmployerId,
) -> Result<Vec<EngagementRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT g.kind, g.happened_on, g.action_id, a.title AS action_title, g.person_id, g.note,
           u.display_name AS recorded_by_name
         FROM employer_engagements g LEFT JOIN collective_actions a ON a.id = g.action_id
         LEFT JOIN users u ON u.id = g.recorded_by WHERE g.employer_id = ",
    );
    q.bind(employer)
        .push(" ORDER BY g.happened_on DESC, g.id DESC");
    q.fetch_all(c).await
}

/// The persons an employer met (an engagement naming them, an action they attended with it)
/// or hired (an exit to it): ids, for the caller to show those they may see.
pub async fn persons_met(
    c: &mut Conn<'_>,
    employer: EmployerId,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut q = Sql::new(
        "SELECT g.person_id, g.kind FROM employer_engagements g WHERE g.person_id IS NOT NULL AND g.employer_id = ",
    );
    q.bind(employer).push(
        " UNION SELECT r.person_id, 'action' FROM action_registrations r
          JOIN action_employers ae ON ae.action_id = r.action_id
          WHERE r.attendance = 'present' AND ae.employer_id = ",
    );
    q.bind(employer)
        .push(" UNION SELECT x.person_id, 'embauche' FROM person_exits x WHERE x.employer_id = ")
        .bind(employer);
    q.fetch_all(c).await
}

#[derive(Debug, Clone)]
pub struct NewOffer<'a> {
    pub employer: EmployerId,
    pub territory: TerritoryId,
    pub title: &'a str,
    pub rome_code: &'a str,
    pub commune_insee: Option<&'a str>,
    pub positions: i64,
    pub description: &'a str,
    pub opened_on: NaiveDate,
    pub by: UserId,
}

pub async fn add_offer(
    c: &mut Conn<'_>,
    o: &NewOffer<'_>,
    now: DateTime<Utc>,
) -> Result<OfferId, StoreError> {
    let mut q = Sql::new(
        "INSERT INTO job_offers (employer_id, territory_id, title, rome_code, commune_insee, positions, status, description,
           opened_on, created_by, created_at) VALUES (",
    );
    q.bind(o.employer)
        .push(", ")
        .bind(o.territory)
        .push(", ")
        .bind(o.title)
        .push(", ")
        .bind(o.rome_code)
        .push(", ");
    q.bind_or_null(o.commune_insee, "TEXT")
        .push(", ")
        .bind(o.positions)
        .push(", ")
        .bind(OfferStatus::Ouverte.as_str())
        .push(", ")
        .bind(o.description)
        .push(", ")
        .bind(o.opened_on)
        .push(", ")
        .bind(o.by)
        .push(", ")
        .bind(now)
        .push(") RETURNING id");
    Ok(OfferId(q.fetch_scalar::<i64>(c).await?))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfferRow {
    #[sqlx(try_from = "i64")]
    pub id: OfferId,
    #[sqlx(try_from = "i64")]
    pub employer_id: EmployerId,
    pub title: String,
    pub rome_code: String,
    pub commune_insee: Option<String>,
    pub positions: i32,
    #[sqlx(try_from = "String")]
    pub status: OfferStatus,
    pub description: String,
    pub opened_on: String,
}

pub async fn offers(c: &mut Conn<'_>, employer: EmployerId) -> Result<Vec<OfferRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT id, employer_id, title, rome_code, commune_insee, positions, status, description, opened_on
         FROM job_offers WHERE employer_id = ",
    );
    q.bind(employer).push(" ORDER BY opened_on DESC, id DESC");
    q.fetch_all(c).await
}

pub async fn set_offer_status(
    c: &mut Conn<'_>,
    offer: OfferId,
    employer: EmployerId,
    status: OfferStatus,
) -> Result<bool, StoreError> {
    let mut q = Sql::new("UPDATE job_offers SET status = ");
    q.bind(status.as_str())
        .push(" WHERE id = ")
        .bind(offer)
        .push(" AND employer_id = ")
        .bind(employer);
    Ok(q.execute(c).await? == 1)
}

/// The persons of a scope whose last signed diagnostic names this job (ROME code) among their
/// targets, not exited, nearest first by commune: same commune, then the rest.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MatchRow {
    pub person_id: i64,
    pub same_commune: bool,
}

pub async fn matches(
    c: &mut Conn<'_>,
    scope: &crate::persons::Scope,
    rome_code: &str,
    commune_insee: Option<&str>,
) -> Result<Vec<MatchRow>, StoreError> {
    let mut q = Sql::new("SELECT p.id AS person_id, ");
    match commune_insee {
        Some(insee) => {
            q.push("(p.commune_insee IS NOT NULL AND p.commune_insee = ")
                .bind(insee)
                .push(")");
        }
        None => {
            q.push("FALSE");
        }
    }
    q.push(" AS same_commune FROM persons p WHERE ");
    scope.rows(&mut q);
    q.push(
        " AND p.status <> 'sorti'
          AND EXISTS (SELECT 1 FROM diagnostic_jobs j WHERE j.rome_code = ",
    )
    .bind(rome_code)
    .push(
        " AND j.diagnostic_id = (SELECT d.id FROM diagnostics d WHERE d.person_id = p.id AND d.status = 'signe'
             ORDER BY d.held_on DESC, d.id DESC LIMIT 1))
         ORDER BY same_commune DESC, p.id LIMIT 200",
    );
    q.fetch_all(c).await
}
