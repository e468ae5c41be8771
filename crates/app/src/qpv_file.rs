//! « Vérification en masse » : a spreadsheet of addresses (CSV or XLSX) comes back with
//! `code_qp`, `lib_qp`, `millesime`, `confiance`, `score`, `adresse_reconnue` and `remarque`
//! appended to every row. No row is ever dropped: a row that cannot be checked says why in
//! `remarque`. Addresses are geocoded in chunks with the BAN's bulk endpoint.

use domain::{Millesime, text::fold};

use crate::spreadsheet::{LIMITS, SheetFormat};
use crate::{App, AppError, FieldErrors};

const CHUNK: usize = 500;
const APPENDED: [&str; 7] = [
    "code_qp",
    "lib_qp",
    "millesime",
    "confiance",
    "score",
    "adresse_reconnue",
    "remarque",
];

/// The format of the answer: CSV for CSV, XLSX for a workbook (XLSX or ODS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    pub fn sniff(bytes: &[u8]) -> FileFormat {
        match SheetFormat::sniff(bytes) {
            SheetFormat::Csv => FileFormat::Csv,
            SheetFormat::Xlsx | SheetFormat::Ods => FileFormat::Xlsx,
        }
    }
}

/// What the user chose on the form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct FileCheckInput {
    /// Column names making up the address, separated by commas; empty: detected.
    pub colonnes_adresse: String,
    pub colonne_longitude: String,
    pub colonne_latitude: String,
    pub millesime: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheckReport {
    pub format: FileFormat,
    pub rows: usize,
    pub inside: usize,
    pub flagged: usize,
}

enum Locate {
    Address(Vec<usize>),
    Coordinates { lon: usize, lat: usize },
}

const ADDRESS_NAMES: [&str; 14] = [
    "adresse",
    "address",
    "numero",
    "num",
    "voie",
    "rue",
    "libelle_voie",
    "complement",
    "code_postal",
    "cp",
    "postcode",
    "commune",
    "ville",
    "city",
];

fn choose_columns(header: &[String], input: &FileCheckInput) -> Result<Locate, AppError> {
    let folded: Vec<String> = header.iter().map(|h| fold(h.trim())).collect();
    let find = |name: &str| folded.iter().position(|h| *h == fold(name.trim()));
    let listing = header.join(", ");
    if !input.colonne_longitude.trim().is_empty() || !input.colonne_latitude.trim().is_empty() {
        let mut errors = FieldErrors::default();
        let lon = find(&input.colonne_longitude);
        let lat = find(&input.colonne_latitude);
        if lon.is_none() {
            errors.add(
                "colonne_longitude",
                format!(
                    "Colonne « {} » absente. Colonnes du fichier : {listing}.",
                    input.colonne_longitude.trim()
                ),
            );
        }
        if lat.is_none() {
            errors.add(
                "colonne_latitude",
                format!(
                    "Colonne « {} » absente. Colonnes du fichier : {listing}.",
                    input.colonne_latitude.trim()
                ),
            );
        }
        return errors.into_result(|| {
            Some(Locate::Coordinates {
                lon: lon?,
                lat: lat?,
            })
        });
    }
    if !input.colonnes_adresse.trim().is_empty() {
        let mut columns = Vec::new();
        for name in input
            .colonnes_adresse
            .split([',', ';'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match find(name) {
                Some(i) => columns.push(i),
                None => {
                    return Err(AppError::field(
                        "colonnes_adresse",
                        format!("Colonne « {name} » absente. Colonnes du fichier : {listing}."),
                    ));
                }
            }
        }
        return Ok(Locate::Address(columns));
    }
    if let (Some(lon), Some(lat)) = (
        find("longitude").or_else(|| find("lon")),
        find("latitude").or_else(|| find("lat")),
    ) {
        return Ok(Locate::Coordinates { lon, lat });
    }
    let columns: Vec<usize> = folded
        .iter()
        .enumerate()
        .filter(|(_, h)| ADDRESS_NAMES.contains(&h.as_str()))
        .map(|(i, _)| i)
        .collect();
    if columns.is_empty() {
        return Err(AppError::field(
            "colonnes_adresse",
            format!(
                "Indiquez les colonnes de l'adresse : aucune ne s'appelle adresse, voie, code_postal, commune… Colonnes du fichier : {listing}."
            ),
        ));
    }
    Ok(Locate::Address(columns))
}

/// Reads a whole table within the upload bounds, on a blocking thread (parsing a workbook
/// must not hold up the async runtime that answers everyone else).
async fn read_table<B: AsRef<[u8]> + Send + 'static>(
    bytes: B,
) -> Result<(Vec<String>, Vec<Vec<String>>), AppError> {
    let table = tokio::task::spawn_blocking(move || {
        crate::spreadsheet::read_table(bytes.as_ref(), &LIMITS)
    })
    .await
    .map_err(|e| AppError::Internal(format!("lecture du fichier interrompue : {e}")))?
    .map_err(|e| AppError::field("fichier", e.0))?;
    Ok((table.header, table.rows))
}

