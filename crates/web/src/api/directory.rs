//! The directory of relays, as the data·inclusion export of the directory page.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use domain::api::ApiScope;

use super::{ApiError, ApiUser, from_app};
use crate::AppState;

/// L'annuaire d'un territoire au schéma data·inclusion (structures et services, chacun tel que
/// le schéma le décrit).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // Documents the body the export writes.
struct DirectoryFile {
    /// Les structures (schéma data·inclusion `Structure`).
    structures: Vec<serde_json::Value>,
    /// Les services (schéma data·inclusion `Service`).
    services: Vec<serde_json::Value>,
}

/// L'annuaire des relais d'un territoire, au format data·inclusion.
#[utoipa::path(
    get,
    path = "/api/v1/territoires/{slug}/annuaire",
    tag = "annuaire",
    operation_id = "lire_annuaire",
    params(("slug" = String, Path, description = "Identifiant du territoire (celui de son adresse dans l'interface)")),
    security(("jeton" = ["annuaire"]), ("session" = [])),
    responses(
        (status = 200, description = "Structures et services", body = DirectoryFile),
        (status = 401, description = "Non authentifié, ou jeton inconnu, expiré ou révoqué", body = ApiError),
        (status = 403, description = "Portée « annuaire » manquante", body = ApiError),
        (status = 404, description = "Territoire inconnu ou hors de vos droits", body = ApiError),
        (status = 429, description = "Trop de requêtes avec ce jeton (voir Retry-After)", body = ApiError),
    ),
)]
pub(super) async fn directory(
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
