//! The indicators through the API: the same figures, the same periods and the same masking as
//! the page (docs/domain.md §5), for whoever may read them there.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use app::indicators::{IndicatorInput, IndicatorsDocument};
use domain::api::ApiScope;

use super::{ApiError, ApiUser, api_error, from_app};
use crate::AppState;

#[derive(Deserialize, Default, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct IndicatorQuery {
    /// Le territoire (son identifiant), `mes-territoires`, ou `france` ; par défaut celui où vous
    /// travaillez.
    perimetre: Option<String>,
    /// Premier jour (AAAA-MM-JJ ou JJ/MM/AAAA) ; par défaut le 1er janvier. Pour les lecteurs de
    /// chiffres agrégés (pilotes, national), le premier jour d'un mois.
    du: Option<String>,
    /// Dernier jour ; par défaut aujourd'hui, ou la fin du dernier mois écoulé pour les lecteurs
    /// de chiffres agrégés.
    au: Option<String>,
}

/// Les indicateurs d'un territoire, de vos territoires côte à côte ou de la France entière sur
/// une période : tout effectif de 1 à 4 personnes masqué (null, `masque`), comme à l'écran.
#[utoipa::path(
    get,
    path = "/api/v1/indicateurs",
    tag = "indicateurs",
    operation_id = "lire_indicateurs",
    params(IndicatorQuery),
    security(("jeton" = ["indicateurs"]), ("session" = [])),
    responses(
        (status = 200, description = "Les tableaux publiés", body = IndicatorsDocument),
        (status = 401, description = "Non authentifié, ou jeton inconnu, expiré ou révoqué", body = ApiError),
        (status = 403, description = "Portée « indicateurs » manquante, ou périmètre hors de vos droits", body = ApiError),
        (status = 404, description = "Territoire inconnu", body = ApiError),
        (status = 422, description = "Période invalide", body = ApiError),
        (status = 429, description = "Trop de requêtes avec ce jeton (voir Retry-After)", body = ApiError),
    ),
)]
pub(super) async fn indicators(
    State(state): State<AppState>,
    user: ApiUser,
    query: Result<Query<IndicatorQuery>, QueryRejection>,
) -> Response {
    let caller = match user.require(ApiScope::Indicators) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Ok(Query(q)) = query else {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "saisie_invalide",
            "Paramètres invalides : perimetre, du et au sont des textes.",
            Default::default(),
        );
    };
    let input = IndicatorInput {
        du: q.du.unwrap_or_default(),
        au: q.au.unwrap_or_default(),
        perimetre: q.perimetre.unwrap_or_default(),
    };
    match app::indicators::indicators(&state.app, caller, &input).await {
        Ok(figures) => Json(figures.document()).into_response(),
        Err(e) => from_app(e),
    }
}
