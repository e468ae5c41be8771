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

    /// The tables as the API and the command line publish them (JSON): masked cells as
    /// `null` with `"masque": true`.
    pub fn document(&self) -> IndicatorsDocument {
        let value = |v: Option<i64>| Cell {
            valeur: v,
            masque: v.is_none(),
        };
        let column = |c: &Column| ColumnDefinition {
            libelle: c.label.to_string(),
            definition: c.definition.to_string(),
        };
        IndicatorsDocument {
            perimetre: self.label.clone(),
            du: self.from,
            au: self.to,
            seuil: self.threshold,
            arrete_le: self.as_of,
            etapes: Step::ALL
                .iter()
                .map(|s| StepDefinition {
                    code: s.as_str(),
                    libelle: s.label(),
                    definition: s.definition(),
                })
                .collect(),
            entonnoir: self
                .funnel
                .iter()
                .map(|(s, v)| FunnelStep {
                    etape: s.as_str(),
                    valeur: *v,
                    masque: v.is_none(),
                })
                .collect(),
            tableaux: self
                .tables
                .iter()
                .map(|t| PublishedTable {
                    cle: t.key.clone(),
                    section: t.section.as_str(),
                    titre: t.title.clone(),
                    definition: t.definition.clone(),
                    lignes_par: t.row_header.clone(),
                    colonnes: t.columns.iter().map(column).collect(),
                    total_de_ligne: t.row_total.as_ref().map(column),
                    complements: t.extras.iter().map(|e| column(&e.column)).collect(),
                    masque_si_moins_de: t.secret.then_some(self.threshold),
                    lignes: t
                        .rows
                        .iter()
                        .enumerate()
                        .map(|(i, (code, label))| TableRow {
                            code: code.clone(),
                            libelle: label.clone(),
                            cellules: t.published.cells[i].iter().map(|v| value(*v)).collect(),
                            total: t.row_total.map(|_| value(t.published.row_totals[i])),
                            complements: t.extras.iter().map(|e| e.values[i].clone()).collect(),
                        })
                        .collect(),
                    total: t.column_totals.then(|| TotalRow {
                        cellules: t
                            .published
                            .column_totals
                            .iter()
                            .map(|v| value(*v))
                            .collect(),
                        total: t.row_total.map(|_| value(t.published.total)),
                        complements: t.extras.iter().map(|e| e.total.clone()).collect(),
                    }),
                })
                .collect(),
        }
    }

    /// [`Indicators::document`] as a JSON value.
    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(self.document()).unwrap_or_default()
    }
}

// The published figures of a reach over a period (the JSON export and the API). The doc
// comments below are the API document's descriptions: in French.

/// Les chiffres publiés d'un périmètre sur une période.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IndicatorsDocument {
    /// « Cité de l'emploi de Maubeuge », « France entière »…
    pub perimetre: String,
    /// Premier jour de la période.
    pub du: NaiveDate,
    /// Dernier jour de la période (compris).
    pub au: NaiveDate,
    /// Les effectifs de 1 à `seuil − 1` personnes sont masqués.
    pub seuil: i64,
    /// Quand les effectifs ont été arrêtés, s'il s'agit de l'arrêté du jour (mois entiers des
    /// lecteurs de chiffres agrégés) plutôt que de cet instant.
    pub arrete_le: Option<chrono::DateTime<chrono::Utc>>,
    /// Les étapes du parcours, telles que l'entonnoir les compte.
    pub etapes: Vec<StepDefinition>,
    /// Le total de chaque étape, tel que publié.
    pub entonnoir: Vec<FunnelStep>,
    pub tableaux: Vec<PublishedTable>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StepDefinition {
    pub code: &'static str,
    pub libelle: &'static str,
    pub definition: &'static str,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FunnelStep {
    /// Le code d'une étape de `etapes`.
    pub etape: &'static str,
    /// Null si masqué.
    pub valeur: Option<i64>,
    pub masque: bool,
}

/// Un effectif publié : null et `masque` s'il est sous le seuil ou en révélerait un.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct Cell {
    pub valeur: Option<i64>,
    pub masque: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ColumnDefinition {
    pub libelle: String,
    pub definition: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublishedTable {
    /// Identifiant stable (`parcours-qpv`, `orientations-offre`…).
    pub cle: String,
    pub section: &'static str,
    pub titre: String,
    pub definition: String,
    /// L'en-tête des lignes (« Tranche d'âge », « Domaine »…).
    pub lignes_par: String,
    pub colonnes: Vec<ColumnDefinition>,
    /// Le total des lignes, quand il a un sens.
    pub total_de_ligne: Option<ColumnDefinition>,
    /// Colonnes calculées à partir des cellules publiées (parts, médianes), en texte.
    pub complements: Vec<ColumnDefinition>,
    /// Le seuil, quand le tableau compte des personnes (null : pas de masquage).
    pub masque_si_moins_de: Option<i64>,
    pub lignes: Vec<TableRow>,
    /// La ligne « Total », quand elle a un sens.
    pub total: Option<TotalRow>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TableRow {
    pub code: String,
    pub libelle: String,
    /// Une par colonne de `colonnes`.
    pub cellules: Vec<Cell>,
    pub total: Option<Cell>,
    /// Une par colonne de `complements`.
    pub complements: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TotalRow {
    pub cellules: Vec<Cell>,
    pub total: Option<Cell>,
    pub complements: Vec<String>,
}
