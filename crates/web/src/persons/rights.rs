//! The person's rights: access (`/personnes/{id}/droit-d-acces`: everything held about a
//! person, as a page to print and as JSON, for the coordinators and the référent) and erasure
//! or objection (`/personnes/{id}/effacement`, the coordinators).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use app::FieldErrors;
use app::persons::rights;
use domain::PersonId;
use domain::person::ErasureRequest;

use crate::flash;
use crate::forms::Field;
use crate::layout::{Layout, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

/// One table of the document: its title, its columns, its rows as text.
pub struct Section {
    pub title: String,
    pub table: String,
    pub withheld: bool,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/access_export.html")]
pub struct ExportPage {
    layout: Layout,
    id: i64,
    name: String,
    produced: String,
    produced_by: String,
    health: bool,
    health_readers: String,
    sections: Vec<Section>,
    /// When, who, what, detail, from where.
    access_log: Vec<(String, String, String, String, String)>,
}

fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
) -> Result<ExportPage, WebError> {
    let export = rights::access_export(&state.app, &user.caller, id).await?;
    let zone = user.caller.zone();
    let when = |at| crate::forms::moment(at, zone);
    let title = format!("Droit d'accès : {}", export.name);
    let sections = export
        .parts
        .iter()
        .map(|p| {
            let columns: Vec<String> = p
                .rows
                .first()
                .and_then(|r| r.as_object())
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            let rows = p
                .rows
                .iter()
                .map(|r| columns.iter().map(|c| cell(&r[c])).collect())
                .collect();
            Section {
                title: p.title.to_string(),
                table: p.table.to_string(),
                withheld: p.withheld,
                columns,
                rows,
            }
        })
        .collect();
    Ok(ExportPage {
        layout: Layout::for_user(&title, &user, Nav::Persons).crumbs(&[
            ("Accueil", "/"),
            ("Personnes", "/personnes"),
            (&export.name, &format!("/personnes/{}", id.0)),
            ("Droit d'accès", ""),
        ]),
        id: id.0,
        name: export.name.clone(),
        produced: when(export.produced_at),
        produced_by: export.produced_by.clone(),
        health: export.health,
        health_readers: export.health_readers.join(", "),
        sections,
        access_log: export
            .access_log
            .iter()
            .map(|e| {
                (
                    when(e.at),
                    e.who.clone().unwrap_or_else(|| "Passerelle".into()),
                    super::access_log::action_label(&e.action).to_string(),
                    e.detail.clone(),
                    e.client_ip.clone().unwrap_or_default(),
                )
            })
            .collect(),
    })
}

pub async fn json(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
) -> Result<Response, WebError> {
    let export = rights::access_export(&state.app, &user.caller, id).await?;
    let body = serde_json::to_string_pretty(&export.json()).unwrap_or_default();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"droit-d-acces-{}.json\"", id.0),
            ),
        ],
        body,
    )
        .into_response())
}

/// The erasure page: what will go, what stays, the request and its confirmation.
#[derive(Template, WebTemplate)]
#[template(path = "persons/erasure.html")]
pub struct ErasurePage {
    layout: Layout,
    id: i64,
    name: String,
    open_orientations: usize,
    /// Code, label, chosen.
    requests: Vec<(&'static str, &'static str, bool)>,
    received: Field,
    confirmed: bool,
    errors: Vec<(String, String)>,
}

impl ErasurePage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn erasure_page(
    user: &CurrentUser,
    id: PersonId,
    form: rights::ErasureForm,
    input: &rights::ErasureInput,
    errors: &FieldErrors,
) -> ErasurePage {
    let title = format!("Effacer le dossier de {}", form.name);
    ErasurePage {
        layout: Layout::for_user(&title, user, Nav::Persons).crumbs(&[
            ("Accueil", "/"),
            ("Personnes", "/personnes"),
            (&form.name, &format!("/personnes/{}", id.0)),
            ("Effacement", ""),
        ]),
        id: id.0,
        name: form.name,
        open_orientations: form.open_orientations,
        requests: ErasureRequest::ALL
            .iter()
            .map(|r| (r.as_str(), r.label(), input.request == r.as_str()))
            .collect(),
        received: Field::typed(
            "received_on",
            "Date de réception de la demande",
            &input.received_on,
            "date",
            "off",
        )
        .required()
        .errors(errors),
        confirmed: input.confirm,
        errors: errors
            .iter()
            .map(|(f, m)| (f.to_string(), m.to_string()))
            .collect(),
    }
}

pub async fn show_erasure(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
) -> Result<ErasurePage, WebError> {
    let form = rights::erasure_form(&state.app, &user.caller, id).await?;
    Ok(erasure_page(
        &user,
        id,
        form,
        &rights::ErasureInput::default(),
        &FieldErrors::default(),
    ))
}

pub async fn erase(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(input): CsrfForm<rights::ErasureInput>,
) -> Result<Response, WebError> {
    match rights::erase(&state.app, &user.caller, id, &input).await {
        Ok(_) => Ok(flash::redirect("/personnes", super::Message::Erased).into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let form = rights::erasure_form(&state.app, &user.caller, id).await?;
            let page = erasure_page(&user, id, form, &input, &errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
