//! Merging a duplicate into a file (coordinators).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use app::persons;
use domain::PersonId;

use super::{Message, file_path, full_name};
use crate::flash;
use crate::forms::{Pairs, one};
use crate::layout::{Layout, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

#[derive(Template, WebTemplate)]
#[template(path = "persons/merge.html")]
pub struct MergePage {
    layout: Layout,
    id: i64,
    name: String,
    duplicates: Vec<(i64, String, String, String)>,
    error: Option<String>,
}

async fn merge_page(
    state: &AppState,
    user: &CurrentUser,
    id: PersonId,
    error: Option<String>,
) -> Result<MergePage, WebError> {
    let f = persons::file(
        &state.app,
        &user.caller,
        id,
        &format!("/personnes/{id}/fusion"),
    )
    .await?;
    if !f.access.is_coordinator() {
        return Err(app::AppError::Forbidden.into());
    }
    let p = &f.person;
    let found = persons::duplicates_of(
        &state.app,
        &user.caller,
        &p.folded_name,
        p.phone.as_deref(),
        p.email.as_deref(),
        p.birth_date.as_deref(),
        Some(p.id),
    )
    .await?;
    let name = full_name(&p.first_name, &p.last_name);
    Ok(MergePage {
        layout: Layout::for_user("Fusionner des dossiers", user, Nav::Persons).crumbs(&[
            ("Accueil", "/"),
            ("Personnes", "/personnes"),
            (&name, &format!("/personnes/{id}")),
            ("Fusionner", ""),
        ]),
        id: id.0,
        name,
        duplicates: found
            .into_iter()
            .map(|d| (d.id.0, d.name, d.status, d.why))
            .collect(),
        error,
    })
}

pub async fn show_merge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
) -> Result<MergePage, WebError> {
    merge_page(&state, &user, id, None).await
}

pub async fn merge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let from = one(&pairs, "from")
        .parse::<i64>()
        .map(PersonId)
        .unwrap_or(PersonId(0));
    match persons::merge(&state.app, &user.caller, id, from).await {
        Ok(()) => Ok(flash::redirect(&file_path(id), Message::Merged).into_response()),
        Err(app::AppError::Invalid(e)) => {
            let message = e
                .iter()
                .map(|(_, m)| m.to_string())
                .collect::<Vec<_>>()
                .join(" ");
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                merge_page(&state, &user, id, Some(message)).await?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}
