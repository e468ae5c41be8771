//! « Vérifier une adresse » : is this address in a QPV, for which map, and how sure is it.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use app::FieldErrors;
use domain::Millesime;

use crate::forms::Field;
use crate::layout::{Layout, Nav};
use crate::session::CurrentUser;
use crate::{AppState, WebError};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CheckQuery {
    adresse: Option<String>,
    millesime: Option<String>,
}

pub struct ResultView {
    pub label: Option<String>,
    pub inside: Option<(String, String)>,
    pub nearest: Option<(String, String, f64)>,
    pub confidence: &'static str,
    pub uncertain: bool,
    pub near_boundary: bool,
    pub millesime: i32,
    pub score: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "qpv/check.html")]
pub struct CheckPage {
    layout: Layout,
    address: Field,
    millesime: Field,
    result: Option<ResultView>,
    qpv_count: usize,
}

pub async fn check_address(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CheckQuery>,
) -> Result<CheckPage, WebError> {
    let mut errors = FieldErrors::default();
    let millesime_text = q
        .millesime
        .clone()
        .unwrap_or_else(|| Millesime::CURRENT.year().to_string());
    let millesime = match Millesime::parse(&millesime_text) {
        Ok(m) => m,
        Err(e) => {
            errors.add("millesime", e.0);
            Millesime::CURRENT
        }
    };
    let mut result = None;
    if let Some(address) = q.adresse.as_deref().filter(|_| errors.is_empty()) {
        match app::qpv::lookup_address(&state.app, address, millesime).await {
            Ok(a) => {
                let near_boundary = a.qpv.distance_m.is_some_and(|d| d < 50.0);
                result = Some(ResultView {
                    label: a.label,
                    inside: a.qpv.code_qp.clone().zip(a.qpv.lib_qp.clone()),
                    nearest: match (a.qpv.qpv_proche, a.qpv.lib_qpv_proche, a.qpv.distance_m) {
                        (Some(c), Some(n), Some(d)) => Some((c, n, d)),
                        _ => None,
                    },
                    uncertain: a.confidence != territory::geocoder::Confidence::Sur,
                    confidence: a.confidence.label(),
                    near_boundary,
                    millesime: a.qpv.millesime,
                    score: a.score.map(|s| format!("{:.2}", s).replace('.', ",")),
                });
            }
            Err(app::AppError::Invalid(e)) => errors = e,
            Err(e) => return Err(e.into()),
        }
    }
    let options = Millesime::ALL
        .iter()
        .rev()
        .map(|m| (m.year().to_string(), format!("Carte {m}")))
        .collect();
    Ok(CheckPage {
        layout: Layout::for_user("Vérifier une adresse", &user, Nav::Qpv)
            .crumbs(&[("Accueil", "/"), ("Vérifier une adresse", "")]),
        address: Field::typed(
            "adresse",
            "Adresse",
            q.adresse.as_deref().unwrap_or(""),
            "text",
            "street-address",
        )
        .hint(
            "Numéro, voie, code postal et commune, par exemple : 12 rue de la Gare, 59600 Maubeuge",
        )
        .required()
        .errors(&errors),
        millesime: Field::select(
            "millesime",
            "Carte des quartiers prioritaires",
            &millesime_text,
            options,
        )
        .errors(&errors),
        result,
        qpv_count: state.app.qpv.index().count(millesime),
    })
}
