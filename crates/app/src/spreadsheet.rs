//! Reading the tables users upload (CSV, XLSX, ODS) within fixed bounds, so that no file —
//! careless or hostile — can take the server's memory. Everything is checked before a cell is
//! kept: the inflated size of every zip entry (read, not trusted from the header), the sheet's
//! declared dimension, the number of rows, of columns and of cells. A file past a bound is
//! refused with a French message naming the limit. See `docs/uploads.md`.
//!
//! The readers are plain functions over bytes (no I/O, no async): callers run them on a
//! blocking thread, and the fuzz targets call them directly.

use std::io::{Cursor, Read};

/// The bounds every uploaded table is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Data rows, the header not counted.
    pub max_rows: usize,
    /// Columns of any row (XLSX itself allows 16 384; no address file needs more than a few).
    pub max_columns: usize,
    /// Cells kept in memory, empty ones between filled ones included.
    pub max_cells: usize,
    /// Bytes one zip entry may inflate to.
    pub max_entry_bytes: u64,
    /// Bytes all the zip entries together may inflate to.
    pub max_inflated_bytes: u64,
    /// Entries in a zip archive.
    pub max_entries: usize,
}

/// The limits of « Vérification en masse » and of every table import.
pub const LIMITS: Limits = Limits {
    max_rows: 200_000,
    max_columns: 200,
    max_cells: 4_000_000,
    max_entry_bytes: 100 * 1024 * 1024,
    max_inflated_bytes: 200 * 1024 * 1024,
    max_entries: 1_000,
};

/// Formats the readers accept, told by content (never by the file's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    Csv,
    Xlsx,
    Ods,
}

impl SheetFormat {
    /// A zip archive is an XLSX workbook unless its `mimetype` entry says OpenDocument.
    pub fn sniff(bytes: &[u8]) -> SheetFormat {
        if !bytes.starts_with(b"PK\x03\x04") {
            return SheetFormat::Csv;
        }
        // ODF puts an uncompressed `mimetype` entry first: its content starts at byte 38.
        if bytes.len() > 38 + ODS_MIME.len()
            && &bytes[30..38] == b"mimetype"
            && bytes[38..].starts_with(ODS_MIME)
        {
            SheetFormat::Ods
        } else {
            SheetFormat::Xlsx
        }
    }
}

const ODS_MIME: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

/// A table as read: the first row names the columns; every cell is text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Why a file was refused, in French, for the user (the field « fichier »).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse<T>(message: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(message.into()))
}

pub fn format_count(n: u64) -> String {
    // 200000 → « 200 000 » (narrow no-break space, as French typography writes it).
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

fn mib(bytes: u64) -> String {
    format!("{} Mo", bytes / (1024 * 1024))
}

/// Reads the first sheet (or the CSV) of an uploaded file, header first.
pub fn read_table(bytes: &[u8], limits: &Limits) -> Result<Table, Refused> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    read_rows(bytes, limits, &mut |index, cells| {
        let index = index as usize;
        if rows.len() < index {
            rows.resize_with(index, Vec::new);
        }
        rows.push(cells);
        Ok(())
    })?;
    let mut rows = rows.into_iter();
    let header = rows.next().unwrap_or_default();
    let mut rows: Vec<Vec<String>> = rows.collect();
    // Trailing blank rows (a spreadsheet's formatting) are not data.
    while rows
        .last()
        .is_some_and(|r| r.iter().all(|c| c.trim().is_empty()))
    {
        rows.pop();
    }
    Ok(Table { header, rows })
}

/// Reads the first sheet (or the CSV) row by row, within the same bounds as [`read_table`]
/// but without keeping the rows: each goes to `each` with its index (0 is the header, which
/// must name columns; blank rows are skipped, so indexes may jump), in order.
pub fn read_rows(
    bytes: &[u8],
    limits: &Limits,
    each: &mut dyn FnMut(u64, Vec<String>) -> Result<(), Refused>,
) -> Result<(), Refused> {
    let empty =
        || Refused("Le fichier est vide : la première ligne doit nommer les colonnes.".into());
    let mut header_seen = false;
    let mut out = |index: u64, cells: Vec<String>| {
        if !header_seen {
            if index != 0 || cells.iter().all(|c| c.trim().is_empty()) {
                return Err(empty());
            }
            header_seen = true;
        }
        each(index, cells)
    };
    let mut grid = Grid::new(limits, &mut out);
    match SheetFormat::sniff(bytes) {
        SheetFormat::Csv => read_csv(bytes, &mut grid)?,
        SheetFormat::Xlsx => {
            check_zip(bytes, limits, SheetFormat::Xlsx)?;
            read_xlsx(bytes, &mut grid)?;
        }
        SheetFormat::Ods => {
            check_zip(bytes, limits, SheetFormat::Ods)?;
            read_ods(bytes, &mut grid)?;
        }
    }
    grid.finish()?;
    if header_seen { Ok(()) } else { Err(empty()) }
}

