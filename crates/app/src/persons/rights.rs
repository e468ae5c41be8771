//! The person's right of access (RGPD art. 15, docs/rights.md): on request, a coordinator of the
//! territory or the référent produces everything held about the person — every table that
//! refers to the file (`store::rights::PARTS`, checked against the schema by a test) and the
//! file's access log (who read or changed it, when, from where) — as a page to print and as
//! JSON. Health data is in it only for whoever may know it: otherwise the document says it is
//! left out and who can produce the whole of it.

use chrono::{DateTime, Utc};
use domain::PersonId;
use store::rights::Rows;

use crate::{App, AppError, Caller};

/// Lines of the access log in the document (a year of reads is kept: far fewer than this).
const ACCESS_LOG_MAX: i64 = 100_000;

#[derive(Debug, Clone)]
pub struct AccessEvent {
    pub at: DateTime<Utc>,
    pub who: Option<String>,
    pub action: String,
    pub detail: String,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AccessExport {
    pub person: PersonId,
    pub name: String,
    pub produced_at: DateTime<Utc>,
    pub produced_by: String,
    /// Health data is in the document.
    pub health: bool,
    /// Who may produce it with health data, when it is left out (the référent and the members
    /// allowed).
    pub health_readers: Vec<String>,
    pub parts: Vec<Rows>,
    pub access_log: Vec<AccessEvent>,
}

/// The page of the document.
pub fn page(person: PersonId) -> String {
    format!("/personnes/{}/droit-d-acces", person.0)
}

/// Produces the document (its production is itself a read of the file, in its access log).
pub async fn access_export(
    app: &App,
    caller: &Caller,
    person: PersonId,
) -> Result<AccessExport, AppError> {
    let caps = crate::persons::read(app, caller, person, &page(person)).await?;
    if !caps.manages_group() {
        return Err(AppError::Forbidden);
    }
    let visibilities: Vec<&str> = caps.visibilities().iter().map(|v| v.as_str()).collect();
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let file = store::persons::get(c, person)
        .await?
        .ok_or(AppError::NotFound)?;
    let parts = store::rights::person_data(c, person.0, caps.health(), &visibilities).await?;
    let health_readers = if caps.health() {
        Vec::new()
    } else {
        store::persons::members(c, person)
            .await?
            .into_iter()
            .filter(|m| m.ended_at.is_none() && (m.is_referent || m.health_access))
            .map(|m| m.user_name)
            .collect()
    };
    let access_log = store::audit::for_target(c, "person", person.0, ACCESS_LOG_MAX)
        .await?
        .into_iter()
        .map(|e| AccessEvent {
            at: e.at,
            who: e.user_name,
            action: e.action,
            detail: e.detail,
            client_ip: e.client_ip,
        })
        .collect();
    Ok(AccessExport {
        person,
        name: format!("{} {}", file.first_name, file.last_name)
            .trim()
            .to_string(),
        produced_at: app.now(),
        produced_by: caller.display_name.clone(),
        health: caps.health(),
        health_readers,
        parts,
        access_log,
    })
}

impl AccessExport {
    /// The document as JSON: each table's rows as stored, the access log.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "personne": { "id": self.person.0, "nom": self.name },
            "produit_le": self.produced_at,
            "produit_par": self.produced_by,
            "donnees_de_sante": if self.health { "incluses".to_string() } else {
                format!("non incluses : seuls {} peuvent produire le document complet", self.health_readers.join(", "))
            },
            "tables": self.parts.iter().map(|p| serde_json::json!({
                "table": p.table,
                "titre": p.title,
                "lignes_retenues": p.withheld,
                "lignes": p.rows,
            })).collect::<Vec<_>>(),
            "journal_des_acces": self.access_log.iter().map(|e| serde_json::json!({
                "le": e.at,
                "par": e.who,
                "action": e.action,
                "detail": e.detail,
                "adresse_ip": e.client_ip,
            })).collect::<Vec<_>>(),
        })
    }
}
