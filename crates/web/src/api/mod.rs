//! The JSON API under `/api/v1`: for a bearer token (within its scopes) or the interface's
//! session. Errors are JSON with a stable snake_case `erreur` code, a French `message` and the
//! fields in error. The router is built from the documented handlers (`utoipa_axum`), so the
//! OpenAPI document served at `/api/v1/openapi.json` describes exactly the routes that exist,
//! with the types they answer with (docs/api.md).
//!
//! The doc comments of the handlers and of the types they read and answer with are published
//! as the document's descriptions: like any text a user reads, they are in French.
//!
//! Writes take JSON bodies only: a cross-site form cannot send `application/json` without a
//! CORS preflight, which nothing here answers, and the session cookie is `SameSite=Lax` — so a
//! session-authenticated write needs no CSRF token.

mod directory;
mod indicators;
mod orientations;
mod qpv;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use app::api_tokens::TokenError;
use domain::api::ApiScope;

use crate::AppState;
use crate::session::MaybeUser;

/// Une erreur : ce que porte toute réponse qui n'est pas un succès.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiError {
    /// Un code stable : `saisie_invalide`, `json_invalide`, `introuvable`, `interdit`,
    /// `non_authentifie`, `jeton_invalide`, `portee_manquante`, `trop_de_requetes`,
    /// `lot_trop_grand`, `conflit`, `service_indisponible`, `erreur_interne`…
    erreur: String,
    /// Ce qui s'est passé, en français.
    message: String,
    /// Pour `saisie_invalide` : le message de chaque champ en erreur, par nom de champ.
    champs: BTreeMap<String, String>,
}

pub(crate) fn api_error(
    status: StatusCode,
    code: &str,
    message: &str,
    fields: BTreeMap<String, String>,
) -> Response {
    let body = ApiError {
        erreur: code.to_string(),
        message: message.to_string(),
        champs: fields,
    };
    (status, Json(body)).into_response()
}

/// A 422 naming one field.
pub(crate) fn invalid_field(field: &str, message: &str) -> Response {
    api_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "saisie_invalide",
        "La requête contient des valeurs invalides.",
        BTreeMap::from([(field.to_string(), message.to_string())]),
    )
}

/// A body that is not the JSON asked for (400, with serde's account of where).
pub(crate) fn bad_json(e: &axum::extract::rejection::JsonRejection) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "json_invalide",
        &format!("Corps JSON invalide : {}", e.body_text()),
        BTreeMap::new(),
    )
}

pub(crate) fn from_app(e: app::AppError) -> Response {
    from_app_named(e, &[])
}

/// [`from_app`], the use case's field names (`reason`…) given as the API names them (`motif`…).
pub(crate) fn from_app_named(e: app::AppError, names: &[(&str, &str)]) -> Response {
    use app::AppError;
    match e {
        AppError::Invalid(errors) => {
            let fields = errors
                .iter()
                .map(|(f, m)| {
                    let name = names
                        .iter()
                        .find(|(app, _)| *app == f)
                        .map_or(f, |(_, api)| *api);
                    (name.to_string(), m.to_string())
                })
                .collect();
            api_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "saisie_invalide",
                "La requête contient des valeurs invalides.",
                fields,
            )
        }
        AppError::NotFound => api_error(
            StatusCode::NOT_FOUND,
            "introuvable",
            "Ressource introuvable.",
            BTreeMap::new(),
        ),
        AppError::Forbidden => api_error(
            StatusCode::FORBIDDEN,
            "interdit",
            "Vous n'avez pas les droits nécessaires.",
            BTreeMap::new(),
        ),
        AppError::Conflict(message) => {
            api_error(StatusCode::CONFLICT, "conflit", &message, BTreeMap::new())
        }
        AppError::Unavailable(message) => api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_indisponible",
            &message,
            BTreeMap::new(),
        ),
        e @ (AppError::Store(_) | AppError::Internal(_)) => {
            tracing::error!(error = %e, "API request failed");
            api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "erreur_interne",
                "Erreur interne ; réessayez plus tard.",
                BTreeMap::new(),
            )
        }
    }
}

/// A caller of the API: a bearer token (`Authorization: Bearer passerelle_…`), which acts as
/// its owner within its scopes, or the interface's session, which has every scope of its
/// account. Anything else is a JSON 401; a token past its rate, a 429 with `Retry-After`.
pub struct ApiUser {
    caller: app::Caller,
    /// `None` for a session.
    scopes: Option<Vec<ApiScope>>,
}

impl ApiUser {
    /// The caller, if its token has this scope (else the JSON 403 to answer).
    pub fn require(&self, scope: ApiScope) -> Result<&app::Caller, Box<Response>> {
        match &self.scopes {
            Some(scopes) if !scopes.contains(&scope) => Err(Box::new(api_error(
                StatusCode::FORBIDDEN,
                "portee_manquante",
                &format!(
                    "Ce jeton n'a pas la portée « {} » ({}).",
                    scope.as_str(),
                    scope.label()
                ),
                BTreeMap::new(),
            ))),
            _ => Ok(&self.caller),
        }
    }
}

