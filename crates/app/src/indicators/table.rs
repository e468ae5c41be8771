//! A published table (`Table`): what it is before masking (`Raw`), how tables shown together
//! are masked alike (`protect_together`), and the French formatting of the figures computed
//! from published cells (shares, medians).

use super::*;

/// One published table: its rows, its columns of counts, what is published beside them, and
/// the figures computed from what is published (shares, medians).
#[derive(Debug, Clone)]
pub struct Table {
    /// Stable identifier in exports (`parcours-qpv`, `orientations-offre`…).
    pub key: String,
    pub section: Section,
    pub title: String,
    pub definition: String,
    /// The header of the rows' column (« Tranche d'âge », « Domaine »…).
    pub row_header: String,
    /// (code, label) of each row, in order.
    pub rows: Vec<(String, String)>,
    pub columns: Vec<Column>,
    /// The rows' totals, when they mean something and are published.
    pub row_total: Option<Column>,
    /// Whether the columns' totals (the « Total » line) mean something and are published.
    pub column_totals: bool,
    /// Whether the table counts people and is masked (actions and employers are not people).
    pub secret: bool,
    pub published: Published,
    pub extras: Vec<Extra>,
}

/// A column computed from the published cells of a table (never from a masked one).
#[derive(Debug, Clone)]
pub struct Extra {
    pub column: Column,
    pub values: Vec<String>,
    /// Its value on the « Total » line.
    pub total: String,
}

/// What a table is before it is masked.
pub(super) struct Raw {
    pub(super) key: String,
    pub(super) section: Section,
    pub(super) title: String,
    pub(super) definition: String,
    pub(super) row_header: String,
    pub(super) rows: Vec<(String, String)>,
    pub(super) columns: Vec<Column>,
    pub(super) cells: Vec<Vec<i64>>,
    pub(super) margins: Margins,
    pub(super) row_total: Option<Column>,
    pub(super) secret: bool,
    /// Every published total is the same count (the barriers' rows): hide one, hide all.
    pub(super) equal_totals: bool,
}

impl Raw {
    pub(super) fn new(key: impl Into<String>, section: Section, title: impl Into<String>) -> Raw {
        Raw {
            key: key.into(),
            section,
            title: title.into(),
            definition: String::new(),
            row_header: String::new(),
            rows: Vec::new(),
            columns: Vec::new(),
            cells: Vec::new(),
            margins: Margins::None,
            row_total: None,
            secret: true,
            equal_totals: false,
        }
    }

    pub(super) fn describe(mut self, row_header: &str, definition: &str) -> Raw {
        self.row_header = row_header.to_string();
        self.definition = definition.to_string();
        self
    }

    pub(super) fn columns(
        mut self,
        columns: &[Column],
        margins: Margins,
        row_total: Option<Column>,
    ) -> Raw {
        self.columns = columns.to_vec();
        self.margins = margins;
        self.row_total = row_total;
        self
    }

    /// Rows from the store's counts, in the store's order, labelled by the store.
    pub(super) fn rows_as_found(mut self, found: Vec<CountRow>) -> Raw {
        for r in found {
            self.rows.push((r.value, r.label));
            self.cells.push(fit(r.counts, self.columns.len()));
        }
        self
    }

    /// One row per known value (zeros included), in the given order; a value the store found
    /// that is not listed is kept at the end under its code rather than lost.
    pub(super) fn rows_of(mut self, values: &[(&str, &str)], found: Vec<CountRow>) -> Raw {
        let width = self.columns.len();
        for (code, label) in values {
            let counts = found
                .iter()
                .find(|r| r.value == *code)
                .map_or_else(|| vec![0; width], |r| fit(r.counts.clone(), width));
            self.rows.push((code.to_string(), label.to_string()));
            self.cells.push(counts);
        }
        for r in found {
            if !values.iter().any(|(code, _)| *code == r.value) {
                self.rows.push((r.value.clone(), r.value));
                self.cells.push(fit(r.counts, width));
            }
        }
        self
    }

    /// The published table, with the totals ticked in `forced` hidden from the start (see
    /// `protect_with`).
    pub(super) fn publish(&self, forced: &[bool], threshold: i64) -> Published {
        if self.cells.is_empty() {
            let zeros = vec![Some(0); self.columns.len()];
            return Published {
                cells: Vec::new(),
                row_totals: Vec::new(),
                column_totals: zeros,
                total: Some(0),
            };
        }
        if !self.secret {
            let p = protect_with(&self.cells, 1, Margins::All, &[]);
            return p;
        }
        protect_with(&self.cells, threshold, self.margins, forced)
    }

    pub(super) fn into_table(self, published: Published) -> Table {
        Table {
            key: self.key,
            section: self.section,
            title: self.title,
            definition: self.definition,
            row_header: self.row_header,
            rows: self.rows,
            columns: self.columns,
            row_total: self.row_total,
            column_totals: matches!(self.margins, Margins::All | Margins::Columns),
            secret: self.secret,
            published,
            extras: Vec::new(),
        }
    }
}

/// `counts` cut or padded to `width`.
fn fit(mut counts: Vec<i64>, width: usize) -> Vec<i64> {
    counts.resize(width, 0);
    counts
}

