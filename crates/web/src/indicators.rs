//! `/indicateurs`: the funnel of the caller's territory (or of another they may see, or of
//! France for national pilots) over a period, its breakdowns with masked cells shown « s », each
//! figure's definition beside it, and the CSV export of the same tables (`/indicateurs.csv`).
//! Every figure comes from `app::indicators`, masked there.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use app::FieldErrors;
use app::indicators::{self, IndicatorInput, Indicators};
use domain::indicators::Step;

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
    pub title: &'static str,
    pub definition: &'static str,
    pub rows: Vec<(&'static str, Vec<String>)>,
    pub totals: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "indicators.html")]
pub struct Page {
    layout: Layout,
    label: String,
    du: String,
    au: String,
    perimeters: Vec<(String, String, bool)>,
    steps: Vec<(&'static str, &'static str)>,
    funnel: Vec<(&'static str, &'static str, String)>,
    tables: Vec<TableView>,
    threshold: i64,
    query: String,
    errors: Vec<String>,
}

fn shown(v: Option<i64>) -> String {
    v.map_or_else(|| "s".to_string(), |n| n.to_string())
}

fn page(
    user: &CurrentUser,
    input: &IndicatorInput,
    figures: Option<&Indicators>,
    errors: &FieldErrors,
) -> Page {
    let national = indicators::is_national(&user.caller);
    let mut perimeters: Vec<(String, String, bool)> = user
        .caller
        .territories
        .iter()
        .map(|t| {
            (
                t.slug.to_string(),
                t.name.clone(),
                input.perimetre == t.slug.as_str(),
            )
        })
        .collect();
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
    Page {
        layout: Layout::for_user("Indicateurs", user, Nav::Indicators)
            .crumbs(&[("Accueil", "/"), ("Indicateurs", "")]),
        label: figures.map(|f| f.label.clone()).unwrap_or_default(),
        du: figures.map_or_else(|| input.du.clone(), |f| domain::iso_date(f.from)),
        au: figures.map_or_else(|| input.au.clone(), |f| domain::iso_date(f.to)),
        perimeters,
        steps: Step::ALL
            .iter()
            .map(|s| (s.label(), s.definition()))
            .collect(),
        funnel: figures
            .map(|f| {
                f.funnel
                    .iter()
                    .map(|(s, v)| (s.label(), s.definition(), shown(*v)))
                    .collect()
            })
            .unwrap_or_default(),
        tables: figures
            .map(|f| {
                f.tables
                    .iter()
                    .map(|t| TableView {
                        title: t.breakdown.label(),
                        definition: t.breakdown.definition(),
                        rows: t
                            .rows
                            .iter()
                            .enumerate()
                            .map(|(i, (_, label))| {
                                (
                                    *label,
                                    t.published.cells[i].iter().map(|v| shown(*v)).collect(),
                                )
                            })
                            .collect(),
                        totals: t
                            .published
                            .column_totals
                            .iter()
                            .map(|v| shown(*v))
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
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
