//! The right of access (`/personnes/{id}/droit-d-acces`): everything held about a person, as a
//! page to print and as JSON (`…/droit-d-acces.json`), for the coordinators and the référent.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use app::persons::rights;
use domain::PersonId;

use crate::layout::{Layout, Nav};
use crate::session::CurrentUser;
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
    let when =
        |at: chrono::DateTime<chrono::Utc>| zone.local(at).format("%d/%m/%Y à %H:%M").to_string();
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
