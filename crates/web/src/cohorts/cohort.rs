//! `/cohortes`: the territory's cohorts, the form of a new one, and a cohort's page — its
//! public, members and their progress, candidates, actions — with the forms that add members
//! and end a stay.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::cohorts::{self, AddInput, CohortInput, CohortPage, LeaveInput};
use domain::cohort::LeaveReason;
use domain::person::{FunnelStatus, Sex};
use domain::{CohortId, PersonId};

use super::{Message, summary};
use crate::flash;
use crate::forms::{Checkboxes, Field, Pairs, date_fr, decode};
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

pub struct Row {
    pub id: i64,
    pub name: String,
    pub public: String,
    pub period: String,
    pub members: String,
    pub wave: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "cohorts/list.html")]
pub struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    may_create: bool,
}

fn period(starts: &str, ends: Option<&str>) -> String {
    match ends {
        Some(e) => format!("du {} au {}", date_fr(starts), date_fr(e)),
        None => format!("depuis le {}", date_fr(starts)),
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(m): Query<MessageQuery>,
) -> Result<ListPage, WebError> {
    let l = cohorts::list(&state.app, &user.caller).await?;
    Ok(ListPage {
        layout: Layout::for_user("Cohortes", &user, Nav::Cohorts)
            .crumbs(&[("Accueil", "/"), ("Cohortes", "")])
            .with_message(m.message.as_deref()),
        rows: l
            .cohorts
            .iter()
            .map(|(k, p)| Row {
                id: k.id.0,
                name: k.name.clone(),
                public: p.describe(),
                period: period(&k.starts_on, k.ends_on.as_deref()),
                members: match k.capacity {
                    Some(c) => format!("{} / {c}", k.current),
                    None => k.current.to_string(),
                },
                wave: k.wave.clone(),
            })
            .collect(),
        may_create: l.may_create,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "cohorts/new.html")]
pub struct NewPage {
    layout: Layout,
    fields: Vec<Field>,
    public: Vec<Field>,
    boxes: Vec<Checkboxes>,
    errors: Vec<String>,
}

async fn form(
    state: &AppState,
    user: &CurrentUser,
    pairs: &Pairs,
    errors: &FieldErrors,
) -> Result<NewPage, WebError> {
    let team = cohorts::team(&state.app, &user.caller).await?;
    let input: CohortInput = if pairs.is_empty() {
        CohortInput::default()
    } else {
        decode(pairs)?
    };
    let ticked = |on: bool, code: &str| {
        if on {
            vec![code.to_string()]
        } else {
            Vec::new()
        }
    };
    let mut flags = ticked(input.qpv, "qpv");
    flags.extend(ticked(input.brsa, "brsa"));
    flags.extend(ticked(input.deld, "deld"));
    flags.extend(ticked(input.rqth, "rqth"));
    let mut sexes = vec![(String::new(), "Femmes et hommes".to_string())];
    sexes.extend(Sex::options());
    Ok(NewPage {
        layout: Layout::for_user("Nouvelle cohorte", user, Nav::Cohorts).crumbs(&[
            ("Accueil", "/"),
            ("Cohortes", "/cohortes"),
            ("Nouvelle cohorte", ""),
        ]),
        fields: vec![
            Field::text("name", "Nom de la cohorte", &input.name)
                .hint("Par exemple « Femmes 26-55 ans éloignées de l'emploi ».")
                .required()
                .errors(errors),
            Field::typed("starts_on", "Début", &input.starts_on, "date", "off")
                .required()
                .errors(errors),
            Field::typed("ends_on", "Fin prévue", &input.ends_on, "date", "off").errors(errors),
            Field::typed("capacity", "Nombre de places", &input.capacity, "number", "off")
                .hint("Laissez vide pour ne pas limiter.")
                .errors(errors),
            Field::text("wave", "Vague", &input.wave)
                .hint("Par exemple « 2027 — vague 1 ».")
                .errors(errors),
        ],
        public: vec![
            Field::typed("age_min", "Âge minimum", &input.age_min, "number", "off").errors(errors),
            Field::typed("age_max", "Âge maximum", &input.age_max, "number", "off").errors(errors),
            Field::select("sex", "Public", &input.sex, sexes).errors(errors),
            Field::textarea("description", "Autres caractéristiques du public", &input.description)
                .hint("Ce que les critères ne disent pas (par exemple « sans emploi depuis plus d'un an »).")
                .errors(errors),
        ],
        boxes: vec![
            Checkboxes::new(
                "statuses",
                "Où en sont les personnes",
                FunnelStatus::ALL
                    .iter()
                    .filter(|s| **s != FunnelStatus::Sorti)
                    .map(|s| (s.as_str().to_string(), s.label().to_string()))
                    .collect(),
                &input.statuses,
            )
            .hint("Aucune case cochée : toute personne non sortie.")
            .inline()
            .errors(errors),
            Checkboxes::new(
                "criteres",
                "Critères",
                vec![
                    ("qpv".into(), "Résidant en QPV".into()),
                    ("brsa".into(), "Bénéficiaire du RSA".into()),
                    ("deld".into(), "Demandeur d'emploi depuis un an ou plus (DELD)".into()),
                    ("rqth".into(), "Avec une RQTH (connue seulement de qui peut lire les données de santé)".into()),
                ],
                &flags,
            )
            .errors(errors),
            Checkboxes::new(
                "referents",
                "Référents de la cohorte",
                team.iter().map(|(u, n)| (u.0.to_string(), n.clone())).collect(),
                &input.referents,
            )
            .errors(errors),
        ],
        errors: summary(errors),
    })
}

pub async fn new(State(state): State<AppState>, user: CurrentUser) -> Result<NewPage, WebError> {
    form(&state, &user, &Vec::new(), &FieldErrors::default()).await
}

/// The criteria checkboxes share one name in the form; the use case reads one flag each.
fn with_flags(pairs: &Pairs) -> Pairs {
    let mut out: Pairs = pairs
        .iter()
        .filter(|(k, _)| k != "criteres")
        .cloned()
        .collect();
    for (k, v) in pairs.iter().filter(|(k, _)| k == "criteres") {
        let _ = k;
        if ["qpv", "brsa", "deld", "rqth"].contains(&v.as_str()) {
            out.push((v.clone(), "1".into()));
        }
    }
    out
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let pairs = with_flags(&pairs);
    let input: CohortInput = decode(&pairs)?;
    match cohorts::create(&state.app, &user.caller, &input).await {
        Ok(id) => Ok(flash::redirect(&cohorts::path(id), Message::CohortCreated).into_response()),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            form(&state, &user, &pairs, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

pub struct MemberRow {
    pub person: i64,
    pub name: String,
    pub stay: String,
    pub open: bool,
    pub barriers: String,
    pub orientations: String,
    pub actions: String,
    pub exit: String,
}

pub struct CandidateRow {
    pub person: i64,
    pub name: String,
    pub status: &'static str,
    pub since: String,
    pub sure: bool,
    pub missing: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "cohorts/cohort.html")]
pub struct ShowPage {
    layout: Layout,
    id: i64,
    name: String,
    public: String,
    description: String,
    period: String,
    places: String,
    wave: String,
    referents: String,
    hidden: usize,
    totals: Vec<(String, String)>,
    members: Vec<MemberRow>,
    may_manage: bool,
    candidates: Option<Vec<CandidateRow>>,
    actions: Vec<(i64, String, String)>,
    today: String,
    leave_reasons: Vec<(String, String)>,
    errors: Vec<String>,
}

fn show_page(
    user: &CurrentUser,
    p: CohortPage,
    message: Option<&str>,
    errors: &FieldErrors,
) -> ShowPage {
    let k = &p.cohort;
    let t = &p.totals;
    let mut totals = vec![
        ("Membres actuels".to_string(), t.current.to_string()),
        (
            "Personnes passées par la cohorte".to_string(),
            t.ever.to_string(),
        ),
        (
            "Freins levés (entre le premier et le dernier diagnostic)".to_string(),
            format!("{} sur {}", t.lifted, t.barriers),
        ),
        (
            "Orientations (dont entrées effectives)".to_string(),
            format!("{} ({})", t.orientations, t.entered),
        ),
        (
            "Participations aux actions collectives (présences / invitations)".to_string(),
            format!("{} / {}", t.attended, t.invited),
        ),
    ];
    for (c, n) in &t.exits {
        totals.push((
            format!("Sorties : {}", c.label().to_lowercase()),
            n.to_string(),
        ));
    }
    ShowPage {
        layout: Layout::for_user(&k.name, user, Nav::Cohorts)
            .crumbs(&[("Accueil", "/"), ("Cohortes", "/cohortes"), (&k.name, "")])
            .with_message(message),
        id: k.id.0,
        name: k.name.clone(),
        public: p.public.describe(),
        description: p.public.description.clone(),
        period: period(&k.starts_on, k.ends_on.as_deref()),
        places: match k.capacity {
            Some(c) => format!(
                "{} place{} ({} occupée{})",
                c,
                if c > 1 { "s" } else { "" },
                t.current,
                if t.current > 1 { "s" } else { "" }
            ),
            None => "sans limite de places".into(),
        },
        wave: k.wave.clone(),
        referents: p
            .referents
            .iter()
            .map(|(_, n)| n.clone())
            .collect::<Vec<_>>()
            .join(", "),
        hidden: p.hidden,
        totals,
        members: p
            .members
            .iter()
            .map(|m| MemberRow {
                person: m.person.0,
                name: m.name.clone(),
                stay: match (&m.stay.left_on, m.stay.leave_reason()) {
                    (Some(l), r) => format!(
                        "du {} au {}{}",
                        date_fr(&m.stay.entered_on),
                        date_fr(l),
                        r.map_or(String::new(), |r| format!(
                            " ({})",
                            r.label().to_lowercase()
                        ))
                    ),
                    (None, _) => format!("depuis le {}", date_fr(&m.stay.entered_on)),
                },
                open: m.stay.left_on.is_none(),
                barriers: if m.progress.barriers == 0 {
                    "—".into()
                } else {
                    format!(
                        "{} levé{} sur {}",
                        m.progress.lifted,
                        if m.progress.lifted > 1 { "s" } else { "" },
                        m.progress.barriers
                    )
                },
                orientations: format!(
                    "{} ({} entrée{})",
                    m.progress.orientations,
                    m.progress.entered,
                    if m.progress.entered > 1 { "s" } else { "" }
                ),
                actions: format!("{} / {}", m.progress.attended, m.progress.invited),
                exit: m.exit().map_or_else(
                    || m.status.map_or(String::new(), |s| s.label().to_string()),
                    |x| {
                        format!(
                            "Sortie : {} ({})",
                            x.label(),
                            x.category().label().to_lowercase()
                        )
                    },
                ),
            })
            .collect(),
        may_manage: p.may_manage,
        candidates: p.candidates.as_ref().map(|cs| {
            cs.iter()
                .map(|c| CandidateRow {
                    person: c.person.0,
                    name: c.name.clone(),
                    status: c.status.label(),
                    since: date_fr(&c.since),
                    sure: c.sure,
                    missing: c.missing.join(" ; "),
                })
                .collect()
        }),
        actions: p
            .actions
            .iter()
            .map(|a| {
                (
                    a.id.0,
                    format!("{} : {}", a.kind.label(), a.title),
                    date_fr(&a.held_on),
                )
            })
            .collect(),
        today: domain::iso_date(p.today),
        leave_reasons: LeaveReason::options(),
        errors: summary(errors),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    candidats: String,
    message: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CohortId>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, WebError> {
    let p = cohorts::page(&state.app, &user.caller, id, q.candidats == "1").await?;
    Ok(show_page(
        &user,
        p,
        q.message.as_deref(),
        &FieldErrors::default(),
    ))
}

async fn refused(
    state: &AppState,
    user: &CurrentUser,
    id: CohortId,
    errors: &FieldErrors,
) -> Result<Response, WebError> {
    let p = cohorts::page(&state.app, &user.caller, id, true).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        show_page(user, p, None, errors),
    )
        .into_response())
}

pub async fn add_members(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CohortId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: AddInput = decode(&pairs)?;
    match cohorts::add_members(&state.app, &user.caller, id, &input).await {
        Ok(_) => Ok(flash::redirect(&cohorts::path(id), Message::MembersAdded).into_response()),
        Err(app::AppError::Invalid(errors)) => refused(&state, &user, id, &errors).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn remove_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, person)): Path<(CohortId, PersonId)>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: LeaveInput = decode(&pairs)?;
    match cohorts::remove_member(&state.app, &user.caller, id, person, &input).await {
        Ok(()) => Ok(flash::redirect(&cohorts::path(id), Message::MemberLeft).into_response()),
        Err(app::AppError::Invalid(errors)) => refused(&state, &user, id, &errors).await,
        Err(e) => Err(e.into()),
    }
}
