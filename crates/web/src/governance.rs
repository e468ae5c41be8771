//! `/gouvernance`: the territory's steering — its meetings (with attendees, agenda, notes,
//! decisions, action items and the situations reviewed, named only to those who may open the
//! file), and its roadmap (`/gouvernance/feuille-de-route`) on the three axes. Every handler
//! goes through `app::governance`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use app::FieldErrors;
use app::governance::{self, ActionItemInput, CaseInput, MeetingInput, MeetingPage, RoadmapInput};
use domain::governance::{Axis, MeetingKind, RoadmapStatus};
use domain::indicators::Step;
use domain::{MeetingActionId, MeetingId, RoadmapActionId};

use crate::cohorts::summary;
use crate::flash::{self, flashes};
use crate::forms::{Checkboxes, Field, Pairs, date_fr, decode, one};
use crate::layout::{Layout, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

flashes! {
    /// What these pages say after a redirect.
    Message {
        MeetingCreated => "reunion-creee", "La réunion est enregistrée. Ajoutez-y les décisions et les actions à mener.";
        MeetingUpdated => "reunion-modifiee", "La réunion est mise à jour.";
        DecisionAdded => "decision", "La décision est enregistrée.";
        ActionAdded => "action", "L'action à mener est enregistrée : elle apparaît sur la page d'accueil de la personne qui la porte.";
        ActionDone => "action-faite", "L'action est notée comme faite.";
        CaseAdded => "situation", "La situation est rattachée à la réunion.";
        RoadmapSaved => "feuille-de-route", "La feuille de route est enregistrée.";
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gouvernance", get(index))
        .route(
            "/gouvernance/reunions/nouvelle",
            get(new_meeting).post(create_meeting),
        )
        .route("/gouvernance/reunions/{id}", get(show).post(update_meeting))
        .route("/gouvernance/reunions/{id}/decisions", post(add_decision))
        .route("/gouvernance/reunions/{id}/actions", post(add_action))
        .route("/gouvernance/reunions/{id}/situations", post(add_case))
        .route("/gouvernance/actions/{id}/faite", post(complete_action))
        .route(
            "/gouvernance/feuille-de-route",
            get(roadmap).post(create_roadmap_action),
        )
        .route(
            "/gouvernance/feuille-de-route/{id}",
            get(edit_roadmap_action).post(update_roadmap_action),
        )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MessageQuery {
    message: Option<String>,
    annee: Option<i32>,
}

pub struct MeetingLine {
    pub id: i64,
    pub kind: &'static str,
    pub held_on: String,
    pub title: String,
    pub attendees: i64,
    pub decisions: i64,
    pub open_actions: i64,
    pub cases: i64,
}

pub struct ActionLine {
    pub id: i64,
    pub meeting: (i64, String),
    pub title: String,
    pub owner: String,
    pub due_on: String,
    pub late: bool,
    pub done_on: String,
    pub may_complete: bool,
}

pub(crate) fn action_lines(
    user: &CurrentUser,
    rows: &[app::models::ActionItemRow],
    today: chrono::NaiveDate,
    steers: bool,
) -> Vec<ActionLine> {
    rows.iter()
        .map(|a| ActionLine {
            id: a.id.0,
            meeting: (a.meeting_id.0, a.meeting_title.clone()),
            title: a.title.clone(),
            owner: a
                .owner_name
                .clone()
                .unwrap_or_else(|| "Personne (compte fermé)".into()),
            due_on: date_fr(&a.due_on),
            late: a.done_on.is_none() && a.due_on < domain::iso_date(today),
            done_on: a.done_on.as_deref().map(date_fr).unwrap_or_default(),
            may_complete: a.done_on.is_none()
                && (steers || a.owner_id == Some(user.caller.user_id.0)),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "governance/index.html")]
pub struct IndexPage {
    layout: Layout,
    meetings: Vec<MeetingLine>,
    mine: Vec<ActionLine>,
    steers: bool,
}

pub async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MessageQuery>,
) -> Result<IndexPage, WebError> {
    let rows = governance::meetings(&state.app, &user.caller).await?;
    let mine = governance::my_actions(&state.app, &user.caller).await?;
    let t = user.caller.active_territory.as_ref().map(|t| t.id);
    let steers = t.is_some_and(|t| governance::may_steer(&user.caller, t));
    let today = state.app.today_in(user.caller.zone());
    Ok(IndexPage {
        layout: Layout::for_user("Pilotage du territoire", &user, Nav::Governance)
            .crumbs(&[("Accueil", "/"), ("Pilotage", "")])
            .with_message(q.message.as_deref()),
        meetings: rows
            .iter()
            .map(|m| MeetingLine {
                id: m.id.0,
                kind: m.kind.label(),
                held_on: date_fr(&m.held_on),
                title: m.title.clone(),
                attendees: m.attendees,
                decisions: m.decisions,
                open_actions: m.open_actions,
                cases: m.cases,
            })
            .collect(),
        mine: action_lines(&user, &mine, today, false),
        steers,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "governance/meeting_form.html")]
pub struct MeetingForm {
    layout: Layout,
    heading: String,
    form: String,
}

/// The meeting's form itself, on its own page and folded on the meeting's.
#[derive(Template)]
#[template(path = "governance/meeting_fields.html")]
struct MeetingFields {
    csrf: String,
    action: String,
    fields: Vec<Field>,
    attendees: Checkboxes,
    errors: Vec<String>,
}

async fn meeting_form(
    state: &AppState,
    user: &CurrentUser,
    id: Option<MeetingId>,
    input: &MeetingInput,
    errors: &FieldErrors,
) -> Result<MeetingForm, WebError> {
    let (orgs, _) = governance::choices(&state.app, &user.caller).await?;
    let heading = if id.is_some() {
        "Modifier la réunion"
    } else {
        "Nouvelle réunion"
    };
    let mut fields = Vec::new();
    if id.is_none() {
        fields.push(
            Field::select("kind", "Instance", &input.kind, MeetingKind::options())
                .hint("Seule la cellule opérationnelle examine des situations individuelles.")
                .required()
                .errors(errors),
        );
    }
    fields.extend([
        Field::typed("held_on", "Date", &input.held_on, "date", "off").required().errors(errors),
        Field::text("title", "Intitulé", &input.title).required().errors(errors),
        Field::textarea("agenda", "Ordre du jour", &input.agenda).errors(errors),
        Field::textarea("notes", "Compte rendu", &input.notes)
            .hint("Aucune donnée personnelle ici : les situations examinées se rattachent aux dossiers, ci-dessous, une fois la réunion enregistrée.")
            .errors(errors),
    ]);
    let layout = Layout::for_user(heading, user, Nav::Governance).crumbs(&[
        ("Accueil", "/"),
        ("Pilotage", "/gouvernance"),
        (heading, ""),
    ]);
    let form = MeetingFields {
        csrf: layout.csrf.clone(),
        action: id.map_or_else(
            || "/gouvernance/reunions/nouvelle".to_string(),
            governance::meeting_path,
        ),
        fields,
        attendees: Checkboxes::new(
            "attendees",
            "Organisations présentes",
            orgs.iter()
                .map(|(id, name)| (id.0.to_string(), name.clone()))
                .collect(),
            &input.attendees,
        )
        .errors(errors),
        errors: summary(errors),
    }
    .render()
    .map_err(|e| app::AppError::Internal(format!("formulaire de réunion : {e}")))?;
    Ok(MeetingForm {
        layout,
        heading: heading.to_string(),
        form,
    })
}

pub async fn new_meeting(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<MeetingForm, WebError> {
    let t = user
        .caller
        .active_territory
        .as_ref()
        .map(|t| t.id)
        .ok_or(app::AppError::NotFound)?;
    if !governance::may_steer(&user.caller, t) {
        return Err(app::AppError::Forbidden.into());
    }
    meeting_form(
        &state,
        &user,
        None,
        &MeetingInput::default(),
        &FieldErrors::default(),
    )
    .await
}

pub async fn create_meeting(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: MeetingInput = decode(&pairs)?;
    match governance::create_meeting(&state.app, &user.caller, &input).await {
        Ok(id) => Ok(
            flash::redirect(&governance::meeting_path(id), Message::MeetingCreated).into_response(),
        ),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            meeting_form(&state, &user, None, &input, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

pub async fn update_meeting(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: MeetingInput = decode(&pairs)?;
    match governance::update_meeting(&state.app, &user.caller, id, &input).await {
        Ok(()) => Ok(
            flash::redirect(&governance::meeting_path(id), Message::MeetingUpdated).into_response(),
        ),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            meeting_form(&state, &user, Some(id), &input, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "governance/meeting.html")]
pub struct ShowPage {
    layout: Layout,
    id: i64,
    kind: &'static str,
    held_on: String,
    title: String,
    agenda: String,
    notes: String,
    attendees: Vec<String>,
    decisions: Vec<(String, String)>,
    actions: Vec<ActionLine>,
    cases: Vec<(i64, String, String)>,
    hidden_cases: usize,
    reviews_cases: bool,
    steers: bool,
    edit: Option<String>,
    decision_field: Field,
    action_fields: Vec<Field>,
    case_fields: Vec<Field>,
    errors: Vec<String>,
}

async fn show_page(
    state: &AppState,
    user: &CurrentUser,
    p: MeetingPage,
    message: Option<&str>,
    pairs: &Pairs,
    errors: &FieldErrors,
) -> Result<ShowPage, WebError> {
    let m = &p.meeting;
    let typed = |k: &str| one(pairs, k);
    let (_, team) = governance::choices(&state.app, &user.caller).await?;
    let today = state.app.today_in(user.caller.zone());
    let edit = if p.steers {
        let input = MeetingInput {
            kind: m.kind.as_str().to_string(),
            held_on: m.held_on.clone(),
            title: m.title.clone(),
            agenda: m.agenda.clone(),
            notes: m.notes.clone(),
            attendees: p.attendees.iter().map(|(id, _)| id.to_string()).collect(),
        };
        Some(
            meeting_form(state, user, Some(m.id), &input, &FieldErrors::default())
                .await?
                .form,
        )
    } else {
        None
    };
    Ok(ShowPage {
        layout: Layout::for_user(&m.title, user, Nav::Governance)
            .crumbs(&[("Accueil", "/"), ("Pilotage", "/gouvernance"), (&m.title, "")])
            .with_message(message),
        id: m.id.0,
        kind: m.kind.label(),
        held_on: date_fr(&m.held_on),
        title: m.title.clone(),
        agenda: m.agenda.clone(),
        notes: m.notes.clone(),
        attendees: p.attendees.iter().map(|(_, n)| n.clone()).collect(),
        decisions: p
            .decisions
            .iter()
            .map(|d| (d.text.clone(), d.recorded_at.format("%d/%m/%Y").to_string()))
            .collect(),
        actions: action_lines(user, &p.actions, today, p.steers),
        cases: p.cases.iter().map(|k| (k.person.0, k.name.clone(), k.note.clone())).collect(),
        hidden_cases: p.hidden_cases,
        reviews_cases: m.kind.reviews_cases(),
        steers: p.steers,
        edit,
        decision_field: Field::textarea("decision", "Décision", &typed("decision")).required().errors(errors),
        action_fields: vec![
            Field::text("title", "Action à mener", &typed("title")).required().errors(errors),
            Field::select(
                "owner",
                "Portée par",
                &typed("owner"),
                team.iter().map(|(id, n)| (id.0.to_string(), n.clone())).collect(),
            )
            .required()
            .errors(errors),
            Field::typed("due_on", "Échéance", &typed("due_on"), "date", "off").required().errors(errors),
        ],
        case_fields: vec![
            Field::text("person", "Numéro du dossier", &typed("person"))
                .hint("Le numéro qui suit « /personnes/ » dans l'adresse du dossier, ou l'adresse elle-même.")
                .required()
                .errors(errors),
            Field::text("note", "Suite donnée", &typed("note"))
                .hint("Brève, factuelle : elle n'est lue que par ceux qui peuvent ouvrir le dossier.")
                .errors(errors),
        ],
        errors: summary(errors),
    })
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    Query(q): Query<MessageQuery>,
) -> Result<ShowPage, WebError> {
    let p = governance::page(&state.app, &user.caller, id).await?;
    show_page(
        &state,
        &user,
        p,
        q.message.as_deref(),
        &Vec::new(),
        &FieldErrors::default(),
    )
    .await
}

async fn refused(
    state: &AppState,
    user: &CurrentUser,
    id: MeetingId,
    pairs: &Pairs,
    errors: &FieldErrors,
) -> Result<Response, WebError> {
    let p = governance::page(&state.app, &user.caller, id).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        show_page(state, user, p, None, pairs, errors).await?,
    )
        .into_response())
}

pub async fn add_decision(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    match governance::add_decision(&state.app, &user.caller, id, &one(&pairs, "decision")).await {
        Ok(()) => Ok(flash::redirect(
            &format!("{}#decisions", governance::meeting_path(id)),
            Message::DecisionAdded,
        )
        .into_response()),
        Err(app::AppError::Invalid(errors)) => refused(&state, &user, id, &pairs, &errors).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn add_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: ActionItemInput = decode(&pairs)?;
    match governance::add_action(&state.app, &user.caller, id, &input).await {
        Ok(_) => Ok(flash::redirect(
            &format!("{}#actions", governance::meeting_path(id)),
            Message::ActionAdded,
        )
        .into_response()),
        Err(app::AppError::Invalid(errors)) => refused(&state, &user, id, &pairs, &errors).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn add_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: CaseInput = decode(&pairs)?;
    match governance::add_case(&state.app, &user.caller, id, &input).await {
        Ok(()) => Ok(flash::redirect(
            &format!("{}#situations", governance::meeting_path(id)),
            Message::CaseAdded,
        )
        .into_response()),
        Err(app::AppError::Invalid(errors)) => refused(&state, &user, id, &pairs, &errors).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn complete_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MeetingActionId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let meeting = governance::complete_action(&state.app, &user.caller, id).await?;
    let back = match one(&pairs, "retour").as_str() {
        "accueil" => "/".to_string(),
        "pilotage" => "/gouvernance".to_string(),
        _ => format!("{}#actions", governance::meeting_path(meeting)),
    };
    Ok(flash::redirect(&back, Message::ActionDone).into_response())
}

pub struct RoadmapView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub lead: String,
    pub due_on: String,
    pub indicator: String,
    pub value: String,
    pub target: String,
    pub status: &'static str,
    pub progress: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "governance/roadmap.html")]
pub struct RoadmapPage {
    layout: Layout,
    year: i32,
    years: (i32, i32),
    axes: Vec<(&'static str, &'static str, Vec<RoadmapView>)>,
    steers: bool,
    fields: Vec<Field>,
    errors: Vec<String>,
}

fn roadmap_fields(
    input: &RoadmapInput,
    orgs: &[(domain::OrganisationId, String)],
    errors: &FieldErrors,
) -> Vec<Field> {
    let mut measures = vec![(String::new(), "Valeur saisie à la main".to_string())];
    measures.extend(Step::ALL.iter().map(|s| {
        (
            s.as_str().to_string(),
            format!("{} sur l'année (calculé)", s.label()),
        )
    }));
    let mut leads = vec![(String::new(), "Le territoire (coordination)".to_string())];
    leads.extend(orgs.iter().map(|(id, n)| (id.0.to_string(), n.clone())));
    vec![
        Field::select("axis", "Axe", &input.axis, Axis::options())
            .required()
            .errors(errors),
        Field::text("title", "Action", &input.title)
            .required()
            .errors(errors),
        Field::textarea("description", "Description", &input.description).errors(errors),
        Field::select("lead", "Pilote de l'action", &input.lead, leads).errors(errors),
        Field::typed("due_on", "Échéance", &input.due_on, "date", "off").errors(errors),
        Field::text("indicator", "Indicateur suivi", &input.indicator)
            .hint("Par exemple : nombre d'entrées effectives en formation.")
            .errors(errors),
        Field::select(
            "measure",
            "Mesure de l'indicateur",
            &input.measure,
            measures,
        )
        .errors(errors),
        Field::typed(
            "value",
            "Valeur atteinte (si saisie à la main)",
            &input.value,
            "number",
            "off",
        )
        .errors(errors),
        Field::typed("target", "Cible", &input.target, "number", "off").errors(errors),
        Field::select("status", "État", &input.status, RoadmapStatus::options())
            .required()
            .errors(errors),
        Field::typed(
            "progress",
            "Avancement estimé (%)",
            &input.progress,
            "number",
            "off",
        )
        .hint("Utilisé quand l'indicateur n'a pas de cible.")
        .errors(errors),
    ]
}

async fn roadmap_page(
    state: &AppState,
    user: &CurrentUser,
    year: Option<i32>,
    message: Option<&str>,
    input: &RoadmapInput,
    errors: &FieldErrors,
) -> Result<RoadmapPage, WebError> {
    let r = governance::roadmap(&state.app, &user.caller, year).await?;
    let (orgs, _) = governance::choices(&state.app, &user.caller).await?;
    let title = format!("Feuille de route {}", r.year);
    Ok(RoadmapPage {
        layout: Layout::for_user(&title, user, Nav::Governance)
            .crumbs(&[("Accueil", "/"), ("Pilotage", "/gouvernance"), (&title, "")])
            .with_message(message),
        year: r.year,
        years: (r.year - 1, r.year + 1),
        axes: r
            .axes
            .iter()
            .map(|(axis, lines)| {
                (
                    axis.label(),
                    axis.definition(),
                    lines
                        .iter()
                        .map(|l| RoadmapView {
                            id: l.row.id.0,
                            title: l.row.title.clone(),
                            description: l.row.description.clone(),
                            lead: l
                                .row
                                .lead_name
                                .clone()
                                .unwrap_or_else(|| "Coordination".into()),
                            due_on: l.row.due_on.as_deref().map(date_fr).unwrap_or_default(),
                            indicator: l.row.indicator.clone(),
                            value: match (l.value, l.measured) {
                                (Some(v), _) => v.to_string(),
                                (None, true) => "s".to_string(),
                                (None, false) => "–".to_string(),
                            },
                            target: l
                                .row
                                .target
                                .map(|t| t.to_string())
                                .unwrap_or_else(|| "–".into()),
                            status: l.row.status.label(),
                            progress: l.progress,
                        })
                        .collect(),
                )
            })
            .collect(),
        steers: r.steers,
        fields: roadmap_fields(input, &orgs, errors),
        errors: summary(errors),
    })
}

pub async fn roadmap(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MessageQuery>,
) -> Result<RoadmapPage, WebError> {
    let input = RoadmapInput {
        status: RoadmapStatus::ALancer.as_str().into(),
        ..RoadmapInput::default()
    };
    roadmap_page(
        &state,
        &user,
        q.annee,
        q.message.as_deref(),
        &input,
        &FieldErrors::default(),
    )
    .await
}

pub async fn create_roadmap_action(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: RoadmapInput = decode(&pairs)?;
    match governance::create_roadmap_action(&state.app, &user.caller, &input).await {
        Ok(year) => Ok(flash::redirect(
            &format!("/gouvernance/feuille-de-route?annee={year}"),
            Message::RoadmapSaved,
        )
        .into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let year = input.year.trim().parse().ok();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                roadmap_page(&state, &user, year, None, &input, &errors).await?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "governance/roadmap_action.html")]
pub struct RoadmapActionPage {
    layout: Layout,
    id: i64,
    year: i32,
    fields: Vec<Field>,
    errors: Vec<String>,
}

async fn roadmap_action_page(
    state: &AppState,
    user: &CurrentUser,
    id: RoadmapActionId,
    input: Option<&RoadmapInput>,
    errors: &FieldErrors,
) -> Result<RoadmapActionPage, WebError> {
    let row = governance::roadmap_action(&state.app, &user.caller, id).await?;
    if !governance::may_steer(&user.caller, row.territory_id) {
        return Err(app::AppError::Forbidden.into());
    }
    let (orgs, _) = governance::choices(&state.app, &user.caller).await?;
    let current = RoadmapInput {
        year: row.year.to_string(),
        axis: row.axis.as_str().into(),
        title: row.title.clone(),
        description: row.description.clone(),
        lead: row.lead_org_id.map(|o| o.to_string()).unwrap_or_default(),
        due_on: row.due_on.clone().unwrap_or_default(),
        indicator: row.indicator.clone(),
        measure: row.measure.clone().unwrap_or_default(),
        value: row.value.map(|v| v.to_string()).unwrap_or_default(),
        target: row.target.map(|v| v.to_string()).unwrap_or_default(),
        status: row.status.as_str().into(),
        progress: row.progress.to_string(),
    };
    let back = format!("/gouvernance/feuille-de-route?annee={}", row.year);
    Ok(RoadmapActionPage {
        layout: Layout::for_user(&row.title, user, Nav::Governance).crumbs(&[
            ("Accueil", "/"),
            ("Pilotage", "/gouvernance"),
            (&format!("Feuille de route {}", row.year), &back),
            (&row.title, ""),
        ]),
        id: id.0,
        year: row.year,
        fields: roadmap_fields(input.unwrap_or(&current), &orgs, errors),
        errors: summary(errors),
    })
}

pub async fn edit_roadmap_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RoadmapActionId>,
) -> Result<RoadmapActionPage, WebError> {
    roadmap_action_page(&state, &user, id, None, &FieldErrors::default()).await
}

pub async fn update_roadmap_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RoadmapActionId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: RoadmapInput = decode(&pairs)?;
    match governance::update_roadmap_action(&state.app, &user.caller, id, &input).await {
        Ok(year) => Ok(flash::redirect(
            &format!("/gouvernance/feuille-de-route?annee={year}"),
            Message::RoadmapSaved,
        )
        .into_response()),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            roadmap_action_page(&state, &user, id, Some(&input), &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