fn parse_coordinate(text: &str) -> Option<f64> {
    text.trim().replace(',', ".").parse().ok()
}

/// A row's point, once known, with what the geocoder said of it.
struct Located {
    lon: f64,
    lat: f64,
    score: String,
    label: String,
    confidence: String,
}

/// Where a row stands while its chunk is processed.
enum RowState {
    Located(Located),
    /// Waiting for the geocoder's answer.
    Pending,
    /// Cannot be checked; the reason goes in `remarque`.
    Flagged(String),
}

/// Where the answers go, row by row.
pub trait RowSink {
    fn row(&mut self, cells: &[String]) -> Result<(), AppError>;
}

pub struct CsvSink<W: std::io::Write>(pub csv::Writer<W>);

impl<W: std::io::Write> RowSink for CsvSink<W> {
    fn row(&mut self, cells: &[String]) -> Result<(), AppError> {
        self.0
            .write_record(cells)
            .map_err(|e| AppError::Internal(e.to_string()))
    }
}

pub struct XlsxSink {
    pub book: rust_xlsxwriter::Workbook,
    row: u32,
}

impl XlsxSink {
    /// A workbook whose sheet streams its rows to a temporary file (bounded memory).
    pub fn new() -> Result<XlsxSink, AppError> {
        let mut book = rust_xlsxwriter::Workbook::new();
        book.add_worksheet_with_constant_memory()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(XlsxSink { book, row: 0 })
    }
}

impl RowSink for XlsxSink {
    fn row(&mut self, cells: &[String]) -> Result<(), AppError> {
        let sheet = self
            .book
            .worksheet_from_index(0)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        for (col, cell) in cells.iter().enumerate() {
            sheet
                .write_string(self.row, col as u16, cell)
                .map_err(|e| AppError::Internal(e.to_string()))?;
        }
        self.row += 1;
        Ok(())
    }
}

