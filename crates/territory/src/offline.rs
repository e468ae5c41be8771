//! The offline geocoder: official BAN addresses held in memory, matched against what people
//! type. Communes are found by postcode or by name; streets by trigram similarity of their
//! normalised names (typos, missing words and abbreviations are tolerated); house numbers
//! exactly, else the street itself. Answers carry a score in [0, 1] and a confidence, like
//! the BAN API's.

use std::collections::HashMap;

use crate::address::{normalize, parse};
use crate::geocoder::{Confidence, Geocoded};

/// One line of an official BAN file (`adresses-XX.csv`), as the geocoder needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct BanRow {
    /// The BAN's identifier of the address (`59392_0001_00012`).
    pub id: String,
    pub numero: Option<u32>,
    /// Repetition index as written in the file (`bis`, `ter`, `a`…), possibly empty.
    pub rep: String,
    pub nom_voie: String,
    pub code_postal: String,
    pub code_insee: String,
    pub nom_commune: String,
    pub lon: f64,
    pub lat: f64,
}

/// The columns of an official BAN département file, in order.
pub const BAN_HEADER: [&str; 23] = [
    "id",
    "id_fantoir",
    "numero",
    "rep",
    "nom_voie",
    "code_postal",
    "code_insee",
    "nom_commune",
    "code_insee_ancienne_commune",
    "nom_ancienne_commune",
    "x",
    "y",
    "lon",
    "lat",
    "type_position",
    "alias",
    "nom_ld",
    "libelle_acheminement",
    "nom_afnor",
    "source_position",
    "source_nom_voie",
    "certification_commune",
    "cad_parcelles",
];

/// Why a BAN file was refused: the line and the reason, in French.
#[derive(Debug, thiserror::Error)]
#[error("{}", match .line { Some(l) => format!("ligne {l} : {}", .reason), None => .reason.clone() })]
pub struct BanFileError {
    pub line: Option<u64>,
    pub reason: String,
}

/// Reads an official BAN département file (`adresses-XX.csv`, `;`-separated, official header;
/// gzipped or not) row by row, without holding it in memory. Stops at the first bad line.
pub fn read_ban_file(
    input: impl std::io::Read,
    mut on_row: impl FnMut(BanRow) -> Result<(), String>,
) -> Result<u64, BanFileError> {
    let mut input = std::io::BufReader::new(input);
    let gzipped = std::io::BufRead::fill_buf(&mut input)
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    let reader: Box<dyn std::io::Read> = if gzipped {
        Box::new(flate2::read::MultiGzDecoder::new(input))
    } else {
        Box::new(input)
    };
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(reader);
    let file_error = |reason: String| BanFileError { line: None, reason };
    let headers = csv
        .headers()
        .map_err(|e| file_error(format!("en-tête illisible : {e}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let required = [
        "numero",
        "rep",
        "nom_voie",
        "code_postal",
        "code_insee",
        "nom_commune",
        "lon",
        "lat",
        "id",
    ];
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| column(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(file_error(format!(
            "ce n'est pas un fichier d'adresses de la BAN : colonnes {} absentes de l'en-tête (attendu id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;…;lon;lat;…).",
            missing.join(", ")
        )));
    }
    let index: Vec<usize> = required.iter().filter_map(|c| column(c)).collect();
    let mut count = 0;
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line();
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(BanFileError {
                    line: Some(line),
                    reason: e.to_string(),
                });
            }
        }
        let fail = |reason: String| BanFileError {
            line: Some(record.position().map_or(line, |p| p.line())),
            reason,
        };
        let get = |i: usize| record.get(index[i]).unwrap_or("").trim();
        let numero = match get(0) {
            "" => None,
            n => Some(
                n.parse::<u32>()
                    .map_err(|_| fail(format!("numéro « {n} » invalide")))?,
            ),
        };
        let coordinate = |i: usize, name: &str, range: std::ops::RangeInclusive<f64>| {
            get(i)
                .parse::<f64>()
                .ok()
                .filter(|v| range.contains(v))
                .ok_or_else(|| fail(format!("{name} « {} » invalide", get(i))))
        };
        let row = BanRow {
            id: get(8).to_string(),
            numero,
            rep: get(1).to_string(),
            nom_voie: get(2).to_string(),
            code_postal: get(3).to_string(),
            code_insee: get(4).to_string(),
            nom_commune: get(5).to_string(),
            lon: coordinate(6, "longitude", -180.0..=180.0)?,
            lat: coordinate(7, "latitude", -90.0..=90.0)?,
        };
        if row.id.is_empty()
            || row.nom_voie.is_empty()
            || domain::InseeCode::parse(&row.code_insee).is_err()
        {
            return Err(fail("identifiant, voie ou code INSEE manquant".into()));
        }
        on_row(row).map_err(fail)?;
        count += 1;
    }
    Ok(count)
}