const OUT_OF_ORDER: &str = "Classeur illisible : ses lignes ne sont pas dans l'ordre. Enregistrez-le de nouveau depuis votre tableur, ou en CSV.";

/// Rows as they are read, with the bounds enforced cell by cell. Readers give cells in
/// order (row by row, as spreadsheets write them); each row is handed on once complete, so
/// only one row is held at a time.
struct Grid<'l, 'o> {
    limits: &'l Limits,
    cells: usize,
    /// The row being filled, and its index.
    current: Option<(u64, Vec<String>)>,
    /// The index the next pushed row takes.
    next: u64,
    out: &'o mut dyn FnMut(u64, Vec<String>) -> Result<(), Refused>,
}

impl<'l, 'o> Grid<'l, 'o> {
    fn new(
        limits: &'l Limits,
        out: &'o mut dyn FnMut(u64, Vec<String>) -> Result<(), Refused>,
    ) -> Grid<'l, 'o> {
        Grid {
            limits,
            cells: 0,
            current: None,
            next: 0,
            out,
        }
    }

    fn check_position(&self, row: u64, column: u64) -> Result<(), Refused> {
        if column >= self.limits.max_columns as u64 {
            return refuse(format!(
                "Ligne {} : le fichier a plus de {} colonnes, la limite acceptée. Gardez seulement les colonnes utiles.",
                format_count(row + 1),
                self.limits.max_columns
            ));
        }
        if row > self.limits.max_rows as u64 {
            return refuse(format!(
                "Le fichier dépasse {} lignes, la limite acceptée : découpez-le en plusieurs fichiers.",
                format_count(self.limits.max_rows as u64)
            ));
        }
        Ok(())
    }

    /// Counts cells about to be kept, refusing past the bound.
    fn keep(&mut self, cells: usize) -> Result<(), Refused> {
        self.cells += cells;
        if self.cells > self.limits.max_cells {
            return refuse(format!(
                "Le fichier compte plus de {} cellules, la limite acceptée : découpez-le en plusieurs fichiers.",
                format_count(self.limits.max_cells as u64)
            ));
        }
        Ok(())
    }

    /// Hands the row being filled on.
    fn flush(&mut self) -> Result<(), Refused> {
        if let Some((index, cells)) = self.current.take() {
            self.next = index + 1;
            (self.out)(index, cells)?;
        }
        Ok(())
    }

    /// Sets one cell; columns before it are filled with empty text. A cell of a row above the
    /// one being filled means a sheet out of order, which no spreadsheet writes.
    fn set(&mut self, row: u64, column: u64, value: String) -> Result<(), Refused> {
        self.check_position(row, column)?;
        match &self.current {
            Some((r, _)) if *r == row => {}
            Some((r, _)) if *r > row => {
                return refuse(OUT_OF_ORDER);
            }
            _ => {
                if row < self.next {
                    return refuse(OUT_OF_ORDER);
                }
                self.flush()?;
                self.current = Some((row, Vec::new()));
            }
        }
        let column = column as usize;
        let width = self.current.as_ref().map_or(0, |(_, c)| c.len());
        if width <= column {
            self.keep(column + 1 - width)?;
        }
        if let Some((_, cells)) = self.current.as_mut() {
            if cells.len() <= column {
                cells.resize(column + 1, String::new());
            }
            cells[column] = value;
        }
        Ok(())
    }

    fn push_row(&mut self, cells: Vec<String>) -> Result<(), Refused> {
        self.flush()?;
        let row = self.next;
        self.check_position(row, cells.len().saturating_sub(1) as u64)?;
        self.keep(cells.len())?;
        self.next = row + 1;
        (self.out)(row, cells)
    }

    fn finish(mut self) -> Result<(), Refused> {
        self.flush()
    }
}

/// The delimiter of a CSV, from its first line: `;`, tab or `,`, whichever is most frequent.
pub fn sniff_delimiter(first_line: &str) -> u8 {
    [b';', b'\t', b',']
        .into_iter()
        .max_by_key(|d| first_line.matches(*d as char).count())
        .unwrap_or(b';')
}

/// UTF-8 (with or without BOM), else Windows-1252 as Excel writes it in France.
pub fn decode_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t.trim_start_matches('\u{feff}')),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0,
    }
}

