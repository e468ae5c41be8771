//! How failures reach the user: a French page with the right status; internal causes are
//! logged with the request, never shown.

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
}

pub fn error_page(status: StatusCode, heading: &str, message: &str) -> Response {
    let page = ErrorPage {
        layout: Layout::anonymous(heading),
        heading: heading.to_string(),
        message: message.to_string(),
        status: status.as_u16(),
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

fn not_found_page() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Page introuvable",
        "La page que vous cherchez n'existe pas ou vous n'y avez pas accès. Vérifiez l'adresse, ou revenez à l'accueil.",
    )
}

fn internal_error_page() -> Response {
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Erreur inattendue",
        "Une erreur est survenue de notre côté. Votre saisie n'a pas été enregistrée. Réessayez dans quelques instants ; si le problème persiste, contactez l'administration de Passerelle.",
    )
}

pub async fn not_found() -> Response {
    not_found_page()
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    internal_error_page()
}