fn bearer(parts: &Parts) -> Option<Result<String, ()>> {
    let value = parts.headers.get(header::AUTHORIZATION)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string())
            .ok_or(()),
    )
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let unknown = || {
            api_error(
                StatusCode::UNAUTHORIZED,
                "jeton_invalide",
                &app::api_tokens::TokenError::Unknown.to_string(),
                BTreeMap::new(),
            )
        };
        match bearer(parts) {
            Some(Err(())) => Err(unknown()),
            Some(Ok(token)) => match app::api_tokens::authenticate(&state.app, &token).await {
                Ok(t) => {
                    let mut caller = t.caller;
                    caller.client_ip = Some(crate::session::client_ip(parts, state));
                    Ok(ApiUser {
                        caller,
                        scopes: Some(t.scopes),
                    })
                }
                Err(TokenError::Unknown) => Err(unknown()),
                Err(e @ TokenError::RateLimited { retry_after, .. }) => {
                    let mut response = api_error(
                        StatusCode::TOO_MANY_REQUESTS,
                        "trop_de_requetes",
                        &e.to_string(),
                        BTreeMap::new(),
                    );
                    if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
                        response.headers_mut().insert(header::RETRY_AFTER, value);
                    }
                    Err(response)
                }
                Err(TokenError::Internal(e)) => Err(from_app(e)),
            },
            None => match MaybeUser::from_request_parts(parts, state).await?.caller {
                Some(caller) => Ok(ApiUser {
                    caller,
                    scopes: None,
                }),
                None => Err(api_error(
                    StatusCode::UNAUTHORIZED,
                    "non_authentifie",
                    "Connectez-vous, ou présentez un jeton d'API (en-tête Authorization: Bearer …).",
                    BTreeMap::new(),
                )),
            },
        }
    }
}

/// The common part of the document: what the API is, how to authenticate.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "API Passerelle",
        version = "1",
        description = "Vérification d'éligibilité QPV, annuaire des relais, orientations et indicateurs d'un territoire. Authentification : un jeton d'API (page « Jetons d'API » du compte ; en-tête Authorization: Bearer …), limité à ses portées et à un nombre de requêtes par minute, qui agit avec les droits de son titulaire — ou un jeton de structure, donné par la coordination d'un territoire à une structure partenaire, limité à ce territoire et aux portées `qpv` et `annuaire` ; ou la session de l'interface (cookie). Chaque lecture d'une personne est tracée dans le journal d'accès de sa fiche, comme à l'écran. Les erreurs sont en JSON : un code stable `erreur`, un `message` en français et, pour une saisie invalide, le message de chaque champ dans `champs`.",
        license(name = "EUPL-1.2"),
    ),
    modifiers(&Security),
    components(schemas(ApiError)),
    tags(
        (name = "qpv", description = "Une adresse ou un point est-il dans un quartier prioritaire ?"),
        (name = "annuaire", description = "L'annuaire des relais d'un territoire (format data·inclusion)"),
        (name = "orientations", description = "Orientations reçues et envoyées : les lire, en envoyer, y donner suite"),
        (name = "indicateurs", description = "Les indicateurs d'un territoire ou de la France, masqués comme à l'écran"),
        (name = "documentation", description = "Ce document"),
    )
)]
struct ApiDoc;

/// The two ways to authenticate, named in each operation's `security`.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scopes = ApiScope::ALL
            .iter()
            .map(|s| format!("{} ({})", s.as_str(), s.label()))
            .collect::<Vec<_>>()
            .join(" ; ");
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "jeton",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(format!(
                        "Jeton d'API personnel (passerelle_…), avec ses portées : {scopes}."
                    )))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "passerelle_session",
                "La session de l'interface, après connexion.",
            ))),
        );
    }
}

/// The document, as served.
#[derive(Clone)]
struct Document(Arc<String>);

/// Le document OpenAPI 3.1 de l'API.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "documentation",
    operation_id = "document_openapi",
    security(()),
    responses((status = 200, description = "Le document OpenAPI 3.1 de l'API", content_type = "application/json")),
)]
async fn openapi(Extension(Document(text)): Extension<Document>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        text.as_str().to_owned(),
    )
        .into_response()
}

/// The API's routes and their document, from the same list.
fn documented() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(qpv::lookup, qpv::lookup_batch))
        .routes(routes!(directory::directory))
        .routes(routes!(orientations::list))
        .routes(routes!(orientations::show))
        .routes(routes!(orientations::decide))
        .routes(routes!(orientations::send))
        .routes(routes!(indicators::indicators))
        .routes(routes!(openapi))
        .split_for_parts()
}

/// The OpenAPI document as JSON (for `passerelle openapi` and the tests).
pub fn document() -> String {
    documented().1.to_pretty_json().unwrap_or_default()
}

/// The routes of `/api/v1`.
pub(crate) fn routes() -> axum::Router<AppState> {
    let (router, doc) = documented();
    let text = doc.to_pretty_json().unwrap_or_default();
    router.layer(Extension(Document(Arc::new(text))))
}
