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
    /// A position instead of an address (WGS 84), when the address cannot be checked.
    lon: Option<String>,
    lat: Option<String>,
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
    /// No geocoder answered: the address is kept, other ways are offered.
    unavailable: bool,
    position: Vec<Field>,
    /// The territory's QPVs on this map, to pick one by its name.
    territory_qpvs: Vec<(String, String)>,
    millesime_year: i32,
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
    let mut unavailable = false;
    let position = (
        q.lon.as_deref().map(str::trim),
        q.lat.as_deref().map(str::trim),
    );
    if let (Some(lon), Some(lat)) = position
        && !lon.is_empty()
        && errors.is_empty()
    {
        let number = |field: &'static str, text: &str, errors: &mut FieldErrors| {
            text.replace(',', ".").parse::<f64>().map_err(|_| {
                errors.add(field, "Indiquez un nombre, par exemple 3,962.");
            })
        };
        if let (Ok(x), Ok(y)) = (
            number("lon", lon, &mut errors),
            number("lat", lat, &mut errors),
        ) {
            match app::qpv::lookup_point(&state.app, x, y, millesime) {
                Ok(p) => {
                    result = Some(ResultView {
                        label: Some(format!("position {lon} ; {lat}")),
                        inside: p.code_qp.clone().zip(p.lib_qp.clone()),
                        nearest: match (p.qpv_proche, p.lib_qpv_proche, p.distance_m) {
                            (Some(c), Some(n), Some(d)) => Some((c, n, d)),
                            _ => None,
                        },
                        uncertain: false,
                        confidence: "sûr",
                        near_boundary: p.distance_m.is_some_and(|d| d < 50.0),
                        millesime: p.millesime,
                        score: None,
                    })
                }
                Err(app::AppError::Invalid(e)) => errors = e,
                Err(e) => return Err(e.into()),
            }
        }
    } else if let Some(address) = q.adresse.as_deref().filter(|_| errors.is_empty()) {
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
            // The check stays on its page: the address kept, other ways offered.
            Err(app::AppError::Unavailable(reason)) => {
                tracing::warn!(%reason, "address check: geocoder unavailable");
                unavailable = true;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let territory_qpvs = if unavailable {
        app::qpv::of_territory(&state.app, &user.caller, millesime).await?
    } else {
        Vec::new()
    };
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
        unavailable,
        position: vec![
            Field::typed(
                "lon",
                "Longitude (WGS 84)",
                q.lon.as_deref().unwrap_or(""),
                "text",
                "off",
            )
            .hint("Par exemple 3,962")
            .errors(&errors),
            Field::typed(
                "lat",
                "Latitude (WGS 84)",
                q.lat.as_deref().unwrap_or(""),
                "text",
                "off",
            )
            .hint("Par exemple 50,272")
            .errors(&errors),
        ],
        territory_qpvs,
        millesime_year: millesime.year(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "qpv/batch.html")]
pub struct BatchPage {
    layout: Layout,
    fields: Vec<Field>,
    file_error: Option<String>,
    max_rows: String,
    max_columns: usize,
}

fn batch_page(
    user: &CurrentUser,
    input: &app::qpv_file::FileCheckInput,
    errors: &FieldErrors,
) -> BatchPage {
    let options = Millesime::ALL
        .iter()
        .rev()
        .map(|m| (m.year().to_string(), format!("Carte {m}")))
        .collect();
    let millesime = if input.millesime.is_empty() {
        Millesime::CURRENT.year().to_string()
    } else {
        input.millesime.clone()
    };
    BatchPage {
        layout: Layout::for_user("Vérification en masse", user, Nav::Qpv).crumbs(&[("Accueil", "/"), ("Vérifier une adresse", "/qpv/verifier"), ("Vérification en masse", "")]),
        fields: vec![
            Field::text("colonnes_adresse", "Colonnes de l'adresse", &input.colonnes_adresse)
                .hint("Noms des colonnes séparés par des virgules, dans l'ordre, par exemple : voie, code_postal, commune. Laissé vide : les colonnes nommées adresse, voie, code_postal, commune… sont reconnues.")
                .errors(errors),
            Field::text("colonne_longitude", "Ou : colonne de longitude", &input.colonne_longitude).hint("Si le fichier a déjà des coordonnées (WGS 84)").errors(errors),
            Field::text("colonne_latitude", "Colonne de latitude", &input.colonne_latitude).errors(errors),
            Field::select("millesime", "Carte des quartiers prioritaires", &millesime, options).errors(errors),
        ],
        file_error: errors.get("fichier").map(str::to_string),
        max_rows: app::spreadsheet::format_count(app::spreadsheet::LIMITS.max_rows as u64),
        max_columns: app::spreadsheet::LIMITS.max_columns,
    }
}

pub async fn show_batch(user: CurrentUser) -> BatchPage {
    batch_page(
        &user,
        &app::qpv_file::FileCheckInput::default(),
        &FieldErrors::default(),
    )
}

/// The checked file, as a download in the format it came in.
pub async fn check_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    form: crate::session::CsrfMultipart,
) -> Result<axum::response::Response, WebError> {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let field = |name: &str| form.fields.get(name).cloned().unwrap_or_default();
    let input = app::qpv_file::FileCheckInput {
        colonnes_adresse: field("colonnes_adresse"),
        colonne_longitude: field("colonne_longitude"),
        colonne_latitude: field("colonne_latitude"),
        millesime: field("millesime"),
    };
    let invalid = |errors: FieldErrors| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            batch_page(&user, &input, &errors),
        )
            .into_response()
    };
    let Some((name, bytes)) = form.file else {
        return Ok(invalid(
            app::AppError::field("fichier", "Choisissez un fichier CSV ou XLSX.")
                .into_field_errors(),
        ));
    };
    // The answer is written to a temporary file as it is computed, then streamed back.
    let temp =
        tempfile::NamedTempFile::new().map_err(|e| app::AppError::Internal(e.to_string()))?;
    let format = app::qpv_file::FileFormat::sniff(&bytes);
    let outcome = match format {
        app::qpv_file::FileFormat::Csv => {
            let file = temp
                .reopen()
                .map_err(|e| app::AppError::Internal(e.to_string()))?;
            let mut sink = app::qpv_file::CsvSink(
                csv::WriterBuilder::new()
                    .delimiter(b';')
                    .from_writer(std::io::BufWriter::new(file)),
            );
            let outcome =
                app::qpv_file::check_file(&state.app, bytes.clone(), &input, &mut sink).await;
            sink.0
                .flush()
                .map_err(|e| app::AppError::Internal(e.to_string()))?;
            outcome
        }
        app::qpv_file::FileFormat::Xlsx => {
            let mut sink = app::qpv_file::XlsxSink::new()?;
            let outcome =
                app::qpv_file::check_file(&state.app, bytes.clone(), &input, &mut sink).await;
            if outcome.is_ok() {
                sink.book
                    .save(temp.path())
                    .map_err(|e| app::AppError::Internal(e.to_string()))?;
            }
            outcome
        }
    };
    let report = match outcome {
        Ok(r) => r,
        Err(app::AppError::Invalid(errors)) => return Ok(invalid(errors)),
        Err(e) => return Err(e.into()),
    };
    tracing::info!(
        rows = report.rows,
        inside = report.inside,
        flagged = report.flagged,
        "batch QPV check"
    );
    let (extension, mime) = match format {
        app::qpv_file::FileFormat::Csv => ("csv", "text/csv; charset=utf-8"),
        app::qpv_file::FileFormat::Xlsx => (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    };
    // An ASCII file name: accents folded (« été » → « ete »), anything else replaced.
    let stem: String = domain::text::fold(
        std::path::Path::new(&name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("adresses"),
    )
    .chars()
    .map(|c| {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            c
        } else {
            '_'
        }
    })
    .collect();
    let file = tokio::fs::File::open(temp.path())
        .await
        .map_err(|e| app::AppError::Internal(e.to_string()))?;
    // The file stays readable after the temporary path is removed (Unix semantics).
    drop(temp);
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}-qpv.{extension}\""),
            ),
        ],
        body,
    )
        .into_response())
}
