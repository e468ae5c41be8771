//! The page of one orientation: what was sent, its status and log, and the forms of the steps
//! the caller may take (a refused one comes back with its errors and what was typed).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use app::FieldErrors;
use app::orientations::{self, DecisionInput, OrientationPage};
use domain::OrientationId;
use domain::orientation::{DeclineReason, Outcome, Step};

use super::Message;

/// A decision refused: 409 when someone acted first (the page shows the orientation as it is
/// now, with the message), else 422 for the input.
pub(super) fn refusal_status(e: &app::AppError) -> StatusCode {
    if matches!(e, app::AppError::Conflict(_)) {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}
use crate::flash;
use crate::forms::{Pairs, date_fr, decode, moment, one};
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

/// The parts of an orientation both its page and its magic-link page show.
pub struct Sent {
    pub receiver: String,
    pub service: String,
    pub sender: String,
    pub sent: String,
    pub reason: String,
    pub message: String,
    pub documents: String,
    pub contact_preference: String,
    pub availability: String,
    pub fields: Vec<&'static str>,
    pub requirements: Vec<(&'static str, String)>,
}

/// A step's form, with what was typed when it was refused.
pub struct StepForm {
    pub code: &'static str,
    pub label: &'static str,
    pub errors: FieldErrors,
    pub on: String,
    pub comment: String,
    pub other_reason: String,
    pub reasons: Vec<(&'static str, &'static str, bool)>,
    pub outcomes: Vec<(&'static str, &'static str, bool)>,
}

pub fn step_forms(steps: &[Step], refused: Option<(&str, &FieldErrors, &Pairs)>) -> Vec<StepForm> {
    steps
        .iter()
        .map(|s| {
            let mine = refused.filter(|(code, _, _)| *code == s.as_str());
            let typed = |k: &str| mine.map(|(_, _, p)| one(p, k)).unwrap_or_default();
            let ticked: Vec<String> = mine
                .map(|(_, _, p)| crate::forms::many(p, "reasons"))
                .unwrap_or_default();
            StepForm {
                code: s.as_str(),
                label: s.label(),
                errors: mine.map(|(_, e, _)| e.clone()).unwrap_or_default(),
                on: typed("on"),
                comment: typed("comment"),
                other_reason: typed("other_reason"),
                reasons: DeclineReason::ALL
                    .iter()
                    .map(|r| {
                        (
                            r.as_str(),
                            r.label(),
                            ticked.iter().any(|t| t == r.as_str()),
                        )
                    })
                    .collect(),
                outcomes: Outcome::ALL
                    .iter()
                    .map(|o| (o.as_str(), o.label(), typed("outcome") == o.as_str()))
                    .collect(),
            }
        })
        .collect()
}

pub struct Event {
    pub at: String,
    pub who: String,
    pub from: String,
    pub to: &'static str,
    pub detail: String,
}

pub struct Link {
    pub id: i64,
    pub receiver: String,
    pub status: &'static str,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "orientations/orientation.html")]
pub struct ShowPage {
    layout: Layout,
    id: i64,
    action: String,
    version: i32,
    person_id: i64,
    person: String,
    phone: String,
    email: String,
    place: String,
    referral: bool,
    status: &'static str,
    badge: &'static str,
    since: String,
    sent: Sent,
    entered_on: String,
    ended_on: String,
    outcome: String,
    reasons: Vec<(&'static str, String)>,
    decline_comment: String,
    events: Vec<Event>,
    chain: Vec<Link>,
    steps: Vec<StepForm>,
    general_error: Option<String>,
    within: Option<String>,
    may_reorient: bool,
}

fn view(
    user: &CurrentUser,
    p: OrientationPage,
    refused: Option<(&str, &FieldErrors, &Pairs)>,
) -> ShowPage {
    let zone = p.caps.zone();
    let r = &p.row;
    let title = format!("Orientation n° {}", r.id.0);
    ShowPage {
        layout: Layout::for_user(&title, user, Nav::Orientations).crumbs(&[
            ("Accueil", "/"),
            (
                if p.is_receiver {
                    "Orientations reçues"
                } else {
                    "Orientations envoyées"
                },
                if p.is_receiver {
                    "/orientations/recues"
                } else {
                    "/orientations/envoyees"
                },
            ),
            (&title, ""),
        ]),
        id: r.id.0,
        action: format!("/orientations/{}/decision", r.id.0),
        version: r.version,
        person_id: r.person_id.0,
        person: format!("{} {}", p.person.first_name, p.person.last_name)
            .trim()
            .to_string(),
        phone: p.person.phone.clone().unwrap_or_default(),
        email: p.person.email.clone().unwrap_or_default(),
        place: p.person.postal_code.clone(),
        referral: p.referral_view(),
        status: r.status.label(),
        badge: super::badge(r.status),
        since: date_fr(&r.status_on),
        sent: Sent {
            receiver: r.receiver_name.clone(),
            service: r.service_name.clone(),
            sender: [r.sender_name.clone(), r.sender_org_name.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
            sent: moment(r.sent_at, zone),
            reason: r.reason.clone(),
            message: r.message.clone(),
            documents: r.documents.clone(),
            contact_preference: r.contact_preference.clone(),
            availability: r.availability.clone(),
            fields: p.fields.iter().map(|f| f.label()).collect(),
            requirements: p.requirements.clone(),
        },
        entered_on: r.entered_on.as_deref().map(date_fr).unwrap_or_default(),
        ended_on: r.ended_on.as_deref().map(date_fr).unwrap_or_default(),
        outcome: r
            .outcome()
            .map(|o| o.label().to_string())
            .unwrap_or_default(),
        reasons: p
            .reasons
            .iter()
            .map(|(reason, d)| (reason.label(), d.clone()))
            .collect(),
        decline_comment: r.decline_comment.clone(),
        events: p
            .events
            .iter()
            .map(|e| Event {
                at: moment(e.at, zone),
                who: e.user_name.clone().unwrap_or_else(|| {
                    if e.via_link {
                        "Le service, par le lien reçu par courriel".into()
                    } else {
                        "Passerelle".into()
                    }
                }),
                from: e
                    .from()
                    .map(|s| s.label().to_string())
                    .unwrap_or_else(|| "—".into()),
                to: e.to_status.label(),
                detail: e.detail.clone(),
            })
            .collect(),
        chain: p
            .chain
            .iter()
            .map(|l| Link {
                id: l.id.0,
                receiver: l.receiver_name.clone(),
                status: l.status.label(),
                current: l.current,
            })
            .collect(),
        general_error: refused.and_then(|(_, e, _)| e.get("formulaire").map(str::to_string)),
        steps: step_forms(&p.steps, refused),
        within: super::within(p.answers_within),
        may_reorient: p.may_reorient,
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<OrientationId>,
    Query(q): Query<MessageQuery>,
) -> Result<ShowPage, WebError> {
    let p = orientations::orientation(&state.app, &user.caller, id).await?;
    let mut page = view(&user, p, None);
    page.layout = page.layout.with_message(q.message.as_deref());
    Ok(page)
}

pub async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<OrientationId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: DecisionInput = decode(&pairs)?;
    match orientations::decide(&state.app, &user.caller, id, &input).await {
        Ok(_) => {
            // The page may no longer be theirs (a refusal closes the receiver's view).
            let back = match orientations::orientation(&state.app, &user.caller, id).await {
                Ok(_) => orientations::path(id),
                Err(_) => "/orientations/recues".to_string(),
            };
            Ok(flash::redirect(&back, Message::Decided).into_response())
        }
        Err(e @ (app::AppError::Invalid(_) | app::AppError::Conflict(_))) => {
            let status = refusal_status(&e);
            let errors = e.into_field_errors();
            let p = orientations::orientation(&state.app, &user.caller, id).await?;
            let page = view(&user, p, Some((input.step.as_str(), &errors, &pairs)));
            Ok((status, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
