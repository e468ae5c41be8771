//! QPV geometry: reading official contours (GeoJSON, EPSG:4326), and the in-memory index that
//! answers « is this point in a QPV? » — an R-tree over bounding boxes, then an exact
//! point-in-polygon test on a prepared polygon whose edges are bucketed in horizontal slabs, so
//! a test reads a handful of edges whatever the polygon's size. A point on a boundary (outer
//! ring or hole) counts as inside.

use std::collections::HashSet;

use crate::rtree::PackedRTree;
use domain::{Millesime, QpvCode};
use serde_json::Value;

/// One ring: closed (first point = last point), lon/lat pairs.
pub type Ring = Vec<[f64; 2]>;
/// A polygon: its outer ring, then its holes.
pub type Polygon = Vec<Ring>;

/// A QPV's contour as read from an official file.
#[derive(Debug, Clone, PartialEq)]
pub struct QpvShape {
    pub code: QpvCode,
    pub name: String,
    /// The commune name(s) given by the file (`commune_qp`), as written.
    pub communes: String,
    pub polygons: Vec<Polygon>,
}

/// Why a contour file was refused: the feature (1-based) and the reason, in French.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapeError {
    #[error("fichier GeoJSON illisible : {0}")]
    Json(String),
    #[error("{0}")]
    File(String),
    #[error("entité n° {feature} : {reason}")]
    Feature { feature: usize, reason: String },
}

fn property<'a>(properties: &'a serde_json::Map<String, Value>, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| {
        properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    })
}

/// Reads a FeatureCollection of QPV contours for one map year. Everything is checked before
/// anything is returned: one bad feature refuses the whole file.
pub fn read_geojson(text: &str, millesime: Millesime) -> Result<Vec<QpvShape>, ShapeError> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        ShapeError::Json(format!("ligne {}, colonne {} : {e}", e.line(), e.column()))
    })?;
    if root.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(ShapeError::File(
            "le fichier n'est pas une FeatureCollection GeoJSON.".into(),
        ));
    }
    if let Some(crs) = root.get("crs") {
        let name = crs
            .pointer("/properties/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let wgs84 = ["EPSG:4326", "EPSG::4326", "CRS84", "OGC:1.3:CRS84"]
            .iter()
            .any(|n| name.to_uppercase().ends_with(n));
        if !wgs84 {
            return Err(ShapeError::File(format!(
                "projection « {name} » non prise en charge : les contours doivent être en longitude/latitude WGS 84 (EPSG:4326), comme les fichiers publiés par l'ANCT."
            )));
        }
    }
    let features = root
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ShapeError::File("la FeatureCollection n'a pas de tableau « features ».".into())
        })?;
    let mut seen = HashSet::new();
    let mut shapes = Vec::with_capacity(features.len());
    for (i, feature) in features.iter().enumerate() {
        let n = i + 1;
        let fail = |reason: String| ShapeError::Feature { feature: n, reason };
        let empty = serde_json::Map::new();
        let properties = feature
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let code_text = property(properties, &["code_qp", "code_quartier", "code"])
            .ok_or_else(|| fail("code du quartier absent (propriété code_qp).".into()))?;
        let code = QpvCode::parse_for(code_text, millesime).map_err(|e| fail(e.0))?;
        if !seen.insert(code.clone()) {
            return Err(fail(format!(
                "le code {code} apparaît deux fois dans le fichier."
            )));
        }
        let name = property(properties, &["lib_qp", "nom_qp", "nom", "libelle"])
            .unwrap_or("")
            .to_string();
        let communes = property(properties, &["commune_qp", "lib_com", "communes"])
            .unwrap_or("")
            .to_string();
        let geometry = feature
            .get("geometry")
            .filter(|g| !g.is_null())
            .ok_or_else(|| fail(format!("le quartier {code} n'a pas de géométrie.")))?;
        let coordinates = geometry
            .get("coordinates")
            .ok_or_else(|| fail("géométrie sans coordonnées.".into()))?;
        let polygons = match geometry.get("type").and_then(Value::as_str) {
            Some("Polygon") => {
                vec![polygon(coordinates).map_err(|r| fail(format!("{code} : {r}")))?]
            }
            Some("MultiPolygon") => coordinates
                .as_array()
                .ok_or_else(|| fail("coordonnées de MultiPolygon mal formées.".into()))?
                .iter()
                .enumerate()
                .map(|(p, c)| {
                    polygon(c).map_err(|r| fail(format!("{code}, polygone n° {} : {r}", p + 1)))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(other) => {
                return Err(fail(format!(
                    "géométrie de type {other} : un quartier est un Polygon ou un MultiPolygon."
                )));
            }
            None => return Err(fail("géométrie sans type.".into())),
        };
        if polygons.is_empty() {
            return Err(fail(format!("le quartier {code} a une géométrie vide.")));
        }
        shapes.push(QpvShape {
            code,
            name,
            communes,
            polygons,
        });
    }
    Ok(shapes)
}

fn polygon(value: &Value) -> Result<Polygon, String> {
    let rings = value
        .as_array()
        .ok_or("coordonnées de Polygon mal formées.")?;
    if rings.is_empty() {
        return Err("polygone sans anneau.".into());
    }
    rings
        .iter()
        .enumerate()
        .map(|(r, ring)| {
            let what = if r == 0 { "anneau extérieur".to_string() } else { format!("trou n° {r}") };
            let points = ring.as_array().ok_or(format!("{what} mal formé."))?;
            let mut out = Vec::with_capacity(points.len());
            for p in points {
                let pair = p.as_array().filter(|a| a.len() >= 2).ok_or(format!("{what} : une position n'a pas deux nombres."))?;
                let (lon, lat) = (pair[0].as_f64().unwrap_or(f64::NAN), pair[1].as_f64().unwrap_or(f64::NAN));
                if !lon.is_finite() || !lat.is_finite() {
                    return Err(format!("{what} : coordonnée non numérique."));
                }
                if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                    return Err(format!(
                        "{what} : la position ({lon}, {lat}) n'est pas une longitude/latitude ; le fichier semble dans une autre projection (Lambert 93 ?). Projection attendue : EPSG:4326."
                    ));
                }
                out.push([lon, lat]);
            }
            if out.len() < 4 {
                return Err(format!("{what} invalide : {} positions, il en faut au moins 4.", out.len()));
            }
            if out.first() != out.last() {
                return Err(format!("{what} invalide : il n'est pas fermé (la dernière position doit répéter la première)."));
            }
            Ok(out)
        })
        .collect()
}

