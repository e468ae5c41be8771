//! Indicators (docs/domain.md §5): the figures of a territory, of several side by side, or of
//! the whole country, over a period — the path, the barriers, the orientations, the collective
//! actions, the employers, the partners, the situation after the exit —, every table published
//! through `domain::secrecy::table`, masked the same way whoever asks, the tables shown
//! together hiding the same totals. Coordinators count their territory's now; pilots (a
//! national pilot or an administrator: any territory and the whole country) read whole months
//! already over, from the day's counts. Nobody sees a person here.
//!
//! Who may read what and over which period is here; the counts in `counts`, the tables in
//! `build` (with `table`), the exports in `export`.

use chrono::NaiveDate;
use domain::TerritoryId;
use domain::indicators::{self as def, Breakdown, Column, Section, Step};
use domain::secrecy::table::{Margins, Published, protect_with};
use serde::Deserialize;
use store::indicators::{CountRow, OrientationGrouping, Period};

use crate::{App, AppError, Caller, FieldErrors};

mod build;
mod counts;
mod export;
mod table;

pub use build::build;
pub use counts::{Counts, count, counts_of_the_day, default_months, refresh_snapshots};
pub use export::{
    Cell, ColumnDefinition, FunnelStep, IndicatorsDocument, PublishedTable, StepDefinition,
    TableRow, TotalRow,
};
pub use table::{Extra, Table, share};

/// What the figures cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Territory(TerritoryId),
    /// Several territories, side by side (a pilot of more than one).
    Territories(Vec<TerritoryId>),
    National,
}

impl Reach {
    /// The territories asked for, `None` for all of them.
    fn territories(&self) -> Option<Vec<TerritoryId>> {
        match self {
            Reach::Territory(t) => Some(vec![*t]),
            Reach::Territories(ts) => Some(ts.clone()),
            Reach::National => None,
        }
    }

