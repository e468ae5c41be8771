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
use domain::PersonId;
use domain::person::{FunnelStatus, lost_from_view};

use super::{field_labels, full_name, qpv_label, team_options};
use crate::forms::{Field, Pairs, date_fr, decode};
use crate::layout::{Layout, Nav};
use crate::session::{CsrfForm, CurrentUser};
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
    en_retard: String,
    nouveaux: String,
    tous: String,
    #[serde(skip_serializing)]
    page: Option<usize>,
    /// A flash message after a redirect here (an erased file).
    #[serde(skip_serializing)]
    message: Option<String>,
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
    pub overdue_actions: i64,
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
    /// The same list as a CSV file.
    export: String,
    /// For a coordinator's whole-territory view: the team, to name one référent for the
    /// persons ticked.
    bulk: Option<Vec<(String, String)>>,
    /// The filters the home page's figures open, said in words.
    special: Vec<&'static str>,
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
        overdue_actions: r.overdue_actions,
    }
}

fn input_of(q: &CaseloadQuery) -> CaseloadInput {
    CaseloadInput {
        status: q.statut.clone(),
        qpv: q.qpv.clone(),
        field: q.champ.clone(),
        without_referent: !q.sans_referent.is_empty(),
        silent_days: q.sans_contact.clone(),
        name: q.nom.clone(),
        to_call_back: !q.a_rappeler.is_empty(),
        overdue: !q.en_retard.is_empty(),
        new_days: q.nouveaux.clone(),
        everyone: !q.tous.is_empty(),
        page: q.page.unwrap_or(1),
    }
}

/// The list as a CSV file (`;`, UTF-8 with a BOM so that a spreadsheet reads the accents), with
/// the page's filters and within the caller's rights; every person exported is audited.
pub async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CaseloadQuery>,
) -> Result<Response, WebError> {
    let rows = persons::caseload_export(&state.app, &user.caller, &input_of(&q)).await?;
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    let failed = |e: csv::Error| WebError::App(app::AppError::Internal(e.to_string()));
    out.write_record([
        "numero_dossier",
        "prenom",
        "nom",
        "statut",
        "quartier_prioritaire",
        "date_reperage",
        "dernier_contact",
        "besoins",
        "referent",
    ])
    .map_err(failed)?;
    for r in &rows {
        out.write_record([
            r.id.0.to_string(),
            r.first_name.clone(),
            r.last_name.clone(),
            r.status.label().to_string(),
            r.qpv_code
                .as_deref()
                .map(|c| qpv_label(&state, c))
                .unwrap_or_default(),
            date_fr(&r.met_on),
            r.last_contact_on
                .as_deref()
                .map(date_fr)
                .unwrap_or_default(),
            field_labels(&r.need_fields).join(", "),
            r.referent_name.clone().unwrap_or_default(),
        ])
        .map_err(failed)?;
    }
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend(
        out.into_inner()
            .map_err(|e| failed(e.into_error().into()))?,
    );
    let name = format!(
        "personnes-{}.csv",
        domain::iso_date(state.app.today_in(user.caller.zone()))
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CaseloadQuery>,
) -> Result<Response, WebError> {
    let input = input_of(&q);
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
            .crumbs(&[("Accueil", "/"), ("Personnes", "")])
            .with_message(q.message.as_deref()),
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
        export: format!("/personnes/export.csv?{base}"),
        bulk: None,
        special: [
            (
                input.to_call_back,
                "à rappeler (tentatives sans réponse depuis le dernier contact)",
            ),
            (!input.new_days.is_empty(), "repérées ces derniers jours"),
            (input.overdue, "avec une action du plan en retard"),
            (input.without_referent, "sans référent"),
        ]
        .into_iter()
        .filter_map(|(on, label)| on.then_some(label))
        .collect(),
        error_count: errors.iter().count(),
        lost_after_days: state.app.settings.lost_after_days,
    };
    let status = crate::forms::status_for(&errors);
    if coordinator
        && input.everyone
        && let Some(territory) = user.caller.active_territory.as_ref()
    {
        page.bulk = Some(team_options(
            &persons::team(&state.app, territory.id).await?,
        ));
    }
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

/// The persons ticked and the référent chosen on the whole-territory list.
#[derive(Deserialize, Default)]
#[serde(default)]
struct BulkReferent {
    personnes: Vec<i64>,
    referent: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/bulk.html")]
pub struct BulkPage {
    layout: Layout,
    /// (file number, done, why not).
    rows: Vec<(i64, bool, String)>,
    done: usize,
    error: Option<String>,
}

/// A coordinator names one référent for the persons ticked: a report, person by person.
pub async fn assign_referent(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let form: BulkReferent = decode(&pairs)?;
    let ids: Vec<PersonId> = form.personnes.into_iter().map(PersonId).collect();
    let layout = Layout::for_user("Nommer un référent", &user, Nav::Persons).crumbs(&[
        ("Accueil", "/"),
        ("Personnes", "/personnes?tous=1"),
        ("Nommer un référent", ""),
    ]);
    match persons::assign_referent(&state.app, &user.caller, &ids, &form.referent).await {
        Ok(report) => {
            let done = report.iter().filter(|(_, r)| r.is_ok()).count();
            let rows = report
                .into_iter()
                .map(|(id, r)| (id.0, r.is_ok(), r.err().unwrap_or_default()))
                .collect();
            Ok(BulkPage {
                layout,
                rows,
                done,
                error: None,
            }
            .into_response())
        }
        Err(app::AppError::Invalid(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            BulkPage {
                layout,
                rows: Vec::new(),
                done: 0,
                error: Some(
                    e.iter()
                        .map(|(_, m)| m.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            },
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