struct HouseNumber {
    number: u32,
    rep: Option<String>,
    lon: f64,
    lat: f64,
}

struct Street {
    name: String,
    trigrams: Vec<u32>,
    postcode: String,
    numbers: Vec<HouseNumber>,
    /// The street's own position when no number matches: the mean of its numbers.
    centre: (f64, f64),
}

struct Commune {
    insee: String,
    name: String,
    streets: Vec<Street>,
    /// Trigram → the streets whose name has it: a query counts shared trigrams only for the
    /// streets that share any, instead of comparing with every street.
    postings: HashMap<u32, Vec<u32>>,
}

/// The addresses of the imported départements, indexed for matching.
#[derive(Default)]
pub struct OfflineGeocoder {
    communes: Vec<Commune>,
    by_postcode: HashMap<String, Vec<usize>>,
    by_name: HashMap<String, Vec<usize>>,
    addresses: usize,
}

fn trigrams(norm: &str) -> Vec<u32> {
    let padded: Vec<char> = format!("  {norm} ").chars().collect();
    let mut grams: Vec<u32> = padded
        .windows(3)
        .map(|w| {
            w.iter().fold(2_166_136_261u32, |h, c| {
                (h ^ *c as u32).wrapping_mul(16_777_619)
            })
        })
        .collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

fn repetition(rep: &str) -> Option<String> {
    let r = normalize(rep);
    match r.as_str() {
        "" => None,
        "b" => Some("bis".into()),
        "t" => Some("ter".into()),
        "q" => Some("quater".into()),
        _ => Some(r),
    }
}

impl OfflineGeocoder {
    /// Builds the index from BAN rows (any order).
    pub fn build(rows: impl IntoIterator<Item = BanRow>) -> OfflineGeocoder {
        let mut g = OfflineGeocoder::default();
        let mut commune_index: HashMap<String, usize> = HashMap::new();
        let mut street_index: HashMap<(usize, String), usize> = HashMap::new();
        for row in rows {
            g.addresses += 1;
            let c = *commune_index
                .entry(row.code_insee.clone())
                .or_insert_with(|| {
                    g.communes.push(Commune {
                        insee: row.code_insee.clone(),
                        name: row.nom_commune.clone(),
                        streets: Vec::new(),
                        postings: HashMap::new(),
                    });
                    g.communes.len() - 1
                });
            let norm = normalize(&row.nom_voie);
            let s = *street_index.entry((c, norm.clone())).or_insert_with(|| {
                let commune = &mut g.communes[c];
                commune.streets.push(Street {
                    name: row.nom_voie.clone(),
                    trigrams: trigrams(&norm),
                    postcode: row.code_postal.clone(),
                    numbers: Vec::new(),
                    centre: (0.0, 0.0),
                });
                commune.streets.len() - 1
            });
            let postcodes = g.by_postcode.entry(row.code_postal.clone()).or_default();
            if !postcodes.contains(&c) {
                postcodes.push(c);
            }
            if let Some(number) = row.numero {
                g.communes[c].streets[s].numbers.push(HouseNumber {
                    number,
                    rep: repetition(&row.rep),
                    lon: row.lon,
                    lat: row.lat,
                });
            } else {
                g.communes[c].streets[s].centre = (row.lon, row.lat);
            }
        }
        for (i, commune) in g.communes.iter_mut().enumerate() {
            g.by_name
                .entry(normalize(&commune.name))
                .or_default()
                .push(i);
            for (s, street) in commune.streets.iter().enumerate() {
                for t in &street.trigrams {
                    commune.postings.entry(*t).or_default().push(s as u32);
                }
            }
            for street in &mut commune.streets {
                if !street.numbers.is_empty() {
                    let n = street.numbers.len() as f64;
                    street.centre = (
                        street.numbers.iter().map(|h| h.lon).sum::<f64>() / n,
                        street.numbers.iter().map(|h| h.lat).sum::<f64>() / n,
                    );
                }
                street.numbers.sort_by_key(|h| h.number);
            }
        }
        g
    }

    pub fn address_count(&self) -> usize {
        self.addresses
    }

    /// The best match for a typed address, or `None` when no street comes close.
    pub fn geocode(&self, query: &str) -> Option<Geocoded> {
        let parsed = parse(query);
        // Where to look, and the street text to match there: with a postcode, its communes
        // (narrowed by the commune name when given); without, the last words of the street
        // may be the commune's name (« rue de la Gare Louvroil »).
        let mut attempts: Vec<(Vec<usize>, String, bool)> = Vec::new();
        if let Some(postcode) = &parsed.postcode {
            let mut communes = self.by_postcode.get(postcode).cloned().unwrap_or_default();
            if !parsed.commune.is_empty() {
                let named: Vec<usize> = communes
                    .iter()
                    .copied()
                    .filter(|c| normalize(&self.communes[*c].name) == parsed.commune)
                    .collect();
                if !named.is_empty() {
                    communes = named;
                }
            }
            if !communes.is_empty() {
                attempts.push((communes, parsed.street.clone(), true));
            }
        }
        if attempts.is_empty() {
            let words: Vec<&str> = parsed.street.split(' ').filter(|w| !w.is_empty()).collect();
            let commune_words: Vec<&str> = parsed
                .commune
                .split(' ')
                .filter(|w| !w.is_empty())
                .collect();
            if !commune_words.is_empty()
                && let Some(found) = self.by_name.get(&commune_words.join(" "))
            {
                attempts.push((found.clone(), parsed.street.clone(), true));
            }
            for take in 1..=words.len().min(4) {
                let (street, commune) = words.split_at(words.len() - take);
                if let Some(found) = self.by_name.get(&commune.join(" ")) {
                    attempts.push((found.clone(), street.join(" "), true));
                }
            }
            if attempts.is_empty() {
                attempts.push((
                    (0..self.communes.len()).collect(),
                    parsed.street.clone(),
                    false,
                ));
            }
        }
        let mut best: Option<(f64, usize, usize, bool)> = None;
        for (communes, street_text, commune_known) in &attempts {
            let wanted = trigrams(street_text);
            for &c in communes {
                let commune = &self.communes[c];
                // Dice similarity 2·|shared| / (|a| + |b|), counting shared trigrams through
                // the postings (both sides are sets: trigrams are deduplicated).
                let mut shared = vec![0u16; commune.streets.len()];
                for t in &wanted {
                    for &s in commune.postings.get(t).map_or(&[][..], Vec::as_slice) {
                        shared[s as usize] += 1;
                    }
                }
                for (s, &n) in shared.iter().enumerate().filter(|(_, n)| **n > 0) {
                    let sim = 2.0 * f64::from(n)
                        / (wanted.len() + commune.streets[s].trigrams.len()) as f64;
                    if best.is_none_or(|(b, ..)| sim > b) {
                        best = Some((sim, c, s, *commune_known));
                    }
                }
            }
        }
        let (sim, c, s, commune_known) = best?;
        if sim < 0.45 {
            return None;
        }
        let commune = &self.communes[c];
        let street = &commune.streets[s];
        let exact = parsed.number.and_then(|n| {
            let same: Vec<&HouseNumber> = street.numbers.iter().filter(|h| h.number == n).collect();
            same.iter()
                .find(|h| h.rep == parsed.repetition)
                .or_else(|| same.iter().find(|h| h.rep.is_none()))
                .or(same.first())
                .copied()
        });
        let (lon, lat, kind, number_part, label_number) = match exact {
            Some(h) => (
                h.lon,
                h.lat,
                "housenumber",
                1.0,
                format!(
                    "{}{} ",
                    h.number,
                    h.rep
                        .as_deref()
                        .map(|r| format!(" {r}"))
                        .unwrap_or_default()
                ),
            ),
            None => (
                street.centre.0,
                street.centre.1,
                "street",
                if parsed.number.is_some() { 0.3 } else { 0.6 },
                String::new(),
            ),
        };
        let score = (0.6 * sim + 0.2 * if commune_known { 1.0 } else { 0.4 } + 0.2 * number_part)
            .clamp(0.0, 1.0);
        Some(Geocoded {
            label: format!(
                "{label_number}{} {} {}",
                street.name, street.postcode, commune.name
            ),
            lon,
            lat,
            score,
            confidence: Confidence::from(score, kind),
            kind: kind.to_string(),
            citycode: Some(commune.insee.clone()),
            postcode: Some(street.postcode.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A BAN row: commune as (postcode, INSEE code, name), position as (lon, lat).
    fn row(
        numero: Option<u32>,
        rep: &str,
        voie: &str,
        commune: (&str, &str, &str),
        at: (f64, f64),
    ) -> BanRow {
        let (cp, insee, name) = commune;
        BanRow {
            id: format!("{}_{}_{}", commune.1, voie.len(), numero.unwrap_or(0)),
            numero,
            rep: rep.into(),
            nom_voie: voie.into(),
            code_postal: cp.into(),
            code_insee: insee.into(),
            nom_commune: name.into(),
            lon: at.0,
            lat: at.1,
        }
    }

    fn geocoder() -> OfflineGeocoder {
        OfflineGeocoder::build([
            row(
                Some(12),
                "",
                "Boulevard du Général de Gaulle",
                ("59600", "59392", "Maubeuge"),
                (3.97, 50.27),
            ),
            row(
                Some(12),
                "bis",
                "Boulevard du Général de Gaulle",
                ("59600", "59392", "Maubeuge"),
                (3.971, 50.271),
            ),
            row(
                Some(14),
                "",
                "Boulevard du Général de Gaulle",
                ("59600", "59392", "Maubeuge"),
                (3.972, 50.272),
            ),
            row(
                Some(3),
                "",
                "Rue de la Gare",
                ("59600", "59392", "Maubeuge"),
                (3.95, 50.28),
            ),
            row(
                Some(3),
                "",
                "Rue de la Gare",
                ("59720", "59365", "Louvroil"),
                (3.96, 50.26),
            ),
            row(
                Some(5),
                "",
                "Rue de la Gare",
                ("59720", "59365", "Louvroil"),
                (3.961, 50.261),
            ),
            row(
                Some(8),
                "",
                "Impasse Sainte-Anne",
                ("59720", "59365", "Louvroil"),
                (3.965, 50.265),
            ),
        ])
    }

    const HEADER: &str = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles";

    #[test]
    fn an_official_file_is_read_plain_or_gzipped_and_a_bad_line_is_named() {
        let text = format!(
            "{HEADER}\n59392_0001_00012;59392_0001;12;bis;Boulevard du Général de Gaulle;59600;59392;Maubeuge;;;770000;7020000;3.971;50.271;entrée;;;MAUBEUGE;BOULEVARD DU GENERAL DE GAULLE;commune;commune;1;\n59365_0002_00003;;3;;Rue de la Gare;59720;59365;Louvroil;;;0;0;3.96;50.26;entrée;;;LOUVROIL;RUE DE LA GARE;commune;commune;1;\n"
        );
        let mut rows = Vec::new();
        assert_eq!(
            read_ban_file(text.as_bytes(), |r| {
                rows.push(r);
                Ok(())
            })
            .expect("valid"),
            2
        );
        assert_eq!(
            (rows[0].numero, rows[0].rep.as_str(), rows[0].lon),
            (Some(12), "bis", 3.971)
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, text.as_bytes()).expect("gzip");
        let gzipped = gz.finish().expect("gzip");
        assert_eq!(
            read_ban_file(gzipped.as_slice(), |_| Ok(())).expect("gzipped"),
            2
        );
        let bad = text.replace("3.96;50.26", "3.96;95.0");
        let err = read_ban_file(bad.as_bytes(), |_| Ok(())).expect_err("latitude out of range");
        assert_eq!(err.to_string(), "ligne 3 : latitude « 95.0 » invalide");
        let err =
            read_ban_file("code;nom\n1;x\n".as_bytes(), |_| Ok(())).expect_err("not a BAN file");
        assert!(err.to_string().contains("colonnes numero, rep"), "{err}");
    }

    #[test]
    fn abbreviations_repetitions_and_accents_find_the_exact_house() {
        let g = geocoder();
        let hit = g
            .geocode("12 bis bd du gal de Gaulle 59600 Maubeuge")
            .expect("found");
        assert_eq!(
            (hit.lon, hit.lat, hit.kind.as_str()),
            (3.971, 50.271, "housenumber")
        );
        assert_eq!(hit.confidence, Confidence::Sur, "{hit:?}");
        assert_eq!(
            hit.label,
            "12 bis Boulevard du Général de Gaulle 59600 Maubeuge"
        );
        assert_eq!(
            g.geocode("8 imp. Ste-Anne 59720")
                .expect("found")
                .citycode
                .as_deref(),
            Some("59365")
        );
    }

    #[test]
    fn the_commune_decides_between_two_streets_of_the_same_name() {
        let g = geocoder();
        assert_eq!(
            g.geocode("3 rue de la Gare 59720 Louvroil")
                .expect("found")
                .citycode
                .as_deref(),
            Some("59365")
        );
        assert_eq!(
            g.geocode("3 rue de la Gare 59600")
                .expect("found")
                .citycode
                .as_deref(),
            Some("59392")
        );
        // Without a postcode, the commune's name at the end is enough.
        assert_eq!(
            g.geocode("3 rue de la Gare Louvroil")
                .expect("found")
                .citycode
                .as_deref(),
            Some("59365")
        );
    }

    #[test]
    fn typos_are_tolerated_and_an_unknown_number_falls_back_to_the_street() {
        let g = geocoder();
        let typo = g
            .geocode("14 boulevrd du general de gaule 59600 Maubeuge")
            .expect("found despite typos");
        assert_eq!((typo.lon, typo.lat), (3.972, 50.272));
        let street = g
            .geocode("99 rue de la Gare 59720 Louvroil")
            .expect("the street");
        assert_eq!(street.kind, "street");
        assert_eq!(street.confidence, Confidence::Probable);
        assert!((street.lon - 3.9605).abs() < 1e-9, "the street's centre");
        assert!(
            g.geocode("10 avenue des Champs-Élysées 75008 Paris")
                .is_none(),
            "nothing close"
        );
    }
}
