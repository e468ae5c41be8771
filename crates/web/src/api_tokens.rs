//! « Jetons d'API » (`/compte/jetons`): a user makes tokens for their own account, with scopes
//! and an expiry, sees each once, and revokes them.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use app::FieldErrors;
use app::api_tokens::TokenInput;
use domain::api::{ApiScope, TOKEN_DURATIONS};

use crate::flash::{self, flashes};
use crate::forms::{Checkboxes, Field};
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

flashes! {
    /// What these pages say after a redirect.
    Message {
        Revoked => "jeton-revoque", "Le jeton est révoqué : toute requête qui le présente est désormais refusée.";
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/compte/jetons", get(show).post(create))
        .route("/compte/jetons/{id}/revocation", post(revoke))
}

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub scopes: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub state: &'static str,
    pub active: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/api_tokens.html")]
struct TokensPage {
    layout: Layout,
    /// The token just made, shown this once.
    created: Option<String>,
    tokens: Vec<TokenRow>,
    fields: Vec<Field>,
    scopes: Checkboxes,
    invalid: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    name: String,
    scopes: Vec<String>,
    days: String,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    input: &TokenInput,
    errors: &FieldErrors,
    created: Option<String>,
    message: Option<&str>,
) -> Result<Response, WebError> {
    let zone = user.caller.zone();
    let when = |d: chrono::DateTime<chrono::Utc>| zone.local(d).format("%d/%m/%Y").to_string();
    let tokens = app::api_tokens::list(&state.app, &user.caller)
        .await?
        .into_iter()
        .map(|v| TokenRow {
            id: v.token.id,
            name: v.token.name.clone(),
            scopes: v
                .scopes
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join(" ; "),
            created: when(v.token.created_at),
            expires: when(v.token.expires_at),
            last_used: v
                .token
                .last_used_at
                .map_or_else(|| "jamais".to_string(), when),
            state: v.state,
            active: v.state == "actif",
        })
        .collect();
    let status = if !errors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else if created.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let durations = TOKEN_DURATIONS
        .iter()
        .map(|d| (d.to_string(), format!("{d} jours")))
        .collect();
    Ok((
        status,
        TokensPage {
            layout: Layout::for_user("Jetons d'API", user, Nav::None)
                .crumbs(&[
                    ("Accueil", "/"),
                    ("Sécurité du compte", "/compte/securite"),
                    ("Jetons d'API", ""),
                ])
                .with_message(message),
            created,
            tokens,
            fields: vec![
                Field::text("name", "Nom du jeton", &input.name)
                    .hint("Pour le reconnaître : le logiciel ou le service qui s'en sert, par exemple « SI de la Mission locale ».")
                    .required()
                    .errors(errors),
                Field::select("days", "Durée de validité", &input.days, durations)
                    .required()
                    .errors(errors),
            ],
            scopes: Checkboxes::new(
                "scopes",
                "Ce que le jeton pourra faire",
                ApiScope::ALL
                    .iter()
                    .map(|s| (s.as_str().to_string(), s.label().to_string()))
                    .collect(),
                &input.scopes,
            )
            .errors(errors),
            invalid: !errors.is_empty(),
        },
    )
        .into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<MessageQuery>,
) -> Result<Response, WebError> {
    let input = TokenInput {
        days: "90".into(),
        ..TokenInput::default()
    };
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

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, WebError> {
    let input = TokenInput {
        name: form.name,
        scopes: form.scopes,
        days: form.days,
    };
    match app::api_tokens::create(&state.app, &user.caller, &input).await {
        Ok(created) => {
            let empty = TokenInput {
                days: "90".into(),
                ..TokenInput::default()
            };
            page(
                &state,
                &user,
                &empty,
                &FieldErrors::default(),
                Some(created.token),
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

pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::auth::EmptyForm>,
) -> Result<Response, WebError> {
    app::api_tokens::revoke(&state.app, &user.caller, id).await?;
    Ok(flash::redirect("/compte/jetons", Message::Revoked).into_response())
}