/// One QPV of the official list: its code, name and the communes it lies on.
#[derive(Debug, Clone, PartialEq)]
pub struct QpvListEntry {
    pub code: QpvCode,
    pub name: String,
    pub communes: Vec<domain::InseeCode>,
}

/// Reads the official list (`listeqp2024-cog2024.csv`: `;`-separated, columns `code_qp`,
/// `lib_qp`, `insee_com`…; UTF-8 or Windows-1252). A QPV on several communes comes on several
/// lines or with several codes in one cell. One bad line refuses the file, naming the line.
pub fn read_list_csv(bytes: &[u8], millesime: Millesime) -> Result<Vec<QpvListEntry>, ShapeError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t.trim_start_matches('\u{feff}')),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0,
    };
    let delimiter = if text.lines().next().is_some_and(|h| h.contains(';')) {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ShapeError::File(format!("en-tête illisible : {e}")))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let column = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let code_col = column(&["code_qp", "code_quartier"])
        .ok_or_else(|| ShapeError::File("colonne code_qp absente de l'en-tête.".into()))?;
    let name_col = column(&["lib_qp", "nom_qp"]);
    let insee_col = column(&["insee_com", "code_insee", "insee_commune"])
        .ok_or_else(|| ShapeError::File("colonne insee_com absente de l'en-tête.".into()))?;
    let mut entries: Vec<QpvListEntry> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let fail = |reason: String| ShapeError::File(format!("ligne {line} : {reason}"));
        let record = record.map_err(|e| fail(e.to_string()))?;
        let code_text = record.get(code_col).unwrap_or("").trim();
        if code_text.is_empty() && record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let code = QpvCode::parse_for(code_text, millesime).map_err(|e| fail(e.0))?;
        let communes = record
            .get(insee_col)
            .unwrap_or("")
            .split([',', ' ', '|'])
            .filter(|c| !c.is_empty())
            .map(domain::InseeCode::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail(e.0))?;
        if communes.is_empty() {
            return Err(fail(format!(
                "le quartier {code} n'a pas de code INSEE de commune."
            )));
        }
        let name = name_col
            .and_then(|c| record.get(c))
            .unwrap_or("")
            .trim()
            .to_string();
        match entries.iter_mut().find(|e| e.code == code) {
            Some(entry) => {
                for c in communes {
                    if !entry.communes.contains(&c) {
                        entry.communes.push(c);
                    }
                }
            }
            None => entries.push(QpvListEntry {
                code,
                name,
                communes,
            }),
        }
    }
    Ok(entries)
}

