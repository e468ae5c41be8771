//! `/orientations/reglages`: how a professional hears of orientations; the territory's delays
//! (its coordinators).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::orientations::{self, DelaysInput};
use domain::orientation::NoticeMode;

use super::Message;
use crate::flash;
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

#[derive(Template, WebTemplate)]
#[template(path = "orientations/settings.html")]
pub struct SettingsPage {
    layout: Layout,
    modes: Vec<(&'static str, &'static str, bool)>,
    may_set_delays: bool,
    delays: DelaysInput,
    delay_fields: Vec<(&'static str, &'static str, String)>,
    errors: Vec<(&'static str, String)>,
}

impl SettingsPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    typed: Option<DelaysInput>,
    errors: &FieldErrors,
) -> Result<SettingsPage, WebError> {
    let s = orientations::notice_settings(&state.app, &user.caller).await?;
    let delays = typed.unwrap_or(DelaysInput {
        unanswered_days: s.delays.unanswered_days.to_string(),
        study_days: s.delays.study_days.to_string(),
        reminder_days: s.delays.reminder_days.to_string(),
    });
    Ok(SettingsPage {
        delay_fields: vec![
            (
                "unanswered_days",
                "Expiration sans réponse (jours)",
                delays.unanswered_days.clone(),
            ),
            (
                "study_days",
                "Expiration à l'étude (jours)",
                delays.study_days.clone(),
            ),
            (
                "reminder_days",
                "Relance du destinataire tous les (jours)",
                delays.reminder_days.clone(),
            ),
        ],
        layout: Layout::for_user("Réglages des orientations", user, Nav::Orientations).crumbs(&[
            ("Accueil", "/"),
            ("Orientations", "/orientations"),
            ("Réglages", ""),
        ]),
        modes: NoticeMode::ALL
            .iter()
            .map(|m| (m.as_str(), m.label(), *m == s.mode))
            .collect(),
        may_set_delays: s.may_set_delays,
        delays,
        errors: errors.iter().map(|(k, m)| (k, m.to_string())).collect(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MessageQuery>,
) -> Result<SettingsPage, WebError> {
    let mut p = page(&state, &user, None, &FieldErrors::default()).await?;
    p.layout = p.layout.with_message(q.message.as_deref());
    Ok(p)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ModeInput {
    mode: String,
}

pub async fn notices(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(input): CsrfForm<ModeInput>,
) -> Result<Response, WebError> {
    match orientations::set_notice_mode(&state.app, &user.caller, &input.mode).await {
        Ok(()) => {
            Ok(flash::redirect("/orientations/reglages", Message::NoticesSaved).into_response())
        }
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, &user, None, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

pub async fn delays(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(input): CsrfForm<DelaysInput>,
) -> Result<Response, WebError> {
    match orientations::set_delays(&state.app, &user.caller, &input).await {
        Ok(()) => {
            Ok(flash::redirect("/orientations/reglages", Message::DelaysSaved).into_response())
        }
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, &user, Some(input), &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
