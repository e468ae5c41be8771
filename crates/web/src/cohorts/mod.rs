//! Cohorts, collective actions and employers (`/cohortes`, `/actions-collectives`,
//! `/employeurs`): the lists, the forms that create them, the cohort page with its members'
//! progress and candidates, the action page with its invitations and the attendance taken on a
//! phone, the employer page with its engagements and offers. Every handler goes through
//! `app::cohorts`, `app::actions` and `app::employers`.

mod actions;
mod cohort;
mod employers;

use app::FieldErrors;
use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::flash::flashes;

flashes! {
    /// What these pages say after a redirect.
    Message {
        CohortCreated => "cohorte-creee", "La cohorte est créée. Ajoutez-y ses membres depuis les candidats proposés.";
        MembersAdded => "membres-ajoutes", "Les personnes sont entrées dans la cohorte.";
        MemberLeft => "membre-sorti", "La sortie de la cohorte est enregistrée.";
        ActionCreated => "action-creee", "L'action collective est créée. Invitez-y des personnes.";
        Invited => "invitations", "Les invitations sont enregistrées.";
        Registered => "inscription", "L'inscription est enregistrée.";
        Attendance => "presences", "Les présences sont enregistrées.";
        EmployerCreated => "employeur-cree", "L'employeur est enregistré.";
        Engaged => "engagement", "L'engagement de l'employeur est enregistré.";
        OfferAdded => "offre-ajoutee", "L'offre est enregistrée. Les personnes qui visent ce métier sont proposées ci-dessous.";
        OfferChanged => "offre-modifiee", "L'état de l'offre est enregistré.";
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cohortes", get(cohort::list))
        .route("/cohortes/nouvelle", get(cohort::new).post(cohort::create))
        .route("/cohortes/{id}", get(cohort::show))
        .route("/cohortes/{id}/membres", post(cohort::add_members))
        .route(
            "/cohortes/{id}/membres/{person}/sortie",
            post(cohort::remove_member),
        )
        .route("/actions-collectives", get(actions::list))
        .route(
            "/actions-collectives/nouvelle",
            get(actions::new).post(actions::create),
        )
        .route("/actions-collectives/{id}", get(actions::show))
        .route(
            "/actions-collectives/{id}/invitations",
            post(actions::invite),
        )
        .route(
            "/actions-collectives/{id}/inscription/{person}",
            post(actions::register),
        )
        .route(
            "/actions-collectives/{id}/presences",
            get(actions::attendance_sheet).post(actions::attendance),
        )
        .route(
            "/actions-collectives/{id}/invitation/{person}",
            get(actions::invitation),
        )
        .route("/employeurs", get(employers::list))
        .route(
            "/employeurs/nouveau",
            get(employers::new).post(employers::create),
        )
        .route("/employeurs/{id}", get(employers::show))
        .route("/employeurs/{id}/engagements", post(employers::engage))
        .route("/employeurs/{id}/offres", post(employers::add_offer))
        .route(
            "/employeurs/{id}/offres/{offer}",
            get(employers::offer).post(employers::offer_status),
        )
}

/// The errors of a refused form, for the summary at the top of the page.
pub(crate) fn summary(errors: &FieldErrors) -> Vec<String> {
    errors.iter().map(|(_, m)| m.to_string()).collect()
}

/// (value, label, chosen) for a select or checkboxes built in the template.
pub(crate) fn choices<T: ToString>(
    items: &[(T, String)],
    chosen: &[String],
) -> Vec<(String, String, bool)> {
    items
        .iter()
        .map(|(v, l)| {
            let v = v.to_string();
            let c = chosen.contains(&v);
            (v, l.clone(), c)
        })
        .collect()
}