const GRID: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Outside,
    Inside,
    Boundary,
}

/// The cell holding a coordinate along one axis: one formula for marking and for querying,
/// so a point on a cell's border always lands where its edges were marked.
fn cell_index(value: f64, min: f64, max: f64) -> usize {
    let span = max - min;
    if span <= 0.0 {
        return 0;
    }
    (((value - min) / span * GRID as f64) as usize).min(GRID - 1)
}

/// A multipolygon ready for fast point-in-polygon tests.
#[derive(Debug)]
struct Prepared {
    min: [f64; 2],
    max: [f64; 2],
    slab_height: f64,
    /// Edges `[x1, y1, x2, y2]` overlapping each horizontal slab, slab after slab in one
    /// array (`slab_starts[i]..slab_starts[i + 1]`), so a test touches one contiguous run.
    slab_edges: Vec<[f64; 4]>,
    slab_starts: Vec<u32>,
    /// A GRID × GRID partition of the bounding box: cells no edge's box touches are wholly
    /// inside or wholly outside (answered without any edge test); the others need the test.
    cells: Vec<Cell>,
    edges: Vec<[f64; 4]>,
}

impl Prepared {
    fn new(polygons: &[Polygon]) -> Prepared {
        let edges: Vec<[f64; 4]> = polygons
            .iter()
            .flatten()
            .flat_map(|ring| {
                ring.windows(2)
                    .map(|w| [w[0][0], w[0][1], w[1][0], w[1][1]])
            })
            .collect();
        let mut min = [f64::INFINITY; 2];
        let mut max = [f64::NEG_INFINITY; 2];
        for e in &edges {
            for (x, y) in [(e[0], e[1]), (e[2], e[3])] {
                min = [min[0].min(x), min[1].min(y)];
                max = [max[0].max(x), max[1].max(y)];
            }
        }
        let count = (edges.len() / 2).clamp(1, 8192);
        let slab_height = ((max[1] - min[1]) / count as f64).max(f64::MIN_POSITIVE);
        let mut slabs = vec![Vec::new(); count];
        for e in &edges {
            let (lo, hi) = (e[1].min(e[3]), e[1].max(e[3]));
            let first = (((lo - min[1]) / slab_height) as usize).min(count - 1);
            let last = (((hi - min[1]) / slab_height) as usize).min(count - 1);
            for slab in &mut slabs[first..=last] {
                slab.push(*e);
            }
        }
        let mut slab_starts = Vec::with_capacity(count + 1);
        let mut slab_edges = Vec::with_capacity(slabs.iter().map(Vec::len).sum());
        for slab in slabs {
            slab_starts.push(slab_edges.len() as u32);
            slab_edges.extend(slab);
        }
        slab_starts.push(slab_edges.len() as u32);
        let mut prepared = Prepared {
            min,
            max,
            slab_height,
            slab_edges,
            slab_starts,
            edges,
            cells: Vec::new(),
        };
        // Mark every cell an edge's bounding box touches (conservative: such cells keep the
        // exact test); every other cell takes the status of its centre.
        let mut cells = vec![Cell::Outside; GRID * GRID];
        for e in &prepared.edges {
            let (x0, x1) = (
                cell_index(e[0].min(e[2]), min[0], max[0]),
                cell_index(e[0].max(e[2]), min[0], max[0]),
            );
            let (y0, y1) = (
                cell_index(e[1].min(e[3]), min[1], max[1]),
                cell_index(e[1].max(e[3]), min[1], max[1]),
            );
            for cy in y0..=y1 {
                for cx in x0..=x1 {
                    cells[cy * GRID + cx] = Cell::Boundary;
                }
            }
        }
        let (w, h) = (
            (max[0] - min[0]) / GRID as f64,
            (max[1] - min[1]) / GRID as f64,
        );
        for cy in 0..GRID {
            for cx in 0..GRID {
                if cells[cy * GRID + cx] != Cell::Boundary {
                    let (px, py) = (
                        min[0] + (cx as f64 + 0.5) * w,
                        min[1] + (cy as f64 + 0.5) * h,
                    );
                    cells[cy * GRID + cx] = if prepared.contains_exact(px, py) {
                        Cell::Inside
                    } else {
                        Cell::Outside
                    };
                }
            }
        }
        prepared.cells = cells;
        prepared
    }

