//! How failures reach the user: a French page with the right status; internal causes are
//! logged with the request, never shown. [`french_errors`] also catches what the framework
//! answers by itself (a bad path id or query value, a body past its limit, a timeout), whose
//! text is English plain text, and turns it into the same French page — or, under `/api/`,
//! into the API's JSON error.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::layout::Layout;

#[derive(Debug)]
pub enum WebError {
    App(app::AppError),
    /// The form's CSRF token is missing or wrong.
    Csrf,
    BadRequest(String),
    /// A body past its size limit.
    TooLarge,
}

impl From<app::AppError> for WebError {
    fn from(e: app::AppError) -> Self {
        WebError::App(e)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: String,
    message: String,
    status: u16,
    /// The request id of a 500, so that a user can quote it.
    reference: Option<String>,
}

pub fn error_page(status: StatusCode, heading: &str, message: &str) -> Response {
    let page = ErrorPage {
        layout: Layout::anonymous(heading),
        heading: heading.to_string(),
        message: message.to_string(),
        status: status.as_u16(),
        reference: None,
    };
    (status, page).into_response()
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        use app::AppError;
        match self {
            WebError::App(AppError::NotFound) => not_found_page(),
            WebError::App(AppError::Forbidden) => error_page(
                StatusCode::FORBIDDEN,
                "Accès refusé",
                "Vous n'avez pas les droits nécessaires pour cette action. Si vous pensez qu'il s'agit d'une erreur, contactez la coordination de votre territoire.",
            ),
            WebError::App(AppError::Invalid(errors)) => {
                let message = errors
                    .iter()
                    .map(|(_, m)| m.to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
                error_page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Saisie incorrecte",
                    &message,
                )
            }
            WebError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "Formulaire expiré",
                "Ce formulaire a expiré ou ne provient pas de Passerelle. Revenez à la page précédente, rechargez-la, puis envoyez de nouveau le formulaire.",
            ),
            WebError::BadRequest(message) => {
                error_page(StatusCode::BAD_REQUEST, "Requête incorrecte", &message)
            }
            WebError::TooLarge => page_for(StatusCode::PAYLOAD_TOO_LARGE),
            WebError::App(AppError::Conflict(message)) => {
                error_page(StatusCode::CONFLICT, "Modifié entre-temps", &message)
            }
            WebError::App(AppError::Unavailable(message)) => {
                tracing::warn!(%message, "outside service unavailable");
                error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service momentanément indisponible",
                    &format!("{message}. Réessayez dans quelques instants."),
                )
            }
            WebError::App(e @ (AppError::Store(_) | AppError::Internal(_))) => {
                tracing::error!(error = %e, error_debug = ?e, "request failed");
                internal_error_page()
            }
        }
    }
}

pub(crate) fn not_found_page() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Page introuvable",
        "La page que vous cherchez n'existe pas ou vous n'y avez pas accès. Vérifiez l'adresse, ou revenez à l'accueil.",
    )
}

const INTERNAL: &str = "Une erreur est survenue de notre côté. Votre saisie n'a pas été enregistrée. Réessayez dans quelques instants ; si le problème persiste, contactez l'administration de Passerelle.";

fn internal_error_page() -> Response {
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Erreur inattendue",
        INTERNAL,
    )
}

/// Heading, message and API code for a status the framework may answer by itself.
fn wording(status: StatusCode) -> (&'static str, &'static str, &'static str) {
    match status.as_u16() {
        400 => (
            "Requête incorrecte",
            "L'adresse de la page ou l'un de ses paramètres est incorrect. Vérifiez le lien, ou revenez à l'accueil.",
            "requete_incorrecte",
        ),
        404 => (
            "Page introuvable",
            "La page que vous cherchez n'existe pas ou vous n'y avez pas accès. Vérifiez l'adresse, ou revenez à l'accueil.",
            "introuvable",
        ),
        405 => (
            "Action non prévue",
            "Cette page ne permet pas cette action. Revenez à la page précédente et utilisez ses boutons.",
            "methode_non_autorisee",
        ),
        413 => (
            "Envoi trop volumineux",
            "Ce que vous avez envoyé dépasse la taille acceptée : 32 Mo pour un fichier, 2 Mo pour un formulaire. Découpez le fichier, puis envoyez chaque partie.",
            "trop_volumineux",
        ),
        415 => (
            "Format non pris en charge",
            "Le contenu envoyé n'est pas dans un format que cette page accepte.",
            "format_non_pris_en_charge",
        ),
        422 => (
            "Formulaire incomplet",
            "Le formulaire envoyé est incomplet ou mal rempli. Revenez à la page précédente, rechargez-la, puis envoyez-le de nouveau.",
            "formulaire_incomplet",
        ),
        429 => (
            "Trop de demandes",
            "Vous avez fait trop de demandes en peu de temps. Attendez quelques minutes avant de réessayer.",
            "trop_de_demandes",
        ),
        503 | 504 | 408 => (
            "Service momentanément indisponible",
            "Le service n'a pas pu répondre à temps. Réessayez dans quelques instants.",
            "indisponible",
        ),
        500..=599 => ("Erreur inattendue", INTERNAL, "erreur_interne"),
        _ => (
            "Requête refusée",
            "Cette demande ne peut pas être traitée. Revenez à la page précédente, ou à l'accueil.",
            "requete_refusee",
        ),
    }
}

fn page_for(status: StatusCode) -> Response {
    let (heading, message, _) = wording(status);
    error_page(status, heading, message)
}

/// Replaces the framework's English plain-text errors (and every 500, to add its request id)
/// with the site's French page, or the API's JSON error under `/api/`. Headers set on the way
/// (security headers, cookies) are kept; the body and its content headers are not.
pub async fn french_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path().to_string();
    let reference = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || path == "/healthz" {
        return response;
    }
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let framework = content_type.is_empty() || content_type.starts_with("text/plain");
    let internal_page =
        status == StatusCode::INTERNAL_SERVER_ERROR && content_type.starts_with("text/html");
    if !framework && !internal_page {
        return response;
    }
    let (heading, message, code) = wording(status);
    let mut replacement = if path.starts_with("/api/") {
        crate::api::api_error(status, code, message, Default::default())
    } else {
        let page = ErrorPage {
            layout: Layout::anonymous(heading),
            heading: heading.to_string(),
            message: message.to_string(),
            status: status.as_u16(),
            reference: reference.filter(|_| status.is_server_error()),
        };
        (status, page).into_response()
    };
    use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
    let (parts, _) = response.into_parts();
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH && name != CONTENT_ENCODING {
            replacement
                .headers_mut()
                .append(name.clone(), value.clone());
        }
    }
    replacement
}

pub async fn not_found() -> Response {
    not_found_page()
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    internal_error_page()
}
