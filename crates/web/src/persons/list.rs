//! The caseload « Mes personnes » (and, for coordinators, the whole territory), filtered.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::models::CaseloadRow;
use app::persons::{self, CaseloadInput};
use domain::person::{FunnelStatus, lost_from_view};

use super::{field_labels, full_name, qpv_label};
use crate::forms::{Field, date_fr};
use crate::layout::{Layout, Nav};
use crate::session::CurrentUser;
use crate::{AppState, WebError};

#[derive(Deserialize, Default, serde::Serialize)]
#[serde(default)]
pub struct CaseloadQuery {
    statut: String,
    qpv: String,
    champ: String,
    sans_referent: String,
    sans_contact: String,
    nom: String,
    a_rappeler: String,
    nouveaux: String,
    tous: String,
    #[serde(skip_serializing)]
    page: Option<usize>,
}

pub struct RowView {
    pub id: i64,
    pub name: String,
    pub status: &'static str,
    pub qpv: String,
    pub last_contact: String,
    pub silent_days: i64,
    pub lost: bool,
    pub fields: Vec<String>,
    pub referent: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/list.html")]
pub struct ListPage {
    layout: Layout,
    filters: Vec<Field>,
    name: Field,
    without_referent: bool,
    everyone: bool,
    coordinator: bool,
    rows: Vec<RowView>,
    total: usize,
    pages: Vec<(usize, String, bool)>,
    error_count: usize,
    lost_after_days: u32,
}

fn row_view(
    state: &AppState,
    r: &CaseloadRow,
    today: chrono::NaiveDate,
    lost_after: u32,
) -> RowView {
    let last = r
        .last_contact_on
        .clone()
        .unwrap_or_else(|| r.met_on.clone());
    let last_day = domain::parse_date(&last).ok();
    let silent_days = last_day.map_or(0, |d| (today - d).num_days());
    let status = r.status;
    RowView {
        id: r.id.0,
        name: full_name(&r.first_name, &r.last_name),
        status: r.status.label(),
        qpv: r
            .qpv_code
            .as_deref()
            .map(|c| qpv_label(state, c))
            .unwrap_or_default(),
        last_contact: date_fr(&last),
        silent_days,
        lost: last_day.is_some_and(|d| lost_from_view(status, d, today, lost_after)),
        fields: field_labels(&r.need_fields),
        referent: r.referent_name.clone().unwrap_or_default(),
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CaseloadQuery>,
) -> Result<Response, WebError> {
    let input = CaseloadInput {
        status: q.statut.clone(),
        qpv: q.qpv.clone(),
        field: q.champ.clone(),
        without_referent: !q.sans_referent.is_empty(),
        silent_days: q.sans_contact.clone(),
        name: q.nom.clone(),
        to_call_back: !q.a_rappeler.is_empty(),
        new_days: q.nouveaux.clone(),
        everyone: !q.tous.is_empty(),
        page: q.page.unwrap_or(1),
    };
    let (caseload, errors) = match persons::caseload(&state.app, &user.caller, &input).await {
        Ok(c) => (Some(c), FieldErrors::default()),
        Err(app::AppError::Invalid(e)) => (None, e),
        Err(e) => return Err(e.into()),
    };
    let statuses = FunnelStatus::options();
    let silences = vec![
        ("30".into(), "30 jours".into()),
        ("60".into(), "60 jours".into()),
        ("90".into(), "90 jours".into()),
    ];
    let qpv = vec![
        ("oui".into(), "Habitant un QPV".into()),
        ("non".into(), "Hors QPV ou non vérifié".into()),
    ];
    let base = serde_urlencoded::to_string(&q).unwrap_or_default();
    let coordinator = user
        .caller
        .active_territory
        .as_ref()
        .is_some_and(|t| user.caller.is_coordinator_of(t.id));
    let mut page = ListPage {
        layout: Layout::for_user("Mes personnes", &user, Nav::Persons)
            .crumbs(&[("Accueil", "/"), ("Personnes", "")]),
        filters: vec![
            Field::select("statut", "Statut", &q.statut, statuses).errors(&errors),
            Field::select("qpv", "Quartier prioritaire", &q.qpv, qpv).errors(&errors),
            Field::select(
                "champ",
                "Besoin (champ d'action)",
                &q.champ,
                crate::directory::field_options(),
            )
            .errors(&errors),
            Field::select(
                "sans_contact",
                "Sans contact depuis",
                &q.sans_contact,
                silences,
            )
            .errors(&errors),
        ],
        name: Field::typed("nom", "Nom ou prénom", &q.nom, "search", "off")
            .hint("Les accents et les fautes de frappe sont tolérés")
            .errors(&errors),
        without_referent: input.without_referent,
        everyone: input.everyone,
        coordinator,
        rows: Vec::new(),
        total: 0,
        pages: Vec::new(),
        error_count: errors.iter().count(),
        lost_after_days: state.app.settings.lost_after_days,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if let Some(c) = caseload {
        page.rows = c
            .rows
            .iter()
            .map(|r| row_view(&state, r, c.today, c.lost_after_days))
            .collect();
        page.total = c.total;
        if c.pages > 1 {
            page.pages = (1..=c.pages)
                .map(|n| (n, format!("/personnes?{base}&page={n}"), n == c.page))
                .collect();
        }
    }
    Ok((status, page).into_response())
}
