//! `/employeurs`: the territory's employers (searchable), the form of a new one, an employer's
//! page (engagements, actions, persons met, offers), and an offer's matches.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::employers::{self, EmployerInput, EmployerPage, EngagementInput, OfferInput};
use domain::employer::{Engagement, OfferStatus};
use domain::{EmployerId, OfferId};

use super::{Message, summary};
use crate::flash;
use crate::forms::{Field, Pairs, date_fr, decode, one};
use crate::layout::{Layout, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

pub struct Row {
    pub id: i64,
    pub name: String,
    pub siret: String,
    pub sector: String,
    pub commune: String,
    pub engagements: i64,
    pub last: String,
    pub offers: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "cohorts/employers.html")]
pub struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    q: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    message: Option<String>,
}

fn sector_of(naf: &str) -> String {
    if naf.len() < 2 {
        return String::new();
    }
    format!("{} ({naf})", domain::employer::sector(&naf[..2]))
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, WebError> {
    let rows = employers::list(&state.app, &user.caller, &q.q).await?;
    Ok(ListPage {
        layout: Layout::for_user("Employeurs", &user, Nav::Cohorts)
            .crumbs(&[("Accueil", "/"), ("Employeurs", "")])
            .with_message(q.message.as_deref()),
        rows: rows
            .iter()
            .map(|e| Row {
                id: e.id.0,
                name: e.name.clone(),
                siret: e.siret.clone(),
                sector: sector_of(&e.naf),
                commune: e.commune_name.clone(),
                engagements: e.engagements,
                last: e
                    .last_engaged_on
                    .as_deref()
                    .map(date_fr)
                    .unwrap_or_default(),
                offers: e.open_offers,
            })
            .collect(),
        q: q.q,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "cohorts/employer_new.html")]
pub struct NewPage {
    layout: Layout,
    fields: Vec<Field>,
    errors: Vec<String>,
}

fn form(user: &CurrentUser, input: &EmployerInput, errors: &FieldErrors) -> NewPage {
    NewPage {
        layout: Layout::for_user("Nouvel employeur", user, Nav::Cohorts).crumbs(&[
            ("Accueil", "/"),
            ("Employeurs", "/employeurs"),
            ("Nouvel employeur", ""),
        ]),
        fields: vec![
            Field::text("siret", "SIRET", &input.siret)
                .hint("14 chiffres, sur l'extrait Kbis ou l'annuaire des entreprises.")
                .required()
                .errors(errors),
            Field::text("name", "Raison sociale ou enseigne", &input.name)
                .required()
                .errors(errors),
            Field::text("naf", "Code NAF", &input.naf)
                .hint("Par exemple 47.11F.")
                .errors(errors),
            Field::text("commune", "Commune", &input.commune)
                .hint("Son nom ou son code INSEE.")
                .errors(errors),
            Field::text("contact_name", "Contact", &input.contact_name).errors(errors),
            Field::typed(
                "contact_email",
                "Courriel du contact",
                &input.contact_email,
                "email",
                "off",
            )
            .errors(errors),
            Field::typed(
                "contact_phone",
                "Téléphone du contact",
                &input.contact_phone,
                "tel",
                "off",
            )
            .errors(errors),
            Field::textarea("notes", "Notes", &input.notes).errors(errors),
        ],
        errors: summary(errors),
    }
}

pub async fn new(user: CurrentUser) -> NewPage {
    form(&user, &EmployerInput::default(), &FieldErrors::default())
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: EmployerInput = decode(&pairs)?;
    match employers::create(&state.app, &user.caller, &input).await {
        Ok(id) => {
            Ok(flash::redirect(&employers::path(id), Message::EmployerCreated).into_response())
        }
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            form(&user, &input, &errors),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "cohorts/employer.html")]
pub struct ShowPage {
    layout: Layout,
    id: i64,
    name: String,
    siret: String,
    sector: String,
    commune: String,
    contact: Vec<String>,
    notes: String,
    hired: i64,
    engagements: Vec<(String, &'static str, String)>,
    offers: Vec<(i64, String, String, i32, &'static str, bool)>,
    actions: Vec<(i64, String, String)>,
    met: Vec<(i64, String, String)>,
    hidden: usize,
    engage_fields: Vec<Field>,
    offer_fields: Vec<Field>,
    errors: Vec<String>,
}

fn show_page(
    user: &CurrentUser,
    p: EmployerPage,
    message: Option<&str>,
    pairs: &Pairs,
    errors: &FieldErrors,
) -> ShowPage {
    let e = &p.employer;
    let typed = |k: &str| one(pairs, k);
    ShowPage {
        layout: Layout::for_user(&e.name, user, Nav::Cohorts)
            .crumbs(&[
                ("Accueil", "/"),
                ("Employeurs", "/employeurs"),
                (&e.name, ""),
            ])
            .with_message(message),
        id: e.id.0,
        name: e.name.clone(),
        siret: e.siret.clone(),
        sector: p
            .sector
            .clone()
            .map(|s| format!("{s} ({})", e.naf))
            .unwrap_or_default(),
        commune: e.commune_name.clone(),
        contact: [&e.contact_name, &e.contact_email, &e.contact_phone]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.to_string())
            .collect(),
        notes: e.notes.clone(),
        hired: e.hired,
        engagements: p
            .engagements
            .iter()
            .map(|g| {
                let mut what = g.note.clone();
                if let Some(t) = &g.action_title {
                    what = format!("action « {t} »");
                }
                (date_fr(&g.happened_on), g.kind.label(), what)
            })
            .collect(),
        offers: p
            .offers
            .iter()
            .map(|o| {
                (
                    o.id.0,
                    o.title.clone(),
                    domain::diagnostic::RomeCode::stored(o.rome_code.clone()).display(),
                    o.positions,
                    o.status.label(),
                    o.status == OfferStatus::Ouverte,
                )
            })
            .collect(),
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
        met: p
            .met
            .iter()
            .map(|m| (m.person.0, m.name.clone(), m.how.join(", ")))
            .collect(),
        hidden: p.hidden,
        engage_fields: vec![
            Field::select("kind", "Engagement", &typed("kind"), Engagement::options())
                .required()
                .errors(errors),
            Field::typed("on", "Date", &typed("on"), "date", "off")
                .required()
                .errors(errors),
            Field::text(
                "person",
                "Personne concernée (numéro de dossier)",
                &typed("person"),
            )
            .hint("Facultatif : une immersion accueillie, un recrutement.")
            .errors(errors),
            Field::text("note", "Précisions", &typed("note")).errors(errors),
        ],
        offer_fields: vec![
            Field::text("title", "Intitulé du poste", &typed("title"))
                .required()
                .errors(errors),
            Field::text("rome_code", "Code ROME du métier", &typed("rome_code"))
                .hint("Par exemple N1103 (magasinier).")
                .required()
                .errors(errors),
            Field::text("commune", "Commune du poste", &typed("commune"))
                .hint("Vide : celle de l'employeur.")
                .errors(errors),
            Field::typed(
                "positions",
                "Nombre de postes",
                &typed("positions"),
                "number",
                "off",
            )
            .errors(errors),
            Field::textarea("description", "Description", &typed("description")).errors(errors),
        ],
        errors: summary(errors),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    message: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<EmployerId>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, WebError> {
    let p = employers::page(&state.app, &user.caller, id).await?;
    Ok(show_page(
        &user,
        p,
        q.message.as_deref(),
        &Vec::new(),
        &FieldErrors::default(),
    ))
}

async fn refused(
    state: &AppState,
    user: &CurrentUser,
    id: EmployerId,
    pairs: &Pairs,
    errors: &FieldErrors,
) -> Result<Response, WebError> {
    let p = employers::page(&state.app, &user.caller, id).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        show_page(user, p, None, pairs, errors),
    )
        .into_response())
}

pub async fn engage(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<EmployerId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: EngagementInput = decode(&pairs)?;
    match employers::engage(&state.app, &user.caller, id, &input).await {
        Ok(()) => Ok(flash::redirect(&employers::path(id), Message::Engaged).into_response()),
        Err(app::AppError::Invalid(errors)) => refused(&state, &user, id, &pairs, &errors).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn add_offer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<EmployerId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: OfferInput = decode(&pairs)?;
    match employers::add_offer(&state.app, &user.caller, id, &input).await {
        Ok(offer) => Ok(flash::redirect(
            &format!("/employeurs/{}/offres/{}", id.0, offer.0),
            Message::OfferAdded,
        )
        .into_response()),
        Err(app::AppError::Invalid(errors)) => refused(&state, &user, id, &pairs, &errors).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "cohorts/offer.html")]
pub struct OfferPage {
    layout: Layout,
    employer: (i64, String),
    offer: i64,
    title: String,
    rome: String,
    positions: i32,
    status: &'static str,
    open: bool,
    description: String,
    persons: Vec<(i64, String, bool)>,
    statuses: Vec<(String, String)>,
}

pub async fn offer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, offer)): Path<(EmployerId, OfferId)>,
    Query(q): Query<ShowQuery>,
) -> Result<OfferPage, WebError> {
    let m = employers::matches(&state.app, &user.caller, id, offer).await?;
    let emp = employers::path(id);
    Ok(OfferPage {
        layout: Layout::for_user(&m.offer.title, &user, Nav::Cohorts)
            .crumbs(&[
                ("Accueil", "/"),
                ("Employeurs", "/employeurs"),
                (&m.employer.name, &emp),
                (&m.offer.title, ""),
            ])
            .with_message(q.message.as_deref()),
        employer: (id.0, m.employer.name.clone()),
        offer: offer.0,
        title: m.offer.title.clone(),
        rome: m.rome.clone(),
        positions: m.offer.positions,
        status: m.offer.status.label(),
        open: m.offer.status == OfferStatus::Ouverte,
        description: m.offer.description.clone(),
        persons: m
            .persons
            .iter()
            .map(|(p, n, same)| (p.0, n.clone(), *same))
            .collect(),
        statuses: OfferStatus::ALL
            .iter()
            .filter(|s| **s != OfferStatus::Ouverte)
            .map(|s| (s.as_str().to_string(), s.label().to_string()))
            .collect(),
    })
}

pub async fn offer_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, offer)): Path<(EmployerId, OfferId)>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    employers::set_offer_status(&state.app, &user.caller, id, offer, &one(&pairs, "status"))
        .await?;
    Ok(flash::redirect(&employers::path(id), Message::OfferChanged).into_response())
}
