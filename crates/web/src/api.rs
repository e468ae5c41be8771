//! The JSON API under `/api/v1`, for the same logged-in users as the pages (session cookie).
//! Errors are JSON with a stable snake_case `erreur` code and a French `message`.

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use app::api_tokens::TokenError;
use domain::Millesime;
use domain::api::ApiScope;

use crate::AppState;
use crate::session::MaybeUser;

pub(crate) fn api_error(status: StatusCode, code: &str, message: &str, fields: Value) -> Response {
    (
        status,
        Json(json!({ "erreur": code, "message": message, "champs": fields })),
    )
        .into_response()
}

fn from_app(e: app::AppError) -> Response {
    use app::AppError;
    match e {
        AppError::Invalid(errors) => {
            let fields: serde_json::Map<String, Value> = errors
                .iter()
                .map(|(f, m)| (f.to_string(), Value::from(m)))
                .collect();
            api_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "saisie_invalide",
                "La requête contient des valeurs invalides.",
                Value::Object(fields),
            )
        }
        AppError::NotFound => api_error(
            StatusCode::NOT_FOUND,
            "introuvable",
            "Ressource introuvable.",
            json!({}),
        ),
        AppError::Forbidden => api_error(
            StatusCode::FORBIDDEN,
            "interdit",
            "Vous n'avez pas les droits nécessaires.",
            json!({}),
        ),
        AppError::Unavailable(message) => api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_indisponible",
            &message,
            json!({}),
        ),
        e @ (AppError::Store(_) | AppError::Internal(_)) => {
            tracing::error!(error = %e, "API request failed");
            api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "erreur_interne",
                "Erreur interne ; réessayez plus tard.",
                json!({}),
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
                json!({}),
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
                json!({}),
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
                        json!({}),
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
                    json!({}),
                )),
            },
        }
    }
}

/// `GET /api/v1/territoires/{slug}/annuaire`: the territory's directory in the data·inclusion
/// format (structures and services), as the export of the directory page.
pub async fn directory(
    State(state): State<AppState>,
    user: ApiUser,
    Path(slug): Path<String>,
) -> Response {
    let caller = match user.require(ApiScope::Directory) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    match app::directory_file::export_as(&state.app, caller, &slug).await {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            bytes,
        )
            .into_response(),
        Err(e) => from_app(e),
    }
}

/// The map asked for (2024 when absent), or the JSON error to answer.
fn millesime(text: Option<&str>) -> Result<Millesime, Box<Response>> {
    match text {
        None => Ok(Millesime::CURRENT),
        Some(t) => Millesime::parse(t).map_err(|e| {
            Box::new(api_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "saisie_invalide",
                "La requête contient des valeurs invalides.",
                json!({ "millesime": e.0 }),
            ))
        }),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LookupQuery {
    lon: Option<f64>,
    lat: Option<f64>,
    adresse: Option<String>,
    millesime: Option<String>,
}

/// `GET /api/v1/qpv/lookup?lon=…&lat=…` or `?adresse=…` (optional `millesime`, default 2024).
pub async fn lookup(
    State(state): State<AppState>,
    user: ApiUser,
    query: Result<Query<LookupQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(r) = user.require(ApiScope::Qpv) {
        return *r;
    }
    let Ok(Query(q)) = query else {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "saisie_invalide",
            "lon et lat doivent être des nombres décimaux (point comme séparateur).",
            json!({}),
        );
    };
    let millesime = match millesime(q.millesime.as_deref()) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    match answer(&state, q.lon, q.lat, q.adresse, millesime).await {
        Ok(value) => Json(value).into_response(),
        Err(e) => from_app(e),
    }
}

/// Answers one request element: a point, or an address (not both, not neither).
async fn answer(
    state: &AppState,
    lon: Option<f64>,
    lat: Option<f64>,
    address: Option<String>,
    millesime: Millesime,
) -> Result<Value, app::AppError> {
    match (lon, lat, address) {
        (Some(lon), Some(lat), None) => {
            app::qpv::lookup_point(&state.app, lon, lat, millesime).map(|a| json!(a))
        }
        (None, None, Some(address)) => app::qpv::lookup_address(&state.app, &address, millesime)
            .await
            .map(|a| json!(a)),
        _ => Err(app::AppError::field(
            "element",
            "Donnez soit lon et lat, soit adresse.",
        )),
    }
}