fn read_csv(bytes: &[u8], grid: &mut Grid<'_, '_>) -> Result<(), Refused> {
    let text = decode_text(bytes);
    let first = text.lines().next().unwrap_or("");
    // Counted before the csv reader builds a record: a million separators is refused at once.
    let columns = first.matches(sniff_delimiter(first) as char).count() + 1;
    if columns > grid.limits.max_columns {
        return refuse(format!(
            "Ligne 1 : {} colonnes, plus que les {} acceptées. Gardez seulement les colonnes utiles.",
            format_count(columns as u64),
            grid.limits.max_columns
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sniff_delimiter(first))
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut line = 0u64;
    loop {
        line += 1;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return refuse(format!(
                    "Ligne {} illisible : {}.",
                    format_count(line),
                    csv_error(&e)
                ));
            }
        }
        grid.push_row(record.iter().map(str::to_string).collect())?;
    }
    Ok(())
}

/// The csv crate's errors in French (its own text is English).
pub fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "caractères illisibles (encodage inconnu)".into(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} colonnes au lieu de {expected_len}"),
        csv::ErrorKind::Io(_) => "lecture interrompue".into(),
        _ => "format CSV incorrect".into(),
    }
}

/// Inflates every entry of the archive, counting: a declared size is never trusted, and the
/// first byte past a bound stops the reading. Shared strings are counted too (each one costs
/// memory when the workbook opens).
fn check_zip(bytes: &[u8], limits: &Limits, format: SheetFormat) -> Result<(), Refused> {
    let kind = if format == SheetFormat::Ods {
        "ODS"
    } else {
        "XLSX"
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| {
        Refused(format!(
            "Classeur {kind} illisible : l'archive est endommagée."
        ))
    })?;
    if zip.len() > limits.max_entries {
        return refuse(format!(
            "Classeur {kind} refusé : il contient plus de {} éléments.",
            limits.max_entries
        ));
    }
    let mut total: u64 = 0;
    let mut buffer = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|_| {
            Refused(format!(
                "Classeur {kind} illisible : l'archive est endommagée ou chiffrée."
            ))
        })?;
        let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
        if entry.size() > limits.max_entry_bytes {
            return refuse(format!(
                "Classeur {kind} refusé : « {name} » se décompresse en plus de {}, la limite acceptée.",
                mib(limits.max_entry_bytes)
            ));
        }
        let shared_strings = name == "xl/sharedStrings.xml";
        let mut strings = 0usize;
        let mut tail = [0u8; 3];
        let mut inflated: u64 = 0;
        loop {
            let n = entry.read(&mut buffer).map_err(|_| {
                Refused(format!(
                    "Classeur {kind} illisible : « {name} » est endommagé."
                ))
            })?;
            if n == 0 {
                break;
            }
            inflated += n as u64;
            total += n as u64;
            if inflated > limits.max_entry_bytes {
                return refuse(format!(
                    "Classeur {kind} refusé : « {name} » se décompresse en plus de {}, la limite acceptée.",
                    mib(limits.max_entry_bytes)
                ));
            }
            if total > limits.max_inflated_bytes {
                return refuse(format!(
                    "Classeur {kind} refusé : son contenu se décompresse en plus de {}, la limite acceptée.",
                    mib(limits.max_inflated_bytes)
                ));
            }
            if shared_strings {
                // `<si` opens each shared string; the last bytes of the previous read are kept so
                // that one cut in the middle is still seen.
                let mut window = Vec::with_capacity(n + 3);
                window.extend_from_slice(&tail);
                window.extend_from_slice(&buffer[..n]);
                strings += window.windows(3).filter(|w| w == b"<si").count();
                let keep = window.len().min(3);
                tail = [0; 3];
                tail[3 - keep..].copy_from_slice(&window[window.len() - keep..]);
                if strings > limits.max_cells {
                    return refuse(format!(
                        "Classeur XLSX refusé : il compte plus de {} textes, la limite acceptée.",
                        format_count(limits.max_cells as u64)
                    ));
                }
            }
        }
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8], grid: &mut Grid<'_, '_>) -> Result<(), Refused> {
    use calamine::{DataRef, Reader};
    let unreadable = || {
        Refused(
            "Classeur XLSX illisible : enregistrez-le de nouveau depuis votre tableur, ou en CSV."
                .into(),
        )
    };
    let mut book: calamine::Xlsx<_> =
        calamine::Xlsx::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let Some(first) = book.sheet_names().first().cloned() else {
        return refuse("Le classeur n'a aucune feuille.");
    };
    let mut cells = book
        .worksheet_cells_reader(&first)
        .map_err(|_| unreadable())?;
    // The declared dimension is checked first: a sheet that claims A1:XFD1048576 is refused
    // before any cell is read.
    let dimensions = cells.dimensions();
    let (last_row, last_column) = dimensions.end;
    if dimensions.start <= dimensions.end {
        grid.check_position(u64::from(last_row), u64::from(last_column))?;
    }
    while let Some(cell) = cells.next_cell().map_err(|_| unreadable())? {
        let (row, column) = cell.get_position();
        let text = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            DataRef::SharedString(s) => (*s).to_string(),
            other => calamine::Data::from(other.clone()).to_string(),
        };
        grid.set(u64::from(row), u64::from(column), text)?;
    }
    Ok(())
}

