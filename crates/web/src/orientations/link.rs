//! `/orientations/{id}/lien/{token}`: a receiving service without an account reads the
//! orientation and answers it, without signing in; an expired link offers a new one, sent to
//! the service's contact address only.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use app::FieldErrors;
use app::orientations::{self, DecisionInput, LinkPage, LinkState};
use domain::OrientationId;

use super::Message;
use super::page::{Sent, StepForm, step_forms};
use crate::flash;
use crate::forms::{Pairs, decode, moment};
use crate::layout::{Layout, MessageQuery};
use crate::session::{ClientIp, CsrfForm, MaybeUser};
use crate::{AppState, WebError};

#[derive(Template, WebTemplate)]
#[template(path = "orientations/link.html")]
pub struct LinkView {
    layout: Layout,
    state: &'static str,
    action: String,
    version: i32,
    status: &'static str,
    person: String,
    phone: String,
    email: String,
    sent: Sent,
    steps: Vec<StepForm>,
    used: Vec<&'static str>,
    general_error: Option<String>,
}

fn view(
    csrf: String,
    id: OrientationId,
    token: &str,
    p: LinkPage,
    refused: Option<(&str, &FieldErrors, &Pairs)>,
) -> LinkView {
    let zone = domain::TimeZone::Paris;
    LinkView {
        layout: Layout::public(&format!("Orientation n° {}", id.0), csrf),
        state: match p.state {
            LinkState::Valid => "valide",
            LinkState::Expired => "expire",
            LinkState::Invalid => "invalide",
        },
        action: format!("/orientations/{}/lien/{token}", id.0),
        version: p.version,
        status: p.status.map(|s| s.label()).unwrap_or_default(),
        person: p
            .person
            .as_ref()
            .map(|h| {
                format!("{} {}", h.first_name, h.last_name)
                    .trim()
                    .to_string()
            })
            .unwrap_or_default(),
        phone: p
            .person
            .as_ref()
            .and_then(|h| h.phone.clone())
            .unwrap_or_default(),
        email: p
            .person
            .as_ref()
            .and_then(|h| h.email.clone())
            .unwrap_or_default(),
        sent: Sent {
            receiver: p.receiver_name.clone(),
            service: p.service_name.clone(),
            sender: p.sender.clone(),
            sent: p.sent_at.map(|at| moment(at, zone)).unwrap_or_default(),
            reason: p.reason.clone(),
            message: p.message.clone(),
            documents: p.documents.clone(),
            contact_preference: p.contact_preference.clone(),
            availability: p.availability.clone(),
            fields: p.fields.iter().map(|f| f.label()).collect(),
            requirements: p.requirements.clone(),
        },
        general_error: refused.and_then(|(_, e, _)| e.get("formulaire").map(str::to_string)),
        steps: step_forms(&p.steps, refused),
        used: p.used.iter().map(|s| s.label()).collect(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    visitor: MaybeUser,
    ClientIp(ip): ClientIp,
    Path((id, token)): Path<(OrientationId, String)>,
    Query(q): Query<MessageQuery>,
) -> Result<Response, WebError> {
    let p = orientations::link_page(&state.app, id, &token, Some(&ip)).await?;
    let status = if p.state == LinkState::Invalid {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let mut page = view(visitor.csrf, id, &token, p, None);
    page.layout = page.layout.with_message(q.message.as_deref());
    Ok((status, page).into_response())
}

pub async fn decide(
    State(state): State<AppState>,
    visitor: MaybeUser,
    ClientIp(ip): ClientIp,
    Path((id, token)): Path<(OrientationId, String)>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: DecisionInput = decode(&pairs)?;
    match orientations::link_decide(&state.app, id, &token, &input, Some(&ip)).await {
        Ok(_) => Ok(flash::redirect(
            &format!("/orientations/{}/lien/{token}", id.0),
            Message::LinkDecided,
        )
        .into_response()),
        Err(e @ (app::AppError::Invalid(_) | app::AppError::Conflict(_))) => {
            let status = super::page::refusal_status(&e);
            let errors = e.into_field_errors();
            let p = orientations::link_page(&state.app, id, &token, Some(&ip)).await?;
            let page = view(
                visitor.csrf,
                id,
                &token,
                p,
                Some((input.step.as_str(), &errors, &pairs)),
            );
            Ok((status, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn renew(
    State(state): State<AppState>,
    Path((id, token)): Path<(OrientationId, String)>,
    CsrfForm(_): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    orientations::renew_link(&state.app, id, &token).await?;
    Ok(flash::redirect(
        &format!("/orientations/{}/lien/{token}", id.0),
        Message::LinkRenewed,
    )
    .into_response())
}