    fn contains(&self, x: f64, y: f64) -> bool {
        if x < self.min[0] || x > self.max[0] || y < self.min[1] || y > self.max[1] {
            return false;
        }
        match self.cells[cell_index(y, self.min[1], self.max[1]) * GRID
            + cell_index(x, self.min[0], self.max[0])]
        {
            Cell::Inside => true,
            Cell::Outside => false,
            Cell::Boundary => self.contains_exact(x, y),
        }
    }

    /// The exact test: crossings of a ray towards +x with the edges of the point's slab.
    fn contains_exact(&self, x: f64, y: f64) -> bool {
        if x < self.min[0] || x > self.max[0] || y < self.min[1] || y > self.max[1] {
            return false;
        }
        let slab =
            (((y - self.min[1]) / self.slab_height) as usize).min(self.slab_starts.len() - 2);
        let run = self.slab_starts[slab] as usize..self.slab_starts[slab + 1] as usize;
        let mut inside = false;
        for &[x1, y1, x2, y2] in &self.slab_edges[run] {
            // Most edges of a slab do not span the point's height, or lie wholly to its left:
            // two comparisons each. Only an edge whose x-range holds the point needs the full
            // test (on the edge → inside; else which side).
            if (y < y1 && y < y2) || (y > y1 && y > y2) || (x > x1 && x > x2) {
                continue;
            }
            if x < x1 && x < x2 {
                if (y1 > y) != (y2 > y) {
                    inside = !inside;
                }
                continue;
            }
            if on_segment(x, y, x1, y1, x2, y2) {
                return true;
            }
            if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
                inside = !inside;
            }
        }
        inside
    }

    /// Distance in metres from a point outside to the nearest edge, in a local equirectangular
    /// projection around the point (accurate to well under 1 % at the scale of a city).
    fn distance_m(&self, x: f64, y: f64) -> f64 {
        let kx = METRES_PER_DEGREE * y.to_radians().cos();
        self.edges
            .iter()
            .map(|&[x1, y1, x2, y2]| {
                segment_distance(
                    0.0,
                    0.0,
                    (x1 - x) * kx,
                    (y1 - y) * METRES_PER_DEGREE,
                    (x2 - x) * kx,
                    (y2 - y) * METRES_PER_DEGREE,
                )
            })
            .fold(f64::INFINITY, f64::min)
    }
}

const METRES_PER_DEGREE: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

fn on_segment(x: f64, y: f64, x1: f64, y1: f64, x2: f64, y2: f64) -> bool {
    if x < x1.min(x2) || x > x1.max(x2) || y < y1.min(y2) || y > y1.max(y2) {
        return false;
    }
    let cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1);
    let scale = (x2 - x1).abs().max((y2 - y1).abs()).max(1e-12);
    cross.abs() <= 1e-12 * scale
}

