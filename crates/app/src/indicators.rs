//! Indicators (docs/domain.md §5): the funnel of a territory, of several, or of all of them,
//! over a period, broken down by QPV, sex, age band, RSA and channel — every table published
//! through `domain::secrecy::table`, masked the same way whoever asks, and the tables shown
//! together hiding the same totals. Coordinators see their territory's; pilots theirs (a
//! national pilot or an administrator, any territory and the whole country). Nobody sees a
//! person here.

use chrono::NaiveDate;
use domain::TerritoryId;
use domain::indicators::{Breakdown, Step};
use domain::secrecy::THRESHOLD;
use domain::secrecy::table::{Margins, Published, protect_with};
use serde::Deserialize;
use store::indicators::Period;

use crate::{App, AppError, Caller, FieldErrors};

/// What the figures cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Territory(TerritoryId),
    National,
}

/// One published table: its breakdown's values as rows, the steps as columns.
#[derive(Debug, Clone)]
pub struct Table {
    pub breakdown: Breakdown,
    /// (code, label) of each row, in order.
    pub rows: Vec<(&'static str, &'static str)>,
    pub published: Published,
}

#[derive(Debug, Clone)]
pub struct Indicators {
    pub reach: Reach,
    /// « Cité de l'emploi de Maubeuge » or « France entière ».
    pub label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Each step's total, as published (the same in every table).
    pub funnel: Vec<(Step, Option<i64>)>,
    pub tables: Vec<Table>,
    pub threshold: i64,
}

/// The form's period (`du`, `au`: JJ/MM/AAAA or AAAA-MM-JJ) and perimeter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IndicatorInput {
    pub du: String,
    pub au: String,
    /// A territory's slug; empty: the caller's; `france`: the whole country.
    pub perimetre: String,
}

/// The period asked for, by default the calendar year so far.
pub fn period(
    errors: &mut FieldErrors,
    du: &str,
    au: &str,
    today: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    use chrono::Datelike;
    let from = match du.trim() {
        "" => NaiveDate::from_ymd_opt(today.year(), 1, 1),
        d => errors.check("du", domain::parse_date(d)),
    };
    let to = match au.trim() {
        "" => Some(today),
        d => errors.check("au", domain::parse_date(d)),
    };
    let (from, to) = (from?, to?);
    if to < from {
        errors.add("au", "La fin de la période précède son début.");
        return None;
    }
    Some((from, to))
}

/// Whether the caller may open the indicators at all (the menu shows them).
pub fn may_read(caller: &Caller) -> bool {
    caller.is_admin()
        || caller
            .memberships
            .iter()
            .any(|m| m.role() == Some(domain::Role::Pilot))
        || caller
            .active_territory
            .as_ref()
            .is_some_and(|t| caller.is_coordinator_of(t.id))
}

/// A national pilot or an administrator: any territory, and the whole country.
pub fn is_national(caller: &Caller) -> bool {
    caller.is_admin()
        || caller
            .memberships
            .iter()
            .any(|m| m.role() == Some(domain::Role::Pilot) && m.territory().is_none())
}

/// Who may see which figures.
pub fn reach_of(caller: &Caller, perimetre: &str) -> Result<(Reach, String), AppError> {
    let national = is_national(caller);
    match perimetre.trim() {
        "france" if national => Ok((Reach::National, "France entière".into())),
        "france" => Err(AppError::Forbidden),
        "" => {
            let t = caller.active_territory.as_ref().ok_or(AppError::NotFound)?;
            let allowed = national
                || caller.is_coordinator_of(t.id)
                || caller.roles_in(t.id).contains(&domain::Role::Pilot);
            if allowed {
                Ok((Reach::Territory(t.id), t.name.clone()))
            } else {
                Err(AppError::Forbidden)
            }
        }
        slug => {
            let t = caller
                .territories
                .iter()
                .find(|t| t.slug.as_str() == slug)
                .ok_or(AppError::NotFound)?;
            let allowed = national
                || caller.is_coordinator_of(t.id)
                || caller.roles_in(t.id).contains(&domain::Role::Pilot);
            if allowed {
                Ok((Reach::Territory(t.id), t.name.clone()))
            } else {
                Err(AppError::Forbidden)
            }
        }
    }
}

