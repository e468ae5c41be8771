//! Bulk import of persons from a partner's list (CSV, XLSX, ODS — docs/imports.md). The file is
//! uploaded and kept while the user maps its columns and looks at a dry run: per row, what would
//! be created, brought up to date, left as it is, flagged as a likely duplicate or refused, with
//! the reason. The import itself runs as a job (`jobs::Work::PersonImport`), chunk by chunk,
//! all-or-nothing or row by row; each row carries a key (partner + identifier, or name and birth
//! date) and a digest, so importing the same file again changes nothing, and a job started again
//! after a crash finishes the work without writing anything twice. Imported files get what a
//! file recorded by hand gets: the importer in the follow-up group as référent, the QPV check of
//! the address, and one audit row per file.

mod job;
mod mapping;
mod pass;
mod rows;
mod stream;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Duration;
use domain::person::FileEvent;
use domain::person_import::{ImportMode, ImportState};
use serde::{Deserialize, Serialize};
use store::person_imports::{NewImport, PersonImport};

pub use job::run;
pub use mapping::{Mapping, column_field, field_name};
use pass::Pass;
pub use rows::Verdict;
use stream::{Report, Stream, measure};

use super::access::{may_record, organisation_in};
use crate::spreadsheet::format_count;
use crate::{App, AppError, Caller};

/// Rows read, judged and written together (one transaction each when importing).
pub const CHUNK: usize = 500;
/// Rows of the report shown on the page (refused and duplicates first); the download has all.
pub const SHOWN: usize = 200;
/// An import left without a decision this long is abandoned and its file dropped.
pub const STALE: Duration = Duration::hours(24);

/// One line of the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReportRow {
    pub line: usize,
    pub identifiant: String,
    pub outcome: String,
    pub person: Option<i64>,
    pub reason: String,
    pub qpv: String,
}

/// The rows counted by outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub duplicates: usize,
    pub refused: usize,
}

impl Counts {
    pub(super) fn add(&mut self, v: &Verdict) {
        match v {
            Verdict::Create { .. } => self.created += 1,
            Verdict::Update { .. } => self.updated += 1,
            Verdict::Unchanged(_) => self.unchanged += 1,
            Verdict::Duplicate { .. } => self.duplicates += 1,
            Verdict::Refused(_) => self.refused += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.created + self.updated + self.unchanged + self.duplicates + self.refused
    }
}

/// What is kept of a dry run or an import: the counts and the rows shown on the page.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub counts: Counts,
    /// Refused rows and likely duplicates, up to [`SHOWN`].
    pub shown: Vec<ReportRow>,
}

/// An import as its page shows it.
#[derive(Debug, Clone)]
pub struct ImportView {
    pub import: PersonImport,
    pub state: ImportState,
    pub header: Vec<String>,
    pub mapping: Mapping,
    pub mode: Option<ImportMode>,
    pub summary: Option<Summary>,
}

pub(super) fn to_json<T: Serialize>(value: &T) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|e| AppError::Internal(e.to_string()))
}

pub(super) fn is_blank(row: &[String]) -> bool {
    row.iter().all(|c| c.trim().is_empty())
}

// ---------------------------------------------------------------------------------------------
// Use cases

