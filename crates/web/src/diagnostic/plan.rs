//! `/personnes/{id}/plan`: objectives and actions, what each eligibility rule answers for the
//! person (criterion by criterion), and the relays suggested for each barrier.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use app::FieldErrors;
use app::diagnostic::{
    self, ActionChangeInput, ActionInput, ObjectiveInput, PlanPage, PrepareInput,
};
use domain::diagnostic::ActionStatus;
use domain::eligibility::{Answer, Tri};
use domain::{Field as ActionField, PersonId, PlanActionId};

use super::Message;
use crate::flash;
use crate::forms::{Field, Pairs, decode, one};
use crate::layout::{Layout, Nav};
use crate::persons::full_name;
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

pub struct ActionLine {
    pub id: i64,
    pub title: String,
    pub owner: String,
    pub owner_id: String,
    pub due: String,
    pub due_iso: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub overdue: bool,
    pub done: String,
    pub service: Option<(i64, String)>,
    pub owners: Vec<(String, String)>,
    /// Why the last change of this action was refused.
    pub error: Option<String>,
}

pub struct ObjectiveBlock {
    pub id: i64,
    pub field: &'static str,
    pub title: String,
    pub actions: Vec<ActionLine>,
}

/// One path of a rule: label, what it needs, its outcome, and (criterion, outcome, why) lines.
pub type PathLines = (
    String,
    String,
    &'static str,
    Vec<(String, &'static str, String)>,
);

pub struct RuleBlock {
    pub name: String,
    pub answer: &'static str,
    pub badge: &'static str,
    pub summary: String,
    pub reference: String,
    pub paths: Vec<PathLines>,
    pub priority: Vec<(String, &'static str)>,
}

pub struct SuggestionLine {
    pub service: i64,
    pub name: String,
    pub structure: String,
    pub answer: &'static str,
    pub badge: &'static str,
    pub to_check: Vec<String>,
    pub distance: String,
    pub also: Vec<&'static str>,
    pub beyond: bool,
    pub specific: bool,
}

pub struct FieldBlock {
    pub field: &'static str,
    pub code: &'static str,
    pub level: String,
    pub lines: Vec<SuggestionLine>,
    pub more: usize,
    pub excluded: usize,
    pub zone_unknown: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "diagnostic/plan.html")]
pub struct PlanTemplate {
    layout: Layout,
    id: i64,
    name: String,
    writable: bool,
    diagnosed_on: Option<String>,
    objectives: Vec<ObjectiveBlock>,
    statuses: Vec<(String, String)>,
    objective_form: Vec<Field>,
    action_form: Vec<Field>,
    has_objectives: bool,
    refused: Option<&'static str>,
    rules: Vec<RuleBlock>,
    suggestions: Vec<FieldBlock>,
    rules_on: String,
    rules_on_iso: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PlanQuery {
    message: Option<String>,
    /// « au »: the reference date of the rules (JJ/MM/AAAA or AAAA-MM-JJ).
    au: String,
}

fn answer_badge(a: Answer) -> (&'static str, &'static str) {
    match a {
        Answer::Eligible => (a.label(), "fr-badge--success"),
        Answer::ToCheck => (a.label(), "fr-badge--warning"),
        Answer::NotEligible => (a.label(), "fr-badge--error"),
    }
}

fn tri(t: Tri) -> &'static str {
    match t {
        Tri::Yes => "oui",
        Tri::No => "non",
        Tri::Unknown => "à vérifier",
    }
}

/// Which form was refused, with its errors and what was typed.
pub enum Refused<'a> {
    Objective(&'a Pairs, &'a FieldErrors),
    Action(&'a Pairs, &'a FieldErrors),
    Change(PlanActionId, &'a FieldErrors),
}

fn render(
    page: PlanPage,
    user: &CurrentUser,
    message: Option<&str>,
    refused: Option<Refused>,
) -> PlanTemplate {
    let p = &page.file.person;
    let name = full_name(&p.first_name, &p.last_name);
    let none = FieldErrors::default();
    let (objective_errors, objective_typed, action_errors, action_typed, which) = match &refused {
        Some(Refused::Objective(pairs, e)) => (*e, Some(*pairs), &none, None, Some("objectif")),
        Some(Refused::Action(pairs, e)) => (&none, None, *e, Some(*pairs), Some("action")),
        Some(Refused::Change(..)) => (&none, None, &none, None, Some("modification")),
        None => (&none, None, &none, None, None),
    };
    let typed = |pairs: Option<&Pairs>, k: &str| pairs.map(|p| one(p, k)).unwrap_or_default();
    let fields: Vec<(String, String)> = ActionField::ALL
        .iter()
        .filter(|f| **f != ActionField::SanteHandicap || page.file.access.health())
        .map(|f| (f.as_str().to_string(), f.label().to_string()))
        .collect();
    let objectives: Vec<ObjectiveBlock> = page
        .objectives
        .iter()
        .map(|o| ObjectiveBlock {
            id: o.row.id.0,
            field: o.row.field.label(),
            title: o.row.title.clone(),
            actions: o
                .actions
                .iter()
                .map(|a| ActionLine {
                    id: a.row.id.0,
                    title: a.row.title.clone(),
                    owner: a.row.owner_name.clone().unwrap_or_else(|| "—".into()),
                    owner_id: a.row.owner_id.map(|u| u.to_string()).unwrap_or_default(),
                    due: a.due_on.format("%d/%m/%Y").to_string(),
                    due_iso: domain::iso_date(a.due_on),
                    status: a.row.status.label(),
                    status_code: a.row.status.as_str(),
                    overdue: a.overdue,
                    done: a
                        .row
                        .done_on
                        .as_deref()
                        .map(crate::forms::date_fr)
                        .unwrap_or_default(),
                    service: a
                        .row
                        .service_id
                        .map(|s| (s, a.row.service_nom.clone().unwrap_or_default())),
                    owners: page
                        .owners(Some(o.row.field))
                        .into_iter()
                        .map(|(u, n)| (u.0.to_string(), n))
                        .collect(),
                    error: match &refused {
                        Some(Refused::Change(id, e)) if *id == a.row.id => Some(
                            e.iter()
                                .map(|(_, m)| m.to_string())
                                .collect::<Vec<_>>()
                                .join(" "),
                        ),
                        _ => None,
                    },
                })
                .collect(),
        })
        .collect();
    let owners: Vec<(String, String)> = page
        .owners(None)
        .into_iter()
        .map(|(u, n)| (u.0.to_string(), n))
        .collect();
    let objective_options: Vec<(String, String)> = page
        .objectives
        .iter()
        .map(|o| {
            (
                o.row.id.0.to_string(),
                format!("{} — {}", o.row.field.label(), o.row.title),
            )
        })
        .collect();
    let me = user.caller.user_id.0.to_string();
    let rules = page
        .eligibility
        .iter()
        .map(|e| {
            let (answer, badge) = answer_badge(e.answer);
            RuleBlock {
                name: e.name.clone(),
                answer,
                badge,
                summary: e.summary(),
                reference: e.reference.clone(),
                paths: e
                    .paths
                    .iter()
                    .map(|p| {
                        (
                            p.label.clone(),
                            p.needed.clone(),
                            tri(p.outcome),
                            p.lines
                                .iter()
                                .map(|l| (l.criterion.clone(), tri(l.outcome), l.why.clone()))
                                .collect(),
                        )
                    })
                    .collect(),
                priority: e
                    .priority
                    .iter()
                    .map(|l| (l.criterion.clone(), tri(l.outcome)))
                    .collect(),
            }
        })
        .collect();
    let suggestions = page
        .suggestions
        .iter()
        .map(|fs| FieldBlock {
            field: fs.field.label(),
            code: fs.field.as_str(),
            level: fs.level.label().to_string(),
            lines: fs
                .suggestions
                .iter()
                .map(|s| {
                    let (answer, badge) = answer_badge(s.answer);
                    SuggestionLine {
                        service: s.service.0,
                        name: s.nom.clone(),
                        structure: s.structure.clone(),
                        answer,
                        badge,
                        to_check: s.to_check.clone(),
                        distance: match (s.distance_m, s.remote) {
                            (_, true) => "à distance possible".into(),
                            (Some(m), _) if m < 1000.0 => {
                                format!("à {} m", (m / 50.0).round() * 50.0)
                            }
                            (Some(m), _) => format!("à {:.1} km", m / 1000.0).replace('.', ","),
                            (None, _) => "distance inconnue".into(),
                        },
                        also: s
                            .fields
                            .iter()
                            .filter(|f| **f != fs.field)
                            .map(|f| f.label())
                            .collect(),
                        beyond: s.beyond_distance,
                        specific: s.specific,
                    }
                })
                .collect(),
            more: fs.more,
            excluded: fs.excluded,
            zone_unknown: fs.zone_unknown,
        })
        .collect();
    PlanTemplate {
        layout: Layout::for_user(&format!("Plan d'action de {name}"), user, Nav::Persons)
            .crumbs(&[
                ("Accueil", "/"),
                ("Personnes", "/personnes"),
                (&name, &format!("/personnes/{}", p.id.0)),
                ("Plan d'action", ""),
            ])
            .with_message(message),
        id: p.id.0,
        name,
        writable: page.writable(),
        diagnosed_on: page.diagnosed_on.map(|d| d.format("%d/%m/%Y").to_string()),
        has_objectives: !objectives.is_empty(),
        objectives,
        statuses: ActionStatus::options(),
        objective_form: vec![
            Field::select(
                "field",
                "Champ d'action",
                &typed(objective_typed, "field"),
                fields,
            )
            .required()
            .errors(objective_errors),
            Field::text("title", "Objectif", &typed(objective_typed, "title"))
                .hint("Par exemple : obtenir le permis B, trouver un mode de garde")
                .required()
                .errors(objective_errors),
        ],
        action_form: vec![
            Field::select(
                "objective",
                "Objectif",
                &typed(action_typed, "objective"),
                objective_options,
            )
            .required()
            .errors(action_errors),
            Field::text("title", "Action", &typed(action_typed, "title"))
                .required()
                .errors(action_errors),
            Field::select(
                "owner",
                "Responsable (membre du groupe de suivi)",
                &action_typed.map_or(me, |p| one(p, "owner")),
                owners,
            )
            .required()
            .errors(action_errors),
            Field::typed(
                "due_on",
                "Échéance",
                &typed(action_typed, "due_on"),
                "date",
                "off",
            )
            .required()
            .errors(action_errors),
        ],
        refused: which,
        rules,
        suggestions,
        rules_on: page.rules_on.format("%d/%m/%Y").to_string(),
        rules_on_iso: domain::iso_date(page.rules_on),
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    Query(q): Query<PlanQuery>,
) -> Result<PlanTemplate, WebError> {
    let on =
        match q.au.trim() {
            "" => None,
            d => Some(domain::parse_date(d).map_err(|e| {
                WebError::BadRequest(format!("Date de référence « {d} » : {}", e.0))
            })?),
        };
    let page = diagnostic::plan_page(&state.app, &user.caller, id, on).await?;
    Ok(render(page, &user, q.message.as_deref(), None))
}

fn plan_path(id: PersonId) -> String {
    format!("/personnes/{}/plan", id.0)
}

async fn refused_page(
    state: &AppState,
    user: &CurrentUser,
    id: PersonId,
    refused: Refused<'_>,
) -> Result<Response, WebError> {
    let page = diagnostic::plan_page(&state.app, &user.caller, id, None).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(page, user, None, Some(refused)),
    )
        .into_response())
}

