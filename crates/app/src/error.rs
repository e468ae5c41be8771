//! The one error type of the use cases. Its French message is what a user may see; internal
//! causes are logged by the web layer, never shown.

use crate::form::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Unknown, or not visible to this caller: the two look the same from outside.
    #[error("Cette page n'existe pas ou vous n'y avez pas accès.")]
    NotFound,
    /// The caller is known but may not do this.
    #[error("Vous n'avez pas les droits nécessaires pour cette action.")]
    Forbidden,
    /// The input was refused; each field says why.
    #[error("Le formulaire contient des erreurs.")]
    Invalid(FieldErrors),
    /// What was acted on changed meanwhile (another person acted first): nothing was written,
    /// and the message says what it is now.
    #[error("{0}")]
    Conflict(String),
    /// An outside service this use case needs did not answer; the message says which.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(store::StoreError),
    #[error("erreur interne : {0}")]
    Internal(String),
}

impl From<store::StoreError> for AppError {
    /// A database that cannot serve now is said so (503), not an internal error.
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::Unavailable(outage) => AppError::Unavailable(outage.to_string()),
            e => AppError::Store(e),
        }
    }
}

impl AppError {
    /// The per-field errors of an `Invalid`, or one general error under `formulaire`.
    pub fn into_field_errors(self) -> FieldErrors {
        match self {
            AppError::Invalid(errors) => errors,
            other => {
                let mut errors = FieldErrors::default();
                errors.add("formulaire", other.to_string());
                errors
            }
        }
    }

    pub fn field(field: &'static str, message: impl Into<String>) -> AppError {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        AppError::Invalid(errors)
    }
}
