//! `/admin/situations`: the situations one may tick per field in a diagnostic (administrators).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use app::FieldErrors;
use app::diagnostic::{self, SituationInput};
use domain::{Field as ActionField, SituationId};

use super::Message;
use crate::flash;
use crate::forms::{Field, Pairs, decode, one};
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

/// A situation of the referential: id, label, still offered.
type Situation = (i64, String, bool);

#[derive(Template, WebTemplate)]
#[template(path = "diagnostic/situations.html")]
pub struct SituationsPage {
    layout: Layout,
    fields: Vec<(&'static str, Vec<Situation>)>,
    form: Vec<Field>,
    has_errors: bool,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    message: Option<&str>,
    typed: Option<(&Pairs, &FieldErrors)>,
) -> Result<SituationsPage, WebError> {
    let rows = diagnostic::situations(&state.app, &user.caller).await?;
    let none = FieldErrors::default();
    let (pairs, errors) = typed.map_or((None, &none), |(p, e)| (Some(p), e));
    let value = |k: &str| pairs.map(|p| one(p, k)).unwrap_or_default();
    Ok(SituationsPage {
        layout: Layout::for_user("Situations du diagnostic", user, Nav::Admin)
            .crumbs(&[
                ("Accueil", "/"),
                ("Administration", "/admin"),
                ("Situations du diagnostic", ""),
            ])
            .with_message(message),
        fields: ActionField::ALL
            .iter()
            .map(|f| {
                (
                    f.label(),
                    rows.iter()
                        .filter(|s| s.field == *f)
                        .map(|s| (s.id.0, s.label.clone(), s.active))
                        .collect(),
                )
            })
            .collect(),
        form: vec![
            Field::select(
                "field",
                "Champ d'action",
                &value("field"),
                ActionField::options(),
            )
            .required()
            .errors(errors),
            Field::text("label", "Situation", &value("label"))
                .required()
                .errors(errors),
        ],
        has_errors: typed.is_some(),
    })
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MessageQuery>,
) -> Result<SituationsPage, WebError> {
    page(&state, &user, q.message.as_deref(), None).await
}

pub async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: SituationInput = decode(&pairs)?;
    match diagnostic::add_situation(&state.app, &user.caller, &input).await {
        Ok(_) => Ok(flash::redirect("/admin/situations", Message::SituationSaved).into_response()),
        Err(app::AppError::Invalid(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, &user, None, Some((&pairs, &e))).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<SituationId>,
    CsrfForm(input): CsrfForm<SituationInput>,
) -> Result<Response, WebError> {
    diagnostic::update_situation(&state.app, &user.caller, id, &input).await?;
    Ok(flash::redirect("/admin/situations", Message::SituationSaved).into_response())
}
