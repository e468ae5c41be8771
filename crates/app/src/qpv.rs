//! The QPV engine: importing the official files (all or nothing), the in-memory index shared
//! by every request, and point lookups. After an import the index is rebuilt at once in this
//! process; other instances notice the new version within a minute (see `refresh_if_changed`).

use std::sync::{Arc, RwLock};

use domain::{Millesime, QpvCode};
use store::qpv::Change;
use territory::qpv::{Lookup, Polygon, QpvIndex, QpvShape};

use crate::{App, AppError};

const VERSION_KEY: &str = "qpv_version";

/// The current index and the version it was built from.
#[derive(Default)]
pub struct QpvState {
    current: RwLock<(Arc<QpvIndex>, String)>,
}

impl QpvState {
    pub fn index(&self) -> Arc<QpvIndex> {
        self.current.read().map(|g| g.0.clone()).unwrap_or_default()
    }

    fn version(&self) -> String {
        self.current.read().map(|g| g.1.clone()).unwrap_or_default()
    }

    fn replace(&self, index: QpvIndex, version: String) {
        if let Ok(mut g) = self.current.write() {
            *g = (Arc::new(index), version);
        }
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl ImportReport {
    fn count(&mut self, change: Change) {
        match change {
            Change::Created => self.created += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }

    fn changed(&self) -> bool {
        self.created + self.updated > 0
    }
}

/// The kind of official file, told by its content.
pub enum QpvFile {
    Contours,
    List,
}

impl QpvFile {
    pub fn sniff(bytes: &[u8]) -> QpvFile {
        match bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace() && **b != 0xEF && **b != 0xBB && **b != 0xBF)
        {
            Some(b'{') => QpvFile::Contours,
            _ => QpvFile::List,
        }
    }
}

/// Imports an official file for a map: contours (GeoJSON) or list (CSV). The whole file is
/// validated first; a refused file changes nothing.
pub async fn import(
    app: &App,
    bytes: &[u8],
    millesime: Millesime,
) -> Result<ImportReport, AppError> {
    let now = app.now();
    let mut report = ImportReport::default();
    let mut tx = app.db.begin().await?;
    match QpvFile::sniff(bytes) {
        QpvFile::Contours => {
            let text = std::str::from_utf8(bytes).map_err(|_| {
                AppError::field("file", "Le fichier GeoJSON doit être encodé en UTF-8.")
            })?;
            let shapes = territory::qpv::read_geojson(text, millesime)
                .map_err(|e| AppError::field("file", e.to_string()))?;
            for shape in &shapes {
                let geometry = serde_json::to_string(&shape.polygons)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                let change = store::qpv::upsert_contour(
                    &mut tx.conn(),
                    millesime,
                    &shape.code,
                    &shape.name,
                    &shape.communes,
                    &geometry,
                    now,
                )
                .await?;
                report.count(change);
            }
        }
        QpvFile::List => {
            let entries = territory::qpv::read_list_csv(bytes, millesime)
                .map_err(|e| AppError::field("file", e.to_string()))?;
            for entry in &entries {
                let change = store::qpv::upsert_listing(
                    &mut tx.conn(),
                    millesime,
                    &entry.code,
                    &entry.name,
                    &entry.communes,
                    now,
                )
                .await?;
                report.count(change);
            }
        }
    }
    if report.changed() {
        store::settings::put(&mut tx.conn(), VERSION_KEY, &crate::secrets::random_token()).await?;
    }
    tx.commit().await?;
    if report.changed() {
        reload(app).await?;
    }
    Ok(report)
}

/// Rebuilds the index from the database.
pub async fn reload(app: &App) -> Result<(), AppError> {
    let (contours, version) = {
        let mut pooled = app.db.acquire().await?;
        let contours = store::qpv::contours(&mut pooled.conn()).await?;
        let version = store::settings::get(&mut pooled.conn(), VERSION_KEY)
            .await?
            .unwrap_or_default();
        (contours, version)
    };
    let index = tokio::task::spawn_blocking(move || {
        let shapes = contours.into_iter().filter_map(|c| {
            let millesime = Millesime::from_year(c.millesime)?;
            let code = QpvCode::parse(&c.code).ok()?;
            let polygons: Vec<Polygon> = match serde_json::from_str(&c.geometry) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(code = %code, error = %e, "stored QPV contour unreadable");
                    return None;
                }
            };
            Some((
                millesime,
                QpvShape {
                    code,
                    name: c.name,
                    communes: String::new(),
                    polygons,
                },
            ))
        });
        QpvIndex::build(shapes)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    app.qpv.replace(index, version);
    Ok(())
}

/// Rebuilds the index if another instance imported files since it was built.
pub async fn refresh_if_changed(app: &App) -> Result<bool, AppError> {
    let version = {
        let mut pooled = app.db.acquire().await?;
        store::settings::get(&mut pooled.conn(), VERSION_KEY)
            .await?
            .unwrap_or_default()
    };
    if version == app.qpv.version() {
        return Ok(false);
    }
    reload(app).await?;
    Ok(true)
}

// The answers about a point and an address, for pages, the API and the command line. Their
// doc comments are the API document's descriptions (in French, as any text users read).

/// La réponse sur un point.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PointAnswer {
    /// Le code du QPV qui contient le point (null hors de tout QPV).
    pub code_qp: Option<String>,
    /// Son nom.
    pub lib_qp: Option<String>,
    /// La carte interrogée (2015 ou 2024).
    pub millesime: i32,
    /// Hors QPV : le QPV le plus proche sur cette carte…
    pub qpv_proche: Option<String>,
    pub lib_qpv_proche: Option<String>,
    /// … et sa distance, en mètres.
    pub distance_m: Option<f64>,
}

/// Checks that a longitude and a latitude make a point on Earth.
pub fn check_point(lon: f64, lat: f64) -> Result<(), AppError> {
    let mut errors = crate::FieldErrors::default();
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        errors.add(
            "lon",
            "La longitude doit être comprise entre -180 et 180 (degrés décimaux, WGS 84).",
        );
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        errors.add(
            "lat",
            "La latitude doit être comprise entre -90 et 90 (degrés décimaux, WGS 84).",
        );
    }
    errors.into_result(|| Some(()))
}

