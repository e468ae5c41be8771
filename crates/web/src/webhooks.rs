//! « Webhooks des partenaires » (`/orientations/webhooks`): a territory's coordinators give a
//! partner's information system an address that hears of every change of the orientations the
//! partner receives or sends, see each webhook's delivery log, and stop one.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use app::FieldErrors;
use app::webhooks::WebhookInput;

use crate::flash::{self, flashes};
use crate::forms::{Field, moment};
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

flashes! {
    /// What these pages say after a redirect.
    Message {
        Disabled => "webhook-arrete", "Le webhook est arrêté : plus rien n'est envoyé à cette adresse, pas même ce qui attendait.";
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orientations/webhooks", get(show).post(create))
        .route("/orientations/webhooks/{id}", get(show_log))
        .route("/orientations/webhooks/{id}/arret", post(disable))
}

pub struct Row {
    pub id: i64,
    pub organisation: String,
    pub url: String,
    pub created: String,
    pub live: bool,
    pub delivered: i64,
    pub pending: i64,
    pub last: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "orientations/webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    /// The secret of the webhook just made, shown this once.
    created: Option<String>,
    rows: Vec<Row>,
    fields: Vec<Field>,
    invalid: bool,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    input: &WebhookInput,
    errors: &FieldErrors,
    created: Option<String>,
    message: Option<&str>,
) -> Result<Response, WebError> {
    let data = app::webhooks::page(&state.app, &user.caller).await?;
    let zone = user.caller.zone();
    let rows = data
        .webhooks
        .into_iter()
        .map(|w| Row {
            id: w.id,
            organisation: w.organisation_name,
            url: w.url,
            created: moment(w.created_at, zone),
            live: w.disabled_at.is_none(),
            delivered: w.delivered,
            pending: w.pending,
            last: w
                .last_delivered_at
                .map_or_else(|| "jamais".to_string(), |d| moment(d, zone)),
        })
        .collect();
    let partners = data
        .partners
        .into_iter()
        .map(|(id, name)| (id.0.to_string(), name))
        .collect();
    let status = if !errors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else if created.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        WebhooksPage {
            layout: Layout::for_user("Webhooks des partenaires", user, Nav::Orientations)
                .crumbs(&[
                    ("Accueil", "/"),
                    ("Réglages des orientations", "/orientations/reglages"),
                    ("Webhooks des partenaires", ""),
                ])
                .with_message(message),
            created,
            rows,
            fields: vec![
                Field::select("organisation", "Structure partenaire", &input.organisation, partners)
                    .hint("Son système d'information sera prévenu de chaque orientation qu'elle reçoit ou envoie dans le territoire.")
                    .required()
                    .errors(errors),
                Field::text("url", "Adresse qui recevra les événements", &input.url)
                    .hint("En https://, fournie par le service informatique de la structure.")
                    .required()
                    .errors(errors),
            ],
            invalid: !errors.is_empty(),
        },
    )
        .into_response())
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<MessageQuery>,
) -> Result<Response, WebError> {
    let input = WebhookInput::default();
    page(
        &state,
        &user,
        &input,
        &FieldErrors::default(),
        None,
        query.message.as_deref(),
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(input): CsrfForm<WebhookInput>,
) -> Result<Response, WebError> {
    match app::webhooks::create(&state.app, &user.caller, &input).await {
        Ok(created) => {
            let empty = WebhookInput::default();
            page(
                &state,
                &user,
                &empty,
                &FieldErrors::default(),
                Some(created.secret),
                None,
            )
            .await
        }
        Err(app::AppError::Invalid(errors)) => {
            page(&state, &user, &input, &errors, None, None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn disable(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::auth::EmptyForm>,
) -> Result<Response, WebError> {
    app::webhooks::disable(&state.app, &user.caller, id).await?;
    Ok(flash::redirect("/orientations/webhooks", Message::Disabled).into_response())
}

pub struct Line {
    pub orientation: i64,
    pub event: String,
    pub created: String,
    pub attempts: i32,
    pub last_attempt: String,
    pub outcome: String,
    pub delivered: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "orientations/webhook_log.html")]
struct LogPage {
    layout: Layout,
    organisation: String,
    url: String,
    live: bool,
    lines: Vec<Line>,
    limit: i64,
}

async fn show_log(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<LogPage, WebError> {
    let log = app::webhooks::log(&state.app, &user.caller, id).await?;
    let zone = user.caller.zone();
    let title = format!("Livraisons du webhook de {}", log.webhook.organisation_name);
    Ok(LogPage {
        layout: Layout::for_user(&title, &user, Nav::Orientations).crumbs(&[
            ("Accueil", "/"),
            ("Webhooks des partenaires", "/orientations/webhooks"),
            (&title, ""),
        ]),
        organisation: log.webhook.organisation_name,
        url: log.webhook.url,
        live: log.webhook.disabled_at.is_none(),
        lines: log
            .deliveries
            .into_iter()
            .map(|d| Line {
                orientation: d.orientation_id,
                event: app::webhooks::event_name(&d.to_status),
                created: moment(d.created_at, zone),
                attempts: d.attempts,
                last_attempt: d
                    .last_attempt_at
                    .map_or_else(|| "—".to_string(), |a| moment(a, zone)),
                outcome: match (d.delivered_at, d.last_status) {
                    (Some(at), Some(s)) => format!("livré le {} (réponse {s})", moment(at, zone)),
                    (Some(at), None) => format!("livré le {}", moment(at, zone)),
                    (None, _) if d.attempts == 0 => "en attente".to_string(),
                    (None, _) => format!("échec : {} ; nouvel essai à venir", d.last_error),
                },
                delivered: d.delivered_at.is_some(),
            })
            .collect(),
        limit: app::webhooks::LOG_LINES,
    })
}
