//! Is a point or an address in a QPV? One at a time, or a batch of up to 1 000.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::AnyOfBuilder;
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use app::qpv::{AddressAnswer, PointAnswer};
use domain::Millesime;
use domain::api::ApiScope;

use super::{ApiError, ApiUser, api_error, bad_json, from_app, invalid_field};
use crate::AppState;

pub const MAX_BATCH: usize = 1000;

fn millesime_schema() -> utoipa::openapi::Object {
    app::schema::codes(
        Millesime::ALL.iter().map(|m| m.year().to_string()),
        "La carte des QPV : 2024 (par défaut) ou 2015",
    )
}

fn optional_millesime_schema() -> utoipa::openapi::Object {
    app::schema::optional_codes(
        Millesime::ALL.iter().map(|m| m.year().to_string()),
        "La carte des QPV : 2024 (par défaut, ou null) ou 2015",
    )
}

/// The map asked for (2024 when absent), or the JSON error to answer.
fn millesime(text: Option<&str>) -> Result<Millesime, Box<Response>> {
    match text {
        None => Ok(Millesime::CURRENT),
        Some(t) => Millesime::parse(t).map_err(|e| Box::new(invalid_field("millesime", &e.0))),
    }
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct LookupQuery {
    /// Longitude WGS 84, en degrés décimaux (avec `lat`).
    lon: Option<f64>,
    /// Latitude WGS 84, en degrés décimaux (avec `lon`).
    lat: Option<f64>,
    /// Une adresse postale, au lieu de `lon` et `lat`.
    adresse: Option<String>,
    #[param(schema_with = millesime_schema)]
    millesime: Option<String>,
}

// The answer about a point, or about an address (which adds where it was found).
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum Answer {
    Address(AddressAnswer),
    Point(PointAnswer),
}

// By hand: derived, an untagged enum is a `oneOf`, which an address answer would fail — it
// matches both (an address answer is a point answer with more fields).
impl utoipa::PartialSchema for Answer {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(AddressAnswer::name()))
            .item(Ref::from_schema_name(PointAnswer::name()))
            .description(Some(
                "La réponse sur une adresse (où elle a été trouvée, puis le QPV) ou sur un point.",
            ))
            .into()
    }
}

impl ToSchema for Answer {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((AddressAnswer::name().into(), AddressAnswer::schema()));
        <AddressAnswer as ToSchema>::schemas(schemas);
        schemas.push((PointAnswer::name().into(), PointAnswer::schema()));
        <PointAnswer as ToSchema>::schemas(schemas);
    }
}

/// Un point, ou une adresse, est-il dans un quartier prioritaire ?
#[utoipa::path(
    get,
    path = "/api/v1/qpv/lookup",
    tag = "qpv",
    operation_id = "verifier_qpv",
    params(LookupQuery),
    security(("jeton" = ["qpv"]), ("session" = [])),
    responses(
        (status = 200, description = "La réponse : le QPV qui contient le point, ou le plus proche", body = Answer),
        (status = 401, description = "Non authentifié, ou jeton inconnu, expiré ou révoqué", body = ApiError),
        (status = 403, description = "Portée « qpv » manquante", body = ApiError),
        (status = 422, description = "Saisie invalide : soit lon et lat, soit adresse", body = ApiError),
        (status = 429, description = "Trop de requêtes avec ce jeton (voir Retry-After)", body = ApiError),
        (status = 503, description = "Géocodeur injoignable", body = ApiError),
    ),
)]
pub(super) async fn lookup(
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
            BTreeMap::new(),
        );
    };
    let millesime = match millesime(q.millesime.as_deref()) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    // An empty `adresse=` beside a point is no address.
    let address = q.adresse.filter(|a| !a.trim().is_empty());
    match answer(&state, q.lon, q.lat, address, millesime).await {
        Ok(a) => Json(a).into_response(),
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
) -> Result<Answer, app::AppError> {
    match (lon, lat, address) {
        (Some(lon), Some(lat), None) => {
            app::qpv::lookup_point(&state.app, lon, lat, millesime).map(Answer::Point)
        }
        (None, None, Some(address)) => app::qpv::lookup_address(&state.app, &address, millesime)
            .await
            .map(Answer::Address),
        _ => Err(app::AppError::field(
            "element",
            "Donnez soit lon et lat, soit adresse.",
        )),
    }
}

