//! Lifting barriers: the diagnostic page (`/personnes/{id}/diagnostic`: form, history, progress
//! chart with its table), the plan page (`/personnes/{id}/plan`: objectives, actions, what the
//! eligibility rules answer, the relays suggested for each barrier), the territory's rules
//! (`/territoire/regles`) and the referential of situations (`/admin/situations`). Every
//! handler goes through `app::diagnostic`; see `docs/adding-a-feature.md`.

mod page;
mod plan;
mod rules;
mod situations;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::flash::flashes;

flashes! {
    /// What the diagnostic, plan and rules pages say after a redirect.
    Message {
        DraftSaved => "diagnostic-brouillon", "Le brouillon du diagnostic est enregistré. Il n'est pas compté tant qu'il n'est pas signé.";
        Signed => "diagnostic-signe", "Le diagnostic est signé. Il est conservé tel quel : le prochain s'ajoutera à l'historique.";
        DraftDiscarded => "brouillon-supprime", "Le brouillon du diagnostic est supprimé.";
        ObjectiveAdded => "objectif-ajoute", "L'objectif est ajouté au plan d'action.";
        ActionAdded => "action-plan-ajoutee", "L'action est ajoutée au plan d'action.";
        ActionChanged => "action-plan-modifiee", "L'action est mise à jour.";
        Prepared => "orientation-preparee", "L'orientation est préparée : une action « Orienter vers … » est ajoutée au plan, à votre nom.";
        RuleSaved => "regle-enregistree", "La règle est enregistrée pour le territoire.";
        RuleDeleted => "regle-supprimee", "La règle du territoire est supprimée.";
        SituationSaved => "situation-enregistree", "Le référentiel des situations est mis à jour.";
        ServiceRules => "conditions-enregistrees", "Les conditions d'éligibilité du service sont enregistrées.";
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/personnes/{id}/diagnostic",
            get(page::show).post(page::save),
        )
        .route(
            "/personnes/{id}/diagnostic/brouillon/suppression",
            post(page::discard),
        )
        .route("/personnes/{id}/plan", get(plan::show))
        .route("/personnes/{id}/plan/objectifs", post(plan::add_objective))
        .route("/personnes/{id}/plan/actions", post(plan::add_action))
        .route("/personnes/{id}/plan/relais", post(plan::prepare))
        .route(
            "/personnes/{id}/plan/actions/{action}",
            post(plan::change_action),
        )
        .route("/territoire/regles", get(rules::list))
        .route(
            "/territoire/regles/formulaire",
            get(rules::show_form).post(rules::save),
        )
        .route("/territoire/regles/{id}/suppression", post(rules::delete))
        .route(
            "/annuaire/services/{id}/regles",
            post(rules::set_service_rules),
        )
        .route(
            "/admin/situations",
            get(situations::list).post(situations::add),
        )
        .route("/admin/situations/{id}", post(situations::update))
}
