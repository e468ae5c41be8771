//! Address → point. The BAN (Base Adresse Nationale) API client speaks the public API's
//! format: `GET {base}/search/?q=…&limit=1` answers a GeoJSON FeatureCollection whose features
//! carry `label`, `score`, `type`, `citycode`, `postcode`. The offline geocoder over imported
//! BAN files is the other implementation (to come); both answer with [`Geocoded`].

use std::time::Duration;

use serde_json::Value;

/// How far a geocoder's answer can be trusted, as shown to users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// A house number found with a high score.
    Sur,
    /// A street or a middling score: check the label.
    Probable,
    /// A commune only, or a low score: the address must be checked by hand.
    Indetermine,
}

impl Confidence {
    pub const ALL: [Confidence; 3] = [
        Confidence::Sur,
        Confidence::Probable,
        Confidence::Indetermine,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Confidence::Sur => "sûr",
            Confidence::Probable => "probable",
            Confidence::Indetermine => "indéterminé",
        }
    }

    /// From the geocoder's score in [0, 1] and the kind of match (`housenumber`, `street`,
    /// `locality`, `municipality`).
    pub fn from(score: f64, kind: &str) -> Confidence {
        match kind {
            "housenumber" if score >= 0.8 => Confidence::Sur,
            "housenumber" | "street" | "locality" if score >= 0.5 => Confidence::Probable,
            _ => Confidence::Indetermine,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Geocoded {
    pub label: String,
    pub lon: f64,
    pub lat: f64,
    pub score: f64,
    /// `housenumber`, `street`, `locality` or `municipality`.
    pub kind: String,
    pub citycode: Option<String>,
    pub postcode: Option<String>,
    pub confidence: Confidence,
}

#[derive(Debug, thiserror::Error)]
pub enum GeocodeError {
    #[error("le service de géocodage est injoignable ({0})")]
    Unreachable(String),
    #[error("le service de géocodage a répondu une erreur ({0})")]
    Service(String),
    #[error("réponse du service de géocodage illisible : {0}")]
    Format(String),
}

/// The BAN API client.
#[derive(Debug, Clone)]
pub struct BanApi {
    base: url::Url,
    http: reqwest::Client,
}

impl BanApi {
    pub fn new(base_url: &str) -> Result<BanApi, String> {
        let mut base = url::Url::parse(base_url)
            .map_err(|e| format!("adresse du service BAN « {base_url} » invalide : {e}"))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("Passerelle/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(BanApi { base, http })
    }

    /// The best match for a free-text address, or `None` when the BAN finds nothing.
    pub async fn geocode(&self, query: &str) -> Result<Option<Geocoded>, GeocodeError> {
        let query = query.trim();
        // The API refuses queries under 3 characters: nothing to find there.
        if query.chars().count() < 3 {
            return Ok(None);
        }
        let mut url = self
            .base
            .join("search/")
            .map_err(|e| GeocodeError::Format(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("q", query)
            .append_pair("limit", "1");
        let response = send(self.http.get(url)).await?;
        let body: Value = response
            .json()
            .await
            .map_err(|e| GeocodeError::Format(e.without_url().to_string()))?;
        parse_feature_collection(&body).map(|mut all| {
            if all.is_empty() {
                None
            } else {
                Some(all.swap_remove(0))
            }
        })
    }
}

impl BanApi {
    /// Geocodes many addresses at once with the bulk endpoint `POST {base}/search/csv/`
    /// (multipart: a CSV file `data`, the `columns` to read). One answer per address, in order.
    pub async fn geocode_batch(
        &self,
        addresses: &[String],
    ) -> Result<Vec<Option<Geocoded>>, GeocodeError> {
        if addresses.is_empty() {
            return Ok(Vec::new());
        }
        let mut writer = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| GeocodeError::Format(e.to_string());
        writer
            .write_record(["passerelle_ligne", "adresse"])
            .map_err(io)?;
        for (i, a) in addresses.iter().enumerate() {
            writer
                .write_record([i.to_string().as_str(), a.trim()])
                .map_err(io)?;
        }
        let data = writer
            .into_inner()
            .map_err(|e| GeocodeError::Format(e.to_string()))?;
        let form = reqwest::multipart::Form::new()
            .part(
                "data",
                reqwest::multipart::Part::bytes(data)
                    .file_name("adresses.csv")
                    .mime_str("text/csv")
                    .map_err(|e| GeocodeError::Format(e.to_string()))?,
            )
            .text("columns", "adresse");
        let url = self
            .base
            .join("search/csv/")
            .map_err(|e| GeocodeError::Format(e.to_string()))?;
        let response = send(
            self.http
                .post(url)
                .timeout(Duration::from_secs(120))
                .multipart(form),
        )
        .await?;
        let body = response
            .bytes()
            .await
            .map_err(|e| GeocodeError::Unreachable(e.without_url().to_string()))?;
        parse_csv_answer(&body, addresses.len())
    }
}

/// Sends a request to the BAN and checks its status, in one place for every call.
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, GeocodeError> {
    let response = request
        .send()
        .await
        .map_err(|e| GeocodeError::Unreachable(e.without_url().to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(GeocodeError::Service(format!(
            "statut HTTP {}",
            status.as_u16()
        )));
    }
    Ok(response)
}

/// Reads the bulk endpoint's CSV: the rows sent, with `latitude`, `longitude`, `result_label`,
/// `result_score`, `result_type`, `result_citycode`, `result_postcode` appended.
pub fn parse_csv_answer(
    body: &[u8],
    expected: usize,
) -> Result<Vec<Option<Geocoded>>, GeocodeError> {
    let delimiter = if body
        .split(|b| *b == b'\n')
        .next()
        .is_some_and(|h| h.contains(&b';') && !h.contains(&b','))
    {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| GeocodeError::Format(e.to_string()))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(row), Some(lat), Some(lon)) = (
        column("passerelle_ligne"),
        column("latitude"),
        column("longitude"),
    ) else {
        return Err(GeocodeError::Format(
            "colonnes passerelle_ligne, latitude ou longitude absentes".into(),
        ));
    };
    let (label, score, kind, citycode, postcode) = (
        column("result_label"),
        column("result_score"),
        column("result_type"),
        column("result_citycode"),
        column("result_postcode"),
    );
    let mut answers = vec![None; expected];
    for record in reader.records() {
        let record = record.map_err(|e| GeocodeError::Format(e.to_string()))?;
        let get = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let Some(index) = get(Some(row))
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|i| *i < expected)
        else {
            continue;
        };
        let (Some(lat), Some(lon)) = (
            get(Some(lat)).and_then(|v| v.parse::<f64>().ok()),
            get(Some(lon)).and_then(|v| v.parse::<f64>().ok()),
        ) else {
            continue;
        };
        let score = get(score)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            .clamp(0.0, 1.0);
        let kind = get(kind).unwrap_or("inconnu").to_string();
        answers[index] = Some(Geocoded {
            label: get(label).unwrap_or("").to_string(),
            lon,
            lat,
            score,
            confidence: Confidence::from(score, &kind),
            kind,
            citycode: get(citycode).map(str::to_string),
            postcode: get(postcode).map(str::to_string),
        });
    }
    Ok(answers)
}

/// Reads the BAN API's GeoJSON answer.
pub fn parse_feature_collection(body: &Value) -> Result<Vec<Geocoded>, GeocodeError> {
    let features = body
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| GeocodeError::Format("pas de tableau « features »".into()))?;
    features
        .iter()
        .map(|f| {
            let coordinates = f
                .pointer("/geometry/coordinates")
                .and_then(Value::as_array)
                .ok_or_else(|| GeocodeError::Format("entité sans coordonnées".into()))?;
            let (lon, lat) = match coordinates.as_slice() {
                [lon, lat, ..] => (lon.as_f64(), lat.as_f64()),
                _ => (None, None),
            };
            let (Some(lon), Some(lat)) = (lon, lat) else {
                return Err(GeocodeError::Format("coordonnées non numériques".into()));
            };
            let p = f.get("properties").cloned().unwrap_or(Value::Null);
            let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
            let score = p
                .get("score")
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
                .clamp(0.0, 1.0);
            let kind = text("type").unwrap_or_else(|| "inconnu".into());
            Ok(Geocoded {
                label: text("label").unwrap_or_default(),
                lon,
                lat,
                score,
                confidence: Confidence::from(score, &kind),
                kind,
                citycode: text("citycode"),
                postcode: text("postcode"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::Query;
    use axum::routing::get;
    use std::collections::HashMap;

    /// A local server answering like the BAN API's `/search/` (same JSON shape).
    async fn ban_server() -> String {
        async fn search(Query(q): Query<HashMap<String, String>>) -> axum::response::Response {
            use axum::response::IntoResponse;
            let query = q.get("q").cloned().unwrap_or_default();
            if q.get("limit").map(String::as_str) != Some("1") {
                return (axum::http::StatusCode::BAD_REQUEST, "limit expected").into_response();
            }
            if query.contains("panne") {
                return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
            }
            let features = if query.to_lowercase().contains("maubeuge") {
                serde_json::json!([{
                    "type": "Feature",
                    "geometry": { "type": "Point", "coordinates": [3.962, 50.272] },
                    "properties": {
                        "label": "12 Rue de la Démonstration 59600 Maubeuge", "score": 0.93, "housenumber": "12",
                        "id": "59392_0001_00012", "type": "housenumber", "name": "12 Rue de la Démonstration",
                        "postcode": "59600", "citycode": "59392", "x": 770000.0, "y": 7020000.0,
                        "city": "Maubeuge", "context": "59, Nord, Hauts-de-France", "importance": 0.6, "street": "Rue de la Démonstration"
                    }
                }])
            } else {
                serde_json::json!([])
            };
            axum::Json(serde_json::json!({ "type": "FeatureCollection", "version": "draft", "features": features, "query": query, "limit": 1 })).into_response()
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, axum::Router::new().route("/search/", get(search))).await;
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn the_ban_client_reads_the_best_match_with_its_score_and_confidence() {
        let ban = BanApi::new(&ban_server().await).expect("client");
        let found = ban
            .geocode("12 rue de la Démonstration, 59600 Maubeuge")
            .await
            .expect("answer")
            .expect("found");
        assert_eq!(found.label, "12 Rue de la Démonstration 59600 Maubeuge");
        assert_eq!((found.lon, found.lat), (3.962, 50.272));
        assert_eq!(found.citycode.as_deref(), Some("59392"));
        assert_eq!(found.confidence, Confidence::Sur);
        assert!(ban.geocode("nulle part").await.expect("answer").is_none());
        assert!(ban.geocode("ab").await.expect("too short").is_none());
    }

    #[tokio::test]
    async fn a_failing_or_absent_service_is_an_error_in_french() {
        let ban = BanApi::new(&ban_server().await).expect("client");
        let err = ban.geocode("en panne").await.expect_err("503");
        assert!(err.to_string().contains("statut HTTP 503"), "{err}");
        let nobody = BanApi::new("http://127.0.0.1:9").expect("client");
        assert!(
            nobody
                .geocode("12 rue X Maubeuge")
                .await
                .expect_err("down")
                .to_string()
                .contains("injoignable")
        );
    }

    #[test]
    fn confidence_follows_the_kind_of_match_and_the_score() {
        assert_eq!(Confidence::from(0.9, "housenumber"), Confidence::Sur);
        assert_eq!(Confidence::from(0.6, "housenumber"), Confidence::Probable);
        assert_eq!(Confidence::from(0.9, "street"), Confidence::Probable);
        assert_eq!(
            Confidence::from(0.9, "municipality"),
            Confidence::Indetermine
        );
        assert_eq!(
            Confidence::from(0.3, "housenumber"),
            Confidence::Indetermine
        );
    }
}