fn segment_distance(px: f64, py: f64, x1: f64, y1: f64, x2: f64, y2: f64) -> f64 {
    let (dx, dy) = (x2 - x1, y2 - y1);
    let length2 = dx * dx + dy * dy;
    let t = if length2 == 0.0 {
        0.0
    } else {
        (((px - x1) * dx + (py - y1) * dy) / length2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (x1 + t * dx - px, y1 + t * dy - py);
    (cx * cx + cy * cy).sqrt()
}

/// A QPV in the index.
#[derive(Debug)]
pub struct Zone {
    pub code: QpvCode,
    pub name: String,
    pub millesime: Millesime,
    prepared: Prepared,
}

/// The answer to a point lookup.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    Inside(&'a Zone),
    /// Outside every QPV of the map; the nearest one and how far it is, when the map has any.
    Outside {
        nearest: Option<(&'a Zone, f64)>,
    },
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

/// Which QPVs may hold a point: ~0.01° cells over the union of a map's bounding boxes, each
/// listing the QPVs whose box touches it (flat arrays). A containment lookup is one cell and a
/// handful of candidates; the R-tree serves the nearest-QPV search.
#[derive(Debug, Default)]
struct CandidateGrid {
    min: [f64; 2],
    max: [f64; 2],
    nx: usize,
    ny: usize,
    /// `zones[starts[c]..starts[c + 1]]` are the candidates of cell `c`.
    starts: Vec<u32>,
    zones: Vec<u32>,
}

const GRID_CELL_DEGREES: f64 = 0.01;

/// One formula for marking and for querying, so a point on a cell's border always lands in
/// a cell its boxes were marked in.
fn grid_index(value: f64, min: f64, max: f64, n: usize) -> usize {
    let span = max - min;
    if span <= 0.0 {
        return 0;
    }
    (((value - min) / span * n as f64) as usize).min(n - 1)
}

impl CandidateGrid {
    /// `boxes`: (bbox, zone index) of one map.
    fn new(boxes: &[([f64; 4], usize)]) -> CandidateGrid {
        let Some((first, _)) = boxes.first() else {
            return CandidateGrid::default();
        };
        let (mut min, mut max) = ([first[0], first[1]], [first[2], first[3]]);
        for (b, _) in boxes {
            min = [min[0].min(b[0]), min[1].min(b[1])];
            max = [max[0].max(b[2]), max[1].max(b[3])];
        }
        let nx = (((max[0] - min[0]) / GRID_CELL_DEGREES).ceil() as usize).clamp(1, 4096);
        let ny = (((max[1] - min[1]) / GRID_CELL_DEGREES).ceil() as usize).clamp(1, 4096);
        let cells_of = |b: &[f64; 4]| {
            let (x0, x1) = (
                grid_index(b[0], min[0], max[0], nx),
                grid_index(b[2], min[0], max[0], nx),
            );
            let (y0, y1) = (
                grid_index(b[1], min[1], max[1], ny),
                grid_index(b[3], min[1], max[1], ny),
            );
            (y0..=y1).flat_map(move |cy| (x0..=x1).map(move |cx| cy * nx + cx))
        };
        let mut starts = vec![0u32; nx * ny + 1];
        for (b, _) in boxes {
            for c in cells_of(b) {
                starts[c + 1] += 1;
            }
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut fill = starts.clone();
        let mut zones = vec![0u32; starts[nx * ny] as usize];
        for (b, zone) in boxes {
            for c in cells_of(b) {
                zones[fill[c] as usize] = *zone as u32;
                fill[c] += 1;
            }
        }
        CandidateGrid {
            min,
            max,
            nx,
            ny,
            starts,
            zones,
        }
    }

    fn candidates(&self, x: f64, y: f64) -> &[u32] {
        if self.starts.is_empty()
            || x < self.min[0]
            || x > self.max[0]
            || y < self.min[1]
            || y > self.max[1]
        {
            return &[];
        }
        let c = grid_index(y, self.min[1], self.max[1], self.ny) * self.nx
            + grid_index(x, self.min[0], self.max[0], self.nx);
        &self.zones[self.starts[c] as usize..self.starts[c + 1] as usize]
    }
}

/// Every QPV of every map, indexed. Built once, read by any number of threads.
#[derive(Debug, Default)]
pub struct QpvIndex {
    zones: Vec<Zone>,
    trees: Vec<(Millesime, PackedRTree)>,
    grids: Vec<(Millesime, CandidateGrid)>,
}

impl QpvIndex {
    pub fn build(shapes: impl IntoIterator<Item = (Millesime, QpvShape)>) -> QpvIndex {
        let mut zones = Vec::new();
        let mut entries: Vec<(Millesime, [f64; 4], usize)> = Vec::new();
        for (millesime, shape) in shapes {
            let prepared = Prepared::new(&shape.polygons);
            let bbox = [
                prepared.min[0],
                prepared.min[1],
                prepared.max[0],
                prepared.max[1],
            ];
            entries.push((millesime, bbox, zones.len()));
            zones.push(Zone {
                code: shape.code,
                name: shape.name,
                millesime,
                prepared,
            });
        }
        let trees = Millesime::ALL
            .into_iter()
            .map(|m| {
                (
                    m,
                    PackedRTree::build(
                        entries
                            .iter()
                            .filter(|e| e.0 == m)
                            .map(|e| (e.1, e.2))
                            .collect(),
                    ),
                )
            })
            .collect();
        let grids = Millesime::ALL
            .into_iter()
            .map(|m| {
                (
                    m,
                    CandidateGrid::new(
                        &entries
                            .iter()
                            .filter(|e| e.0 == m)
                            .map(|e| (e.1, e.2))
                            .collect::<Vec<_>>(),
                    ),
                )
            })
            .collect();
        QpvIndex {
            zones,
            trees,
            grids,
        }
    }

    pub fn count(&self, millesime: Millesime) -> usize {
        self.tree(millesime).map_or(0, PackedRTree::len)
    }

    /// The name of a QPV by its code (codes are unique across maps: `QP…` 2015, `QN…` 2024).
    pub fn name_of(&self, code: &str) -> Option<&str> {
        self.zones
            .iter()
            .find(|z| z.code.as_str() == code)
            .map(|z| z.name.as_str())
    }

    fn tree(&self, millesime: Millesime) -> Option<&PackedRTree> {
        self.trees
            .iter()
            .find(|(m, _)| *m == millesime)
            .map(|(_, t)| t)
    }

    /// The QPV containing the point, if any (no distance computed: the fast path).
    pub fn find(&self, lon: f64, lat: f64, millesime: Millesime) -> Option<&Zone> {
        let grid = self
            .grids
            .iter()
            .find(|(m, _)| *m == millesime)
            .map(|(_, g)| g)?;
        grid.candidates(lon, lat)
            .iter()
            .map(|&i| &self.zones[i as usize])
            .find(|z| z.prepared.contains(lon, lat))
    }

    /// How many of the points lie in a QPV of the map (batch containment, e.g. for a file).
    pub fn count_inside(&self, points: &[[f64; 2]], millesime: Millesime) -> usize {
        points
            .iter()
            .filter(|p| self.find(p[0], p[1], millesime).is_some())
            .count()
    }

    /// The QPV containing the point, or the nearest one with its distance in metres.
    pub fn lookup(&self, lon: f64, lat: f64, millesime: Millesime) -> Lookup<'_> {
        if let Some(zone) = self.find(lon, lat, millesime) {
            return Lookup::Inside(zone);
        }
        let Some(tree) = self.tree(millesime) else {
            return Lookup::Outside { nearest: None };
        };
        // A box's distance in degrees bounds the true distance from below once the x scale,
        // which shrinks with latitude, is taken at its smallest.
        let lower_bound_factor = METRES_PER_DEGREE * (lat.abs() + 1.0).min(89.0).to_radians().cos();
        let best = tree
            .nearest(
                lon,
                lat,
                |d2| d2.sqrt() * lower_bound_factor,
                |i| self.zones[i].prepared.distance_m(lon, lat),
            )
            .map(|(i, d)| (&self.zones[i], d));
        Lookup::Outside { nearest: best }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, size: f64) -> Ring {
        vec![
            [x0, y0],
            [x0 + size, y0],
            [x0 + size, y0 + size],
            [x0, y0 + size],
            [x0, y0],
        ]
    }

    fn shape(code: &str, polygons: Vec<Polygon>) -> (Millesime, QpvShape) {
        let code = QpvCode::parse(code).expect("code");
        (
            code.millesime(),
            QpvShape {
                name: format!("Quartier {code}"),
                code,
                communes: String::new(),
                polygons,
            },
        )
    }

    /// A square 0.01° wide at Maubeuge with a square hole in its middle, and a two-part QPV.
    fn index() -> QpvIndex {
        QpvIndex::build([
            shape(
                "QN05901N",
                vec![vec![
                    square(3.97, 50.27, 0.01),
                    square(3.974, 50.274, 0.002),
                ]],
            ),
            shape(
                "QN05902M",
                vec![
                    vec![square(4.00, 50.27, 0.005)],
                    vec![square(4.01, 50.27, 0.005)],
                ],
            ),
            shape("QP059001", vec![vec![square(3.97, 50.27, 0.02)]]),
        ])
    }

    fn inside(index: &QpvIndex, lon: f64, lat: f64) -> Option<String> {
        index
            .find(lon, lat, Millesime::Y2024)
            .map(|z| z.code.to_string())
    }

    #[test]
    fn a_point_inside_the_outer_ring_but_in_the_hole_is_outside() {
        let i = index();
        assert_eq!(inside(&i, 3.971, 50.271).as_deref(), Some("QN05901N"));
        assert_eq!(inside(&i, 3.975, 50.275), None, "in the hole");
    }

    #[test]
    fn points_on_boundaries_count_as_inside_and_points_just_outside_do_not() {
        let i = index();
        assert_eq!(
            inside(&i, 3.97, 50.275).as_deref(),
            Some("QN05901N"),
            "on the outer ring"
        );
        assert_eq!(
            inside(&i, 3.97, 50.27).as_deref(),
            Some("QN05901N"),
            "on a vertex"
        );
        assert_eq!(
            inside(&i, 3.974, 50.275).as_deref(),
            Some("QN05901N"),
            "on the hole's ring"
        );
        assert_eq!(inside(&i, 3.97 - 1e-9, 50.275), None, "a hair outside");
        assert_eq!(inside(&i, 3.98 + 1e-9, 50.2701), None);
    }

    #[test]
    fn each_part_of_a_multipolygon_counts_and_the_gap_between_does_not() {
        let i = index();
        assert_eq!(inside(&i, 4.002, 50.272).as_deref(), Some("QN05902M"));
        assert_eq!(inside(&i, 4.012, 50.272).as_deref(), Some("QN05902M"));
        assert_eq!(inside(&i, 4.007, 50.272), None);
    }

    #[test]
    fn a_batch_counts_the_points_inside() {
        let i = index();
        let points = [
            [3.971, 50.271],
            [3.975, 50.275],
            [4.002, 50.272],
            [5.0, 45.0],
        ];
        assert_eq!(i.count_inside(&points, Millesime::Y2024), 2);
    }

    #[test]
    fn maps_are_kept_apart() {
        let i = index();
        assert_eq!(
            i.find(3.975, 50.275, Millesime::Y2015)
                .map(|z| z.code.to_string())
                .as_deref(),
            Some("QP059001")
        );
        assert_eq!(i.count(Millesime::Y2024), 2);
    }

    #[test]
    fn outside_the_nearest_qpv_and_its_distance_in_metres_are_given() {
        let i = index();
        // 0.001° of latitude south of the first square: about 111 m.
        let Lookup::Outside {
            nearest: Some((zone, d)),
        } = i.lookup(3.975, 50.269, Millesime::Y2024)
        else {
            panic!("outside")
        };
        assert_eq!(zone.code.as_str(), "QN05901N");
        assert!((d - 111.2).abs() < 1.0, "{d}");
        // Inside the hole, the nearest boundary is the hole's ring, 0.001° away in longitude.
        let Lookup::Outside {
            nearest: Some((_, d)),
        } = i.lookup(3.975, 50.275, Millesime::Y2024)
        else {
            panic!("in the hole")
        };
        assert!((d - 71.1).abs() < 1.0, "{d}");
        assert_eq!(
            QpvIndex::default().lookup(3.0, 50.0, Millesime::Y2024),
            Lookup::Outside { nearest: None }
        );
    }

    fn feature(code: &str, geometry: &str) -> String {
        format!(
            r#"{{"type":"Feature","properties":{{"CODE_QP":"{code}","nom_qp":"Quartier","commune_qp":"Maubeuge"}},"geometry":{geometry}}}"#
        )
    }

    fn collection(features: &[String]) -> String {
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        )
    }

    const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[3.97,50.27],[3.98,50.27],[3.98,50.28],[3.97,50.28],[3.97,50.27]]]}"#;

    #[test]
    fn the_list_gathers_the_communes_of_a_qpv_and_reads_windows_1252() {
        let text = "code_qp;lib_qp;insee_dep;insee_com;lib_com\nQN05901N;Sous-le-Bois;059;59392;Maubeuge\nQN05901N;Sous-le-Bois;059;59365;Louvroil\nQN05902M;Épinette;059;59392,59343;Maubeuge\n";
        let entries = read_list_csv(text.as_bytes(), Millesime::Y2024).expect("valid");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].communes.len(), 2);
        assert_eq!(entries[1].communes.len(), 2);
        let (latin1, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        assert_eq!(
            read_list_csv(&latin1, Millesime::Y2024).expect("cp1252")[1].name,
            "Épinette"
        );
        let bad = "code_qp;lib_qp;insee_com\nQN05901N;A;59392\nQN0590;B;59392\n";
        assert!(
            read_list_csv(bad.as_bytes(), Millesime::Y2024)
                .expect_err("bad code")
                .to_string()
                .starts_with("ligne 3 :")
        );
        assert!(
            read_list_csv(b"code;nom\n", Millesime::Y2024)
                .expect_err("header")
                .to_string()
                .contains("code_qp")
        );
    }

    #[test]
    fn a_valid_file_is_read_with_upper_case_property_names() {
        let shapes = read_geojson(
            &collection(&[feature("QN05901N", SQUARE)]),
            Millesime::Y2024,
        )
        .expect("valid");
        assert_eq!(shapes.len(), 1);
        assert_eq!(shapes[0].name, "Quartier");
        assert_eq!(shapes[0].communes, "Maubeuge");
    }

    #[test]
    fn every_kind_of_bad_file_is_refused_with_the_feature_number_and_reason() {
        let m = Millesime::Y2024;
        let bad = |features: &[String]| {
            read_geojson(&collection(features), m)
                .expect_err("refused")
                .to_string()
        };
        let ok = feature("QN05901N", SQUARE);
        assert!(
            read_geojson("{ pas du json", m)
                .expect_err("json")
                .to_string()
                .contains("illisible")
        );
        assert!(
            bad(&[ok.clone(), feature("QN05901N", SQUARE)])
                .starts_with("entité n° 2 : le code QN05901N apparaît deux fois")
        );
        assert!(
            bad(&[
                ok.clone(),
                r#"{"type":"Feature","properties":{},"geometry":null}"#.to_string()
            ])
            .contains("entité n° 2 : code du quartier absent")
        );
        assert!(bad(&[feature("QP059001", SQUARE)]).contains("carte 2015"));
        let open = r#"{"type":"Polygon","coordinates":[[[3.97,50.27],[3.98,50.27],[3.98,50.28],[3.97,50.28]]]}"#;
        assert!(
            bad(&[feature("QN05901N", open)]).contains("n'est pas fermé"),
            "{}",
            bad(&[feature("QN05901N", open)])
        );
        let lambert = r#"{"type":"Polygon","coordinates":[[[652000,6862000],[653000,6862000],[653000,6863000],[652000,6862000]]]}"#;
        assert!(bad(&[feature("QN05901N", lambert)]).contains("Lambert 93"));
        let short =
            r#"{"type":"Polygon","coordinates":[[[3.97,50.27],[3.98,50.27],[3.97,50.27]]]}"#;
        assert!(bad(&[feature("QN05901N", short)]).contains("au moins 4"));
        let crs = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::2154"}},"features":[]}"#;
        assert!(
            read_geojson(crs, m)
                .expect_err("projection")
                .to_string()
                .contains("EPSG::2154")
        );
        let point = r#"{"type":"Point","coordinates":[3.97,50.27]}"#;
        assert!(bad(&[feature("QN05901N", point)]).contains("type Point"));
    }
}
