//! `/orientations/nouvelle?personne=…`: the form that sends an orientation (from the file, a
//! suggested relay, a service page or a previous orientation).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::orientations::{self, SendForm, SendInput};
use domain::{Field as ActionField, OrientationId, PersonId, ServiceId};

use super::Message;
use crate::flash;
use crate::forms::{Pairs, decode};
use crate::layout::{Layout, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FormQuery {
    personne: String,
    service: String,
    champ: String,
    depuis: String,
}

impl FormQuery {
    fn person(&self) -> Result<PersonId, WebError> {
        self.personne.trim().parse().map(PersonId).map_err(|_| {
            WebError::BadRequest(
                "Choisissez d'abord la personne à orienter, depuis son dossier.".into(),
            )
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "orientations/send.html")]
pub struct SendPage {
    layout: Layout,
    person: i64,
    person_name: String,
    receivers: Vec<(String, String, bool)>,
    fields: Vec<(&'static str, &'static str, bool)>,
    consent_to_share: bool,
    shared_with: String,
    previous: Option<(i64, String)>,
    input: SendInput,
    /// The text areas: name, label, hint, what was typed, rows.
    texts: Vec<(&'static str, &'static str, &'static str, String, u8)>,
    has_errors: bool,
    errors: Vec<(&'static str, String)>,
}

impl SendPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn view(user: &CurrentUser, form: SendForm, input: SendInput, errors: &FieldErrors) -> SendPage {
    let file = format!("/personnes/{}", form.person.0);
    SendPage {
        layout: Layout::for_user("Orienter une personne", user, Nav::Orientations).crumbs(&[
            ("Accueil", "/"),
            (&form.person_name, &file),
            ("Orienter", ""),
        ]),
        person: form.person.0,
        receivers: form
            .receivers
            .iter()
            .map(|r| {
                let label = match super::within(r.answers_within) {
                    Some(w) => format!("{} — {w}", r.label),
                    None => r.label.clone(),
                };
                (r.code.clone(), label, r.code == input.receiver)
            })
            .collect(),
        fields: form
            .fields
            .iter()
            .map(|f: &ActionField| {
                (
                    f.as_str(),
                    f.label(),
                    input.fields.iter().any(|x| x == f.as_str()),
                )
            })
            .collect(),
        consent_to_share: form.consent_to_share,
        shared_with: form.shared_with.join(", "),
        previous: form.previous.map(|(id, label)| (id.0, label)),
        person_name: form.person_name,
        texts: vec![
            (
                "reason",
                "Motif de l'orientation",
                "Ce que la personne attend du service, en quelques mots.",
                input.reason.clone(),
                3,
            ),
            (
                "message",
                "Message au destinataire",
                "Facultatif.",
                input.message.clone(),
                3,
            ),
            (
                "documents",
                "Documents que le destinataire demandera",
                "Par exemple : pièce d'identité, attestation France Travail.",
                input.documents.clone(),
                2,
            ),
            (
                "contact_preference",
                "Comment joindre la personne",
                "Téléphone, courriel, horaires, langue…",
                input.contact_preference.clone(),
                2,
            ),
            (
                "availability",
                "Disponibilités de la personne",
                "",
                input.availability.clone(),
                2,
            ),
        ],
        input,
        has_errors: !errors.is_empty(),
        errors: errors.iter().map(|(k, m)| (k, m.to_string())).collect(),
    }
}

fn optional<T>(text: &str, make: fn(i64) -> T) -> Option<T> {
    text.trim().parse().ok().map(make)
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FormQuery>,
) -> Result<SendPage, WebError> {
    let person = q.person()?;
    let form = orientations::send_form(
        &state.app,
        &user.caller,
        person,
        optional(&q.service, ServiceId),
        ActionField::from_code(q.champ.trim()),
        optional(&q.depuis, OrientationId),
    )
    .await?;
    let mut input = form.input.clone();
    // A double click, or a retry after a lost answer, sends this form twice: one orientation.
    input.idempotency_key = app::secrets::random_token();
    Ok(view(&user, form, input, &FieldErrors::default()))
}

pub async fn send(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FormQuery>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let person = q.person()?;
    let input: SendInput = decode(&pairs)?;
    match orientations::send(&state.app, &user.caller, person, &input).await {
        Ok(id) => Ok(flash::redirect(&orientations::path(id), Message::Sent).into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let service = input
                .receiver
                .strip_prefix("service:")
                .and_then(|s| s.parse().ok())
                .map(ServiceId);
            let form = orientations::send_form(
                &state.app,
                &user.caller,
                person,
                service,
                None,
                optional(&input.previous, OrientationId),
            )
            .await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                view(&user, form, input, &errors),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}