pub fn lookup_point(
    app: &App,
    lon: f64,
    lat: f64,
    millesime: Millesime,
) -> Result<PointAnswer, AppError> {
    check_point(lon, lat)?;
    let index = app.qpv.index();
    Ok(match index.lookup(lon, lat, millesime) {
        Lookup::Inside(zone) => PointAnswer {
            code_qp: Some(zone.code.to_string()),
            lib_qp: Some(zone.name.clone()),
            millesime: millesime.year(),
            qpv_proche: None,
            lib_qpv_proche: None,
            distance_m: None,
        },
        Lookup::Outside { nearest } => PointAnswer {
            code_qp: None,
            lib_qp: None,
            millesime: millesime.year(),
            qpv_proche: nearest.map(|(z, _)| z.code.to_string()),
            lib_qpv_proche: nearest.map(|(z, _)| z.name.clone()),
            distance_m: nearest.map(|(_, d)| d.round()),
        },
    })
}

/// La réponse sur une adresse : où le géocodeur l'a placée, avec quelle assurance, et le QPV.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct AddressAnswer {
    /// L'adresse demandée.
    pub adresse: String,
    /// L'adresse telle que le géocodeur l'a comprise ; null s'il n'a rien trouvé.
    pub label: Option<String>,
    /// Où le géocodeur l'a placée (WGS 84).
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// Le score du géocodeur, de 0 à 1.
    pub score: Option<f64>,
    /// L'assurance qu'on peut avoir de la position.
    #[schema(schema_with = confidence_schema)]
    pub confidence: territory::geocoder::Confidence,
    #[serde(flatten)]
    pub qpv: PointAnswer,
}