pub const MAX_BATCH: usize = 1000;

#[derive(Deserialize)]
pub struct BatchItem {
    #[serde(default)]
    id: Option<Value>,
    lon: Option<f64>,
    lat: Option<f64>,
    adresse: Option<String>,
}

#[derive(Deserialize)]
pub struct BatchRequest {
    #[serde(default)]
    millesime: Option<String>,
    elements: Vec<BatchItem>,
}

/// `POST /api/v1/qpv/lookup` with `{"millesime": "2024", "elements": [{"id": …, "lon": …, "lat": …} | {"id": …, "adresse": …}]}`:
/// one answer per element, in order; a bad element gets its own error, the others are answered.
pub async fn lookup_batch(
    State(state): State<AppState>,
    user: ApiUser,
    body: Result<Json<BatchRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Err(r) = user.require(ApiScope::Qpv) {
        return *r;
    }
    let Json(request) = match body {
        Ok(b) => b,
        Err(e) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "json_invalide",
                &format!("Corps JSON invalide : {}", e.body_text()),
                json!({}),
            );
        }
    };
    if request.elements.len() > MAX_BATCH {
        return api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "lot_trop_grand",
            &format!(
                "{MAX_BATCH} éléments au plus par requête ; utilisez la vérification en masse pour un fichier."
            ),
            json!({}),
        );
    }
    let millesime = match millesime(request.millesime.as_deref()) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    // Every address of the batch is geocoded in one bulk request, then answered in order.
    let addresses: Vec<String> = request
        .elements
        .iter()
        .filter_map(|e| match (e.lon, e.lat, &e.adresse) {
            (None, None, Some(a)) => Some(a.clone()),
            _ => None,
        })
        .collect();
    let mut address_answers =
        match app::qpv::lookup_addresses(&state.app, &addresses, millesime).await {
            Ok(answers) => answers.into_iter(),
            Err(e) => return from_app(e),
        };
    let mut results = Vec::with_capacity(request.elements.len());
    for (i, item) in request.elements.into_iter().enumerate() {
        let result = match (item.lon, item.lat, item.adresse) {
            (None, None, Some(_)) => address_answers
                .next()
                .unwrap_or_else(|| Err(app::AppError::Internal("batch answers out of step".into())))
                .map(|a| json!(a)),
            (lon, lat, address) => answer(&state, lon, lat, address, millesime).await,
        };
        results.push(match result {
            Ok(Value::Object(mut fields)) => {
                fields.insert("id".into(), item.id.unwrap_or(Value::from(i)));
                Value::Object(fields)
            }
            Ok(other) => other,
            Err(app::AppError::Invalid(errors)) => json!({
                "id": item.id.unwrap_or(Value::from(i)),
                "erreur": "saisie_invalide",
                "message": errors.iter().map(|(_, m)| m.to_string()).collect::<Vec<_>>().join(" "),
            }),
            Err(e) => return from_app(e),
        });
    }
    Json(json!({ "millesime": millesime.year(), "resultats": results })).into_response()
}

