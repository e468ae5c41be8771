//! Indicators (docs/domain.md §5): the funnel of a territory, of several, or of all of them,
//! over a period, broken down by QPV, sex, age band, RSA and channel — every table published
//! through `domain::secrecy::table`, masked the same way whoever asks, and the tables shown
//! together hiding the same totals. Coordinators see their territory's; pilots theirs (a
//! national pilot or an administrator, any territory and the whole country). Nobody sees a
//! person here.

use chrono::NaiveDate;
use domain::TerritoryId;
use domain::indicators::{self as def, Breakdown, Column, Section, Step};
use domain::secrecy::table::{Margins, Published, protect_with};
use serde::Deserialize;
use store::indicators::{CountRow, Grouping, OrientationGrouping, Period};

use crate::{App, AppError, Caller, FieldErrors};

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
struct Raw {
    key: String,
    section: Section,
    title: String,
    definition: String,
    row_header: String,
    rows: Vec<(String, String)>,
    columns: Vec<Column>,
    cells: Vec<Vec<i64>>,
    margins: Margins,
    row_total: Option<Column>,
    secret: bool,
    /// Every published total is the same count (the barriers' rows): hide one, hide all.
    equal_totals: bool,
}

impl Raw {
    fn new(key: impl Into<String>, section: Section, title: impl Into<String>) -> Raw {
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

    fn describe(mut self, row_header: &str, definition: &str) -> Raw {
        self.row_header = row_header.to_string();
        self.definition = definition.to_string();
        self
    }

    fn columns(mut self, columns: &[Column], margins: Margins, row_total: Option<Column>) -> Raw {
        self.columns = columns.to_vec();
        self.margins = margins;
        self.row_total = row_total;
        self
    }

    /// Rows from the store's counts, in the store's order, labelled by the store.
    fn rows_as_found(mut self, found: Vec<CountRow>) -> Raw {
        for r in found {
            self.rows.push((r.value, r.label));
            self.cells.push(fit(r.counts, self.columns.len()));
        }
        self
    }

    /// One row per known value (zeros included), in the given order; a value the store found
    /// that is not listed is kept at the end under its code rather than lost.
    fn rows_of(mut self, values: &[(&str, &str)], found: Vec<CountRow>) -> Raw {
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
    fn publish(&self, forced: &[bool], threshold: i64) -> Published {
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

    fn into_table(self, published: Published) -> Table {
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
fn protect_together(raws: Vec<Raw>, threshold: i64) -> Vec<Table> {
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
fn sum(values: &[Option<i64>]) -> Option<i64> {
    values.iter().copied().sum()
}

/// The median of a histogram of days, shown only over at least `threshold` orientations (« s »
/// below, « – » over none).
fn median(histogram: &[(i64, i64)], threshold: i64) -> String {
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

fn step_columns() -> Vec<Column> {
    Step::ALL
        .iter()
        .map(|s| Column {
            label: s.label(),
            definition: s.definition(),
        })
        .collect()
}

/// The rows of the orientations tables, by grouping.
fn orientation_rows(g: OrientationGrouping) -> Vec<(&'static str, &'static str)> {
    match g {
        OrientationGrouping::Status | OrientationGrouping::Receiver => Vec::new(),
        OrientationGrouping::ReceiverKind => {
            let mut v: Vec<_> = domain::organisation::OrganisationKind::ALL
                .iter()
                .map(|k| (k.as_str(), k.label()))
                .collect();
            v.push(("hors-partenaires", "Hors des partenaires du territoire"));
            v
        }
        OrientationGrouping::Offer => vec![
            ("droit-commun", "Droit commun"),
            ("specifique", "Offre spécifique du territoire"),
            (
                "hors-annuaire",
                "Hors annuaire (structure saisie librement)",
            ),
        ],
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

/// Everything the tables are built from, as the store counted it (before any masking): what a
/// snapshot keeps (`indicator_snapshots`), so that masking and layout are always today's code.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct Counts {
    cube: Vec<store::indicators::CubeRow>,
    territories: Vec<(TerritoryId, String)>,
    cohorts: Vec<CountRow>,
    first_diagnosed: i64,
    barriers: Vec<CountRow>,
    /// By receiver (or its kind), then by offer: the outcomes, the answer and entry delays.
    orientations: Vec<(
        Vec<CountRow>,
        Vec<store::indicators::Delay>,
        Vec<store::indicators::Delay>,
    )>,
    reasons: Vec<CountRow>,
    actions: Vec<CountRow>,
    engagements: Vec<CountRow>,
    partners: Vec<CountRow>,
    follow_up: Vec<CountRow>,
}

fn period_of(from: NaiveDate, to: NaiveDate) -> Period {
    let zone = domain::TimeZone::default();
    Period {
        from,
        to,
        from_at: zone.midnight(from),
        until_at: zone.midnight(to + chrono::Duration::days(1)),
    }
}

/// Counts what the tables of a reach need over a period: one read transaction, so every
/// table comes from the same state of the data; on PostgreSQL with room to sort and hash in
/// memory, and without compiling statements that run once.
pub async fn count(
    app: &App,
    reach: &Reach,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Counts, AppError> {
    let p = period_of(from, to);
    let ids = reach.territories();
    let ts = ids.as_deref();
    let one = matches!(reach, Reach::Territory(_));
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    if c.backend() == store::Backend::Postgres {
        store::sql::Sql::new("SET LOCAL work_mem = '64MB'")
            .execute(&mut c)
            .await?;
        store::sql::Sql::new("SET LOCAL jit = off")
            .execute(&mut c)
            .await?;
        // A territory's persons are read through the indexes from their ids: on data held in
        // memory or on SSD, random reads cost little more than sequential ones.
        store::sql::Sql::new("SET LOCAL random_page_cost = 1.1")
            .execute(&mut c)
            .await?;
    }
    let cube = store::indicators::funnel_cube(&mut c, ts, &p).await?;
    let territories = if one {
        Vec::new()
    } else {
        store::territories::list(&mut c)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect()
    };
    let cohorts = if one {
        store::indicators::funnel(&mut c, ts, Grouping::Cohort, &p).await?
    } else {
        Vec::new()
    };
    let (first_diagnosed, barriers) = store::indicators::barriers(&mut c, ts, &p).await?;
    let receiver = if one {
        OrientationGrouping::Receiver
    } else {
        OrientationGrouping::ReceiverKind
    };
    let mut orientations = Vec::new();
    for g in [receiver, OrientationGrouping::Offer] {
        orientations.push((
            store::indicators::orientations(&mut c, ts, g, &p).await?,
            store::indicators::delays(&mut c, ts, g, &p, true).await?,
            store::indicators::delays(&mut c, ts, g, &p, false).await?,
        ));
    }
    let counts = Counts {
        cube,
        territories,
        cohorts,
        first_diagnosed,
        barriers,
        orientations,
        reasons: store::indicators::decline_reasons(&mut c, ts, &p).await?,
        actions: store::indicators::collective_actions(&mut c, ts, &p).await?,
        engagements: store::indicators::engagements(&mut c, ts, &p).await?,
        partners: store::indicators::partners(&mut c, ts, &p, !one).await?,
        follow_up: store::indicators::follow_up(&mut c, ts, &p).await?,
    };
    tx.commit().await?;
    Ok(counts)
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

/// The published tables from the counts: layout, masking, shares and medians.
pub fn build(
    reach: Reach,
    label: String,
    (from, to): (NaiveDate, NaiveDate),
    counts: Counts,
    threshold: i64,
) -> Indicators {
    let one = matches!(reach, Reach::Territory(_));
    let mut tables = Vec::new();

    // The path: the funnel by each breakdown (and by territory side by side), sharing the
    // steps' totals; by cohort, whose rows overlap.
    let steps = step_columns();
    let mut group = Vec::new();
    let cube = &counts.cube;
    for (k, b) in Breakdown::ALL.iter().enumerate() {
        let mut found: Vec<CountRow> = Vec::new();
        for r in cube {
            match found.iter_mut().find(|f| f.value == r.values[k]) {
                Some(f) => f
                    .counts
                    .iter_mut()
                    .zip(&r.counts)
                    .for_each(|(a, b)| *a += b),
                None => found.push(CountRow {
                    value: r.values[k].clone(),
                    label: r.values[k].clone(),
                    counts: r.counts.clone(),
                }),
            }
        }
        group.push(
            Raw::new(
                format!("parcours-{}", b.as_str()),
                Section::Parcours,
                format!("Parcours par {}", lower(b.label())),
            )
            .describe(b.label(), b.definition())
            .columns(&steps, Margins::Columns, None)
            .rows_of(&b.values(), found),
        );
    }
    if !one {
        let names = &counts.territories;
        let mut found: Vec<CountRow> = Vec::new();
        for r in cube {
            let code = r.territory.0.to_string();
            match found.iter_mut().find(|f| f.value == code) {
                Some(f) => f
                    .counts
                    .iter_mut()
                    .zip(&r.counts)
                    .for_each(|(a, b)| *a += b),
                None => found.push(CountRow {
                    label: names
                        .iter()
                        .find(|(id, _)| *id == r.territory)
                        .map_or_else(|| code.clone(), |(_, n)| n.clone()),
                    value: code,
                    counts: r.counts.clone(),
                }),
            }
        }
        found.sort_by(|a, b| a.label.cmp(&b.label));
        group.push(
            Raw::new(
                "parcours-territoire",
                Section::Parcours,
                "Parcours par territoire",
            )
            .describe(
                "Territoire",
                "Chaque personne compte dans le territoire qui la suit.",
            )
            .columns(&steps, Margins::Columns, None)
            .rows_as_found(found),
        );
    }
    let path = protect_together(group, threshold);
    let funnel = Step::ALL
        .iter()
        .enumerate()
        .map(|(j, s)| {
            (
                *s,
                path.first()
                    .and_then(|t| t.published.column_totals.get(j).copied().flatten()),
            )
        })
        .collect();
    tables.extend(path);
    if one {
        let found = counts.cohorts.clone();
        tables.extend(protect_together(vec![
            Raw::new("parcours-cohorte", Section::Parcours, "Parcours par cohorte")
                .describe(
                    "Cohorte",
                    "Les personnes qui ont fait partie de la cohorte, à un moment ou à un autre ; une personne passée par deux cohortes compte dans les deux, si bien qu'aucun total n'est publié.",
                )
                .columns(&steps, Margins::None, None)
                .rows_as_found(found),
        ], threshold));
    }

    // Barriers, per field, over the persons first diagnosed in the period.
    let (diagnosed, found) = (counts.first_diagnosed, counts.barriers.clone());
    let mut barriers = Raw::new("freins", Section::Freins, "Freins périphériques par domaine")
        .describe(
            "Domaine",
            "Les personnes dont le premier diagnostic signé a été tenu pendant la période, selon ce qu'il relevait dans chaque domaine et ce qu'en dit leur dernier diagnostic.",
        )
        .columns(&def::BARRIER_COLUMNS, Margins::Rows, Some(def::FIRST_DIAGNOSED));
    barriers.equal_totals = true;
    for f in domain::field::Field::ALL {
        let (had, lifted) = found
            .iter()
            .find(|r| r.value == f.as_str())
            .map_or((0, 0), |r| (r.counts[0], r.counts[1]));
        barriers
            .rows
            .push((f.as_str().to_string(), f.label().to_string()));
        barriers
            .cells
            .push(vec![lifted, had - lifted, (diagnosed - had).max(0)]);
    }
    let mut barriers = protect_together(vec![barriers], threshold);
    for t in &mut barriers {
        let p = &t.published;
        let had: Vec<Option<i64>> = p.cells.iter().map(|r| sum(&r[..2])).collect();
        t.extras = vec![
            Extra {
                column: Column {
                    label: "Part des personnes diagnostiquées ayant ce frein",
                    definition: "Frein levé depuis et frein toujours présent, rapportés aux premiers diagnostics.",
                },
                values: had
                    .iter()
                    .zip(&p.row_totals)
                    .map(|(h, n)| share(*h, *n))
                    .collect(),
                total: String::new(),
            },
            Extra {
                column: Column {
                    label: "Part des freins levés",
                    definition: "Frein levé depuis, rapporté aux personnes qui avaient ce frein au premier diagnostic.",
                },
                values: p
                    .cells
                    .iter()
                    .zip(&had)
                    .map(|(r, h)| share(r[0], *h))
                    .collect(),
                total: String::new(),
            },
        ];
    }
    tables.extend(barriers);

    // Orientations sent in the period, by receiver and by offer (sharing the outcomes' totals),
    // then the reasons of the declined ones.
    let outcomes: Vec<Column> = def::ORIENTATION_OUTCOMES.iter().map(|o| o.column).collect();
    let receiver = if one {
        OrientationGrouping::Receiver
    } else {
        OrientationGrouping::ReceiverKind
    };
    let mut group = Vec::new();
    let mut histograms = Vec::new();
    for ((g, key, title, header, definition), oriented_counts) in [
        (
            receiver,
            "orientations-structure",
            "Orientations par structure d'accueil",
            if one {
                "Structure d'accueil"
            } else {
                "Type de structure d'accueil"
            },
            "La structure à laquelle l'orientation a été adressée.",
        ),
        (
            OrientationGrouping::Offer,
            "orientations-offre",
            "Orientations par type d'offre",
            "Offre",
            "Le service de l'annuaire vers lequel la personne est orientée : droit commun, ou offre propre au territoire.",
        ),
    ]
    .into_iter()
    .zip(counts.orientations.iter().cloned())
    {
        let (found, answer, entry) = oriented_counts;
        let raw = Raw::new(key, Section::Orientations, title)
            .describe(header, definition)
            .columns(&outcomes, Margins::All, Some(def::ORIENTATIONS_SENT));
        let rows = orientation_rows(g);
        group.push(if rows.is_empty() {
            raw.rows_as_found(found)
        } else {
            raw.rows_of(&rows, found)
        });
        histograms.push((answer, entry));
    }
    let mut oriented = protect_together(group, threshold);
    for (t, (answer, entry)) in oriented.iter_mut().zip(histograms) {
        let of = |delays: &[store::indicators::Delay], code: Option<&str>| -> Vec<(i64, i64)> {
            let mut h: Vec<(i64, i64)> = delays
                .iter()
                .filter(|d| code.is_none_or(|c| d.value == c))
                .map(|d| (d.days, d.n))
                .collect();
            h.sort_unstable();
            h
        };
        let entered = 0;
        let p = &t.published;
        t.extras = vec![
            Extra {
                column: Column {
                    label: "Part d'entrées effectives",
                    definition: "Entrées effectives rapportées aux orientations envoyées.",
                },
                values: p
                    .cells
                    .iter()
                    .zip(&p.row_totals)
                    .map(|(r, n)| share(r[entered], *n))
                    .collect(),
                total: share(p.column_totals[entered], p.total),
            },
            Extra {
                column: Column {
                    label: "Délai médian de réponse (jours)",
                    definition: "Jours entre l'envoi et la réponse de la structure (acceptation ou refus), la moitié des orientations répondues l'ayant été plus vite ; publié à partir de 5 orientations répondues.",
                },
                values: t
                    .rows
                    .iter()
                    .map(|(code, _)| median(&of(&answer, Some(code)), threshold))
                    .collect(),
                total: median(&of(&answer, None), threshold),
            },
            Extra {
                column: Column {
                    label: "Délai médian d'entrée (jours)",
                    definition: "Jours entre l'envoi et l'entrée effective de la personne, pour les orientations suivies d'une entrée ; publié à partir de 5 entrées.",
                },
                values: t
                    .rows
                    .iter()
                    .map(|(code, _)| median(&of(&entry, Some(code)), threshold))
                    .collect(),
                total: median(&of(&entry, None), threshold),
            },
        ];
    }
    tables.extend(oriented);
    let found = counts.reasons.clone();
    let reasons: Vec<(&str, &str)> = domain::orientation::DeclineReason::ALL
        .iter()
        .map(|r| (r.as_str(), r.label()))
        .collect();
    tables.extend(protect_together(vec![
        Raw::new("orientations-motifs", Section::Orientations, "Motifs de refus des orientations")
            .describe(
                "Motif",
                "Une orientation déclinée peut donner plusieurs motifs : elle compte pour chacun, si bien qu'aucun total n'est publié.",
            )
            .columns(&def::DECLINE_COLUMNS, Margins::None, None)
            .rows_of(&reasons, found),
    ], threshold));

    // Collective actions: registrations by attendance; the number of actions is not secret.
    let found = counts.actions.clone();
    let kinds: Vec<(&str, &str)> = domain::cohort::ActionKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label()))
        .collect();
    let held: Vec<i64> = kinds
        .iter()
        .map(|(code, _)| {
            found
                .iter()
                .find(|r| r.value == *code)
                .map_or(0, |r| r.counts[0])
        })
        .collect();
    let attendance: Vec<CountRow> = found
        .into_iter()
        .map(|r| {
            let (registered, present, absent, excused) =
                (r.counts[1], r.counts[2], r.counts[3], r.counts[4]);
            CountRow {
                counts: vec![
                    present,
                    absent,
                    excused,
                    (registered - present - absent - excused).max(0),
                ],
                ..r
            }
        })
        .collect();
    let mut actions = protect_together(vec![
        Raw::new("actions", Section::Actions, "Actions collectives par type")
            .describe(
                "Type d'action",
                "Les actions collectives tenues pendant la période et la présence de leurs inscrits.",
            )
            .columns(&def::ACTION_COLUMNS, Margins::All, Some(def::ACTION_REGISTRATIONS))
            .rows_of(&kinds, attendance),
    ], threshold);
    for t in &mut actions {
        let p = &t.published;
        let absence = |r: &[Option<i64>]| share(sum(&r[1..3]), sum(&r[..3]));
        t.extras = vec![
            Extra {
                column: Column {
                    label: "Actions tenues",
                    definition: "Actions de ce type tenues pendant la période (des évènements, pas des personnes : jamais masqué).",
                },
                values: held.iter().map(i64::to_string).collect(),
                total: held.iter().sum::<i64>().to_string(),
            },
            Extra {
                column: Column {
                    label: "Taux d'absence",
                    definition: "Absents et excusés, rapportés aux inscrits dont la présence a été relevée.",
                },
                values: p.cells.iter().map(|r| absence(r)).collect(),
                total: absence(&p.column_totals),
            },
        ];
    }
    tables.extend(actions);

    // Employers (companies, not people: not masked).
    let found = counts.engagements.clone();
    let engagements: Vec<(&str, &str)> = domain::employer::Engagement::ALL
        .iter()
        .map(|k| (k.as_str(), k.label()))
        .collect();
    let mut employers = Raw::new("employeurs", Section::Employeurs, "Engagement des employeurs")
        .describe(
            "Type d'engagement",
            "Les engagements des employeurs pendant la période. Un employeur engagé de plusieurs façons compte pour chacune, si bien qu'aucun total n'est publié ; ce sont des entreprises, pas des personnes : rien n'est masqué.",
        )
        .columns(&def::EMPLOYER_COLUMNS, Margins::None, None)
        .rows_of(&engagements, found);
    employers.secret = false;
    tables.extend(protect_together(vec![employers], threshold));

    // Partners: what each organisation did in the period.
    let found = counts.partners.clone();
    let partners = Raw::new("partenaires", Section::Partenaires, "Activité des partenaires")
        .describe(
            if one { "Organisation" } else { "Type d'organisation" },
            "Une personne suivie par plusieurs organisations compte pour chacune, si bien qu'aucun total n'est publié.",
        )
        .columns(&def::PARTNER_COLUMNS, Margins::None, None);
    let partners = if one {
        partners.rows_as_found(found)
    } else {
        let kinds: Vec<(&str, &str)> = domain::organisation::OrganisationKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect();
        partners.rows_of(&kinds, found)
    };
    tables.extend(protect_together(vec![partners], threshold));

    // The situation 3, 6 and 12 months after the exit.
    let found = counts.follow_up.clone();
    let months: Vec<(String, String)> = domain::exit::CHECK_MONTHS
        .iter()
        .map(|m| (m.to_string(), format!("À {m} mois")))
        .collect();
    let months: Vec<(&str, &str)> = months
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut follow_up = protect_together(vec![
        Raw::new("suivi", Section::Suivi, "Situation après la sortie")
            .describe(
                "Échéance",
                "Les contrôles de situation arrivés à échéance pendant la période, 3, 6 et 12 mois après une sortie ; une même personne compte à chaque échéance, si bien que les colonnes n'ont pas de total.",
            )
            .columns(&def::follow_up_columns(), Margins::Rows, Some(def::CHECKS_DUE))
            .rows_of(&months, found),
    ], threshold);
    for t in &mut follow_up {
        let p = &t.published;
        let last = t.columns.len() - 1;
        t.extras = vec![Extra {
            column: Column {
                label: "Part en emploi",
                definition: "Personnes dans le même emploi ou dans un autre, rapportées aux contrôles faits.",
            },
            values: p
                .cells
                .iter()
                .zip(&p.row_totals)
                .map(|(r, n)| {
                    let done = match (n, r[last]) {
                        (Some(n), Some(todo)) => Some(n - todo),
                        _ => None,
                    };
                    share(sum(&r[..2]), done)
                })
                .collect(),
            total: String::new(),
        }];
    }
    tables.extend(follow_up);
    Indicators {
        reach,
        label,
        from,
        to,
        funnel,
        tables,
        threshold,
        as_of: None,
    }
}

/// The counts of a reach over a period for readers of aggregates: the snapshot taken today if
/// there is one, else counted now and kept for the rest of the day (whole months already over
/// change only when someone records the past; the page says when the figures were taken).
pub async fn counts_of_the_day(
    app: &App,
    reach: &Reach,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Counts, chrono::DateTime<chrono::Utc>), AppError> {
    let key = reach.key();
    let today = app.today();
    let mut pooled = app.db.acquire().await?;
    let kept = store::indicators::snapshot(&mut pooled.conn(), &key, from, to).await?;
    drop(pooled);
    if let Some((at, json)) = kept
        && domain::calendar::france_date(at) == today
        && let Ok(counts) = serde_json::from_str::<Counts>(&json)
    {
        return Ok((counts, at));
    }
    let counts = count(app, reach, from, to).await?;
    let json = serde_json::to_string(&counts)
        .map_err(|e| AppError::Internal(format!("instantané des indicateurs : {e}")))?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    store::indicators::keep_snapshot(&mut tx.conn(), &key, from, to, &json, now).await?;
    tx.commit().await?;
    Ok((counts, now))
}

/// The default period of readers of aggregates: from the first of January to the end of the
/// last month over (the whole previous year in January).
pub fn default_months(today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    period(
        &mut FieldErrors::default(),
        "",
        "",
        today,
        PeriodRule::WholeMonths,
    )
}

/// The nightly job: forgets the counts of the days before, then takes the day's for the
/// default period, for the whole country and each territory, so that the first pilot of the
/// morning waits no more than the others.
pub async fn refresh_snapshots(app: &App) -> Result<usize, AppError> {
    let today = app.today();
    let mut tx = app.db.begin_write().await?;
    store::indicators::forget_snapshots(&mut tx.conn(), domain::TimeZone::Paris.midnight(today))
        .await?;
    tx.commit().await?;
    let Some((from, to)) = default_months(today) else {
        return Ok(0);
    };
    let mut pooled = app.db.acquire().await?;
    let territories = store::territories::list(&mut pooled.conn()).await?;
    drop(pooled);
    let mut reaches = vec![Reach::National];
    reaches.extend(territories.iter().map(|t| Reach::Territory(t.id)));
    for r in &reaches {
        counts_of_the_day(app, r, from, to).await?;
    }
    Ok(reaches.len())
}

/// « Sexe » → « sexe », « Reconnaissance de handicap (RQTH) » kept as it is after its first
/// letter.
fn lower(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
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

/// A published value for export: the number, or « s » when masked.
fn cell(v: Option<i64>) -> String {
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
