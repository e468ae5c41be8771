//! A national-size synthetic QPV map for benchmarks (never real geometries): ~1 600 quartiers
//! clustered around 300 fictional towns across metropolitan France, 50 to 2 000 vertices each,
//! a fifth with a hole, a tenth in several parts. Deterministic for a given seed.

use domain::{Millesime, QpvCode};

use crate::qpv::{Polygon, QpvShape, Ring};

/// SplitMix64: small, fast, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

const METRES_PER_DEGREE: f64 = 111_195.0;

/// A closed, star-shaped ring of `vertices` points around a centre (radii in metres): a lumpy
/// outline (low-frequency modulation, as blocks and streets give) with a little jitter.
fn star(rng: &mut Rng, lon: f64, lat: f64, radius: f64, vertices: usize) -> Ring {
    let kx = METRES_PER_DEGREE * lat.to_radians().cos();
    let (k1, k2) = (
        2.0 + (rng.next_u64() % 4) as f64,
        5.0 + (rng.next_u64() % 6) as f64,
    );
    let (p1, p2) = (rng.range(0.0, 6.3), rng.range(0.0, 6.3));
    let mut ring: Ring = (0..vertices)
        .map(|i| {
            let angle = std::f64::consts::TAU * i as f64 / vertices as f64;
            let lumps = 1.0 + 0.15 * (k1 * angle + p1).sin() + 0.08 * (k2 * angle + p2).sin();
            let r = radius * lumps * rng.range(0.98, 1.0);
            [
                lon + r * angle.cos() / kx,
                lat + r * angle.sin() / METRES_PER_DEGREE,
            ]
        })
        .collect();
    ring.push(ring[0]);
    ring
}

/// The synthetic map. `count` quartiers (1 600 for a national-size set).
pub fn national(seed: u64, count: usize) -> Vec<QpvShape> {
    let mut rng = Rng::new(seed);
    let towns: Vec<[f64; 2]> = (0..300)
        .map(|_| [rng.range(-4.5, 7.8), rng.range(42.6, 50.9)])
        .collect();
    (0..count)
        .map(|i| {
            let town = towns[(rng.next_u64() % towns.len() as u64) as usize];
            let (lon, lat) = (
                town[0] + rng.range(-0.06, 0.06),
                town[1] + rng.range(-0.04, 0.04),
            );
            // Vertex counts spread log-uniformly between 50 and 2 000.
            let vertices = (50.0 * 40f64.powf(rng.range(0.0, 1.0))) as usize;
            let radius = rng.range(250.0, 900.0);
            let kind = rng.next_u64() % 10;
            let mut outer: Polygon = vec![star(&mut rng, lon, lat, radius, vertices)];
            if kind < 2 {
                outer.push(star(
                    &mut rng,
                    lon,
                    lat,
                    radius * 0.3,
                    (vertices / 4).max(8),
                ));
            }
            let mut polygons = vec![outer];
            if kind == 9 {
                let kx = METRES_PER_DEGREE * lat.to_radians().cos();
                let offset = 2.5 * radius / kx;
                polygons.push(vec![star(
                    &mut rng,
                    lon + offset,
                    lat,
                    radius * 0.5,
                    (vertices / 2).max(8),
                )]);
            }
            let letter = ['N', 'M', 'I'][i % 3];
            let code = format!("QN{:03}{:02}{letter}", 1 + (i / 100) % 95, i % 100);
            QpvShape {
                code: QpvCode::parse_for(&code, Millesime::Y2024)
                    .unwrap_or_else(|e| unreachable!("generated code {code}: {e}")),
                name: format!("Quartier synthétique {}", i + 1),
                communes: String::new(),
                polygons,
            }
        })
        .collect()
}