/// Masks tables published together that share their totals (the same columns over the same
/// people): a total hidden in one is hidden in all, repeated until they agree.
pub(super) fn protect_together(raws: Vec<Raw>, threshold: i64) -> Vec<Table> {
    let width = |r: &Raw| match r.margins {
        Margins::Rows => r.rows.len() + 1,
        _ => r.columns.len() + 1,
    };
    let mut forced = vec![false; raws.iter().map(width).max().unwrap_or(0)];
    let published = loop {
        let published: Vec<Published> =
            raws.iter().map(|r| r.publish(&forced, threshold)).collect();
        let mut now = forced.clone();
        for (r, p) in raws.iter().zip(&published) {
            if !r.secret || r.cells.is_empty() {
                continue;
            }
            let totals = match r.margins {
                Margins::Rows => &p.row_totals,
                Margins::Columns | Margins::All => &p.column_totals,
                Margins::None => continue,
            };
            let hidden: Vec<usize> = (0..totals.len()).filter(|j| totals[*j].is_none()).collect();
            for j in &hidden {
                now[*j] = true;
            }
            if r.equal_totals && !hidden.is_empty() {
                now.iter_mut().take(totals.len()).for_each(|f| *f = true);
            }
            if r.margins == Margins::All && p.total.is_none() {
                now[totals.len()] = true;
            }
        }
        if now == forced {
            break published;
        }
        forced = now;
    };
    raws.into_iter()
        .zip(published)
        .map(|(r, p)| r.into_table(p))
        .collect()
}

/// A share in French, « 41,7 % », from published figures only: « s » when one is masked, « – »
/// when there is nothing to divide.
pub fn share(part: Option<i64>, whole: Option<i64>) -> String {
    match (part, whole) {
        (_, Some(0)) => "–".to_string(),
        (Some(p), Some(w)) => format!("{} %", decimal(100.0 * p as f64 / w as f64)),
        _ => "s".to_string(),
    }
}

/// One decimal, with a decimal comma, without a trailing « ,0 ».
fn decimal(v: f64) -> String {
    let s = format!("{v:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s).to_string();
    s.replace('.', ",")
}

/// The sum of published figures, masked if one of them is.
pub(super) fn sum(values: &[Option<i64>]) -> Option<i64> {
    values.iter().copied().sum()
}

/// The median of a histogram of days, shown only over at least `threshold` orientations (« s »
/// below, « – » over none).
pub(super) fn median(histogram: &[(i64, i64)], threshold: i64) -> String {
    let n: i64 = histogram.iter().map(|(_, k)| k).sum();
    if n == 0 {
        return "–".to_string();
    }
    if n < threshold {
        return "s".to_string();
    }
    let nth = |rank: i64| {
        let mut seen = 0;
        for (days, k) in histogram {
            seen += k;
            if seen > rank {
                return *days;
            }
        }
        histogram.last().map_or(0, |(d, _)| *d)
    };
    let m = if n % 2 == 1 {
        nth(n / 2) as f64
    } else {
        (nth(n / 2 - 1) + nth(n / 2)) as f64 / 2.0
    };
    decimal(m)
}

/// A published value for export: the number, or « s » when masked.
pub(super) fn cell(v: Option<i64>) -> String {
    v.map_or_else(|| "s".to_string(), |n| n.to_string())
}

impl Table {
    /// The header line: the rows' header, the columns, the rows' total, the computed columns.
    pub fn header(&self) -> Vec<String> {
        let mut h = vec![self.row_header.clone()];
        h.extend(self.columns.iter().map(|c| c.label.to_string()));
        if let Some(t) = &self.row_total {
            h.push(t.label.to_string());
        }
        h.extend(self.extras.iter().map(|e| e.column.label.to_string()));
        h
    }

    /// Each row's cells as shown (« s » masked), its total if published, its computed values.
    pub fn body(&self) -> Vec<(String, Vec<String>)> {
        self.rows
            .iter()
            .enumerate()
            .map(|(i, (_, label))| {
                let mut line: Vec<String> =
                    self.published.cells[i].iter().map(|v| cell(*v)).collect();
                if self.row_total.is_some() {
                    line.push(cell(self.published.row_totals[i]));
                }
                line.extend(self.extras.iter().map(|e| e.values[i].clone()));
                (label.clone(), line)
            })
            .collect()
    }

    /// The « Total » line, when the columns' totals are published.
    pub fn totals(&self) -> Option<Vec<String>> {
        if !self.column_totals {
            return None;
        }
        let mut line: Vec<String> = self
            .published
            .column_totals
            .iter()
            .map(|v| cell(*v))
            .collect();
        if self.row_total.is_some() {
            line.push(cell(self.published.total));
        }
        line.extend(self.extras.iter().map(|e| e.total.clone()));
        Some(line)
    }

    /// Every column's definition, in the header's order after the rows' header.
    pub fn definitions(&self) -> Vec<Column> {
        let mut d = self.columns.clone();
        d.extend(self.row_total);
        d.extend(self.extras.iter().map(|e| e.column));
        d
    }
}
