//! Reading the stored file chunk by chunk, and the report written as rows are judged.

use std::sync::Arc;

use super::{CHUNK, ReportRow, SHOWN, Summary, Verdict, is_blank};
use crate::AppError;
use crate::spreadsheet::LIMITS;

const REPORT_HEADER: [&str; 6] = [
    "Ligne",
    "Identifiant",
    "Résultat",
    "Dossier",
    "Motif",
    "Quartier prioritaire",
];

/// The report as it is written, row by row (CSV, `;`, UTF-8 with BOM: Excel opens it).
pub(super) struct Report {
    csv: csv::Writer<Vec<u8>>,
    summary: Summary,
}

impl Report {
    pub(super) fn new() -> Result<Report, AppError> {
        let mut csv = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer("\u{feff}".as_bytes().to_vec());
        csv.write_record(REPORT_HEADER)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Report {
            csv,
            summary: Summary::default(),
        })
    }

    pub(super) fn row(&mut self, row: ReportRow, verdict: &Verdict) -> Result<(), AppError> {
        self.summary.counts.add(verdict);
        let person = row.person.map(|p| p.to_string()).unwrap_or_default();
        self.csv
            .write_record([
                row.line.to_string().as_str(),
                &row.identifiant,
                &row.outcome,
                &person,
                &row.reason,
                &row.qpv,
            ])
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if matches!(verdict, Verdict::Refused(_) | Verdict::Duplicate { .. })
            && self.summary.shown.len() < SHOWN
        {
            self.summary.shown.push(row);
        }
        Ok(())
    }

    pub(super) fn finish(self) -> Result<(String, Summary), AppError> {
        let bytes = self
            .csv
            .into_inner()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((text, self.summary))
    }
}

/// Rows of the file with their line number (the header is line 1), blank rows left out.
pub(super) type Lines = Vec<(usize, Vec<String>)>;

enum Piece {
    Header(Vec<String>),
    Lines(Lines),
}

/// The file read on a blocking thread, [`CHUNK`] rows at a time through a bounded channel:
/// only a few chunks are in memory at once, whatever the file's length.
pub(super) struct Stream {
    pieces: tokio::sync::mpsc::Receiver<Piece>,
    reader: Option<tokio::task::JoinHandle<Result<(), crate::spreadsheet::Refused>>>,
}

impl Stream {
    /// Starts reading; answers the header once read.
    pub(super) async fn open(bytes: Arc<Vec<u8>>) -> Result<(Stream, Vec<String>), AppError> {
        let (sender, pieces) = tokio::sync::mpsc::channel(2);
        let reader = tokio::task::spawn_blocking(move || {
            let interrupted = || crate::spreadsheet::Refused("lecture interrompue".into());
            let mut chunk: Lines = Vec::with_capacity(CHUNK);
            crate::spreadsheet::read_rows(&bytes, &LIMITS, &mut |index, cells| {
                if index == 0 {
                    return sender
                        .blocking_send(Piece::Header(cells))
                        .map_err(|_| interrupted());
                }
                if !is_blank(&cells) {
                    chunk.push((index as usize + 1, cells));
                }
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    sender
                        .blocking_send(Piece::Lines(full))
                        .map_err(|_| interrupted())?;
                }
                Ok(())
            })?;
            if !chunk.is_empty() {
                sender
                    .blocking_send(Piece::Lines(chunk))
                    .map_err(|_| interrupted())?;
            }
            Ok(())
        });
        let mut stream = Stream {
            pieces,
            reader: Some(reader),
        };
        match stream.pieces.recv().await {
            Some(Piece::Header(header)) => Ok((stream, header)),
            _ => {
                stream.end().await?;
                Err(AppError::field(
                    "fichier",
                    "Le fichier est vide : la première ligne doit nommer les colonnes.",
                ))
            }
        }
    }

    /// The next rows, `None` at the end of the file (or the reason it could not be read).
    pub(super) async fn next(&mut self) -> Result<Option<Lines>, AppError> {
        match self.pieces.recv().await {
            Some(Piece::Lines(lines)) => Ok(Some(lines)),
            Some(Piece::Header(_)) => Err(AppError::Internal("second header".into())),
            None => {
                self.end().await?;
                Ok(None)
            }
        }
    }

    async fn end(&mut self) -> Result<(), AppError> {
        if let Some(reader) = self.reader.take() {
            reader
                .await
                .map_err(|e| AppError::Internal(format!("lecture du fichier interrompue : {e}")))?
                .map_err(|e| AppError::field("fichier", e.0))?;
        }
        Ok(())
    }
}

/// The header and the number of rows (blank ones left out) of a file.
pub(super) async fn measure(bytes: Arc<Vec<u8>>) -> Result<(Vec<String>, usize), AppError> {
    let (mut stream, header) = Stream::open(bytes).await?;
    let mut rows = 0;
    while let Some(lines) = stream.next().await? {
        rows += lines.len();
    }
    Ok((header, rows))
}
