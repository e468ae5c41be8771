//! Orientations (`/orientations`): the lists « reçues » and « envoyées » with their filters, the
//! form that sends one, the page of one orientation with the steps the caller may take, the
//! magic-link page of a receiver without an account, and the settings (notices, delays). Every
//! handler goes through `app::orientations`.

mod link;
mod list;
mod page;
mod send;
mod settings;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::flash::flashes;

flashes! {
    /// What the orientation pages say after a redirect.
    Message {
        Sent => "orientation-envoyee", "L'orientation est envoyée : le destinataire en est informé par courriel.";
        Decided => "orientation-decision", "Votre décision est enregistrée ; l'autre partie en est informée.";
        LinkDecided => "orientation-reponse-lien", "Votre réponse est enregistrée. Merci : l'orienteur en est informé.";
        LinkRenewed => "orientation-nouveau-lien", "Si l'orientation est toujours en cours, un nouveau lien vient de partir vers l'adresse de contact du service.";
        NoticesSaved => "avis-enregistres", "Votre choix de notification est enregistré.";
        DelaysSaved => "delais-enregistres", "Les délais des orientations du territoire sont enregistrés.";
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orientations", get(list::home))
        .route("/orientations/recues", get(list::received))
        .route("/orientations/envoyees", get(list::sent))
        .route("/orientations/nouvelle", get(send::show).post(send::send))
        .route("/orientations/reglages", get(settings::show))
        .route("/orientations/reglages/avis", post(settings::notices))
        .route("/orientations/reglages/delais", post(settings::delays))
        .route("/orientations/{id}", get(page::show))
        .route("/orientations/{id}/decision", post(page::decide))
        .route(
            "/orientations/{id}/lien/{token}",
            get(link::show).post(link::decide),
        )
        .route("/orientations/{id}/lien/{token}/nouveau", post(link::renew))
}

/// How a status reads as a DSFR badge.
pub(crate) fn badge(status: domain::orientation::Status) -> &'static str {
    use domain::orientation::Status::*;
    match status {
        Envoyee | AEtude => "fr-badge--new",
        Acceptee | Entree => "fr-badge--info",
        Terminee => "fr-badge--success",
        Declinee | Absente => "fr-badge--warning",
        Expiree | Annulee => "fr-badge--error",
    }
}

/// « sous 3 jours » / « le jour même ».
pub(crate) fn within(days: Option<i64>) -> Option<String> {
    days.map(|d| match d {
        0 => "répond en général dans la journée".to_string(),
        1 => "répond en général sous 1 jour".to_string(),
        n => format!("répond en général sous {n} jours"),
    })
}
