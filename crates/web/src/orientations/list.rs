//! « Orientations reçues » and « Orientations envoyées ».

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use app::orientations::{self, Inbox, ListInput, ListKind};
use domain::orientation::Status;

use crate::forms::moment;
use crate::layout::{Layout, Nav};
use crate::session::CurrentUser;
use crate::{AppState, WebError};

pub struct Line {
    pub id: i64,
    pub person: String,
    pub person_id: Option<i64>,
    pub status: &'static str,
    pub badge: &'static str,
    pub sent: String,
    pub delay: String,
    pub receiver: String,
    pub sender: String,
    pub reoriented: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "orientations/list.html")]
pub struct ListPage {
    layout: Layout,
    received: bool,
    receives: bool,
    lines: Vec<Line>,
    counts: Vec<(&'static str, &'static str, i64, bool)>,
    total: i64,
    page: i64,
    pages: i64,
    organisations: Vec<(i64, String, bool)>,
    statuses: Vec<(&'static str, &'static str, bool)>,
    input: ListInput,
    within: Option<String>,
    errors: Vec<(&'static str, String)>,
    query: String,
}

fn view(user: &CurrentUser, inbox: Inbox) -> ListPage {
    let received = inbox.kind == ListKind::Received;
    let zone = user.caller.zone();
    let lines = inbox
        .rows
        .iter()
        .zip(&inbox.delays)
        .map(|(r, d)| Line {
            id: r.id.0,
            person: match (&r.first_name, &r.last_name) {
                (Some(f), Some(l)) => format!("{f} {l}").trim().to_string(),
                _ => "Identité masquée (orientation close)".into(),
            },
            person_id: (!received && r.first_name.is_some()).then_some(r.person_id),
            status: r.status.label(),
            badge: super::badge(r.status),
            sent: moment(r.sent_at, zone),
            delay: match (r.status.is_open(), d) {
                (true, Some(n)) => format!("en attente depuis {n} j"),
                (false, Some(n)) => format!("réponse en {n} j"),
                _ => "—".into(),
            },
            receiver: if r.service_name.is_empty() {
                r.receiver_name.clone()
            } else {
                format!("{} ({})", r.service_name, r.receiver_name)
            },
            sender: [r.sender_name.clone(), r.sender_org_name.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
            reoriented: r.previous_id.is_some(),
        })
        .collect();
    let chosen = inbox.input.statut.clone();
    let mut query = serde_urlencoded::to_string([
        ("statut", inbox.input.statut.as_str()),
        ("organisation", inbox.input.organisation.as_str()),
        ("du", inbox.input.du.as_str()),
        ("au", inbox.input.au.as_str()),
        ("miennes", inbox.input.miennes.as_str()),
    ])
    .unwrap_or_default();
    if !query.is_empty() {
        query.push('&');
    }
    let title = if received {
        "Orientations reçues"
    } else {
        "Orientations envoyées"
    };
    ListPage {
        layout: Layout::for_user(title, user, Nav::Orientations)
            .crumbs(&[("Accueil", "/"), (title, "")]),
        received,
        receives: inbox.receives,
        lines,
        counts: inbox
            .counts
            .iter()
            .map(|(s, n)| (s.as_str(), s.label(), *n, s.as_str() == chosen))
            .collect(),
        total: inbox.total,
        page: inbox.page,
        pages: (inbox.total + orientations::PER_PAGE - 1) / orientations::PER_PAGE,
        organisations: inbox
            .organisations
            .iter()
            .map(|(id, name)| {
                (
                    id.0,
                    name.clone(),
                    id.0.to_string() == inbox.input.organisation,
                )
            })
            .collect(),
        statuses: Status::ALL
            .iter()
            .map(|s| (s.as_str(), s.label(), s.as_str() == chosen))
            .collect(),
        within: super::within(inbox.answers_within),
        input: inbox.input,
        errors: Vec::new(),
        query,
    }
}

async fn show(
    state: AppState,
    user: CurrentUser,
    kind: ListKind,
    input: ListInput,
) -> Result<Response, WebError> {
    match orientations::list(&state.app, &user.caller, kind, &input).await {
        Ok(inbox) => Ok(view(&user, inbox).into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let empty = ListInput::default();
            let inbox = orientations::list(&state.app, &user.caller, kind, &empty).await?;
            let mut page = view(&user, inbox);
            page.errors = errors.iter().map(|(k, m)| (k, m.to_string())).collect();
            page.input = input;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn received(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(input): Query<ListInput>,
) -> Result<Response, WebError> {
    show(state, user, ListKind::Received, input).await
}

pub async fn sent(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(input): Query<ListInput>,
) -> Result<Response, WebError> {
    show(state, user, ListKind::Sent, input).await
}

/// The list a professional of a partner works from first: what their organisation received.
pub async fn home(user: CurrentUser) -> Redirect {
    let receives = user
        .caller
        .active_territory
        .as_ref()
        .is_some_and(|t| !user.caller.organisations_in(t.id).is_empty());
    Redirect::to(if receives {
        "/orientations/recues"
    } else {
        "/orientations/envoyees"
    })
}
