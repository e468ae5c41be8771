//! data·inclusion files in and out of a territory's directory: the official `structures.json`
//! and `services.json` (JSON arrays of v1 records), one object holding both arrays under
//! `structures` and `services`, or the CSV equivalent (one file per kind, told by its header).
//!
//! A file is read as a stream, record by record, in a blocking thread; records go through the
//! schema's rules one by one: valid ones are upserted by (source, id) inside one transaction,
//! invalid ones are reported with their reasons and change nothing. A file that cannot be read
//! at all (broken JSON, unknown layout) stores nothing.

use std::io::{BufRead, BufReader, Read, Write};

use domain::inclusion::{Service, Structure, csv_record};
use domain::{StructureId, TerritoryId};
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use store::directory::{Outcome, StructureWrite};

use crate::directory::{diff, service_write};
use crate::{App, AppError, Caller};

/// Which kind of record a file position holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Structure,
    Service,
}

impl RecordKind {
    pub fn label(self) -> &'static str {
        match self {
            RecordKind::Structure => "structure",
            RecordKind::Service => "service",
        }
    }
}

/// A refused record: where it is in the file, its id when it has one, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub kind: RecordKind,
    /// 1-based position among the records of its kind (for CSV: the line number).
    pub position: usize,
    pub id: String,
    pub reasons: Vec<String>,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = if self.id.is_empty() {
            String::new()
        } else {
            format!(" « {} »", self.id)
        };
        write!(
            f,
            "{} n° {}{id} : {}",
            self.kind.label(),
            self.position,
            self.reasons.join(" ; ")
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: Vec<Rejection>,
}

impl ImportReport {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }
}

struct Item {
    kind: RecordKind,
    position: usize,
    value: Value,
}

const BATCH: usize = 200;

/// Sends records in batches from the reading thread to the writer.
struct Sink {
    /// Where batches go; `None` when the file is only checked (nothing is stored).
    sender: Option<tokio::sync::mpsc::Sender<Vec<Item>>>,
    /// Records checked against the schema when there is no writer, and how many passed.
    checked: (usize, usize),
    batch: Vec<Item>,
    positions: [usize; 2],
}

impl Sink {
    fn push(&mut self, kind: Option<RecordKind>, value: Value) -> Result<(), String> {
        // In an array, a record with a `structure_id` is a service.
        let kind = kind.unwrap_or_else(|| {
            if value.get("structure_id").is_some() {
                RecordKind::Service
            } else {
                RecordKind::Structure
            }
        });
        let slot = &mut self.positions[kind as usize];
        *slot += 1;
        self.batch.push(Item {
            kind,
            position: *slot,
            value,
        });
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn push_at(&mut self, kind: RecordKind, position: usize, value: Value) -> Result<(), String> {
        self.batch.push(Item {
            kind,
            position,
            value,
        });
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        let batch = std::mem::take(&mut self.batch);
        if batch.is_empty() {
            return Ok(());
        }
        let Some(sender) = &self.sender else {
            let referential = territory::Referential::official();
            for item in batch {
                let valid = match item.kind {
                    RecordKind::Structure => Structure::from_json(&item.value, referential).is_ok(),
                    RecordKind::Service => Service::from_json(&item.value, referential).is_ok(),
                };
                self.checked.0 += 1;
                self.checked.1 += usize::from(valid);
            }
            return Ok(());
        };
        sender
            .blocking_send(batch)
            .map_err(|_| "import interrompu".to_string())
    }
}

/// Streams the elements of a JSON array into the sink.
struct Records<'a> {
    sink: &'a mut Sink,
    kind: Option<RecordKind>,
}

impl<'de> Visitor<'de> for Records<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("une liste d'enregistrements")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<Value>()? {
            self.sink.push(self.kind, value).map_err(A::Error::custom)?;
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Records<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

/// Streams the `structures` and `services` arrays of one JSON object into the sink.
struct Both<'a>(&'a mut Sink);

impl<'de> Visitor<'de> for Both<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("un objet avec les listes « structures » et « services »")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let kind = match key.as_str() {
                "structures" => RecordKind::Structure,
                "services" => RecordKind::Service,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            map.next_value_seed(Records {
                sink: self.0,
                kind: Some(kind),
            })?;
        }
        Ok(())
    }
}

