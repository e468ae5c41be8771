//! The tables as the exports lay them out: lines of cells (CSV, XLSX) and JSON.

use super::*;

impl Indicators {
    /// The tables as lines of cells, as both exports lay them out: a title line, then each
    /// table with its title, its header, its rows and its totals, a blank line between tables;
    /// masked cells as « s ».
    pub fn lines(&self) -> Vec<Vec<String>> {
        let mut out = vec![vec![
            "Indicateurs".to_string(),
            self.label.clone(),
            format!(
                "du {} au {}",
                domain::french_date(self.from),
                domain::french_date(self.to)
            ),
            format!(
                "cellules de 1 à {} personnes masquées (s)",
                self.threshold - 1
            ),
        ]];
        for t in &self.tables {
            out.push(Vec::new());
            out.push(vec![t.section.label().to_string(), t.title.clone()]);
            out.push(t.header());
            for (label, cells) in t.body() {
                let mut line = vec![label];
                line.extend(cells);
                out.push(line);
            }
            if let Some(totals) = t.totals() {
                let mut line = vec!["Total".to_string()];
                line.extend(totals);
                out.push(line);
            }
        }
        out
    }

    /// The tables as CSV for a spreadsheet: `;`, UTF-8 with its byte-order mark, lines ended
    /// by CR LF, masked cells as « s », decimals with a comma (docs/domain.md §5).
    pub fn csv(&self) -> String {
        let quote = |v: &str| {
            if v.contains([';', '"', '\n', '\r']) {
                format!("\"{}\"", v.replace('"', "\"\""))
            } else {
                v.to_string()
            }
        };
        let mut out = String::from("\u{feff}");
        for line in self.lines() {
            out.push_str(&line.iter().map(|v| quote(v)).collect::<Vec<_>>().join(";"));
            out.push_str("\r\n");
        }
        out
    }

    /// The same lines as an XLSX workbook (one sheet), counts as numbers.
    pub fn xlsx(&self) -> Result<Vec<u8>, AppError> {
        let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("classeur : {e}"));
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("Indicateurs").map_err(fail)?;
        for (r, line) in self.lines().iter().enumerate() {
            let r = u32::try_from(r).map_err(|_| AppError::Internal("trop de lignes".into()))?;
            for (c, value) in line.iter().enumerate() {
                let c =
                    u16::try_from(c).map_err(|_| AppError::Internal("trop de colonnes".into()))?;
                match value.parse::<i64>() {
                    Ok(n) if r > 0 => sheet.write_number(r, c, n as f64).map_err(fail)?,
                    _ => sheet.write_string(r, c, value).map_err(fail)?,
                };
            }
        }
        book.save_to_buffer().map_err(fail)
    }

    /// The tables as JSON: masked cells as `null` with `"masque": true`.
    pub fn json(&self) -> serde_json::Value {
        let value = |v: Option<i64>| serde_json::json!({ "valeur": v, "masque": v.is_none() });
        let column =
            |c: &Column| serde_json::json!({ "libelle": c.label, "definition": c.definition });
        serde_json::json!({
            "perimetre": self.label,
            "du": domain::iso_date(self.from),
            "au": domain::iso_date(self.to),
            "seuil": self.threshold,
            "etapes": Step::ALL.iter().map(|s| serde_json::json!({
                "code": s.as_str(), "libelle": s.label(), "definition": s.definition(),
            })).collect::<Vec<_>>(),
            "entonnoir": self.funnel.iter().map(|(s, v)| serde_json::json!({
                "etape": s.as_str(), "valeur": v, "masque": v.is_none(),
            })).collect::<Vec<_>>(),
            "tableaux": self.tables.iter().map(|t| serde_json::json!({
                "cle": t.key,
                "section": t.section.as_str(),
                "titre": t.title,
                "definition": t.definition,
                "lignes_par": t.row_header,
                "colonnes": t.columns.iter().map(column).collect::<Vec<_>>(),
                "total_de_ligne": t.row_total.as_ref().map(column),
                "complements": t.extras.iter().map(|e| column(&e.column)).collect::<Vec<_>>(),
                "masque_si_moins_de": t.secret.then_some(self.threshold),
                "lignes": t.rows.iter().enumerate().map(|(i, (code, label))| serde_json::json!({
                    "code": code,
                    "libelle": label,
                    "cellules": t.published.cells[i].iter().map(|v| value(*v)).collect::<Vec<_>>(),
                    "total": t.row_total.map(|_| value(t.published.row_totals[i])),
                    "complements": t.extras.iter().map(|e| e.values[i].clone()).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "total": t.column_totals.then(|| serde_json::json!({
                    "cellules": t.published.column_totals.iter().map(|v| value(*v)).collect::<Vec<_>>(),
                    "total": t.row_total.map(|_| value(t.published.total)),
                    "complements": t.extras.iter().map(|e| e.total.clone()).collect::<Vec<_>>(),
                })),
            })).collect::<Vec<_>>(),
        })
    }
}
