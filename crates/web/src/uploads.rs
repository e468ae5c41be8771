//! Turns for heavy uploads: a file is read and parsed only while holding one of the
//! application's upload permits (`Settings::concurrent_uploads`), taken before the body is
//! read. Past `upload_wait`, the user is asked to come back; the server keeps answering the
//! other pages meanwhile.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

pub async fn one_turn_each(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let wait = state.app.settings.upload_wait;
    let turn = tokio::time::timeout(wait, state.app.uploads.clone().acquire_owned()).await;
    match turn {
        Ok(Ok(permit)) => {
            let response = next.run(request).await;
            drop(permit);
            response
        }
        _ => {
            tracing::warn!("upload refused: every turn is taken");
            let mut response = crate::error::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Trop de fichiers en cours de traitement",
                "Plusieurs fichiers volumineux sont déjà en cours de traitement. Réessayez dans une minute : rien n'a été enregistré.",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            response
        }
    }
}