fn json_error(e: serde_json::Error) -> String {
    if e.is_io() {
        format!("lecture impossible : {e}")
    } else {
        let what = e.to_string();
        let what = what.split(" at line").next().unwrap_or_default();
        let reason = match e.classify() {
            serde_json::error::Category::Eof => {
                "le fichier s'arrête au milieu d'un enregistrement".to_string()
            }
            serde_json::error::Category::Syntax => "JSON mal formé".to_string(),
            _ if what.contains("une liste") || what.contains("un objet") => {
                format!("structure inattendue ({what})")
            }
            _ => format!("contenu inattendu ({what})"),
        };
        format!("ligne {}, colonne {} : {reason}", e.line(), e.column())
    }
}

/// Reads a whole data·inclusion file and checks each record against the schema, storing
/// nothing: `(records, valid records)`, or why the file is unreadable. The fuzz target of
/// the directory import calls this.
pub fn check_file(input: &[u8]) -> Result<(usize, usize), String> {
    let input = std::io::Cursor::new(input);
    let mut sink = Sink {
        sender: None,
        checked: (0, 0),
        batch: Vec::new(),
        positions: [0, 0],
    };
    read_file(input, &mut sink)?;
    sink.flush()?;
    Ok(sink.checked)
}

/// Reads a data·inclusion file into the sink; the error says why the file is unreadable.
fn read_file(input: impl Read, sink: &mut Sink) -> Result<(), String> {
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let first = loop {
        let buf = reader
            .fill_buf()
            .map_err(|e| format!("lecture impossible : {e}"))?;
        match buf
            .iter()
            .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)
        {
            Some(i) => {
                let b = buf[i];
                reader.consume(i);
                break Some(b);
            }
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    match first {
        None => Err("le fichier est vide".into()),
        Some(b'[') => {
            let mut de = serde_json::Deserializer::from_reader(reader);
            Records { sink, kind: None }
                .deserialize(&mut de)
                .map_err(json_error)?;
            de.end().map_err(json_error)
        }
        Some(b'{') => {
            let mut de = serde_json::Deserializer::from_reader(reader);
            serde::Deserializer::deserialize_map(&mut de, Both(sink)).map_err(json_error)?;
            de.end().map_err(json_error)
        }
        Some(_) => read_csv(reader, sink),
    }
}

fn read_csv(mut reader: impl BufRead, sink: &mut Sink) -> Result<(), String> {
    let mut head = String::new();
    // A header line is a few hundred bytes: a file without line breaks stops at 1 MB.
    (&mut reader)
        .take(1 << 20)
        .read_line(&mut head)
        .map_err(|_| "le fichier n'est ni du JSON ni un CSV en UTF-8".to_string())?;
    let delimiter = crate::spreadsheet::sniff_delimiter(&head);
    let headers: Vec<String> = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(head.as_bytes())
        .records()
        .next()
        .and_then(Result::ok)
        .map(|r| {
            r.iter()
                .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
                .collect()
        })
        .unwrap_or_default();
    let limit = crate::spreadsheet::LIMITS.max_columns;
    if headers.len() > limit {
        return Err(format!(
            "ligne 1 : {} colonnes, plus que les {limit} acceptées",
            headers.len()
        ));
    }
    for required in ["source", "id", "nom"] {
        if !headers.iter().any(|h| h == required) {
            return Err(format!(
                "ligne 1 : la colonne « {required} » manque (le fichier n'est ni du JSON ni un CSV data·inclusion)"
            ));
        }
    }
    let kind = if headers.iter().any(|h| h == "structure_id") {
        RecordKind::Service
    } else {
        RecordKind::Structure
    };
    let mut rows = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    for (i, row) in rows.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| {
            format!(
                "ligne {line} : CSV illisible ({})",
                crate::spreadsheet::csv_error(&e)
            )
        })?;
        if row.len() > limit {
            return Err(format!(
                "ligne {line} : {} colonnes, plus que les {limit} acceptées",
                row.len()
            ));
        }
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cells: Vec<String> = row.iter().map(str::to_string).collect();
        sink.push_at(kind, line, csv_record(&headers, &cells))?;
    }
    Ok(())
}