/// Points to look up: half drawn near quartiers (inside their bounding box, widened), half
/// anywhere in metropolitan France, as a national batch of addresses would be.
pub fn points(seed: u64, shapes: &[QpvShape], count: usize) -> Vec<[f64; 2]> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| {
            if i % 2 == 0 && !shapes.is_empty() {
                let shape = &shapes[(rng.next_u64() % shapes.len() as u64) as usize];
                let ring = &shape.polygons[0][0];
                let (mut min, mut max) = ([f64::MAX; 2], [f64::MIN; 2]);
                for p in ring {
                    min = [min[0].min(p[0]), min[1].min(p[1])];
                    max = [max[0].max(p[0]), max[1].max(p[1])];
                }
                let (wx, wy) = ((max[0] - min[0]) * 0.2, (max[1] - min[1]) * 0.2);
                [
                    rng.range(min[0] - wx, max[0] + wx),
                    rng.range(min[1] - wy, max[1] + wy),
                ]
            } else {
                [rng.range(-4.8, 8.2), rng.range(42.3, 51.1)]
            }
        })
        .collect()
}

/// The map as a GeoJSON FeatureCollection in the official layout (for PostGIS or files).
pub fn to_geojson(shapes: &[QpvShape]) -> String {
    let features: Vec<serde_json::Value> = shapes
        .iter()
        .map(|s| {
            serde_json::json!({
                "type": "Feature",
                "properties": { "code_qp": s.code.as_str(), "lib_qp": s.name, "commune_qp": "", "source": "données fictives (jeu synthétique de test)" },
                "geometry": { "type": "MultiPolygon", "coordinates": s.polygons },
            })
        })
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
}

/// A synthetic BAN: `lines` addresses over 400 fictional communes, in the official file's
/// shape (for benchmarks; never real addresses).
pub fn ban(seed: u64, lines: usize) -> Vec<crate::offline::BanRow> {
    const TYPES: [&str; 7] = [
        "Rue",
        "Avenue",
        "Boulevard",
        "Impasse",
        "Chemin",
        "Allée",
        "Place",
    ];
    const NAMES: [&str; 24] = [
        "de la Gare",
        "Jean Jaurès",
        "Victor Hugo",
        "du Général de Gaulle",
        "des Lilas",
        "de la République",
        "Pasteur",
        "de l'Église",
        "des Écoles",
        "du Moulin",
        "Saint-Exupéry",
        "de la Paix",
        "des Tilleuls",
        "Émile Zola",
        "du Stade",
        "des Peupliers",
        "de Verdun",
        "Jules Ferry",
        "du Château",
        "Sainte-Anne",
        "des Acacias",
        "de la Fontaine",
        "Louis Aragon",
        "du Marché",
    ];
    const SYLLABLES: [&str; 16] = [
        "mau", "beu", "lou", "vroil", "fer", "mont", "ville", "ber", "gny", "court", "sur", "val",
        "roche", "neu", "chat", "lin",
    ];
    let mut rng = Rng::new(seed);
    let communes: Vec<(String, String, String)> = (0..400)
        .map(|i| {
            let parts = 2 + (rng.next_u64() % 2) as usize;
            let mut name: String = (0..parts)
                .map(|_| SYLLABLES[(rng.next_u64() % 16) as usize])
                .collect();
            if let Some(first) = name.get(..1) {
                name = first.to_uppercase() + &name[1..];
            }
            // Unique names: a suffix where the syllables repeat.
            let name = format!(
                "{name}-{}",
                ["sur-Sambre", "le-Haut", "la-Forêt", "les-Bains", "en-Val"][i % 5]
            );
            (
                format!("{:05}", 59000 + i * 7),
                format!("59{:03}", i + 1),
                name,
            )
        })
        .collect();
    let mut rows = Vec::with_capacity(lines);
    let mut street_id = 0usize;
    while rows.len() < lines {
        let (postcode, insee, commune) = &communes[street_id % communes.len()];
        let street = format!(
            "{} {}",
            TYPES[(rng.next_u64() % 7) as usize],
            NAMES[(street_id / communes.len()) % NAMES.len()]
        );
        let street = if street_id / communes.len() >= NAMES.len() {
            format!("{street} {}", street_id / communes.len() / NAMES.len() + 1)
        } else {
            street
        };
        let (lon0, lat0) = (rng.range(-1.0, 6.0), rng.range(43.0, 50.0));
        let count = 5 + (rng.next_u64() % 60) as usize;
        for n in 1..=count {
            if rows.len() == lines {
                break;
            }
            let rep = if n % 17 == 0 { "bis" } else { "" };
            rows.push(crate::offline::BanRow {
                id: format!("{insee}_{street_id:05}_{n:05}{rep}"),
                numero: Some(n as u32),
                rep: rep.to_string(),
                nom_voie: street.clone(),
                code_postal: postcode.clone(),
                code_insee: insee.clone(),
                nom_commune: commune.clone(),
                lon: lon0 + n as f64 * 1e-4,
                lat: lat0,
            });
        }
        street_id += 1;
    }
    rows
}

