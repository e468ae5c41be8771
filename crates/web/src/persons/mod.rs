//! « Personnes » (`/personnes`): repérage, the caseload « Mes personnes », a person's file with
//! its panels (funnel, situation, health, follow-up group, consent, journal), the forms of the
//! entry into accompaniment and of corrections, the access logs and merges. Every handler goes
//! through `app::persons`, where need-to-know and the audit trail live; this folder registers
//! its own routes ([`routes`]) and its own messages ([`Message`]). See `docs/adding-a-feature.md`.

mod access_log;
mod actions;
mod file;
mod forms;
mod import;
mod list;
mod merge;
mod outreach;
mod rights;

use app::models::Needs;
use axum::Router;
use axum::handler::Handler;
use axum::routing::{get, post};
use domain::PersonId;

use crate::AppState;
use crate::flash::flashes;

flashes! {
    /// What the person pages say after a redirect.
    Message {
        Recorded => "personne-enregistree", "La personne est enregistrée. Vous faites partie de son groupe de suivi.";
        StatusChanged => "statut-modifie", "Le statut de la personne a été mis à jour.";
        Accompanied => "accompagnement", "L'entrée en accompagnement est enregistrée avec le consentement de la personne.";
        Journal => "journal", "L'entrée a été ajoutée au journal.";
        Group => "groupe", "Le groupe de suivi a été mis à jour.";
        ConsentWithdrawn => "consentement-retire", "Le consentement est retiré : les professionnels des autres structures n'ont plus accès au dossier.";
        Health => "sante", "Les informations de santé ont été enregistrées.";
        Updated => "personne-modifiee", "Le dossier a été mis à jour.";
        CheckRecorded => "suivi-enregistre", "La vérification de situation est enregistrée.";
        Merged => "fusion", "Les deux dossiers ont été fusionnés ; tout leur historique est conservé ici.";
        ImportLaunched => "import-lance", "L'import est lancé : il se poursuit même si vous quittez cette page. Actualisez-la pour suivre son avancement.";
        Erased => "dossier-efface", "Le dossier est effacé, avec tout ce qui s'y rattachait ; le journal des accès garde la trace de l'effacement.";
        ImportAbandoned => "import-abandonne", "L'import est abandonné : le fichier a été supprimé, rien n'a été enregistré.";
    }
}

/// The routes of the person pages (`state` for the upload turns of the list import).
pub fn routes(state: &AppState) -> Router<AppState> {
    let turn =
        || axum::middleware::from_fn_with_state(state.clone(), crate::uploads::one_turn_each);
    Router::new()
        .route("/personnes", get(list::list))
        .route(
            "/personnes/import",
            get(import::show_index)
                .post(import::upload.layer(turn()))
                .layer(axum::extract::DefaultBodyLimit::max(crate::UPLOAD_LIMIT)),
        )
        .route("/personnes/import/modele.csv", get(import::template))
        .route("/personnes/import/{id}", get(import::show))
        .route(
            "/personnes/import/{id}/simulation",
            post(import::simulate.layer(turn())),
        )
        .route("/personnes/import/{id}/lancement", post(import::launch))
        .route("/personnes/import/{id}/abandon", post(import::abandon))
        .route("/personnes/import/{id}/rapport.csv", get(import::report))
        .route(
            "/personnes/nouvelle",
            get(outreach::show_new).post(outreach::create),
        )
        .route("/personnes/export.csv", get(list::export))
        .route("/personnes/referent", post(list::assign_referent))
        .route("/personnes/acces", get(access_log::territory_access_log))
        .route("/personnes/{id}", get(file::show))
        .route("/personnes/{id}/statut", post(actions::set_status))
        .route(
            "/personnes/{id}/accompagnement",
            get(forms::show_entry).post(forms::enter),
        )
        .route("/personnes/{id}/journal", post(actions::add_entry))
        .route("/personnes/{id}/groupe", post(actions::add_member))
        .route(
            "/personnes/{id}/groupe/{member}/fin",
            post(actions::end_member),
        )
        .route("/personnes/{id}/referent", post(actions::change_referent))
        .route(
            "/personnes/{id}/consentement/retrait",
            post(actions::revoke_consent),
        )
        .route("/personnes/{id}/sante", post(actions::set_health))
        .route("/personnes/{id}/suivi/{check}", post(actions::answer_check))
        .route(
            "/personnes/{id}/modifier",
            get(forms::show_edit).post(forms::update),
        )
        .route("/personnes/{id}/acces", get(access_log::access_log))
        .route("/personnes/{id}/droit-d-acces", get(rights::show))
        .route("/personnes/{id}/droit-d-acces.json", get(rights::json))
        .route(
            "/personnes/{id}/effacement",
            get(rights::show_erasure).post(rights::erase),
        )
        .route(
            "/personnes/{id}/fusion",
            get(merge::show_merge).post(merge::merge),
        )
}

/// Where a person's file lives.
fn file_path(id: PersonId) -> String {
    format!("/personnes/{}", id.0)
}

pub(crate) fn full_name(first: &str, last: &str) -> String {
    format!("{first} {last}").trim().to_string()
}

fn yes_no_options() -> Vec<(String, String)> {
    vec![("oui".into(), "Oui".into()), ("non".into(), "Non".into())]
}

fn field_labels(needs: &Needs) -> Vec<String> {
    needs.0.iter().map(|f| f.label().to_string()).collect()
}

/// « QN05990N — Les Tilleuls » (the code alone when the map in memory does not know it).
fn qpv_label(state: &AppState, code: &str) -> String {
    match state.app.qpv.index().name_of(code) {
        Some(name) => format!("{name} ({code})"),
        None => code.to_string(),
    }
}

/// The territory's team as select options: « Name — organisation » (« coordination » for the
/// coordinators).
fn team_options<'a>(
    team: impl IntoIterator<Item = &'a app::models::TeamMember>,
) -> Vec<(String, String)> {
    team.into_iter()
        .map(|m| {
            (
                m.user_id.0.to_string(),
                format!(
                    "{} — {}",
                    m.display_name,
                    m.organisation_name.as_deref().unwrap_or("coordination")
                ),
            )
        })
        .collect()
}

fn yn(b: Option<bool>) -> String {
    match b {
        Some(true) => "oui".into(),
        Some(false) => "non".into(),
        None => "non renseigné".into(),
    }
}