/// Checks a whole file; writes the header and every row, answers appended, to `sink`.
pub async fn check_file<B: AsRef<[u8]> + Send + 'static>(
    app: &App,
    bytes: B,
    input: &FileCheckInput,
    sink: &mut (dyn RowSink + Send),
) -> Result<FileCheckReport, AppError> {
    let millesime = if input.millesime.trim().is_empty() {
        Millesime::CURRENT
    } else {
        Millesime::parse(&input.millesime).map_err(|e| AppError::field("millesime", e.0))?
    };
    let format = FileFormat::sniff(bytes.as_ref());
    let (header, rows) = read_table(bytes).await?;
    let locate = choose_columns(&header, input)?;
    let mut out_header = header.clone();
    out_header.extend(APPENDED.iter().map(|s| s.to_string()));
    sink.row(&out_header)?;
    let mut report = FileCheckReport {
        format,
        rows: rows.len(),
        inside: 0,
        flagged: 0,
    };
    let year = millesime.year().to_string();
    // Once the geocoder has failed, the rest of the file is not sent to it again: every row
    // comes back with the reason instead of the whole file failing (or waiting each time).
    let mut geocoder_down = false;
    for chunk in rows.chunks(CHUNK) {
        let mut points: Vec<RowState> = Vec::with_capacity(chunk.len());
        let mut to_geocode: Vec<(usize, String)> = Vec::new();
        for (i, row) in chunk.iter().enumerate() {
            let cell = |c: usize| row.get(c).map_or("", String::as_str);
            points.push(match &locate {
                Locate::Coordinates { lon, lat } => {
                    match (parse_coordinate(cell(*lon)), parse_coordinate(cell(*lat))) {
                        (Some(x), Some(y)) if crate::qpv::check_point(x, y).is_ok() => {
                            RowState::Located(Located {
                                lon: x,
                                lat: y,
                                score: String::new(),
                                label: String::new(),
                                confidence: "sûr".into(),
                            })
                        }
                        _ => RowState::Flagged(format!(
                            "coordonnées invalides (« {} », « {} »)",
                            cell(*lon).trim(),
                            cell(*lat).trim()
                        )),
                    }
                }
                Locate::Address(columns) => {
                    let address = columns
                        .iter()
                        .map(|c| cell(*c).trim())
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ");
                    if address.is_empty() {
                        RowState::Flagged("adresse vide".into())
                    } else {
                        to_geocode.push((i, address));
                        RowState::Pending
                    }
                }
            });
        }
        if !to_geocode.is_empty() {
            let addresses: Vec<String> = to_geocode.iter().map(|(_, a)| a.clone()).collect();
            let answers = if geocoder_down {
                None
            } else {
                match app.geocoder.geocode_batch(&addresses).await {
                    Ok(answers) => Some(answers),
                    Err(e) => {
                        tracing::warn!(error = %e, "mass check: geocoder unavailable");
                        geocoder_down = true;
                        None
                    }
                }
            };
            if answers.is_none() {
                for (i, _) in &to_geocode {
                    points[*i] = RowState::Flagged("géocodage indisponible".into());
                }
            }
            for ((i, _), answer) in to_geocode.iter().zip(answers.unwrap_or_default()) {
                points[*i] = match answer {
                    Some(g) => RowState::Located(Located {
                        lon: g.lon,
                        lat: g.lat,
                        score: format!("{:.2}", g.score),
                        confidence: g.confidence.label().to_string(),
                        label: g.label,
                    }),
                    None => RowState::Flagged(
                        "adresse non reconnue par la Base Adresse Nationale".into(),
                    ),
                };
            }
        }
        for (row, point) in chunk.iter().zip(points) {
            let mut cells = row.clone();
            cells.resize(header.len(), String::new());
            match point {
                RowState::Located(p) => {
                    let answer = crate::qpv::lookup_point(app, p.lon, p.lat, millesime)?;
                    if answer.code_qp.is_some() {
                        report.inside += 1;
                    }
                    let remark = match (&answer.code_qp, answer.distance_m) {
                        (None, Some(d)) if d < 50.0 => format!("à {d} m d'un QPV : à vérifier"),
                        _ => String::new(),
                    };
                    cells.extend([
                        answer.code_qp.unwrap_or_default(),
                        answer.lib_qp.unwrap_or_default(),
                        year.clone(),
                        p.confidence,
                        p.score,
                        p.label,
                        remark,
                    ]);
                }
                RowState::Pending | RowState::Flagged(_) => {
                    report.flagged += 1;
                    let reason = match point {
                        RowState::Flagged(r) => r,
                        _ => "sans réponse du géocodeur".into(),
                    };
                    cells.extend([
                        String::new(),
                        String::new(),
                        year.clone(),
                        "indéterminé".into(),
                        String::new(),
                        String::new(),
                        reason,
                    ]);
                }
            }
            sink.row(&cells)?;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn app() -> (App, store::testing::TestDb) {
        let test_db = store::testing::TestDb::sqlite().await;
        let settings = crate::Settings {
            ban_api_url: crate::testing::fake_ban_api().await,
            ..crate::Settings::default()
        };
        let app = App::new(test_db.db.clone(), settings, None)
            .await
            .expect("app");
        crate::qpv::seed_demo(&app).await.expect("demo QPVs");
        (app, test_db)
    }

    fn csv_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice())
            .records()
            .map(|r| r.expect("row").iter().map(str::to_string).collect())
            .collect()
    }

    #[tokio::test]
    async fn every_row_comes_back_with_its_answer_and_bad_rows_say_why() {
        let (app, _db) = app().await;
        let file = "nom;voie;code_postal;commune\nA;12 rue de la Démonstration;59600;Maubeuge\nB;;;\nC;1 allée du Parc;59600;Maubeuge\nD;rue inconnue;00000;Nulle-part\n";
        let mut sink = CsvSink(csv::Writer::from_writer(Vec::new()));
        let report = check_file(
            &app,
            file.as_bytes().to_vec(),
            &FileCheckInput::default(),
            &mut sink,
        )
        .await
        .expect("checked");
        assert_eq!(
            report,
            FileCheckReport {
                format: FileFormat::Csv,
                rows: 4,
                inside: 1,
                flagged: 2
            }
        );
        let rows = csv_rows(sink.0.into_inner().expect("flush"));
        assert_eq!(rows.len(), 5, "header and every row");
        assert_eq!(&rows[0][4..], &APPENDED.map(String::from));
        assert_eq!(
            (
                rows[1][4].as_str(),
                rows[1][6].as_str(),
                rows[1][7].as_str()
            ),
            ("QN05990N", "2024", "sûr")
        );
        assert_eq!(rows[2][10], "adresse vide");
        assert_eq!(rows[3][4], "", "in the hole: outside");
        assert!(rows[4][10].contains("non reconnue"));
    }

    #[tokio::test]
    async fn coordinates_columns_are_used_when_given_and_bad_ones_flagged() {
        let (app, _db) = app().await;
        let file = "id,lon,lat\n1,\"3,962\",50.272\n2,abc,50\n";
        let mut sink = CsvSink(csv::Writer::from_writer(Vec::new()));
        let report = check_file(
            &app,
            file.as_bytes().to_vec(),
            &FileCheckInput::default(),
            &mut sink,
        )
        .await
        .expect("checked");
        assert_eq!((report.inside, report.flagged), (1, 1));
        let rows = csv_rows(sink.0.into_inner().expect("flush"));
        assert_eq!(rows[1][3], "QN05990N");
        assert_eq!(rows[1][6], "sûr", "given coordinates are sure");
        assert!(rows[2][9].starts_with("coordonnées invalides"));
    }

    #[tokio::test]
    async fn an_unknown_column_or_an_empty_file_is_refused_before_anything_is_written() {
        let (app, _db) = app().await;
        let mut sink = CsvSink(csv::Writer::from_writer(Vec::new()));
        let input = FileCheckInput {
            colonnes_adresse: "rue, ville".into(),
            ..FileCheckInput::default()
        };
        let Err(AppError::Invalid(e)) =
            check_file(&app, b"nom;voie\nA;x\n".to_vec(), &input, &mut sink).await
        else {
            panic!("refused")
        };
        assert!(
            e.get("colonnes_adresse")
                .expect("error")
                .contains("Colonnes du fichier : nom, voie")
        );
        let Err(AppError::Invalid(e)) =
            check_file(&app, Vec::new(), &FileCheckInput::default(), &mut sink).await
        else {
            panic!("refused")
        };
        assert!(e.get("fichier").is_some());
        assert!(sink.0.into_inner().expect("flush").is_empty());
    }

    #[tokio::test]
    async fn an_xlsx_file_comes_back_as_xlsx_with_the_answers() {
        let (app, _db) = app().await;
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (r, row) in [
            ["adresse", "code_postal"],
            ["12 rue de la Démonstration Maubeuge", "59600"],
        ]
        .iter()
        .enumerate()
        {
            for (c, cell) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, *cell).expect("cell");
            }
        }
        sheet.write_number(2, 0, 42.0).expect("number");
        let bytes = book.save_to_buffer().expect("xlsx");
        let mut sink = XlsxSink::new().expect("workbook");
        let report = check_file(&app, bytes, &FileCheckInput::default(), &mut sink)
            .await
            .expect("checked");
        assert_eq!(
            (report.format, report.rows, report.inside, report.flagged),
            (FileFormat::Xlsx, 2, 1, 1)
        );
        let out = sink.book.save_to_buffer().expect("saved");
        use calamine::Reader;
        let mut back =
            calamine::open_workbook_auto_from_rs(std::io::Cursor::new(out)).expect("reads back");
        let range = back.worksheet_range_at(0).expect("sheet").expect("range");
        assert_eq!(
            range.get_value((1, 2)).map(|v| v.to_string()).as_deref(),
            Some("QN05990N")
        );
        assert_eq!(
            range.get_value((0, 8)).map(|v| v.to_string()).as_deref(),
            Some("remarque")
        );
    }
}