/// One way people type an address differently from the BAN's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noise {
    /// As the BAN writes it.
    Clean,
    /// A letter of the street dropped, doubled or swapped.
    Typo,
    /// « r », « av. », « bd », « St », « Gal »…
    Abbreviation,
    NoPostcode,
    /// Upper-case street, lower-case commune, no accents.
    Case,
    /// What residents of social housing add to their line.
    Building,
    Apartment,
    Residence,
    Staircase,
    Door,
    Floor,
    /// « France » at the end.
    Country,
    PostBox,
    Cedex,
}

impl Noise {
    pub const ALL: [Noise; 14] = [
        Noise::Clean,
        Noise::Typo,
        Noise::Abbreviation,
        Noise::NoPostcode,
        Noise::Case,
        Noise::Building,
        Noise::Apartment,
        Noise::Residence,
        Noise::Staircase,
        Noise::Door,
        Noise::Floor,
        Noise::Country,
        Noise::PostBox,
        Noise::Cedex,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Noise::Clean => "ligne propre",
            Noise::Typo => "faute de frappe",
            Noise::Abbreviation => "abréviations",
            Noise::NoPostcode => "sans code postal",
            Noise::Case => "casse et accents",
            Noise::Building => "bâtiment",
            Noise::Apartment => "appartement",
            Noise::Residence => "résidence",
            Noise::Staircase => "escalier",
            Noise::Door => "porte",
            Noise::Floor => "étage",
            Noise::Country => "« France » à la fin",
            Noise::PostBox => "boîte postale",
            Noise::Cedex => "CEDEX",
        }
    }
}

/// A noisy way of typing an address, as people do: one or two of the first kinds of noise.
pub fn noisy(rng: &mut Rng, row: &crate::offline::BanRow) -> String {
    let mut kinds = vec![Noise::ALL[1 + (rng.next_u64() % 4) as usize]];
    if rng.next_u64().is_multiple_of(3) {
        kinds.push(Noise::ALL[1 + (rng.next_u64() % 4) as usize]);
    }
    if rng.next_u64().is_multiple_of(4) {
        kinds.push(Noise::ALL[5 + (rng.next_u64() % 9) as usize]);
    }
    noisy_with(rng, row, &kinds)
}