pub async fn add_objective(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: ObjectiveInput = decode(&pairs)?;
    match diagnostic::add_objective(&state.app, &user.caller, id, &input).await {
        Ok(_) => Ok(flash::redirect(&plan_path(id), Message::ObjectiveAdded).into_response()),
        Err(app::AppError::Invalid(e)) => {
            refused_page(&state, &user, id, Refused::Objective(&pairs, &e)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn add_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: ActionInput = decode(&pairs)?;
    match diagnostic::add_action(&state.app, &user.caller, id, &input).await {
        Ok(_) => Ok(flash::redirect(&plan_path(id), Message::ActionAdded).into_response()),
        Err(app::AppError::Invalid(e)) => {
            refused_page(&state, &user, id, Refused::Action(&pairs, &e)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn change_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(PersonId, PlanActionId)>,
    CsrfForm(input): CsrfForm<ActionChangeInput>,
) -> Result<Response, WebError> {
    match diagnostic::change_action(&state.app, &user.caller, id, action, &input).await {
        Ok(()) => Ok(flash::redirect(&plan_path(id), Message::ActionChanged).into_response()),
        Err(app::AppError::Invalid(e)) => {
            refused_page(&state, &user, id, Refused::Change(action, &e)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn prepare(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(input): CsrfForm<PrepareInput>,
) -> Result<Response, WebError> {
    diagnostic::prepare_orientation(&state.app, &user.caller, id, &input).await?;
    Ok(flash::redirect(&format!("{}#plan", plan_path(id)), Message::Prepared).into_response())
}
