//! Static assets: the runtime subset of the État design system (npm `@gouvfr/dsfr`, Licence
//! Ouverte 2.0, installed by `npm ci`) and Passerelle's own stylesheet. Embedded in release
//! builds; read from disk in debug builds.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../node_modules/@gouvfr/dsfr/dist/"]
#[include = "dsfr.min.css"]
#[include = "utility/utility.min.css"]
#[include = "dsfr.module.min.js"]
#[include = "dsfr.nomodule.min.js"]
#[include = "fonts/*"]
#[include = "icons/**/*"]
#[include = "favicon/*"]
struct Dsfr;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Own;

/// The DSFR version is part of its URLs, so browsers may cache them for good.
pub const DSFR_PREFIX: &str = "dsfr-1.15.3";

pub async fn serve(Path(path): Path<String>) -> Response {
    let (file, immutable) = match path.split_once('/') {
        Some((prefix, rest)) if prefix == DSFR_PREFIX => (Dsfr::get(rest), true),
        Some(("app", rest)) => (Own::get(rest), false),
        _ => (None, false),
    };
    let Some(file) = file else {
        return (StatusCode::NOT_FOUND, "fichier introuvable").into_response();
    };
    let mime = file.metadata.mimetype().to_string();
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let mut response = file.data.into_owned().into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