fn id_of(value: &Value) -> String {
    value
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Stores a valid service under its structure; `None` when the structure is not known (yet).
async fn store_service(
    c: &mut store::Conn<'_>,
    territory: TerritoryId,
    s: &Service,
    caller: Option<&Caller>,
    now: chrono::DateTime<chrono::Utc>,
    memo: &mut Memo,
) -> Result<Option<Outcome>, AppError> {
    let Some((structure, nom)) = memo
        .structure(c, territory, &s.source, &s.structure_id)
        .await?
    else {
        return Ok(None);
    };
    let write = service_write((structure, &nom), s)?;
    let (id, outcome, before) = store::directory::upsert_service(c, territory, &write, now).await?;
    if outcome != Outcome::Unchanged {
        let before: Option<Value> = before.and_then(|b| serde_json::from_str(&b).ok());
        let after = serde_json::to_value(s).map_err(|e| AppError::Internal(e.to_string()))?;
        let changes = Value::Array(diff(before.as_ref(), &after)).to_string();
        store::directory::add_change(c, id, caller.map(|c| c.user_id), "import", &changes, now)
            .await?;
    }
    memo.remember(c, &s.code_insee, s.longitude, s.latitude)
        .await?;
    Ok(Some(outcome))
}

/// What one import has already looked up or written, so that each is done once: the structures
/// (by source and id) and the communes given a position (the first record placed in a commune
/// gives it one, for distance ordering).
#[derive(Default)]
struct Memo {
    structures: std::collections::HashMap<(String, String), (StructureId, String)>,
    placed: std::collections::HashSet<String>,
}

impl Memo {
    async fn structure(
        &mut self,
        c: &mut store::Conn<'_>,
        territory: TerritoryId,
        source: &str,
        id: &str,
    ) -> Result<Option<(StructureId, String)>, AppError> {
        let key = (source.to_string(), id.to_string());
        if let Some(found) = self.structures.get(&key) {
            return Ok(Some(found.clone()));
        }
        let found = store::directory::structure_by_key(c, territory, source, id)
            .await?
            .map(|s| (s.id, s.nom));
        if let Some(f) = &found {
            self.structures.insert(key, f.clone());
        }
        Ok(found)
    }

    async fn remember(
        &mut self,
        c: &mut store::Conn<'_>,
        code: &Option<String>,
        longitude: Option<f64>,
        latitude: Option<f64>,
    ) -> Result<(), AppError> {
        if let (Some(code), Some(lon), Some(lat)) = (code, longitude, latitude)
            && self.placed.insert(code.clone())
        {
            store::directory::remember_commune_position(c, code, (lon, lat)).await?;
        }
        Ok(())
    }
}

/// Imports a data·inclusion file into a territory's directory. `Invalid` under `fichier` when
/// the file cannot be read (then nothing is stored); otherwise the report of every record.
pub async fn import(
    app: &App,
    territory: TerritoryId,
    input: impl Read + Send + 'static,
    caller: Option<&Caller>,
) -> Result<ImportReport, AppError> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<Item>>(4);
    let reader = tokio::task::spawn_blocking(move || {
        let mut sink = Sink {
            sender: Some(sender),
            checked: (0, 0),
            batch: Vec::with_capacity(BATCH),
            positions: [0, 0],
        };
        read_file(input, &mut sink)?;
        sink.flush()
    });
    let referential = app.referential;
    let now = app.now();
    let mut report = ImportReport::default();
    let mut deferred: Vec<(usize, Service)> = Vec::new();
    let mut memo = Memo::default();
    let mut tx = app.db.begin().await?;
    while let Some(batch) = receiver.recv().await {
        for item in batch {
            let reject = |reasons: Vec<String>| Rejection {
                kind: item.kind,
                position: item.position,
                id: id_of(&item.value),
                reasons,
            };
            match item.kind {
                RecordKind::Structure => {
                    let s = match Structure::from_json(&item.value, referential) {
                        Ok(s) => s,
                        Err(reasons) => {
                            report.rejected.push(reject(reasons));
                            continue;
                        }
                    };
                    let organisation = match s
                        .siret
                        .as_deref()
                        .and_then(|v| domain::Siret::parse(v).ok())
                    {
                        Some(siret) => store::organisations::by_siret(&mut tx.conn(), &siret)
                            .await?
                            .map(|o| o.id),
                        None => None,
                    };
                    let record =
                        serde_json::to_string(&s).map_err(|e| AppError::Internal(e.to_string()))?;
                    let write = StructureWrite {
                        source: &s.source,
                        record_id: &s.id,
                        nom: &s.nom,
                        record: &record,
                        organisation,
                    };
                    let (id, outcome) =
                        store::directory::upsert_structure(&mut tx.conn(), territory, &write, now)
                            .await?;
                    memo.structures
                        .insert((s.source.clone(), s.id.clone()), (id, s.nom.clone()));
                    memo.remember(&mut tx.conn(), &s.code_insee, s.longitude, s.latitude)
                        .await?;
                    report.count(outcome);
                }
                RecordKind::Service => {
                    let s = match Service::from_json(&item.value, referential) {
                        Ok(s) => s,
                        Err(reasons) => {
                            report.rejected.push(reject(reasons));
                            continue;
                        }
                    };
                    match store_service(&mut tx.conn(), territory, &s, caller, now, &mut memo)
                        .await?
                    {
                        Some(outcome) => report.count(outcome),
                        // Its structure may come later in the file (an object's keys in any order).
                        None => deferred.push((item.position, s)),
                    }
                }
            }
        }
    }
    reader
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::field("fichier", e))?;
    for (position, s) in deferred {
        match store_service(&mut tx.conn(), territory, &s, caller, now, &mut memo).await? {
            Some(outcome) => report.count(outcome),
            None => report.rejected.push(Rejection {
                kind: RecordKind::Service,
                position,
                id: s.id.clone(),
                reasons: vec![format!(
                    "structure_id : la structure « {} » (source « {} ») n'est ni dans ce fichier ni dans l'annuaire du territoire",
                    s.structure_id, s.source
                )],
            }),
        }
    }
    report
        .rejected
        .sort_by_key(|r| (r.kind as usize, r.position));
    if let Some(caller) = caller {
        let detail = format!(
            "{} créés, {} mis à jour, {} inchangés, {} rejetés",
            report.created,
            report.updated,
            report.unchanged,
            report.rejected.len()
        );
        caller
            .audit(
                &mut tx.conn(),
                now,
                "directory.import",
                ("territory", Some(territory.0)),
                Some(territory),
                &detail,
            )
            .await?;
    }
    crate::faults::pause(crate::faults::DIRECTORY_IMPORT).await;
    tx.commit().await?;
    Ok(report)
}