/// The OpenAPI 3.1 description of `/api/v1`.
pub async fn openapi() -> Json<Value> {
    let answer = json!({
        "type": "object",
        "properties": {
            "code_qp": { "type": ["string", "null"], "description": "Code du QPV contenant le point (null hors QPV)" },
            "lib_qp": { "type": ["string", "null"] },
            "millesime": { "type": "integer", "enum": [2015, 2024] },
            "qpv_proche": { "type": ["string", "null"], "description": "Hors QPV : le QPV le plus proche" },
            "lib_qpv_proche": { "type": ["string", "null"] },
            "distance_m": { "type": ["number", "null"], "description": "Hors QPV : distance au QPV le plus proche, en mètres" },
            "label": { "type": ["string", "null"], "description": "Pour une adresse : l'adresse reconnue" },
            "lon": { "type": ["number", "null"] }, "lat": { "type": ["number", "null"] },
            "score": { "type": ["number", "null"] },
            "confidence": { "type": "string", "enum": ["sur", "probable", "indetermine"] }
        }
    });
    let error = json!({ "type": "object", "properties": { "erreur": { "type": "string" }, "message": { "type": "string" }, "champs": { "type": "object" } } });
    Json(json!({
        "openapi": "3.1.0",
        "info": { "title": "API Passerelle", "version": "1", "description": "Vérification d'éligibilité QPV et annuaire des relais. Authentification : un jeton d'API (page « Jetons d'API » du compte ; en-tête Authorization: Bearer …), limité à ses portées et à un nombre de requêtes par minute, ou la session de l'interface (cookie)." },
        "components": { "securitySchemes": {
            "jeton": { "type": "http", "scheme": "bearer", "description": "Jeton d'API personnel (passerelle_…), avec ses portées : qpv, annuaire." },
            "session": { "type": "apiKey", "in": "cookie", "name": "passerelle_session" }
        } },
        "security": [ { "jeton": [] }, { "session": [] } ],
        "paths": {
            "/api/v1/territoires/{slug}/annuaire": {
                "get": {
                    "summary": "L'annuaire des relais d'un territoire, au format data·inclusion (portée « annuaire »)",
                    "parameters": [ { "name": "slug", "in": "path", "required": true, "schema": { "type": "string" }, "description": "Identifiant du territoire" } ],
                    "responses": {
                        "200": { "description": "Structures et services", "content": { "application/json": { "schema": { "type": "object", "properties": { "structures": { "type": "array" }, "services": { "type": "array" } } } } } },
                        "401": { "description": "Non authentifié, ou jeton inconnu, expiré ou révoqué", "content": { "application/json": { "schema": error } } },
                        "403": { "description": "Portée manquante", "content": { "application/json": { "schema": error } } },
                        "404": { "description": "Territoire inconnu ou hors de vos droits", "content": { "application/json": { "schema": error } } },
                        "429": { "description": "Trop de requêtes avec ce jeton (voir Retry-After)", "content": { "application/json": { "schema": error } } }
                    }
                }
            },
            "/api/v1/qpv/lookup": {
                "get": {
                    "summary": "Un point ou une adresse est-il en QPV ?",
                    "parameters": [
                        { "name": "lon", "in": "query", "schema": { "type": "number" }, "description": "Longitude WGS 84" },
                        { "name": "lat", "in": "query", "schema": { "type": "number" }, "description": "Latitude WGS 84" },
                        { "name": "adresse", "in": "query", "schema": { "type": "string" }, "description": "Adresse postale (au lieu de lon et lat)" },
                        { "name": "millesime", "in": "query", "schema": { "type": "string", "enum": ["2015", "2024"], "default": "2024" } }
                    ],
                    "responses": {
                        "200": { "description": "Réponse", "content": { "application/json": { "schema": answer } } },
                        "401": { "description": "Non authentifié, ou jeton inconnu, expiré ou révoqué", "content": { "application/json": { "schema": error } } },
                        "403": { "description": "Portée « qpv » manquante", "content": { "application/json": { "schema": error } } },
                        "422": { "description": "Saisie invalide", "content": { "application/json": { "schema": error } } },
                        "429": { "description": "Trop de requêtes avec ce jeton (voir Retry-After)", "content": { "application/json": { "schema": error } } },
                        "503": { "description": "Géocodeur injoignable", "content": { "application/json": { "schema": error } } }
                    }
                },
                "post": {
                    "summary": "Vérification d'un lot (1000 éléments au plus)",
                    "requestBody": { "content": { "application/json": { "schema": {
                        "type": "object", "required": ["elements"],
                        "properties": {
                            "millesime": { "type": "string", "enum": ["2015", "2024"] },
                            "elements": { "type": "array", "maxItems": MAX_BATCH, "items": { "type": "object", "properties": {
                                "id": {}, "lon": { "type": "number" }, "lat": { "type": "number" }, "adresse": { "type": "string" } } } }
                        } } } } },
                    "responses": {
                        "200": { "description": "Une réponse par élément, dans l'ordre" },
                        "400": { "description": "JSON invalide", "content": { "application/json": { "schema": error } } },
                        "413": { "description": "Lot trop grand", "content": { "application/json": { "schema": error } } }
                    }
                }
            }
        }
    }))
}