/// ODS is read with a streaming XML reader of our own: repeated rows and columns
/// (`number-rows-repeated`, `number-columns-repeated`, which spreadsheets write for blank
/// areas) are expanded only where a cell holds a value, and only within the bounds.
fn read_ods(bytes: &[u8], grid: &mut Grid<'_, '_>) -> Result<(), Refused> {
    use quick_xml::events::Event;
    let unreadable = || {
        Refused(
            "Classeur ODS illisible : enregistrez-le de nouveau depuis votre tableur, ou en CSV."
                .into(),
        )
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let mut content = Vec::new();
    zip.by_name("content.xml")
        .map_err(|_| unreadable())?
        .read_to_end(&mut content)
        .map_err(|_| unreadable())?;
    let mut xml = quick_xml::Reader::from_reader(content.as_slice());
    let mut buf = Vec::new();
    let mut row: u64 = 0;
    let mut column: u64 = 0;
    let mut row_repeat: u64 = 1;
    // The cell being read: its repeat count and value so far.
    let mut cell: Option<(u64, Option<String>)> = None;
    let mut in_table = false;
    let mut paragraphs = 0usize;
    let mut text = String::new();
    // Values of the current row: (column, repeat, text).
    let mut row_cells: Vec<(u64, u64, String)> = Vec::new();
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .and_then(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.into_owned())
            })
    };
    let repeat = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> Result<u64, Refused> {
        match attr(e, name) {
            None => Ok(1),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(unreadable),
        }
    };
    loop {
        let event = xml.read_event_into(&mut buf).map_err(|_| unreadable())?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.name().as_ref() {
                    "table:table" if !empty => in_table = true,
                    "table:table-row" if in_table => {
                        row_repeat = repeat(e, "table:number-rows-repeated")?;
                        column = 0;
                        row_cells.clear();
                        if empty {
                            row = row.saturating_add(row_repeat);
                        }
                    }
                    "table:table-cell" | "table:covered-table-cell" if in_table => {
                        let repeats = repeat(e, "table:number-columns-repeated")?;
                        let value =
                            attr(e, "office:value-type").and_then(|kind| match kind.as_str() {
                                "float" | "percentage" | "currency" => attr(e, "office:value"),
                                "date" => attr(e, "office:date-value"),
                                "time" => attr(e, "office:time-value"),
                                "boolean" => attr(e, "office:boolean-value"),
                                _ => None,
                            });
                        if empty {
                            if let Some(v) = value {
                                row_cells.push((column, repeats, v));
                            }
                            column = column.saturating_add(repeats);
                        } else {
                            cell = Some((repeats, value));
                            paragraphs = 0;
                            text.clear();
                        }
                    }
                    "text:p" if cell.is_some() => {
                        if paragraphs > 0 {
                            text.push('\n');
                        }
                        paragraphs += 1;
                    }
                    "text:s" if cell.is_some() => {
                        let n = attr(e, "text:c")
                            .and_then(|c| c.parse::<usize>().ok())
                            .unwrap_or(1);
                        text.extend(std::iter::repeat_n(' ', n.min(1000)));
                    }
                    "text:tab" if cell.is_some() => text.push('\t'),
                    "text:line-break" if cell.is_some() => text.push('\n'),
                    _ => {}
                }
            }
            // Entity references come as events of their own, between the pieces of text.
            Event::Text(t) if cell.is_some() => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if cell.is_some() => {
                let resolved = match r.resolve_char_ref().map_err(|_| unreadable())? {
                    Some(c) => c,
                    None => match &*r.into_inner() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err(unreadable()),
                    },
                };
                text.push(resolved);
            }
            Event::End(e) => match e.name().as_ref() {
                "table:table-cell" | "table:covered-table-cell" => {
                    if let Some((repeats, value)) = cell.take() {
                        let v = value.unwrap_or_else(|| std::mem::take(&mut text));
                        if !v.is_empty() {
                            row_cells.push((column, repeats, v));
                        }
                        column = column.saturating_add(repeats);
                    }
                }
                "table:table-row" if in_table => {
                    if !row_cells.is_empty() {
                        // Only rows holding a value are expanded, each repeat counted.
                        for r in 0..row_repeat {
                            for (c, repeats, v) in &row_cells {
                                for k in 0..*repeats {
                                    grid.set(row + r, c.saturating_add(k), v.clone())?;
                                }
                            }
                        }
                    }
                    row = row.saturating_add(row_repeat);
                }
                // Only the first sheet is read.
                "table:table" => break,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