/// The territory an operator names on the command line.
pub async fn territory_by_slug(app: &App, slug: &str) -> Result<TerritoryId, AppError> {
    let mut pooled = app.db.acquire().await?;
    store::territories::by_slug(&mut pooled.conn(), slug)
        .await?
        .map(|t| t.id)
        .ok_or_else(|| {
            AppError::field(
                "territoire",
                format!("aucun territoire n'a l'identifiant « {slug} »"),
            )
        })
}

/// Coordinators import files for their territory from the interface.
pub async fn import_as(
    app: &App,
    caller: &Caller,
    slug: &str,
    input: impl Read + Send + 'static,
) -> Result<ImportReport, AppError> {
    let territory = caller.territory(slug)?.id;
    if !caller.coordinates(territory) {
        return Err(AppError::Forbidden);
    }
    import(app, territory, input, Some(caller)).await
}

/// Writes the directory (one territory, or all) as one JSON object holding the `structures`
/// and `services` arrays of data·inclusion v1 records, page by page (bounded memory).
pub async fn export(
    app: &App,
    territory: Option<TerritoryId>,
    out: &mut (impl Write + Send),
) -> Result<(usize, usize), AppError> {
    let io = |e: std::io::Error| AppError::Internal(format!("écriture impossible : {e}"));
    let mut counts = (0, 0);
    let mut pooled = app.db.acquire().await?;
    out.write_all(b"{\"structures\": [").map_err(io)?;
    let mut after = 0;
    loop {
        let page =
            store::directory::structure_records(&mut pooled.conn(), territory, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        for (_, record) in &page {
            out.write_all(if counts.0 == 0 { b"\n" } else { b",\n" })
                .map_err(io)?;
            out.write_all(record.as_bytes()).map_err(io)?;
            counts.0 += 1;
        }
    }
    out.write_all(b"\n], \"services\": [").map_err(io)?;
    after = 0;
    loop {
        let page =
            store::directory::service_records(&mut pooled.conn(), territory, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        for (_, record) in &page {
            out.write_all(if counts.1 == 0 { b"\n" } else { b",\n" })
                .map_err(io)?;
            out.write_all(record.as_bytes()).map_err(io)?;
            counts.1 += 1;
        }
    }
    out.write_all(b"\n]}\n").map_err(io)?;
    Ok(counts)
}

/// The export of the caller's territory, for a download.
pub async fn export_as(app: &App, caller: &Caller, slug: &str) -> Result<Vec<u8>, AppError> {
    let territory = caller.territory(slug)?.id;
    let mut out = Vec::new();
    export(app, Some(territory), &mut out).await?;
    Ok(out)
}