/// A professional or a coordinator uploads a list: it is read once (refused with the reason if
/// it cannot be), its columns recognised, and it waits for the mapping and the dry run.
pub async fn upload(
    app: &App,
    caller: &Caller,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<i64, AppError> {
    let territory = caller.active_territory.clone().ok_or(AppError::NotFound)?;
    if !may_record(caller, territory.id) {
        return Err(AppError::Forbidden);
    }
    if bytes.is_empty() {
        return Err(AppError::field(
            "fichier",
            "Choisissez le fichier de la liste (CSV, XLSX ou ODS).",
        ));
    }
    let sha256 = crate::secrets::sha256_hex(&bytes);
    let bytes = Arc::new(bytes);
    let (header, rows) = measure(bytes.clone()).await?;
    if rows == 0 {
        return Err(AppError::field(
            "fichier",
            "Le fichier ne contient aucune ligne sous la ligne des titres de colonnes.",
        ));
    }
    let mapping = Mapping::recognised(&header);
    let header = to_json(&header)?;
    let now = app.now();
    let file_name: String = file_name.trim().chars().take(200).collect();
    let mut tx = app.db.begin_write().await?;
    let organisation = organisation_in(&mut tx.conn(), caller, territory.id).await?;
    let id = store::person_imports::create(
        &mut tx.conn(),
        &NewImport {
            territory: territory.id,
            organisation,
            user: caller.user_id,
            file_name: &file_name,
            file_sha256: &sha256,
            content: bytes.as_slice(),
            header: &header,
            row_count: rows as i64,
            mapping: &mapping.to_json(),
        },
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person_import.upload",
            ("person_import", Some(id)),
            Some(territory.id),
            &format!("{file_name} : {} lignes", format_count(rows as u64)),
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// The model list offered for download: every column under its own heading, and one
/// fictional row that imports as it is.
pub fn template() -> String {
    let example = [
        "EX-1",
        "Camille",
        "Exemple",
        "15/04/1992",
        "06 12 34 56 78",
        "camille.exemple@exemple.fr",
        "12 rue de la Démonstration",
        "59600",
        "Maubeuge",
        "",
        "Orientation par un partenaire",
        "Cherche une formation qualifiante",
        "Mobilité, Savoirs de base",
        "oui",
    ];
    let header: Vec<&str> = domain::person_import::ImportColumn::ALL
        .iter()
        .map(|c| domain::Code::label(*c))
        .collect();
    format!("\u{feff}{}\n{}\n", header.join(";"), example.join(";"))
}

/// An import of the caller's (no one else's: the file holds persons not yet shared).
async fn own(app: &App, caller: &Caller, id: i64) -> Result<PersonImport, AppError> {
    let mut pooled = app.db.acquire().await?;
    let found = store::person_imports::get(&mut pooled.conn(), id)
        .await?
        .filter(|i| i.user_id == caller.user_id && caller.may_enter(i.territory_id))
        .ok_or(AppError::NotFound)?;
    Ok(found)
}

pub(super) fn view_of(import: PersonImport) -> ImportView {
    let header: Vec<String> = serde_json::from_str(&import.header).unwrap_or_default();
    let mapping = import
        .mapping
        .as_deref()
        .map(Mapping::from_json)
        .unwrap_or_default();
    let summary = import
        .counts
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok());
    ImportView {
        state: ImportState::from_code(&import.state).unwrap_or(ImportState::Abandonne),
        mode: import.mode.as_deref().and_then(ImportMode::from_code),
        header,
        mapping,
        summary,
        import,
    }
}

pub async fn get(app: &App, caller: &Caller, id: i64) -> Result<ImportView, AppError> {
    Ok(view_of(own(app, caller, id).await?))
}

/// The caller's latest imports in the active territory.
pub async fn recent(app: &App, caller: &Caller) -> Result<Vec<ImportView>, AppError> {
    let Some(territory) = caller.active_territory.as_ref() else {
        return Ok(Vec::new());
    };
    let mut pooled = app.db.acquire().await?;
    let found =
        store::person_imports::of_user(&mut pooled.conn(), caller.user_id, territory.id, 20)
            .await?;
    Ok(found.into_iter().map(view_of).collect())
}

/// The report of the last dry run or of the import (CSV).
pub async fn report(app: &App, caller: &Caller, id: i64) -> Result<String, AppError> {
    own(app, caller, id).await?;
    let mut pooled = app.db.acquire().await?;
    store::person_imports::report(&mut pooled.conn(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The dry run is asked for with the mapping chosen on screen (checked here, its refusals said
/// at their choice); the job `simulation-import` then reads, judges and checks every row and
/// writes nothing but the report ([`dry_run`]): a list at the row limit takes longer than a
/// page may.
pub async fn simulate(
    app: &App,
    caller: &Caller,
    id: i64,
    fields: &HashMap<String, String>,
) -> Result<(), AppError> {
    let import = own(app, caller, id).await?;
    let view = view_of(import.clone());
    let closed = || {
        AppError::field(
            "formulaire",
            "Cet import n'est plus modifiable : il a été lancé ou abandonné.",
        )
    };
    if !view.state.may_simulate() || !import.has_content {
        return Err(closed());
    }
    let mapping = Mapping::from_form(&view.header, fields)?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    if !store::person_imports::request_simulation(&mut tx.conn(), id, &mapping.to_json(), now)
        .await?
    {
        return Err(closed());
    }
    crate::jobs::enqueue(
        &mut tx.conn(),
        app,
        &crate::jobs::Work::PersonImportDryRun(id),
        None,
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person_import.simulate",
            ("person_import", Some(id)),
            Some(import.territory_id),
            "",
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The job `simulation-import`: every row read, judged and its address checked, as the
/// importer may see the files held; the likely duplicates shown are audited as on the
/// repérage form. Nothing else is written.
pub async fn dry_run(app: &App, id: i64, lease: &crate::jobs::Lease) -> Result<(), AppError> {
    let import = {
        let mut pooled = app.db.acquire().await?;
        store::person_imports::get(&mut pooled.conn(), id).await?
    };
    let Some(import) = import.filter(|i| i.state == ImportState::EnSimulation.as_str()) else {
        // Abandoned meanwhile, or already done by another run: nothing to do.
        return Ok(());
    };
    let Some(caller) = job::importer(app, &import).await? else {
        return job::fail(
            app,
            &import,
            "Le compte qui a déposé la liste n'a plus le droit d'enregistrer des personnes dans ce territoire.",
        )
        .await;
    };
    let mapping = view_of(import.clone()).mapping;
    let content = {
        let mut pooled = app.db.acquire().await?;
        store::person_imports::content(&mut pooled.conn(), id).await?
    };
    let Some(content) = content else {
        return Ok(());
    };
    let (mut stream, _) = Stream::open(Arc::new(content)).await?;
    let mut pass = Pass::new(app, &caller, &import, mapping, false).await?;
    let mut report = Report::new()?;
    while let Some(chunk) = stream.next().await? {
        lease.renew(app).await?;
        let mut judged = pass.judge(&chunk).await?;
        let qpv = pass.locate(&mut judged).await;
        for (j, qpv) in judged.into_iter().zip(qpv) {
            report.row(j.report_row(qpv), &j.verdict)?;
        }
    }
    let (text, summary) = report.finish()?;
    let shown: Vec<i64> = summary
        .shown
        .iter()
        .filter_map(|r| r.person)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    if !store::person_imports::simulated(&mut tx.conn(), id, &to_json(&summary)?, &text, now)
        .await?
    {
        return Ok(());
    }
    store::audit::record_each(
        &mut tx.conn(),
        &store::audit::NewEvent {
            user: Some(caller.user_id),
            action: FileEvent::Duplicate.as_str(),
            target_kind: "person",
            target_id: None,
            territory: Some(import.territory_id),
            detail: "montré comme doublon possible (import de liste)",
            client_ip: None,
            api_token: caller.api_token(),
        },
        &shown,
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person_import.simulated",
            ("person_import", Some(id)),
            Some(import.territory_id),
            &counts_text(&summary.counts),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) fn counts_text(c: &Counts) -> String {
    format!(
        "{} création(s), {} mise(s) à jour, {} inchangée(s), {} doublon(s) probable(s), {} refusée(s)",
        c.created, c.updated, c.unchanged, c.duplicates, c.refused
    )
}

/// What the user decides after the dry run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RequestInput {
    pub mode: String,
    #[serde(deserialize_with = "crate::form::ticked")]
    pub create_duplicates: bool,
}

/// The user launches the import after its dry run: the job is queued with the decision.
pub async fn request(
    app: &App,
    caller: &Caller,
    id: i64,
    input: &RequestInput,
) -> Result<(), AppError> {
    let import = own(app, caller, id).await?;
    let mode = ImportMode::parse(&input.mode).map_err(|_| {
        AppError::field(
            "mode",
            "Choisissez comment traiter les lignes refusées : tout ou rien, ou ligne par ligne.",
        )
    })?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    if !store::person_imports::request(
        &mut tx.conn(),
        id,
        mode.as_str(),
        input.create_duplicates,
        now,
    )
    .await?
    {
        return Err(AppError::field(
            "formulaire",
            "Faites d'abord la simulation de cet import (ou il a déjà été lancé).",
        ));
    }
    crate::jobs::enqueue(
        &mut tx.conn(),
        app,
        &crate::jobs::Work::PersonImport(id),
        Some(&format!("import-personnes:{id}")),
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person_import.request",
            ("person_import", Some(id)),
            Some(import.territory_id),
            &format!(
                "{}{}",
                mode.as_str(),
                if input.create_duplicates {
                    ", doublons probables créés"
                } else {
                    ""
                }
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The user gives up an import before it is launched: the file is dropped at once.
pub async fn abandon(app: &App, caller: &Caller, id: i64) -> Result<(), AppError> {
    let import = own(app, caller, id).await?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let state = ImportState::from_code(&import.state);
    if !state.is_some_and(ImportState::may_abandon)
        || !store::person_imports::finish(
            &mut tx.conn(),
            id,
            ImportState::Abandonne.as_str(),
            None,
            None,
            None,
            now,
        )
        .await?
    {
        return Err(AppError::field(
            "formulaire",
            "Cet import a déjà été lancé : il ne peut plus être abandonné.",
        ));
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person_import.abandon",
            ("person_import", Some(id)),
            Some(import.territory_id),
            "",
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Drops the files of imports left without a decision for [`STALE`] (the purge job).
pub async fn abandon_stale(app: &App) -> Result<u64, AppError> {
    let now = app.now();
    let mut pooled = app.db.acquire().await?;
    Ok(store::person_imports::abandon_stale(&mut pooled.conn(), now - STALE, now).await?)
}