/// Un élément du lot : un point (lon, lat) ou une adresse, avec votre identifiant.
#[derive(Deserialize, ToSchema)]
pub(super) struct BatchItem {
    /// Votre identifiant, rendu avec la réponse (par défaut le rang de l'élément, à partir de 0).
    #[serde(default)]
    id: Option<Value>,
    lon: Option<f64>,
    lat: Option<f64>,
    adresse: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct BatchRequest {
    #[serde(default)]
    #[schema(schema_with = optional_millesime_schema)]
    millesime: Option<String>,
    #[schema(max_items = 1000)]
    elements: Vec<BatchItem>,
}

/// La réponse à un élément : la réponse, ou le refus et sa raison.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub(super) enum BatchAnswer {
    Answered {
        /// L'`id` de l'élément, ou son rang.
        id: Value,
        #[serde(flatten)]
        answer: Answer,
    },
    Refused {
        id: Value,
        /// `saisie_invalide`.
        erreur: String,
        message: String,
    },
}

#[derive(Serialize, ToSchema)]
pub(super) struct BatchAnswers {
    millesime: i32,
    /// Une par élément, dans l'ordre.
    resultats: Vec<BatchAnswer>,
}

/// Vérifie un lot de points et d'adresses (1 000 au plus) : une réponse par élément, dans
/// l'ordre ; un élément invalide reçoit sa propre erreur, les autres sont traités.
#[utoipa::path(
    post,
    path = "/api/v1/qpv/lookup",
    tag = "qpv",
    operation_id = "verifier_qpv_lot",
    request_body = BatchRequest,
    security(("jeton" = ["qpv"]), ("session" = [])),
    responses(
        (status = 200, description = "Une réponse par élément, dans l'ordre", body = BatchAnswers),
        (status = 400, description = "JSON invalide", body = ApiError),
        (status = 401, description = "Non authentifié, ou jeton inconnu, expiré ou révoqué", body = ApiError),
        (status = 403, description = "Portée « qpv » manquante", body = ApiError),
        (status = 413, description = "Lot trop grand", body = ApiError),
        (status = 422, description = "Millésime invalide", body = ApiError),
        (status = 429, description = "Trop de requêtes avec ce jeton (voir Retry-After)", body = ApiError),
        (status = 503, description = "Géocodeur injoignable", body = ApiError),
    ),
)]
pub(super) async fn lookup_batch(
    State(state): State<AppState>,
    user: ApiUser,
    body: Result<Json<BatchRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Err(r) = user.require(ApiScope::Qpv) {
        return *r;
    }
    let Json(request) = match body {
        Ok(b) => b,
        Err(e) => return bad_json(&e),
    };
    if request.elements.len() > MAX_BATCH {
        return api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "lot_trop_grand",
            &format!(
                "{MAX_BATCH} éléments au plus par requête ; utilisez la vérification en masse pour un fichier."
            ),
            BTreeMap::new(),
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
                .map(Answer::Address),
            (lon, lat, address) => answer(&state, lon, lat, address, millesime).await,
        };
        let id = item.id.unwrap_or(Value::from(i));
        results.push(match result {
            Ok(answer) => BatchAnswer::Answered { id, answer },
            Err(app::AppError::Invalid(errors)) => BatchAnswer::Refused {
                id,
                erreur: "saisie_invalide".into(),
                message: errors
                    .iter()
                    .map(|(_, m)| m.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            },
            Err(e) => return from_app(e),
        });
    }
    Json(BatchAnswers {
        millesime: millesime.year(),
        resultats: results,
    })
    .into_response()
}