fn confidence_schema() -> utoipa::openapi::Object {
    crate::schema::codes(
        territory::geocoder::Confidence::ALL
            .iter()
            .filter_map(|c| serde_json::to_value(c).ok()),
        "sur : numéro trouvé avec un bon score ; probable : rue ou score moyen, vérifiez le libellé ; indetermine : commune seule ou score faible, l'adresse est à vérifier à la main.",
    )
}

fn check_address(address: &str) -> Result<&str, AppError> {
    let address = address.trim();
    if address.is_empty() {
        return Err(AppError::field(
            "adresse",
            "Saisissez une adresse, par exemple « 12 rue de la Gare, 59600 Maubeuge ».",
        ));
    }
    if address.chars().count() > 300 {
        return Err(AppError::field(
            "adresse",
            "Une adresse comporte 300 caractères au plus.",
        ));
    }
    Ok(address)
}

fn address_answer(
    app: &App,
    address: &str,
    found: Option<territory::geocoder::Geocoded>,
    millesime: Millesime,
) -> Result<AddressAnswer, AppError> {
    Ok(match found {
        Some(g) => AddressAnswer {
            adresse: address.to_string(),
            qpv: lookup_point(app, g.lon, g.lat, millesime)?,
            label: Some(g.label),
            lon: Some(g.lon),
            lat: Some(g.lat),
            score: Some(g.score),
            confidence: g.confidence,
        },
        None => AddressAnswer {
            adresse: address.to_string(),
            label: None,
            lon: None,
            lat: None,
            score: None,
            confidence: territory::geocoder::Confidence::Indetermine,
            qpv: PointAnswer {
                code_qp: None,
                lib_qp: None,
                millesime: millesime.year(),
                qpv_proche: None,
                lib_qpv_proche: None,
                distance_m: None,
            },
        },
    })
}

/// Geocodes an address (BAN), then looks its point up. An address the geocoder cannot find is
/// an answer (confidence « indéterminé », no QPV), not an error; an unreachable geocoder is.
pub async fn lookup_address(
    app: &App,
    address: &str,
    millesime: Millesime,
) -> Result<AddressAnswer, AppError> {
    let address = check_address(address)?;
    let found = app
        .geocoder
        .geocode(address)
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    address_answer(app, address, found, millesime)
}

/// Several addresses at once, through the geocoder's bulk path (one BAN request, not one per
/// address). One result per address, in order: a bad address gets its own error; an
/// unreachable geocoder fails the whole call.
pub async fn lookup_addresses(
    app: &App,
    addresses: &[String],
    millesime: Millesime,
) -> Result<Vec<Result<AddressAnswer, AppError>>, AppError> {
    let checked: Vec<Result<&str, AppError>> = addresses.iter().map(|a| check_address(a)).collect();
    let valid: Vec<String> = checked
        .iter()
        .filter_map(|c| c.as_ref().ok().map(|a| a.to_string()))
        .collect();
    let mut found = app
        .geocoder
        .geocode_batch(&valid)
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?
        .into_iter();
    Ok(checked
        .into_iter()
        .map(|c| {
            c.and_then(|address| address_answer(app, address, found.next().flatten(), millesime))
        })
        .collect())
}

/// The QPVs of the caller's territory on a map (to pick one by its name when an address
/// cannot be checked); empty without a territory.
pub async fn of_territory(
    app: &App,
    caller: &crate::Caller,
    millesime: Millesime,
) -> Result<Vec<(String, String)>, AppError> {
    let Some(territory) = caller.active_territory.as_ref() else {
        return Ok(Vec::new());
    };
    let mut pooled = app.db.acquire().await?;
    Ok(store::qpv::of_territory(&mut pooled.conn(), territory.id, millesime).await?)
}

