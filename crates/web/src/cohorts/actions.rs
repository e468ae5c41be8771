//! `/actions-collectives`: the territory's actions, the form of a new one, an action's page
//! (invitations one by one or a whole cohort, registrations, no-shows), the attendance sheet
//! made for a phone, and the printable invitation.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::actions::{self, ActionInput, ActionPage, InviteInput};
use domain::cohort::{ActionKind, Attendance, Registration};
use domain::{CollectiveActionId, Field as ActionField, PersonId};

use super::{Message, choices, summary};
use crate::flash;
use crate::forms::{Checkboxes, Field, Pairs, date_fr, decode};
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

pub struct Row {
    pub id: i64,
    pub title: String,
    pub kind: &'static str,
    pub when: String,
    pub place: String,
    pub registered: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "cohorts/actions.html")]
pub struct ListPage {
    layout: Layout,
    coming: Vec<Row>,
    past: Vec<Row>,
}

fn when(a: &app::models::ActionRow) -> String {
    if a.ends_at.is_empty() {
        format!("{} à {}", date_fr(&a.held_on), a.starts_at)
    } else {
        format!("{}, {} – {}", date_fr(&a.held_on), a.starts_at, a.ends_at)
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(m): Query<MessageQuery>,
) -> Result<ListPage, WebError> {
    let rows = actions::list(&state.app, &user.caller).await?;
    let today = domain::iso_date(state.app.today_in(user.caller.zone()));
    let (mut coming, mut past) = (Vec::new(), Vec::new());
    for a in &rows {
        let row = Row {
            id: a.id.0,
            title: a.title.clone(),
            kind: a.kind.label(),
            when: when(a),
            place: a.place.clone(),
            registered: match a.capacity {
                Some(c) => format!("{} / {c}", a.registered),
                None => a.registered.to_string(),
            },
        };
        if a.held_on >= today {
            coming.push(row);
        } else {
            past.push(row);
        }
    }
    coming.reverse();
    Ok(ListPage {
        layout: Layout::for_user("Actions collectives", &user, Nav::Cohorts)
            .crumbs(&[("Accueil", "/"), ("Actions collectives", "")])
            .with_message(m.message.as_deref()),
        coming,
        past,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "cohorts/action_new.html")]
pub struct NewPage {
    layout: Layout,
    fields: Vec<Field>,
    boxes: Vec<Checkboxes>,
    errors: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    cohorte: String,
}

async fn form(
    state: &AppState,
    user: &CurrentUser,
    input: ActionInput,
    errors: &FieldErrors,
) -> Result<NewPage, WebError> {
    let c = actions::choices(&state.app, &user.caller).await?;
    let mut cohorts = vec![(String::new(), "Aucune".to_string())];
    cohorts.extend(c.cohorts.iter().map(|(k, n)| (k.0.to_string(), n.clone())));
    let mut fields = vec![(String::new(), "Aucun en particulier".to_string())];
    fields.extend(ActionField::options());
    let organisers = if input.organisers.is_empty() {
        c.mine.map(|o| vec![o.0.to_string()]).unwrap_or_default()
    } else {
        input.organisers.clone()
    };
    let orgs: Vec<(String, String)> = c
        .organisations
        .iter()
        .map(|(o, n)| (o.0.to_string(), n.clone()))
        .collect();
    Ok(NewPage {
        layout: Layout::for_user("Nouvelle action collective", user, Nav::Cohorts).crumbs(&[
            ("Accueil", "/"),
            ("Actions collectives", "/actions-collectives"),
            ("Nouvelle action", ""),
        ]),
        fields: vec![
            Field::select("kind", "Type d'action", &input.kind, ActionKind::options())
                .required()
                .errors(errors),
            Field::text("title", "Intitulé", &input.title)
                .required()
                .errors(errors),
            Field::typed("held_on", "Jour", &input.held_on, "date", "off")
                .required()
                .errors(errors),
            Field::typed(
                "starts_at",
                "Heure de début",
                &input.starts_at,
                "time",
                "off",
            )
            .required()
            .errors(errors),
            Field::typed("ends_at", "Heure de fin", &input.ends_at, "time", "off").errors(errors),
            Field::text("place", "Lieu", &input.place)
                .hint("Adresse et salle.")
                .required()
                .errors(errors),
            Field::typed(
                "capacity",
                "Nombre de places",
                &input.capacity,
                "number",
                "off",
            )
            .hint("Laissez vide pour ne pas limiter les inscriptions.")
            .errors(errors),
            Field::select("field", "Champ d'action", &input.field, fields).errors(errors),
            Field::select("cohort", "Cohorte", &input.cohort, cohorts).errors(errors),
            Field::textarea("description", "Présentation", &input.description)
                .hint("Reprise dans l'invitation.")
                .errors(errors),
        ],
        boxes: vec![
            Checkboxes::new(
                "organisers",
                "Structures organisatrices",
                orgs.clone(),
                &organisers,
            )
            .errors(errors),
            Checkboxes::new("partners", "Structures partenaires", orgs, &input.partners)
                .errors(errors),
            Checkboxes::new(
                "employers",
                "Employeurs présents",
                c.employers
                    .iter()
                    .map(|(e, n)| (e.0.to_string(), n.clone()))
                    .collect(),
                &input.employers,
            )
            .hint("Chacun voit l'action dans son historique d'engagement.")
            .errors(errors),
        ],
        errors: summary(errors),
    })
}

pub async fn new(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<NewQuery>,
) -> Result<NewPage, WebError> {
    let input = ActionInput {
        cohort: q.cohorte,
        ..ActionInput::default()
    };
    form(&state, &user, input, &FieldErrors::default()).await
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: ActionInput = decode(&pairs)?;
    match actions::create(&state.app, &user.caller, &input).await {
        Ok(id) => Ok(flash::redirect(&actions::path(id), Message::ActionCreated).into_response()),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            form(&state, &user, input, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

pub struct PersonRow {
    pub person: i64,
    pub name: String,
    pub status: &'static str,
    pub invited: bool,
    pub mailed: bool,
    pub attendance: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "cohorts/action.html")]
pub struct ShowPage {
    layout: Layout,
    id: i64,
    title: String,
    kind: &'static str,
    when: String,
    place: String,
    description: String,
    places: String,
    organisers: Vec<String>,
    partners: Vec<String>,
    employers: Vec<(i64, String)>,
    cohort: Option<(i64, String)>,
    field: Option<&'static str>,
    counts: Vec<(String, String)>,
    persons: Vec<PersonRow>,
    hidden: usize,
    may_manage: bool,
    attendance_open: bool,
    cohorts: Vec<(String, String, bool)>,
    errors: Vec<String>,
}

fn show_page(
    user: &CurrentUser,
    p: ActionPage,
    message: Option<&str>,
    errors: &FieldErrors,
) -> ShowPage {
    let a = &p.action;
    let orgs = a.organisations();
    let mut counts = vec![
        ("Inscrites".to_string(), a.registered.to_string()),
        (
            "Invitées (pas encore inscrites)".to_string(),
            a.invited.to_string(),
        ),
        ("Présentes".to_string(), a.present.to_string()),
        ("Absentes".to_string(), a.absent.to_string()),
        ("Excusées".to_string(), a.excused.to_string()),
    ];
    if let Some(rate) = p.no_show_rate() {
        counts.push((
            "Taux d'absence non excusée".to_string(),
            format!("{rate} %"),
        ));
    }
    let chosen = a.cohort_id.map(|k| vec![k.to_string()]).unwrap_or_default();
    ShowPage {
        layout: Layout::for_user(&a.title, user, Nav::Cohorts)
            .crumbs(&[
                ("Accueil", "/"),
                ("Actions collectives", "/actions-collectives"),
                (&a.title, ""),
            ])
            .with_message(message),
        id: a.id.0,
        title: a.title.clone(),
        kind: a.kind.label(),
        when: when(a),
        place: a.place.clone(),
        description: a.description.clone(),
        places: match a.capacity {
            Some(c) => format!("{} inscrites sur {c} places", a.registered),
            None => format!("{} inscrites (sans limite de places)", a.registered),
        },
        organisers: orgs
            .iter()
            .filter(|(_, _, o)| *o)
            .map(|(_, n, _)| n.clone())
            .collect(),
        partners: orgs
            .iter()
            .filter(|(_, _, o)| !*o)
            .map(|(_, n, _)| n.clone())
            .collect(),
        employers: a.employers().into_iter().map(|(e, n)| (e.0, n)).collect(),
        cohort: a.cohort_id.zip(a.cohort_name.clone()),
        field: a
            .field
            .as_deref()
            .and_then(ActionField::from_code)
            .map(ActionField::label),
        counts,
        persons: p
            .registrations
            .iter()
            .map(|r| PersonRow {
                person: r.person_id.0,
                name: format!("{} {}", r.first_name, r.last_name)
                    .trim()
                    .to_string(),
                status: r.status.label(),
                invited: r.status == Registration::Invitee,
                mailed: r.invitation_mailed_at.is_some(),
                attendance: r.attendance().map_or("", Attendance::label),
            })
            .collect(),
        hidden: p.hidden,
        may_manage: p.may_manage,
        attendance_open: p.attendance_open,
        cohorts: choices(
            &p.cohorts
                .iter()
                .map(|(k, n)| (k.0, n.clone()))
                .collect::<Vec<_>>(),
            &chosen,
        ),
        errors: summary(errors),
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CollectiveActionId>,
    Query(m): Query<MessageQuery>,
) -> Result<ShowPage, WebError> {
    let p = actions::page(&state.app, &user.caller, id).await?;
    Ok(show_page(
        &user,
        p,
        m.message.as_deref(),
        &FieldErrors::default(),
    ))
}

async fn refused(
    state: &AppState,
    user: &CurrentUser,
    id: CollectiveActionId,
    errors: &FieldErrors,
) -> Result<Response, WebError> {
    let p = actions::page(&state.app, &user.caller, id).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        show_page(user, p, None, errors),
    )
        .into_response())
}

pub async fn invite(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CollectiveActionId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: InviteInput = decode(&pairs)?;
    match actions::invite(&state.app, &user.caller, id, &input).await {
        Ok(_) => Ok(flash::redirect(&actions::path(id), Message::Invited).into_response()),
        Err(app::AppError::Invalid(errors)) => refused(&state, &user, id, &errors).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn register(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, person)): Path<(CollectiveActionId, PersonId)>,
    CsrfForm(_): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    match actions::register(&state.app, &user.caller, id, person).await {
        Ok(()) => Ok(flash::redirect(&actions::path(id), Message::Registered).into_response()),
        Err(app::AppError::Invalid(errors)) => refused(&state, &user, id, &errors).await,
        Err(e) => Err(e.into()),
    }
}

pub struct SheetRow {
    pub person: i64,
    pub name: String,
    pub marks: Vec<(&'static str, &'static str, bool)>,
}

/// The attendance sheet: one line per registered person, three large radio buttons, made to be
/// filled in on a phone at the door.
#[derive(Template, WebTemplate)]
#[template(path = "cohorts/attendance.html")]
pub struct SheetPage {
    layout: Layout,
    id: i64,
    title: String,
    when: String,
    rows: Vec<SheetRow>,
    open: bool,
    errors: Vec<String>,
}

async fn sheet(
    state: &AppState,
    user: &CurrentUser,
    id: CollectiveActionId,
    typed: &Pairs,
    errors: &FieldErrors,
) -> Result<SheetPage, WebError> {
    let p = actions::page(&state.app, &user.caller, id).await?;
    if !p.may_manage {
        return Err(app::AppError::Forbidden.into());
    }
    let a = &p.action;
    Ok(SheetPage {
        layout: Layout::for_user("Présences", user, Nav::Cohorts).crumbs(&[
            ("Accueil", "/"),
            ("Actions collectives", "/actions-collectives"),
            (&a.title, &actions::path(id)),
            ("Présences", ""),
        ]),
        id: a.id.0,
        title: a.title.clone(),
        when: when(a),
        rows: p
            .registrations
            .iter()
            .filter(|r| r.status == Registration::Inscrite)
            .map(|r| {
                let key = format!("presence_{}", r.person_id.0);
                let current = typed
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone())
                    .or_else(|| r.attendance().map(|x| x.as_str().to_string()))
                    .unwrap_or_default();
                SheetRow {
                    person: r.person_id.0,
                    name: format!("{} {}", r.first_name, r.last_name)
                        .trim()
                        .to_string(),
                    marks: Attendance::ALL
                        .iter()
                        .map(|m| (m.as_str(), m.label(), m.as_str() == current))
                        .collect(),
                }
            })
            .collect(),
        open: p.attendance_open,
        errors: summary(errors),
    })
}

pub async fn attendance_sheet(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CollectiveActionId>,
) -> Result<SheetPage, WebError> {
    sheet(&state, &user, id, &Vec::new(), &FieldErrors::default()).await
}

pub async fn attendance(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CollectiveActionId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let marks: Vec<(String, String)> = pairs
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("presence_")
                .map(|p| (p.to_string(), v.clone()))
        })
        .collect();
    match actions::take_attendance(&state.app, &user.caller, id, &marks).await {
        Ok(_) => Ok(flash::redirect(&actions::path(id), Message::Attendance).into_response()),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            sheet(&state, &user, id, &pairs, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "cohorts/invitation.html")]
pub struct InvitationPage {
    layout: Layout,
    id: i64,
    name: String,
    paragraphs: Vec<String>,
}

pub async fn invitation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, person)): Path<(CollectiveActionId, PersonId)>,
) -> Result<InvitationPage, WebError> {
    let i = actions::invitation(&state.app, &user.caller, id, person).await?;
    Ok(InvitationPage {
        layout: Layout::for_user(
            &format!("Invitation : {}", i.action.title),
            &user,
            Nav::Cohorts,
        )
        .crumbs(&[
            ("Accueil", "/"),
            ("Actions collectives", "/actions-collectives"),
            (&i.action.title, &actions::path(id)),
            ("Invitation", ""),
        ]),
        id: id.0,
        paragraphs: i.text.split("\n\n").map(str::to_string).collect(),
        name: i.name,
    })
}
