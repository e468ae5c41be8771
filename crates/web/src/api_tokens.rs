//! « Jetons d'API »: a user makes tokens for their own account (`/compte/jetons`), and a
//! territory's coordinators make tokens for its partner organisations
//! (`/territoires/{slug}/jetons`), with scopes and an expiry; each is shown once, and revoked
//! from the same page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use app::FieldErrors;
use app::api_tokens::{OrganisationTokenInput, TokenInput, TokenView};
use domain::api::{self, ApiScope, TOKEN_DURATIONS};

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
        .route(
            "/territoires/{slug}/jetons",
            get(show_organisations).post(create_for_organisation),
        )
        .route(
            "/territoires/{slug}/jetons/{id}/revocation",
            post(revoke_organisation_token),
        )
}

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    /// An organisation's token: the organisation, and who made the token.
    pub organisation: Option<String>,
    pub made_by: String,
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
    /// The tokens of a territory's partner organisations (else the user's own).
    of_organisations: bool,
    /// Where the form posts, and under which each revocation goes.
    action: String,
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
    organisation_id: String,
}

impl TokenForm {
    fn input(self) -> OrganisationTokenInput {
        OrganisationTokenInput {
            organisation_id: self.organisation_id,
            token: TokenInput {
                name: self.name,
                scopes: self.scopes,
                days: self.days,
            },
        }
    }
}

fn fresh_input() -> OrganisationTokenInput {
    OrganisationTokenInput {
        organisation_id: String::new(),
        token: TokenInput {
            days: "90".into(),
            ..TokenInput::default()
        },
    }
}

/// Whose tokens a page shows.
enum Whose<'a> {
    Mine,
    /// A territory's partners (slug, name), and the partners to choose from.
    Partners(&'a str, &'a str, Vec<(String, String)>),
}

fn rows(user: &CurrentUser, views: Vec<TokenView>) -> Vec<TokenRow> {
    let zone = user.caller.zone();
    let when = |d: chrono::DateTime<chrono::Utc>| zone.local(d).format("%d/%m/%Y").to_string();
    views
        .into_iter()
        .map(|v| TokenRow {
            id: v.token.id,
            name: v.token.name.clone(),
            organisation: v.token.organisation_name.clone(),
            made_by: v.token.made_by.clone(),
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
        .collect()
}

fn page(
    user: &CurrentUser,
    whose: Whose<'_>,
    tokens: Vec<TokenView>,
    input: &OrganisationTokenInput,
    errors: &FieldErrors,
    created: Option<String>,
    message: Option<&str>,
) -> Response {
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
    let mut fields = vec![
        Field::text("name", "Nom du jeton", &input.token.name)
            .hint("Pour le reconnaître : le logiciel ou le service qui s'en sert, par exemple « SI de la Mission locale ».")
            .required()
            .errors(errors),
        Field::select("days", "Durée de validité", &input.token.days, durations)
            .required()
            .errors(errors),
    ];
    let (layout, action, scopes, of_organisations) = match whose {
        Whose::Mine => (
            Layout::for_user("Jetons d'API", user, Nav::None).crumbs(&[
                ("Accueil", "/"),
                ("Sécurité du compte", "/compte/securite"),
                ("Jetons d'API", ""),
            ]),
            "/compte/jetons".to_string(),
            ApiScope::ALL,
            false,
        ),
        Whose::Partners(slug, name, partners) => {
            fields.insert(
                0,
                Field::select(
                    "organisation_id",
                    "Structure partenaire",
                    &input.organisation_id,
                    partners,
                )
                .required()
                .errors(errors),
            );
            let territory = format!("/territoires/{slug}");
            (
                Layout::for_user("Jetons d'API des structures", user, Nav::Territory).crumbs(&[
                    ("Accueil", "/"),
                    (name, &territory),
                    ("Jetons d'API des structures", ""),
                ]),
                format!("{territory}/jetons"),
                api::ORGANISATION_SCOPES,
                true,
            )
        }
    };
    let scopes = Checkboxes::new(
        "scopes",
        "Ce que le jeton pourra faire",
        scopes
            .iter()
            .map(|s| (s.as_str().to_string(), s.label().to_string()))
            .collect(),
        &input.token.scopes,
    )
    .errors(errors);
    (
        status,
        TokensPage {
            layout: layout.with_message(message),
            of_organisations,
            action,
            created,
            tokens: rows(user, tokens),
            fields,
            scopes,
            invalid: !errors.is_empty(),
        },
    )
        .into_response()
}

async fn mine(
    state: &AppState,
    user: &CurrentUser,
    input: &OrganisationTokenInput,
    errors: &FieldErrors,
    created: Option<String>,
    message: Option<&str>,
) -> Result<Response, WebError> {
    let tokens = app::api_tokens::list(&state.app, &user.caller).await?;
    Ok(page(
        user,
        Whose::Mine,
        tokens,
        input,
        errors,
        created,
        message,
    ))
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<MessageQuery>,
) -> Result<Response, WebError> {
    let input = fresh_input();
    let errors = FieldErrors::default();
    mine(
        &state,
        &user,
        &input,
        &errors,
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
    let input = form.input();
    let errors = FieldErrors::default();
    match app::api_tokens::create(&state.app, &user.caller, &input.token).await {
        Ok(created) => {
            mine(
                &state,
                &user,
                &fresh_input(),
                &errors,
                Some(created.token),
                None,
            )
            .await
        }
        Err(app::AppError::Invalid(errors)) => {
            mine(&state, &user, &input, &errors, None, None).await
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

async fn partners(
    state: &AppState,
    user: &CurrentUser,
    slug: &str,
    input: &OrganisationTokenInput,
    errors: &FieldErrors,
    created: Option<String>,
    message: Option<&str>,
) -> Result<Response, WebError> {
    let listed = app::api_tokens::organisation_tokens(&state.app, &user.caller, slug).await?;
    let name = user.caller.territory(slug)?.name.clone();
    let choices = listed
        .partners
        .iter()
        .map(|o| (o.id.0.to_string(), o.name.clone()))
        .collect();
    let whose = Whose::Partners(slug, &name, choices);
    Ok(page(
        user,
        whose,
        listed.tokens,
        input,
        errors,
        created,
        message,
    ))
}

pub async fn show_organisations(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Query(query): Query<MessageQuery>,
) -> Result<Response, WebError> {
    let input = fresh_input();
    let errors = FieldErrors::default();
    partners(
        &state,
        &user,
        &slug,
        &input,
        &errors,
        None,
        query.message.as_deref(),
    )
    .await
}

pub async fn create_for_organisation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, WebError> {
    let input = form.input();
    let none = FieldErrors::default();
    match app::api_tokens::create_for_organisation(&state.app, &user.caller, &slug, &input).await {
        Ok(created) => {
            partners(
                &state,
                &user,
                &slug,
                &fresh_input(),
                &none,
                Some(created.token),
                None,
            )
            .await
        }
        Err(app::AppError::Invalid(errors)) => {
            partners(&state, &user, &slug, &input, &errors, None, None).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke_organisation_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm<crate::auth::EmptyForm>,
) -> Result<Response, WebError> {
    app::api_tokens::revoke_organisation_token(&state.app, &user.caller, &slug, id).await?;
    let back = format!("/territoires/{slug}/jetons");
    Ok(flash::redirect(&back, Message::Revoked).into_response())
}
