//! `/indicateurs`: the figures of the caller's territory (or of another they may see, of all of
//! theirs side by side, or of France for national pilots) over a period, section by section —
//! the path, the barriers, the orientations, the collective actions, the employers, the
//! partners, the situation after the exit — with masked cells shown « s », each figure's
//! definition one click away, SVG charts beside their tables, a print layout for the yearly
//! report, and the same tables as CSV and XLSX. Every figure comes from `app::indicators`,
//! masked there.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use app::FieldErrors;
use app::indicators::{self, IndicatorInput, Indicators};
use domain::indicators::Section;

use crate::chart;
use crate::layout::{Layout, Nav};
use crate::session::CurrentUser;
use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/indicateurs", get(show))
        .route("/indicateurs.csv", get(csv))
        .route("/indicateurs.xlsx", get(xlsx))
}

pub struct TableView {
    pub key: String,
    pub title: String,
    pub definition: String,
    pub header: Vec<String>,
    /// (label, definition) of each column after the rows' header.
    pub definitions: Vec<(&'static str, &'static str)>,
    pub rows: Vec<(String, Vec<String>)>,
    pub totals: Option<Vec<String>>,
    /// A bar chart drawn from one of its columns (the table stays the source of truth).
    pub chart: Option<String>,
}

pub struct SectionView {
    pub code: &'static str,
    pub label: &'static str,
    pub tables: Vec<TableView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "indicators.html")]
pub struct Page {
    layout: Layout,
    label: String,
    du: String,
    au: String,
    period: String,
    /// The caller reads aggregates only: whole months already over.
    months_only: bool,
    /// « le 03/12/2026 à 02:00 » when the figures are the day's snapshot.
    as_of: String,
    perimeters: Vec<(String, String, bool)>,
    funnel: Vec<(&'static str, &'static str, String)>,
    funnel_chart: String,
    sections: Vec<SectionView>,
    threshold: i64,
    query: String,
    errors: Vec<String>,
}

fn shown(v: Option<i64>) -> String {
    v.map_or_else(|| "s".to_string(), |n| n.to_string())
}

fn table_view(t: &indicators::Table) -> TableView {
    // The barriers' chart: how many had each barrier at their first diagnostic.
    let chart = (t.key == "freins").then(|| {
        chart::bars(
            &t.rows
                .iter()
                .zip(&t.published.cells)
                .map(|((_, label), cells)| {
                    (
                        label.clone(),
                        cells[..2].iter().copied().sum::<Option<i64>>(),
                    )
                })
                .collect::<Vec<_>>(),
        )
    });
    TableView {
        key: t.key.clone(),
        title: t.title.clone(),
        definition: t.definition.clone(),
        header: t.header(),
        definitions: t
            .definitions()
            .iter()
            .map(|c| (c.label, c.definition))
            .collect(),
        rows: t.body(),
        totals: t.totals(),
        chart,
    }
}

fn page(
    user: &CurrentUser,
    input: &IndicatorInput,
    figures: Option<&Indicators>,
    errors: &FieldErrors,
) -> Page {
    let national = indicators::is_national(&user.caller);
    let readable = indicators::readable(&user.caller);
    let mut perimeters: Vec<(String, String, bool)> = user
        .caller
        .territories
        .iter()
        .filter(|t| national || readable.iter().any(|(id, _)| *id == t.id))
        .map(|t| {
            (
                t.slug.to_string(),
                t.name.clone(),
                input.perimetre == t.slug.as_str(),
            )
        })
        .collect();
    if !national && readable.len() > 1 {
        perimeters.push((
            "mes-territoires".into(),
            format!("Mes {} territoires, côte à côte", readable.len()),
            input.perimetre == "mes-territoires",
        ));
    }
    if national {
        perimeters.push((
            "france".into(),
            "France entière".into(),
            input.perimetre == "france",
        ));
    }
    let query = serde_urlencoded::to_string([
        ("du", input.du.as_str()),
        ("au", input.au.as_str()),
        ("perimetre", input.perimetre.as_str()),
    ])
    .unwrap_or_default();
    let sections = figures
        .map(|f| {
            Section::ALL
                .iter()
                .map(|s| SectionView {
                    code: s.as_str(),
                    label: s.label(),
                    tables: f
                        .tables
                        .iter()
                        .filter(|t| t.section == *s)
                        .map(table_view)
                        .collect(),
                })
                .filter(|s| !s.tables.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Page {
        layout: Layout::for_user("Indicateurs", user, Nav::Indicators)
            .crumbs(&[("Accueil", "/"), ("Indicateurs", "")]),
        label: figures.map(|f| f.label.clone()).unwrap_or_default(),
        du: figures.map_or_else(|| input.du.clone(), |f| domain::iso_date(f.from)),
        au: figures.map_or_else(|| input.au.clone(), |f| domain::iso_date(f.to)),
        period: figures
            .map(|f| {
                format!(
                    "du {} au {}",
                    domain::french_date(f.from),
                    domain::french_date(f.to)
                )
            })
            .unwrap_or_default(),
        months_only: indicators::reach_of(&user.caller, &input.perimetre).is_ok_and(|(r, _)| {
            indicators::period_rule(&user.caller, &r) == indicators::PeriodRule::WholeMonths
        }),
        as_of: figures
            .and_then(|f| f.as_of)
            .map(|at| {
                domain::TimeZone::Paris
                    .local(at)
                    .format("le %d/%m/%Y à %H:%M")
                    .to_string()
            })
            .unwrap_or_default(),
        perimeters,
        funnel: figures
            .map(|f| {
                f.funnel
                    .iter()
                    .map(|(s, v)| (s.label(), s.definition(), shown(*v)))
                    .collect()
            })
            .unwrap_or_default(),
        funnel_chart: figures
            .map(|f| {
                chart::bars(
                    &f.funnel
                        .iter()
                        .map(|(s, v)| (s.label().to_string(), *v))
                        .collect::<Vec<_>>(),
                )
            })
            .unwrap_or_default(),
        sections,
        threshold: figures.map_or(domain::secrecy::THRESHOLD, |f| f.threshold),
        query,
        errors: errors.iter().map(|(_, m)| m.to_string()).collect(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(input): Query<IndicatorInput>,
) -> Result<Response, WebError> {
    match indicators::indicators(&state.app, &user.caller, &input).await {
        Ok(figures) => {
            Ok(page(&user, &input, Some(&figures), &FieldErrors::default()).into_response())
        }
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&user, &input, None, &errors),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

pub async fn csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(input): Query<IndicatorInput>,
) -> Result<Response, WebError> {
    let figures = indicators::indicators(&state.app, &user.caller, &input).await?;
    let name = format!(
        "indicateurs-{}-{}.csv",
        domain::iso_date(figures.from),
        domain::iso_date(figures.to)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        figures.csv(),
    )
        .into_response())
}

pub async fn xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(input): Query<IndicatorInput>,
) -> Result<Response, WebError> {
    let figures = indicators::indicators(&state.app, &user.caller, &input).await?;
    let name = format!(
        "indicateurs-{}-{}.xlsx",
        domain::iso_date(figures.from),
        domain::iso_date(figures.to)
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        figures.xlsx()?,
    )
        .into_response())
}