    /// The key of its snapshots.
    fn key(&self) -> String {
        match self {
            Reach::Territory(t) => format!("t:{}", t.0),
            Reach::Territories(ts) => format!(
                "ts:{}",
                ts.iter()
                    .map(|t| t.0.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Reach::National => "france".into(),
        }
    }

    /// The territory the audit row is about, if there is one.
    fn audited(&self) -> Option<TerritoryId> {
        match self {
            Reach::Territory(t) => Some(*t),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Indicators {
    pub reach: Reach,
    /// « Cité de l'emploi de Maubeuge » or « France entière ».
    pub label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Each step's total, as published (the same in every table of the funnel).
    pub funnel: Vec<(Step, Option<i64>)>,
    pub tables: Vec<Table>,
    pub threshold: i64,
    /// When the counts were taken, if they are the day's snapshot rather than of this instant.
    pub as_of: Option<chrono::DateTime<chrono::Utc>>,
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

/// How a period may be chosen (docs/domain.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodRule {
    /// Any days: the territory's coordinators, who may open the files anyway, and the operator
    /// on the command line.
    AnyDays,
    /// Whole months already over: readers of aggregates only (pilots, the national level), so
    /// that two periods a day apart — or the same period asked today and tomorrow — cannot be
    /// subtracted to count the few people of one day.
    WholeMonths,
}

/// The rule for a caller reading a reach.
pub fn period_rule(caller: &Caller, reach: &Reach) -> PeriodRule {
    match reach {
        Reach::Territory(t) if caller.is_coordinator_of(*t) => PeriodRule::AnyDays,
        _ => PeriodRule::WholeMonths,
    }
}

/// The period asked for; by default the calendar year so far (for whole months, up to the end
/// of the last month over — the whole previous year in January).
pub fn period(
    errors: &mut FieldErrors,
    du: &str,
    au: &str,
    today: NaiveDate,
    rule: PeriodRule,
) -> Option<(NaiveDate, NaiveDate)> {
    use chrono::Datelike;
    let last_over = today.with_day(1).unwrap_or(today) - chrono::Duration::days(1);
    let end = match rule {
        PeriodRule::AnyDays => today,
        PeriodRule::WholeMonths => last_over,
    };
    let from = match du.trim() {
        "" => NaiveDate::from_ymd_opt(end.year(), 1, 1),
        d => errors.check("du", domain::parse_date(d)),
    };
    let to = match au.trim() {
        "" => Some(end),
        d => errors.check("au", domain::parse_date(d)),
    };
    let (from, to) = (from?, to?);
    if to < from {
        errors.add("au", "La fin de la période précède son début.");
        return None;
    }
    if rule == PeriodRule::WholeMonths {
        if from.day() != 1 {
            errors.add(
                "du",
                "Choisissez le premier jour d'un mois : les chiffres agrégés se lisent par mois entiers, pour qu'aucun effectif masqué ne se déduise de deux périodes décalées de quelques jours.",
            );
        }
        if (to + chrono::Duration::days(1)).day() != 1 {
            errors.add("au", "Choisissez le dernier jour d'un mois.");
        } else if to > last_over {
            errors.add(
                "au",
                format!(
                    "Le mois en cours n'est pas encore publié : choisissez une fin de période au plus tard le {}.",
                    domain::french_date(last_over)
                ),
            );
        }
        if !errors.is_empty() {
            return None;
        }
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

/// Whether the caller may read a territory's figures.
fn reads(caller: &Caller, t: TerritoryId) -> bool {
    is_national(caller)
        || caller.is_coordinator_of(t)
        || caller.roles_in(t).contains(&domain::Role::Pilot)
}

/// The territories the caller may read the figures of, when there are several (the
/// « mes-territoires » perimeter), national readers aside.
pub fn readable(caller: &Caller) -> Vec<(TerritoryId, String)> {
    caller
        .territories
        .iter()
        .filter(|t| reads(caller, t.id))
        .map(|t| (t.id, t.name.clone()))
        .collect()
}

/// Who may see which figures: `perimetre` is empty (the territory the caller works in), a
/// territory's slug, `mes-territoires` (all those the caller reads, side by side) or `france`.
pub fn reach_of(caller: &Caller, perimetre: &str) -> Result<(Reach, String), AppError> {
    let national = is_national(caller);
    match perimetre.trim() {
        "france" if national => Ok((Reach::National, "France entière".into())),
        "france" => Err(AppError::Forbidden),
        "mes-territoires" => {
            let ts = readable(caller);
            match ts.len() {
                0 => Err(AppError::Forbidden),
                1 => Ok((Reach::Territory(ts[0].0), ts[0].1.clone())),
                n => Ok((
                    Reach::Territories(ts.iter().map(|(id, _)| *id).collect()),
                    format!("Mes {n} territoires"),
                )),
            }
        }
        "" => {
            let t = caller.active_territory.as_ref().ok_or(AppError::NotFound)?;
            if reads(caller, t.id) {
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
            if reads(caller, t.id) {
                Ok((Reach::Territory(t.id), t.name.clone()))
            } else {
                Err(AppError::Forbidden)
            }
        }
    }
}

/// The figures of a reach over a period, masked with the instance's threshold (no rights
/// checked: `indicators` and the command line decide who asks).
pub async fn compute(
    app: &App,
    reach: Reach,
    label: String,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Indicators, AppError> {
    let threshold = app.settings.secrecy_threshold;
    compute_with(app, reach, label, (from, to), threshold).await
}

/// [`compute`] with cells of 1 to `threshold − 1` masked (1: nothing masked — for tests that
/// check the counts themselves).
pub async fn compute_with(
    app: &App,
    reach: Reach,
    label: String,
    (from, to): (NaiveDate, NaiveDate),
    threshold: i64,
) -> Result<Indicators, AppError> {
    let counts = count(app, &reach, from, to).await?;
    Ok(build(reach, label, (from, to), counts, threshold))
}

/// The page's figures: the caller's reach, the period asked (audited: who looked at what).
pub async fn indicators(
    app: &App,
    caller: &Caller,
    input: &IndicatorInput,
) -> Result<Indicators, AppError> {
    let (reach, label) = reach_of(caller, &input.perimetre)?;
    let mut errors = FieldErrors::default();
    let today = app.today_in(caller.zone());
    let rule = period_rule(caller, &reach);
    let range = period(&mut errors, &input.du, &input.au, today, rule);
    let Some((from, to)) = range else {
        return Err(AppError::Invalid(errors));
    };
    let threshold = app.settings.secrecy_threshold;
    let figures = match rule {
        PeriodRule::AnyDays => compute(app, reach.clone(), label.clone(), from, to).await?,
        PeriodRule::WholeMonths => {
            let (counts, at) = counts_of_the_day(app, &reach, from, to).await?;
            Indicators {
                as_of: Some(at),
                ..build(reach.clone(), label.clone(), (from, to), counts, threshold)
            }
        }
    };
    let mut pooled = app.db.acquire().await?;
    caller
        .audit(
            &mut pooled.conn(),
            app.now(),
            "indicators_read",
            ("indicators", None),
            reach.audited(),
            &format!(
                "indicateurs « {label} » du {} au {}",
                domain::french_date(from),
                domain::french_date(to)
            ),
        )
        .await?;
    Ok(figures)
}
