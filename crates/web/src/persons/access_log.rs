//! Who opened or changed a file: per person and, for coordinators, per territory.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;

use app::FieldErrors;
use app::persons;
use domain::PersonId;
use domain::person::FileEvent;

use super::full_name;
use crate::forms::Field;
use crate::layout::{Layout, Nav};
use crate::session::CurrentUser;
use crate::{AppState, WebError};

pub(super) fn action_label(action: &str) -> &'static str {
    FileEvent::from_code(action).map_or("modification", FileEvent::label)
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/territory_access.html")]
pub struct TerritoryAccessPage {
    layout: Layout,
    fields: Vec<Field>,
    denied_only: bool,
    /// When, who, what, which file (id), detail, refused.
    events: Vec<(String, String, String, i64, String, bool)>,
    total: i64,
    page: i64,
    pages: i64,
    /// The query without its page, for the paging links.
    base: String,
    /// Accounts with many refused attempts in the last 24 hours: name and count.
    suspicious: Vec<(String, i64)>,
}

pub async fn territory_access_log(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(input): Query<persons::AccessLogInput>,
) -> Result<axum::response::Response, WebError> {
    let (log, errors) = match persons::territory_access_log(&state.app, &user.caller, &input).await
    {
        Ok(log) => (Some(log), FieldErrors::default()),
        Err(app::AppError::Invalid(e)) => (None, e),
        Err(e) => return Err(e.into()),
    };
    let team_options = |log: &Option<persons::AccessLog>| {
        let mut options = vec![(String::new(), "Tout le monde".to_string())];
        if let Some(l) = log {
            for m in &l.team {
                let id = m.user_id.0.to_string();
                if !options.iter().any(|(v, _)| *v == id) {
                    options.push((id, m.display_name.clone()));
                }
            }
        }
        options
    };
    let fields = vec![
        Field::text("personne", "Dossier n°", &input.personne).errors(&errors),
        Field::select("utilisateur", "Qui", &input.utilisateur, team_options(&log)).errors(&errors),
        Field::text("du", "Du", &input.du)
            .hint("JJ/MM/AAAA")
            .errors(&errors),
        Field::text("au", "Au", &input.au)
            .hint("JJ/MM/AAAA")
            .errors(&errors),
    ];
    let base = serde_urlencoded::to_string([
        ("personne", input.personne.as_str()),
        ("utilisateur", input.utilisateur.as_str()),
        ("du", input.du.as_str()),
        ("au", input.au.as_str()),
        ("refus", input.refus.as_str()),
    ])
    .unwrap_or_default();
    let status = crate::forms::status_for(&errors);
    let log = log.unwrap_or(persons::AccessLog {
        events: Vec::new(),
        total: 0,
        page: 1,
        pages: 1,
        suspicious: Vec::new(),
        team: Vec::new(),
    });
    let page = TerritoryAccessPage {
        layout: Layout::for_user("Accès aux dossiers du territoire", &user, Nav::Persons).crumbs(
            &[
                ("Accueil", "/"),
                ("Personnes", "/personnes"),
                ("Accès aux dossiers", ""),
            ],
        ),
        fields,
        denied_only: input.refus == "1",
        events: log
            .events
            .into_iter()
            .map(|e| {
                (
                    crate::forms::moment(e.at, user.caller.zone()),
                    e.user_name.clone().unwrap_or_default(),
                    action_label(&e.action).to_string(),
                    e.target_id.unwrap_or_default(),
                    persons::detail(&e),
                    e.action == FileEvent::Denied.as_str(),
                )
            })
            .collect(),
        total: log.total,
        page: log.page,
        pages: log.pages,
        base,
        suspicious: log
            .suspicious
            .into_iter()
            .map(|s| (s.user_name, s.attempts))
            .collect(),
    };
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/access.html")]
pub struct AccessPage {
    layout: Layout,
    id: i64,
    name: String,
    events: Vec<(String, String, String, String)>,
}

pub async fn access_log(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
) -> Result<AccessPage, WebError> {
    let (person, events) = persons::access_log(&state.app, &user.caller, id).await?;
    let name = full_name(&person.first_name, &person.last_name);
    Ok(AccessPage {
        layout: Layout::for_user("Journal des accès", &user, Nav::Persons).crumbs(&[
            ("Accueil", "/"),
            ("Personnes", "/personnes"),
            (&name, &format!("/personnes/{id}")),
            ("Journal des accès", ""),
        ]),
        id: id.0,
        name,
        events: events
            .into_iter()
            .map(|e| {
                (
                    crate::forms::moment(e.at, user.caller.zone()),
                    e.user_name.clone().unwrap_or_default(),
                    action_label(&e.action).to_string(),
                    persons::detail(&e),
                )
            })
            .collect(),
    })
}