/// The figures of a reach over a period (no rights checked: `indicators` and the command line
/// decide who asks).
pub async fn compute(
    app: &App,
    reach: Reach,
    label: String,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Indicators, AppError> {
    let zone = domain::TimeZone::default();
    let p = Period {
        from,
        to,
        from_at: zone.midnight(from),
        until_at: zone.midnight(to + chrono::Duration::days(1)),
    };
    let ids;
    let territories = match &reach {
        Reach::Territory(t) => {
            ids = [*t];
            Some(&ids[..])
        }
        Reach::National => None,
    };
    let mut pooled = app.db.acquire().await?;
    let mut raw = Vec::new();
    for b in Breakdown::ALL {
        let rows = store::indicators::funnel(&mut pooled.conn(), territories, *b, &p).await?;
        let values = b.values();
        let cells: Vec<Vec<i64>> = values
            .iter()
            .map(|(code, _)| {
                rows.iter()
                    .find(|r| r.value == *code)
                    .map_or_else(|| vec![0; Step::ALL.len()], |r| r.counts.clone())
            })
            .collect();
        raw.push((*b, values, cells));
    }
    drop(pooled);
    // The tables share their column totals: mask in all the totals any of them masks, until
    // they agree.
    let mut forced = vec![false; Step::ALL.len()];
    let tables = loop {
        let tables: Vec<Table> = raw
            .iter()
            .map(|(b, values, cells)| Table {
                breakdown: *b,
                rows: values.clone(),
                published: protect_with(cells, THRESHOLD, Margins::Columns, &forced),
            })
            .collect();
        let mut now = forced.clone();
        for t in &tables {
            for (j, total) in t.published.column_totals.iter().enumerate() {
                if total.is_none() {
                    now[j] = true;
                }
            }
        }
        if now == forced {
            break tables;
        }
        forced = now;
    };
    let funnel = Step::ALL
        .iter()
        .enumerate()
        .map(|(j, s)| {
            (
                *s,
                tables.first().and_then(|t| t.published.column_totals[j]),
            )
        })
        .collect();
    Ok(Indicators {
        reach,
        label,
        from,
        to,
        funnel,
        tables,
        threshold: THRESHOLD,
    })
}

/// The page's figures: the caller's reach, the period asked (audited: who looked at what).
pub async fn indicators(
    app: &App,
    caller: &Caller,
    input: &IndicatorInput,
) -> Result<Indicators, AppError> {
    let mut errors = FieldErrors::default();
    let today = app.today_in(caller.zone());
    let range = period(&mut errors, &input.du, &input.au, today);
    let Some((from, to)) = range else {
        return Err(AppError::Invalid(errors));
    };
    let (reach, label) = reach_of(caller, &input.perimetre)?;
    let figures = compute(app, reach.clone(), label, from, to).await?;
    let mut pooled = app.db.acquire().await?;
    caller
        .audit(
            &mut pooled.conn(),
            app.now(),
            "indicators_read",
            ("indicators", None),
            match reach {
                Reach::Territory(t) => Some(t),
                Reach::National => None,
            },
            &format!(
                "indicateurs du {} au {}",
                domain::french_date(from),
                domain::french_date(to)
            ),
        )
        .await?;
    Ok(figures)
}

/// A published value for export: the number, or « s » when masked.
fn cell(v: Option<i64>) -> String {
    v.map_or_else(|| "s".to_string(), |n| n.to_string())
}

impl Indicators {
    /// The tables as lines of cells, as both exports lay them out: a title line, then each
    /// table with its header, its rows and its totals, a blank line between tables; masked
    /// cells as « s ».
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
            let mut header = vec![t.breakdown.label().to_string()];
            header.extend(Step::ALL.iter().map(|s| s.label().to_string()));
            out.push(header);
            for (i, (_, label)) in t.rows.iter().enumerate() {
                let mut line = vec![label.to_string()];
                line.extend(t.published.cells[i].iter().map(|v| cell(*v)));
                out.push(line);
            }
            let mut total = vec!["Total".to_string()];
            total.extend(t.published.column_totals.iter().map(|v| cell(*v)));
            out.push(total);
        }
        out
    }

    /// The tables as CSV for a spreadsheet: `;`, UTF-8 with its byte-order mark, lines ended
    /// by CR LF, masked cells as « s » (docs/domain.md §5).
    pub fn csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        for line in self.lines() {
            out.push_str(&line.join(";"));
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
                "ventilation": t.breakdown.as_str(),
                "libelle": t.breakdown.label(),
                "definition": t.breakdown.definition(),
                "lignes": t.rows.iter().enumerate().map(|(i, (code, label))| serde_json::json!({
                    "code": code,
                    "libelle": label,
                    "cellules": t.published.cells[i].iter().map(|v| value(*v)).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "total": t.published.column_totals.iter().map(|v| value(*v)).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}