/// The address typed with these kinds of noise.
pub fn noisy_with(rng: &mut Rng, row: &crate::offline::BanRow, kinds: &[Noise]) -> String {
    let mut street = row.nom_voie.clone();
    let mut postcode = row.code_postal.clone();
    let mut commune = row.nom_commune.clone();
    let mut before = String::new();
    let mut after_street = String::new();
    let mut after_commune = String::new();
    let pick = |rng: &mut Rng, options: &[&str]| -> String {
        options[(rng.next_u64() % options.len() as u64) as usize].to_string()
    };
    for kind in kinds {
        match kind {
            Noise::Clean => {}
            Noise::Typo => {
                let chars: Vec<char> = street.chars().collect();
                let at = 4 + (rng.next_u64() as usize % chars.len().saturating_sub(5).max(1));
                let mut out = chars.clone();
                match rng.next_u64() % 3 {
                    0 => {
                        out.remove(at.min(out.len() - 1));
                    }
                    1 => out.insert(at.min(out.len()), chars[at.min(chars.len() - 1)]),
                    _ if at + 1 < out.len() => out.swap(at, at + 1),
                    _ => {}
                }
                street = out.into_iter().collect();
            }
            Noise::Abbreviation => {
                for (long, short) in [
                    ("Rue", "r"),
                    ("Avenue", "av."),
                    ("Boulevard", "bd"),
                    ("Impasse", "imp"),
                    ("Chemin", "chem."),
                    ("Saint", "St"),
                    ("Sainte", "Ste"),
                    ("Général", "Gal"),
                ] {
                    street = street.replace(long, short);
                }
            }
            Noise::NoPostcode => postcode.clear(),
            Noise::Case => {
                street = crate::address::normalize(&street).to_uppercase();
                commune = commune.to_lowercase();
            }
            Noise::Building => {
                let b = pick(rng, &["Bât. B", "bâtiment D", "Bat C", "BAT. A2", "Bt 4"]);
                if rng.next_u64().is_multiple_of(2) {
                    before = format!("{b}, ");
                } else {
                    after_street = format!(" {b}");
                }
            }
            Noise::Apartment => {
                after_street = format!(
                    " {}",
                    pick(
                        rng,
                        &[
                            "Appt 12",
                            "appartement 47",
                            "apt. 3",
                            "App 108",
                            "Appt n° 5"
                        ]
                    )
                )
            }
            Noise::Residence => {
                before = format!(
                    "{}, ",
                    pick(
                        rng,
                        &[
                            "Résidence Les Tilleuls",
                            "résidence du Parc",
                            "Rés. Les Hortensias",
                            "Residence Jean Moulin"
                        ]
                    )
                )
            }
            Noise::Staircase => {
                after_street = format!(" {}", pick(rng, &["Escalier 3", "esc. B", "Esc 2"]))
            }
            Noise::Door => after_street = format!(" {}", pick(rng, &["Porte 5", "porte 12"])),
            Noise::Floor => {
                after_street = format!(
                    " {}",
                    pick(rng, &["2e étage", "3ème étage", "étage 4", "RDC"])
                )
            }
            Noise::Country => after_commune = pick(rng, &[" France", " FRANCE", ", France"]),
            Noise::PostBox => after_street = format!(" {}", pick(rng, &["BP 123", "B.P. 45"])),
            Noise::Cedex => after_commune = pick(rng, &[" CEDEX", " Cedex 9", " cedex 01"]),
        }
    }
    let rep = if row.rep.is_empty() {
        String::new()
    } else {
        format!(" {}", row.rep)
    };
    let number = row.numero.map(|n| format!("{n}{rep} ")).unwrap_or_default();
    if postcode.is_empty() {
        format!("{before}{number}{street}{after_street}, {commune}{after_commune}")
    } else {
        format!("{before}{number}{street}{after_street}, {postcode} {commune}{after_commune}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_map_is_national_sized_valid_and_reproducible() {
        let shapes = national(7, 1600);
        assert_eq!(shapes.len(), 1600);
        let vertices: usize = shapes
            .iter()
            .flat_map(|s| s.polygons.iter().flatten())
            .map(Vec::len)
            .sum();
        assert!(vertices > 500_000, "{vertices}");
        assert!(shapes.iter().any(|s| s.polygons.len() > 1), "multipolygons");
        assert!(shapes.iter().any(|s| s.polygons[0].len() > 1), "holes");
        // It reads back through the official-file reader, so it is a valid import too.
        let again = crate::qpv::read_geojson(&to_geojson(&shapes), Millesime::Y2024)
            .expect("valid GeoJSON");
        assert_eq!(again.len(), shapes.len());
        for (a, b) in again.iter().zip(&shapes) {
            assert_eq!(
                (&a.code, &a.name, &a.communes),
                (&b.code, &b.name, &b.communes)
            );
            assert!(
                a.polygons == b.polygons,
                "{} reads back with other coordinates",
                a.code
            );
        }
        assert!(national(7, 1600) == shapes, "deterministic");
    }
}