/// Imports the fictional QPVs of the demo (« données fictives ») over its real communes.
pub async fn seed_demo(app: &App) -> Result<ImportReport, AppError> {
    let contours = import(
        app,
        include_bytes!("../data/qpv-demo.geojson"),
        Millesime::Y2024,
    )
    .await?;
    // The list (official CSV format) says which communes each fictional QPV lies on.
    import(
        app,
        include_bytes!("../data/qpv-demo-liste.csv"),
        Millesime::Y2024,
    )
    .await?;
    Ok(contours)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"code_qp":"QN05901N","lib_qp":"Carré","commune_qp":"Maubeuge"},
         "geometry":{"type":"Polygon","coordinates":[[[3.97,50.27],[3.98,50.27],[3.98,50.28],[3.97,50.28],[3.97,50.27]]]}}]}"#;

    store::both_backends! {
        async fn an_import_is_searchable_at_once_and_importing_it_again_changes_nothing(db) {
            let app = App::new(db.clone(), crate::Settings::default(), None).await.expect("app");
            let first = import(&app, FILE.as_bytes(), Millesime::Y2024).await.expect("imported");
            assert_eq!(first, ImportReport { created: 1, updated: 0, unchanged: 0 });
            let answer = lookup_point(&app, 3.975, 50.275, Millesime::Y2024).expect("valid point");
            assert_eq!(answer.code_qp.as_deref(), Some("QN05901N"));
            let again = import(&app, FILE.as_bytes(), Millesime::Y2024).await.expect("re-imported");
            assert_eq!(again, ImportReport { created: 0, updated: 0, unchanged: 1 });
            // Another instance over the same database sees the import after a refresh.
            let other = App::new(db.clone(), crate::Settings::default(), None).await.expect("app");
            assert_eq!(lookup_point(&other, 3.975, 50.275, Millesime::Y2024).expect("valid").code_qp.as_deref(), Some("QN05901N"));
        }

        async fn a_refused_file_leaves_the_stored_qpvs_exactly_as_they_were(db) {
            let app = App::new(db.clone(), crate::Settings::default(), None).await.expect("app");
            import(&app, FILE.as_bytes(), Millesime::Y2024).await.expect("imported");
            let moved = FILE.replace("3.97,50.27]]]", "3.97,50.27]]]}},{\"type\":\"Feature\",\"properties\":{\"code_qp\":\"QN05902N\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[1,2],[3,4],[1,2]]]").replace("[3.98,50.27]", "[3.99,50.27]");
            let Err(AppError::Invalid(errors)) = import(&app, moved.as_bytes(), Millesime::Y2024).await else { panic!("refused") };
            assert!(errors.get("file").expect("file error").starts_with("entité n° 2"), "{errors:?}");
            let mut pooled = db.acquire().await.expect("connection");
            let stored = store::qpv::contours(&mut pooled.conn()).await.expect("contours");
            assert_eq!(stored.len(), 1);
            assert!(stored[0].geometry.contains("3.98"), "the first QPV was not changed either");
        }

        async fn the_list_file_adds_communes_without_touching_contours(db) {
            let app = App::new(db.clone(), crate::Settings::default(), None).await.expect("app");
            import(&app, FILE.as_bytes(), Millesime::Y2024).await.expect("contours");
            let list = "code_qp;lib_qp;insee_com\nQN05901N;Carré de Maubeuge;59392\nQN05903I;Autre;59365\n";
            let report = import(&app, list.as_bytes(), Millesime::Y2024).await.expect("list");
            assert_eq!(report, ImportReport { created: 1, updated: 1, unchanged: 0 });
            assert_eq!(lookup_point(&app, 3.975, 50.275, Millesime::Y2024).expect("valid").lib_qp.as_deref(), Some("Carré de Maubeuge"));
        }
    }

    #[test]
    fn impossible_coordinates_are_refused_per_field() {
        let Err(AppError::Invalid(errors)) = check_point(652000.0, 95.0) else {
            panic!("refused")
        };
        assert!(errors.get("lon").is_some() && errors.get("lat").is_some());
    }
}
