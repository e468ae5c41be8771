//! « Importer une liste » (`/personnes/import`): a partner's spreadsheet of persons is uploaded,
//! its columns mapped, a dry run shows per row what would happen, then the import runs in the
//! background and its page shows where it stands. Everything goes through
//! `app::persons::import`; this module only shows it.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use app::FieldErrors;
use app::persons::import::{self, ImportView, ReportRow, RequestInput};
use app::spreadsheet::format_count;
use domain::person_import::{ImportColumn, ImportMode, ImportState};

use super::Message;
use crate::flash;
use crate::forms::{Field, moment, status_for};
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CsrfMultipart, CurrentUser};
use crate::{AppState, WebError};

const INDEX: &str = "/personnes/import";

/// « 1 ligne », « 2 lignes », « 100 000 lignes ».
fn lines(n: i64) -> String {
    let n = n.max(0) as u64;
    format!(
        "{} {}",
        format_count(n),
        if n > 1 { "lignes" } else { "ligne" }
    )
}

fn page_of(id: i64) -> String {
    format!("{INDEX}/{id}")
}

pub struct ImportRow {
    pub href: String,
    pub file_name: String,
    pub uploaded: String,
    pub rows: String,
    pub state: &'static str,
}

pub struct ColumnHelp {
    pub label: &'static str,
    pub headings: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/import_index.html")]
pub struct IndexPage {
    layout: Layout,
    territory: String,
    file_error: Option<String>,
    imports: Vec<ImportRow>,
    columns: Vec<ColumnHelp>,
    max_rows: String,
}

fn columns_help() -> Vec<ColumnHelp> {
    ImportColumn::ALL
        .iter()
        .map(|c| ColumnHelp {
            label: c.label(),
            headings: match c {
                ImportColumn::Identifiant => "identifiant, n° dossier, référence, matricule",
                ImportColumn::Prenom => "prénom (obligatoire)",
                ImportColumn::Nom => "nom, nom de famille, nom d'usage",
                ImportColumn::DateNaissance => "date de naissance, né(e) le (JJ/MM/AAAA)",
                ImportColumn::Telephone => "téléphone, tél., portable",
                ImportColumn::Courriel => "courriel, e-mail, mail",
                ImportColumn::Adresse => "adresse, rue (vérifiée sur la carte des QPV)",
                ImportColumn::CodePostal => "code postal, CP",
                ImportColumn::Commune => "commune, ville",
                ImportColumn::DateReperage => {
                    "date du repérage, date de rencontre (aujourd'hui sinon)"
                }
                ImportColumn::Canal => "canal, origine (« Orientation par un partenaire » sinon)",
                ImportColumn::Besoins => "besoins, observations, commentaire",
                ImportColumn::Champs => "champs d'action, freins (séparés par des virgules)",
                ImportColumn::Recontact => "recontact (oui ou non ; non sinon)",
            },
        })
        .collect()
}

async fn index_page(
    state: &AppState,
    user: &CurrentUser,
    file_error: Option<String>,
    message: Option<&str>,
) -> Result<IndexPage, WebError> {
    let territory = user
        .caller
        .active_territory
        .clone()
        .ok_or(app::AppError::NotFound)?;
    if !app::persons::may_record(&user.caller, territory.id) {
        return Err(app::AppError::Forbidden.into());
    }
    let zone = user.caller.zone();
    let imports = import::recent(&state.app, &user.caller)
        .await?
        .into_iter()
        .map(|v| ImportRow {
            href: page_of(v.import.id),
            file_name: v.import.file_name.clone(),
            uploaded: moment(v.import.created_at, zone),
            rows: lines(v.import.row_count),
            state: v.state.label(),
        })
        .collect();
    Ok(IndexPage {
        layout: Layout::for_user("Importer une liste de personnes", user, Nav::Persons)
            .crumbs(&[
                ("Accueil", "/"),
                ("Personnes", "/personnes"),
                ("Importer une liste", ""),
            ])
            .with_message(message),
        territory: territory.name,
        file_error,
        imports,
        columns: columns_help(),
        max_rows: format_count(app::spreadsheet::LIMITS.max_rows as u64),
    })
}

pub async fn show_index(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<MessageQuery>,
) -> Result<IndexPage, WebError> {
    index_page(&state, &user, None, query.message.as_deref()).await
}

pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    form: CsrfMultipart,
) -> Result<Response, WebError> {
    let refused = |message: String| async {
        Ok::<_, WebError>(
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                index_page(&state, &user, Some(message), None).await?,
            )
                .into_response(),
        )
    };
    let Some((name, bytes)) = form.file else {
        return refused("Choisissez le fichier de la liste (CSV, XLSX ou ODS).".into()).await;
    };
    match import::upload(&state.app, &user.caller, &name, bytes.to_vec()).await {
        Ok(id) => Ok(Redirect::to(&page_of(id)).into_response()),
        Err(app::AppError::Invalid(e)) => {
            let message = e
                .get("fichier")
                .map_or_else(|| "Le fichier a été refusé.".to_string(), str::to_string);
            refused(format!("Rien n'a été enregistré : {message}")).await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct Counted {
    pub label: &'static str,
    pub count: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/import.html")]
pub struct ImportPage {
    layout: Layout,
    id: i64,
    file_name: String,
    uploaded: String,
    rows: String,
    state: &'static str,
    may_simulate: bool,
    simulated: bool,
    running: bool,
    simulating: bool,
    finished: bool,
    imported: bool,
    progress: String,
    error: Option<String>,
    mapping: Vec<Field>,
    mapping_invalid: bool,
    counts: Vec<Counted>,
    total: String,
    shown: Vec<ReportRow>,
    shown_all: bool,
    modes: Vec<(String, String, bool)>,
    mode_error: Option<String>,
}

fn import_page(
    user: &CurrentUser,
    view: ImportView,
    chosen: Option<&HashMap<String, String>>,
    errors: &FieldErrors,
    message: Option<&str>,
) -> ImportPage {
    let zone = user.caller.zone();
    let options: Vec<(String, String)> = view
        .header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = h.trim();
            let name = if h.is_empty() { "(sans titre)" } else { h };
            (i.to_string(), format!("Colonne {} : {name}", i + 1))
        })
        .collect();
    let mapping = ImportColumn::ALL
        .iter()
        .map(|c| {
            let value = match chosen {
                Some(fields) => fields
                    .get(&import::field_name(*c))
                    .cloned()
                    .unwrap_or_default(),
                None => view
                    .mapping
                    .get(*c)
                    .map(|i| i.to_string())
                    .unwrap_or_default(),
            };
            let field = Field::select(import::column_field(*c), c.label(), &value, options.clone())
                .placeholder("— absente du fichier —")
                .errors(errors);
            if *c == ImportColumn::Prenom {
                field.required()
            } else {
                field
            }
        })
        .collect();
    let summary = view.summary.clone().unwrap_or_default();
    let c = &summary.counts;
    let counts = [
        ("Création", c.created),
        ("Mise à jour", c.updated),
        ("Inchangée (déjà importée)", c.unchanged),
        ("Doublon probable (non créée)", c.duplicates),
        ("Refusée", c.refused),
    ]
    .into_iter()
    .map(|(label, n)| Counted {
        label,
        count: format_count(n as u64),
    })
    .collect();
    let mode = view.mode.unwrap_or(ImportMode::LigneParLigne);
    let state = view.state;
    ImportPage {
        layout: Layout::for_user("Import d'une liste de personnes", user, Nav::Persons)
            .crumbs(&[
                ("Accueil", "/"),
                ("Personnes", "/personnes"),
                ("Importer une liste", INDEX),
                ("Import", ""),
            ])
            .with_message(message),
        id: view.import.id,
        file_name: view.import.file_name.clone(),
        uploaded: moment(view.import.created_at, zone),
        rows: lines(view.import.row_count),
        state: state.label(),
        may_simulate: state.may_simulate() && view.import.has_content,
        simulated: state == ImportState::Simule,
        running: state.is_running(),
        simulating: state == ImportState::EnSimulation,
        finished: matches!(state, ImportState::Termine | ImportState::Refuse),
        imported: state == ImportState::Termine,
        progress: format!(
            "{} sur {}",
            format_count(view.import.rows_done.max(0) as u64),
            lines(view.import.row_count)
        ),
        error: view.import.error.clone(),
        mapping,
        mapping_invalid: !errors.is_empty() && errors.get("mode").is_none(),
        counts,
        total: format_count(c.total() as u64),
        shown_all: summary.shown.len() == c.refused + c.duplicates,
        shown: summary.shown,
        modes: ImportMode::ALL
            .iter()
            .map(|m| (m.as_str().to_string(), m.label().to_string(), *m == mode))
            .collect(),
        mode_error: errors.get("mode").map(str::to_string),
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<MessageQuery>,
) -> Result<ImportPage, WebError> {
    let view = import::get(&state.app, &user.caller, id).await?;
    Ok(import_page(
        &user,
        view,
        None,
        &FieldErrors::default(),
        query.message.as_deref(),
    ))
}

pub async fn simulate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(fields): CsrfForm<HashMap<String, String>>,
) -> Result<Response, WebError> {
    match import::simulate(&state.app, &user.caller, id, &fields).await {
        Ok(_) => Ok(Redirect::to(&format!("{}#resultat", page_of(id))).into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let view = import::get(&state.app, &user.caller, id).await?;
            Ok((
                status_for(&errors),
                import_page(&user, view, Some(&fields), &errors, None),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn launch(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<RequestInput>,
) -> Result<Response, WebError> {
    match import::request(&state.app, &user.caller, id, &input).await {
        Ok(()) => Ok(flash::redirect(&page_of(id), Message::ImportLaunched).into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let view = import::get(&state.app, &user.caller, id).await?;
            Ok((
                status_for(&errors),
                import_page(&user, view, None, &errors, None),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn abandon(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::auth::EmptyForm>,
) -> Result<Response, WebError> {
    match import::abandon(&state.app, &user.caller, id).await {
        Ok(()) => Ok(flash::redirect(INDEX, Message::ImportAbandoned).into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let view = import::get(&state.app, &user.caller, id).await?;
            Ok((
                status_for(&errors),
                import_page(&user, view, None, &errors, None),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The model list (CSV), for a partner starting a list from nothing.
pub async fn template(user: CurrentUser) -> Result<Response, WebError> {
    if !user
        .caller
        .active_territory
        .as_ref()
        .is_some_and(|t| app::persons::may_record(&user.caller, t.id))
    {
        return Err(app::AppError::Forbidden.into());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"modele-liste-personnes.csv\"",
            ),
        ],
        import::template(),
    )
        .into_response())
}

pub async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let text = import::report(&state.app, &user.caller, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"rapport-import-{id}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        text,
    )
        .into_response())
}
