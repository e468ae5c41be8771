//! The person's rights (docs/rights.md). Access (RGPD art. 15): on request, a coordinator of the
//! territory or the référent produces everything held about the person — every table that
//! refers to the file (`store::rights::PARTS`, checked against the schema by a test) and the
//! file's access log (who read or changed it, when, from where) — as a page to print and as
//! JSON. Health data is in it only for whoever may know it: otherwise the document says it is
//! left out and who can produce the whole of it. Erasure and objection (art. 17 and 21): a
//! coordinator erases the file at once, its open orientations cancelled, the audit trail kept.

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
            detail: crate::persons::detail(&e),
            at: e.at,
            who: e.user_name,
            action: e.action,
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

/// The erasure form, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ErasureInput {
    /// A `domain::person::ErasureRequest` code.
    pub request: String,
    /// The day the request was received.
    pub received_on: String,
    #[serde(deserialize_with = "crate::form::ticked")]
    pub confirm: bool,
}

/// The erasure's page.
pub fn erasure_page(person: PersonId) -> String {
    format!("/personnes/{}/effacement", person.0)
}

/// What the erasure page shows before anything is done.
#[derive(Debug, Clone)]
pub struct ErasureForm {
    pub name: String,
    /// Orientations still open: they will be cancelled, their receivers told.
    pub open_orientations: usize,
}

/// Only a coordinator of the territory erases a file: it cannot be undone.
fn may_erase(caps: &crate::persons::Capabilities) -> bool {
    caps.sight() == crate::persons::Sight::Full && caps.is_coordinator()
}

pub async fn erasure_form(
    app: &App,
    caller: &Caller,
    person: PersonId,
) -> Result<ErasureForm, AppError> {
    let caps = crate::persons::read(app, caller, person, &erasure_page(person)).await?;
    if !may_erase(&caps) {
        return Err(AppError::Forbidden);
    }
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let file = store::persons::get(c, person)
        .await?
        .ok_or(AppError::NotFound)?;
    let open = store::orientations::of_person(c, person)
        .await?
        .iter()
        .filter(|o| o.status.is_open())
        .count();
    Ok(ErasureForm {
        name: format!("{} {}", file.first_name, file.last_name)
            .trim()
            .to_string(),
        open_orientations: open,
    })
}

/// Erases a file at its person's request (erasure, or objection to the processing): in one
/// transaction, its open orientations are cancelled and their receivers told, then the file
/// and everything attached to it — and the duplicates merged into it — are deleted. The audit
/// trail stays, with this erasure in it; aggregates already published stay (they name no one).
/// Returns how many orientations were cancelled.
pub async fn erase(
    app: &App,
    caller: &Caller,
    person: PersonId,
    input: &ErasureInput,
) -> Result<usize, AppError> {
    use domain::person::{ErasureRequest, FileEvent};
    let mut w = crate::persons::FileWrite::open(
        app,
        caller,
        person,
        FileEvent::Erasure,
        &erasure_page(person),
    )
    .await?;
    let caps = w.caps();
    if !may_erase(&caps) {
        return Err(AppError::Forbidden);
    }
    let today = app.today_in(caps.zone());
    let mut errors = crate::FieldErrors::default();
    let request = errors.check("request", ErasureRequest::parse(&input.request));
    let received = errors.check("received_on", domain::parse_date(&input.received_on));
    if let Some(d) = received
        && d > today
    {
        errors.add(
            "received_on",
            "La demande ne peut pas avoir été reçue dans le futur.",
        );
    }
    if !input.confirm {
        errors.add(
            "confirm",
            "Cochez la case pour confirmer : l'effacement est définitif.",
        );
    }
    let (Some(request), Some(received)) = (request, received) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = w.now();
    let cancelled = crate::orientations::cancel_open(
        &mut w.conn(),
        app,
        person,
        caller.user_id,
        today,
        now,
        "la personne a demandé l'effacement de son dossier",
    )
    .await?;
    store::persons::erase(&mut w.conn(), person).await?;
    w.commit(&format!(
        "dossier effacé : {} reçue le {} ; {cancelled} orientation(s) en cours annulée(s)",
        request.label(),
        domain::french_date(received)
    ))
    .await?;
    Ok(cancelled)
}
