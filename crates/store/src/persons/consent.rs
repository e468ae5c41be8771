//! Consents, their purposes and the organisations shared with.

use chrono::{DateTime, NaiveDate, Utc};
use domain::person::{ConsentMethod, ConsentPurpose};
use domain::{ConsentId, OrganisationId, PersonId, UserId};

use super::list_agg;
use crate::sql::{Sql, iso};
use crate::{Backend, Conn, StoreError, exec, run};

/// A consent as recorded: its purposes and the organisations the person agreed to share with
/// are rows of their own tables.
#[derive(Debug, Clone)]
pub struct Consent {
    pub id: ConsentId,
    pub given_on: String,
    pub method: String,
    pub purposes: Vec<ConsentPurpose>,
    pub organisations: Vec<OrganisationId>,
    pub recorded_by_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by_name: Option<String>,
}

/// A person's consents, newest first (one statement; purposes and organisations aggregated).
pub async fn consents(c: &mut Conn<'_>, person: PersonId) -> Result<Vec<Consent>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        given_on: String,
        method: String,
        purposes: String,
        organisations: String,
        recorded_by_name: Option<String>,
        recorded_at: DateTime<Utc>,
        revoked_at: Option<DateTime<Utc>>,
        revoked_by_name: Option<String>,
    }
    let backend = c.backend();
    let organisation_text = match backend {
        Backend::Sqlite => "CAST(ko.organisation_id AS TEXT)",
        Backend::Postgres => "ko.organisation_id::text",
    };
    let sql = format!(
        "SELECT k.id, k.given_on, k.method,
           COALESCE((SELECT {} FROM person_consent_purposes kp WHERE kp.consent_id = k.id), '') AS purposes,
           COALESCE((SELECT {} FROM person_consent_organisations ko WHERE ko.consent_id = k.id), '') AS organisations,
           u.display_name AS recorded_by_name, k.recorded_at, k.revoked_at, v.display_name AS revoked_by_name
         FROM person_consents k LEFT JOIN users u ON u.id = k.recorded_by LEFT JOIN users v ON v.id = k.revoked_by
         WHERE k.person_id = $1 ORDER BY k.recorded_at DESC, k.id DESC",
        list_agg(backend, "kp.purpose"),
        list_agg(backend, organisation_text),
    );
    let rows: Vec<Row> = run!(c, |c| sqlx::query_as(&sql)
        .bind(person.0)
        .fetch_all(&mut **c)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut purposes: Vec<ConsentPurpose> = r
                .purposes
                .split('|')
                .filter_map(ConsentPurpose::from_code)
                .collect();
            purposes.sort();
            let mut organisations: Vec<OrganisationId> = r
                .organisations
                .split('|')
                .filter_map(|o| o.parse().ok())
                .map(OrganisationId)
                .collect();
            organisations.sort();
            Consent {
                id: ConsentId(r.id),
                given_on: r.given_on,
                method: r.method,
                purposes,
                organisations,
                recorded_by_name: r.recorded_by_name,
                recorded_at: r.recorded_at,
                revoked_at: r.revoked_at,
                revoked_by_name: r.revoked_by_name,
            }
        })
        .collect())
}

pub struct NewConsent<'a> {
    pub person: PersonId,
    pub given_on: NaiveDate,
    pub method: ConsentMethod,
    pub purposes: &'a [ConsentPurpose],
    pub organisations: &'a [OrganisationId],
    pub recorded_by: UserId,
}

/// Records a consent with its purposes and organisations (three statements at most).
pub async fn add_consent(
    c: &mut Conn<'_>,
    k: &NewConsent<'_>,
    now: DateTime<Utc>,
) -> Result<ConsentId, StoreError> {
    let id: i64 = run!(c, |c| {
        sqlx::query_scalar(
            "INSERT INTO person_consents (person_id, given_on, method, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(k.person.0)
        .bind(iso(k.given_on))
        .bind(k.method.as_str())
        .bind(k.recorded_by.0)
        .bind(now)
        .fetch_one(&mut **c)
        .await
    })?;
    let id = ConsentId(id);
    if !k.purposes.is_empty() {
        let mut q = Sql::new("INSERT INTO person_consent_purposes (consent_id, purpose) VALUES ");
        q.join(k.purposes, ", ", |q, p| {
            q.push("(").bind(id).push(", ").bind(p.as_str()).push(")");
        });
        q.execute(c).await?;
    }
    if !k.organisations.is_empty() {
        let mut q = Sql::new(
            "INSERT INTO person_consent_organisations (consent_id, organisation_id) VALUES ",
        );
        q.join(k.organisations, ", ", |q, o| {
            q.push("(").bind(id).push(", ").bind(*o).push(")");
        });
        q.execute(c).await?;
    }
    Ok(id)
}

/// Revokes every consent in force; returns how many were.
pub async fn revoke_consents(
    c: &mut Conn<'_>,
    person: PersonId,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(exec!(c, |c| {
        sqlx::query(
        "UPDATE person_consents SET revoked_at = $2, revoked_by = $3 WHERE person_id = $1 AND revoked_at IS NULL"
    )
    .bind(person.0)
    .bind(now)
    .bind(by.0)
    })?)
}
