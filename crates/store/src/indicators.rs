//! The funnel counted over a period, broken down (docs/domain.md §5): one statement per
//! breakdown, one pass over the persons of the territories asked for, each step a sum of a
//! condition — never a person, only counts.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::TerritoryId;
use domain::exit::ExitKind;
use domain::indicators::{Breakdown, ORIENTATION_OUTCOMES, Step};

use crate::sql::Sql;
use crate::{Conn, StoreError};

/// The period, both days included, and its bounds as instants (for what is timestamped).
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub from_at: DateTime<Utc>,
    /// The first instant after the period.
    pub until_at: DateTime<Utc>,
}

impl Period {
    /// From the first day to the last, the days as the programme's time zone counts them.
    pub fn days(from: NaiveDate, to: NaiveDate) -> Period {
        let zone = domain::TimeZone::default();
        Period {
            from,
            to,
            from_at: zone.midnight(from),
            until_at: zone.midnight(to + chrono::Duration::days(1)),
        }
    }
}

fn dimension(q: &mut Sql, b: Breakdown, p: &Period) {
    let years_before = |n: i32| {
        p.to.with_year(p.to.year() - n)
            .or_else(|| (p.to - chrono::Duration::days(1)).with_year(p.to.year() - n))
            .unwrap_or(p.to)
    };
    match b {
        Breakdown::Deld => {
            q.push("CASE WHEN p.ft_registered AND p.ft_since IS NOT NULL AND p.ft_since <= ")
                .bind(years_before(1))
                .push(" THEN 'oui' WHEN p.ft_registered THEN 'non' WHEN NOT p.ft_registered THEN 'non-inscrit' ELSE 'inconnu' END");
        }
        Breakdown::Rqth => {
            q.push("CASE WHEN h.rqth THEN 'oui' WHEN NOT h.rqth THEN 'non' ELSE 'inconnu' END");
        }
        Breakdown::Organisation => {
            q.push("COALESCE(rg.kind, 'sans-referent')");
        }
        Breakdown::Qpv => {
            q.push(
                "CASE WHEN p.qpv_code IS NOT NULL THEN 'qpv'
                 WHEN p.qpv_confidence IS NOT NULL AND p.qpv_confidence <> 'non vérifiée' THEN 'hors-qpv'
                 ELSE 'inconnu' END",
            );
        }
        Breakdown::Sexe => {
            q.push("COALESCE(p.sex, 'inconnu')");
        }
        Breakdown::Brsa => {
            q.push("CASE WHEN p.brsa THEN 'oui' WHEN NOT p.brsa THEN 'non' ELSE 'inconnu' END");
        }
        Breakdown::Canal => {
            q.push("p.channel");
        }
        Breakdown::Age => {
            q.push("CASE WHEN p.birth_date IS NOT NULL AND p.birth_date > ")
                .bind(years_before(26))
                .push(" THEN 'moins-26' WHEN p.birth_date IS NOT NULL AND p.birth_date <= ")
                .bind(years_before(50))
                .push(" THEN '50-plus' WHEN p.birth_date IS NOT NULL THEN '26-49' WHEN p.birth_year > ")
                .bind(i64::from(p.to.year() - 26))
                .push(" THEN 'moins-26' WHEN p.birth_year <= ")
                .bind(i64::from(p.to.year() - 50))
                .push(" THEN '50-plus' WHEN p.birth_year IS NOT NULL THEN '26-49' ELSE 'inconnu' END");
        }
    }
}

fn step(q: &mut Sql, s: Step, p: &Period) {
    let between = |q: &mut Sql, column: &str| {
        q.push(column)
            .push(" BETWEEN ")
            .bind(p.from)
            .push(" AND ")
            .bind(p.to);
    };
    match s {
        Step::Reperes => between(q, "p.met_on"),
        Step::Contactes => between(q, "p.contacted_on"),
        Step::Accompagnes => between(q, "p.accompanied_on"),
        Step::Diagnostiques => {
            q.push("dg.person_id IS NOT NULL");
        }
        Step::Orientes => {
            q.push("og.oriented = 1");
        }
        Step::Entrees => {
            q.push("og.entered = 1");
        }
        Step::SortiesDurable
        | Step::SortiesTransition
        | Step::SortiesPositives
        | Step::SortiesAutres => {
            let n = Step::ALL.iter().position(|x| *x == s).unwrap_or(0) - 6;
            q.push(&format!("xg.x{n} = 1"));
        }
    }
}

/// The persons of the territories with, joined once each, what the steps need: a signed
/// diagnostic in the period (`dg`), an orientation sent or entered in it (`og`), an exit of
/// each category in it (`xg`), the current référent's kind of organisation (`rg`) and the
/// health data (`h`) — one pass over each table, whatever the number of persons.
fn persons_with_steps(q: &mut Sql, territories: Option<&[TerritoryId]>, p: &Period) {
    let of_territories = |q: &mut Sql, column: &str| {
        if let Some(ts) = territories {
            q.push(" AND ")
                .push(column)
                .push(" IN ")
                .bind_list(ts.iter().copied());
        }
    };
    q.push(" FROM persons p LEFT JOIN person_health h ON h.person_id = p.id");
    // Diagnostics and référents carry no territory: joined to their persons only when some
    // territories are asked (the whole country needs no join).
    let join_persons = |alias: &str, column: &str| {
        if territories.is_some() {
            format!(" JOIN persons {alias} ON {alias}.id = {column}")
        } else {
            String::new()
        }
    };
    q.push(" LEFT JOIN (SELECT DISTINCT d.person_id FROM diagnostics d")
        .push(&join_persons("dp", "d.person_id"))
        .push(" WHERE d.status = 'signe' AND ");
    date_between(q, "d.held_on", p);
    of_territories(q, "dp.territory_id");
    q.push(") dg ON dg.person_id = p.id");
    q.push(" LEFT JOIN (SELECT o.person_id, MAX(CASE WHEN ");
    instant_between(q, "o.sent_at", p);
    q.push(" THEN 1 ELSE 0 END) AS oriented, MAX(CASE WHEN ");
    date_between(q, "o.entered_on", p);
    q.push(" THEN 1 ELSE 0 END) AS entered FROM orientations o WHERE ((");
    instant_between(q, "o.sent_at", p);
    q.push(") OR (");
    date_between(q, "o.entered_on", p);
    q.push("))");
    of_territories(q, "o.territory_id");
    q.push(" GROUP BY o.person_id) og ON og.person_id = p.id");
    q.push(" LEFT JOIN (SELECT x.person_id");
    for (n, s) in Step::ALL
        .iter()
        .filter(|s| s.exit_category().is_some())
        .enumerate()
    {
        let kinds: Vec<&str> = s
            .exit_category()
            .map(|c| ExitKind::of(c).into_iter().map(ExitKind::as_str).collect())
            .unwrap_or_default();
        q.push(", MAX(CASE WHEN x.kind IN ")
            .bind_list(kinds)
            .push(&format!(" THEN 1 ELSE 0 END) AS x{n}"));
    }
    q.push(" FROM person_exits x WHERE ");
    date_between(q, "x.exited_on", p);
    of_territories(q, "x.territory_id");
    q.push(" GROUP BY x.person_id) xg ON xg.person_id = p.id");
    q.push(
        " LEFT JOIN (SELECT m.person_id, MIN(o.kind) AS kind FROM person_members m JOIN organisations o ON o.id = m.organisation_id",
    )
    .push(&join_persons("mp", "m.person_id"))
    .push(" WHERE m.is_referent AND m.ended_at IS NULL");
    of_territories(q, "mp.territory_id");
    q.push(" GROUP BY m.person_id) rg ON rg.person_id = p.id");
}

// The statement names one column per step: the row below reads ten.
const _: () = assert!(Step::ALL.len() == 10);

/// A row of counts: its code (a breakdown's value, a cohort's or territory's id), the label
/// the store knows (a cohort's or a territory's name, else the code) and its counts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CountRow {
    pub value: String,
    pub label: String,
    pub counts: Vec<i64>,
}

/// Up to ten counts per row, read by name (`c0`…`c9`); a statement selects the ones it has.
#[derive(sqlx::FromRow)]
struct Wide {
    value: String,
    #[sqlx(default)]
    label: Option<String>,
    #[sqlx(default)]
    c0: Option<i64>,
    #[sqlx(default)]
    c1: Option<i64>,
    #[sqlx(default)]
    c2: Option<i64>,
    #[sqlx(default)]
    c3: Option<i64>,
    #[sqlx(default)]
    c4: Option<i64>,
    #[sqlx(default)]
    c5: Option<i64>,
    #[sqlx(default)]
    c6: Option<i64>,
    #[sqlx(default)]
    c7: Option<i64>,
    #[sqlx(default)]
    c8: Option<i64>,
    #[sqlx(default)]
    c9: Option<i64>,
}

async fn wide(c: &mut Conn<'_>, q: &Sql, columns: usize) -> Result<Vec<CountRow>, StoreError> {
    let rows: Vec<Wide> = q.fetch_all(c).await?;
    Ok(rows
        .into_iter()
        .map(|r| CountRow {
            label: r.label.unwrap_or_else(|| r.value.clone()),
            value: r.value,
            counts: [r.c0, r.c1, r.c2, r.c3, r.c4, r.c5, r.c6, r.c7, r.c8, r.c9]
                .into_iter()
                .take(columns)
                .map(|v| v.unwrap_or(0))
                .collect(),
        })
        .collect())
}

/// ` AND <column> IN (…)` for the territories asked (nothing for all of them).
fn within(q: &mut Sql, column: &str, territories: Option<&[TerritoryId]>) {
    if let Some(ts) = territories {
        q.push(" AND ")
            .push(column)
            .push(" IN ")
            .bind_list(ts.iter().copied());
    }
}

fn instant_between(q: &mut Sql, column: &str, p: &Period) {
    q.push(column)
        .push(" >= ")
        .bind(p.from_at)
        .push(" AND ")
        .push(column)
        .push(" < ")
        .bind(p.until_at);
}

fn date_between(q: &mut Sql, column: &str, p: &Period) {
    q.push(column)
        .push(" BETWEEN ")
        .bind(p.from)
        .push(" AND ")
        .bind(p.to);
}

/// The funnel by cohort over the persons of `territories` (all of them when `None`): a
/// person in two cohorts counts in both. The breakdowns come from [`funnel_cube`].
pub async fn funnel_by_cohort(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    p: &Period,
) -> Result<Vec<CountRow>, StoreError> {
    if territories.is_some_and(<[TerritoryId]>::is_empty) {
        return Ok(Vec::new());
    }
    let mut q = Sql::new("SELECT CAST(k.id AS TEXT) AS value, MIN(k.name) AS label");
    steps(&mut q, p);
    persons_with_steps(&mut q, territories, p);
    q.push(
        " JOIN (SELECT DISTINCT cohort_id, person_id FROM cohort_members) cm ON cm.person_id = p.id
          JOIN cohorts k ON k.id = cm.cohort_id WHERE p.merged_into IS NULL",
    );
    within(&mut q, "p.territory_id", territories);
    q.push(" GROUP BY k.id ORDER BY MIN(k.starts_on), k.id");
    wide(c, &q, Step::ALL.len()).await
}

fn steps(q: &mut Sql, p: &Period) {
    for (n, s) in Step::ALL.iter().enumerate() {
        q.push(", SUM(CASE WHEN ");
        step(q, *s, p);
        q.push(&format!(" THEN 1 ELSE 0 END) AS c{n}"));
    }
}

/// One combination of the breakdowns' values (in `Breakdown::ALL`'s order) in one territory,
/// and its counts per step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CubeRow {
    pub values: Vec<String>,
    pub territory: TerritoryId,
    pub counts: Vec<i64>,
}

#[derive(sqlx::FromRow)]
struct Cube {
    d0: String,
    d1: String,
    d2: String,
    d3: String,
    d4: String,
    d5: String,
    d6: String,
    d7: String,
    territory_id: i64,
    #[sqlx(flatten)]
    counts: Wide,
}

// The cube names one column per breakdown: the row above reads eight.
const _: () = assert!(Breakdown::ALL.len() == 8);

/// The funnel by every combination of the breakdowns and territory at once — one pass over
/// the persons —, for the caller to add up per breakdown or per territory.
pub async fn funnel_cube(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    p: &Period,
) -> Result<Vec<CubeRow>, StoreError> {
    if territories.is_some_and(<[TerritoryId]>::is_empty) {
        return Ok(Vec::new());
    }
    let mut q = Sql::new("SELECT '' AS value");
    for (n, b) in Breakdown::ALL.iter().enumerate() {
        q.push(", ");
        dimension(&mut q, *b, p);
        q.push(&format!(" AS d{n}"));
    }
    q.push(", p.territory_id");
    steps(&mut q, p);
    persons_with_steps(&mut q, territories, p);
    q.push(" WHERE p.merged_into IS NULL");
    within(&mut q, "p.territory_id", territories);
    q.push(" GROUP BY 2, 3, 4, 5, 6, 7, 8, 9, 10");
    let rows: Vec<Cube> = q.fetch_all(c).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let w = r.counts;
            CubeRow {
                values: vec![r.d0, r.d1, r.d2, r.d3, r.d4, r.d5, r.d6, r.d7],
                territory: TerritoryId(r.territory_id),
                counts: [w.c0, w.c1, w.c2, w.c3, w.c4, w.c5, w.c6, w.c7, w.c8, w.c9]
                    .into_iter()
                    .map(|v| v.unwrap_or(0))
                    .collect(),
            }
        })
        .collect())
}

/// The signed diagnostics up to the period's end, ranked per person from the first
/// (`first_rank` 1) and from the last (`last_rank` 1): one sort, no correlated subquery.
fn ranked(q: &mut Sql, territories: Option<&[TerritoryId]>, p: &Period) {
    q.push(
        "WITH ranked AS (SELECT d.id, d.person_id, d.held_on,
           ROW_NUMBER() OVER (PARTITION BY d.person_id ORDER BY d.held_on, d.id) AS first_rank,
           ROW_NUMBER() OVER (PARTITION BY d.person_id ORDER BY d.held_on DESC, d.id DESC) AS last_rank
         FROM diagnostics d JOIN persons p ON p.id = d.person_id
         WHERE d.status = 'signe' AND p.merged_into IS NULL AND d.held_on <= ",
    )
    .bind(p.to);
    within(q, "p.territory_id", territories);
    q.push("), firsts AS (SELECT id, person_id FROM ranked WHERE first_rank = 1 AND held_on >= ")
        .bind(p.from)
        .push(") ");
}

/// For the persons first diagnosed in the period — how many (`first_diagnosed`) and, per
/// field, how many had the barrier (important or blocking) at that first diagnostic (`c0`) and
/// how many of them no longer had it (none or light) at their last signed diagnostic up to the
/// end of the period (`c1`). One statement: the ranking is read twice, computed once.
pub async fn barriers(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    p: &Period,
) -> Result<(i64, Vec<CountRow>), StoreError> {
    let mut q = Sql::new("");
    ranked(&mut q, territories, p);
    q.push(
        ", lasts AS (SELECT id, person_id FROM ranked WHERE last_rank = 1 AND first_rank > 1)
         SELECT '' AS value, COUNT(*) AS c0, 0 AS c1 FROM firsts
         UNION ALL
         SELECT f.field AS value, COUNT(*) AS c0, SUM(CASE WHEN lf.level IN ('0', '1') THEN 1 ELSE 0 END) AS c1
         FROM firsts fd JOIN diagnostic_fields f ON f.diagnostic_id = fd.id AND f.level IN ('2', '3')
         LEFT JOIN lasts ld ON ld.person_id = fd.person_id
         LEFT JOIN diagnostic_fields lf ON lf.diagnostic_id = ld.id AND lf.field = f.field
         GROUP BY f.field",
    );
    let mut rows = wide(c, &q, 2).await?;
    let total = rows
        .iter()
        .position(|r| r.value.is_empty())
        .map_or(0, |i| rows.remove(i).counts[0]);
    Ok((total, rows))
}

/// How orientations are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrientationGrouping {
    /// Their status today.
    Status,
    /// The receiving organisation (its name; the receiver's name outside the partners).
    Receiver,
    /// The receiving organisation's kind (`hors-partenaires` outside them).
    ReceiverKind,
    /// The service's offer: `droit-commun`, `specifique`, or `hors-annuaire`.
    Offer,
}

fn orientation_value(q: &mut Sql, g: OrientationGrouping) {
    q.push(match g {
        OrientationGrouping::Status => "o.status AS value",
        OrientationGrouping::Receiver => {
            "COALESCE(CAST(o.receiver_org_id AS TEXT), o.receiver_name) AS value, MIN(COALESCE(r.name, o.receiver_name)) AS label"
        }
        OrientationGrouping::ReceiverKind => "COALESCE(r.kind, 'hors-partenaires') AS value",
        OrientationGrouping::Offer => "COALESCE(s.offer, 'hors-annuaire') AS value",
    });
}

fn orientation_from(q: &mut Sql, territories: Option<&[TerritoryId]>, p: &Period) {
    q.push(
        " FROM orientations o
          LEFT JOIN organisations r ON r.id = o.receiver_org_id
          LEFT JOIN directory_services s ON s.id = o.service_id
          WHERE ",
    );
    instant_between(q, "o.sent_at", p);
    within(q, "o.territory_id", territories);
}

/// The orientations sent in the period, grouped: one count per outcome of
/// `ORIENTATION_OUTCOMES`, in its order (`c0`…), by the orientation's status today.
pub async fn orientations(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    g: OrientationGrouping,
    p: &Period,
) -> Result<Vec<CountRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    orientation_value(&mut q, g);
    for (n, outcome) in ORIENTATION_OUTCOMES.iter().enumerate() {
        q.push(", SUM(CASE WHEN o.status IN ")
            .bind_list(outcome.statuses.iter().map(|s| s.as_str()))
            .push(&format!(" THEN 1 ELSE 0 END) AS c{n}"));
    }
    orientation_from(&mut q, territories, p);
    q.push(" GROUP BY 1 ORDER BY 1");
    wide(c, &q, ORIENTATION_OUTCOMES.len()).await
}

/// How long something took, in whole days, and for how many orientations.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct Delay {
    pub value: String,
    pub days: i64,
    pub n: i64,
}

/// For the orientations sent in the period, grouped as [`orientations`]: the days from sending
/// to the answer (`answer`) or to the effective entry (`!answer`), as a histogram — the
/// medians are read from it without bringing back one row per orientation.
pub async fn delays(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    g: OrientationGrouping,
    p: &Period,
    answer: bool,
) -> Result<Vec<Delay>, StoreError> {
    let backend = c.backend();
    let days = match (backend, answer) {
        (crate::Backend::Sqlite, true) => {
            "CAST(julianday(o.answered_at) - julianday(o.sent_at) AS INTEGER)"
        }
        (crate::Backend::Sqlite, false) => {
            "CAST(julianday(o.entered_on) - julianday(date(o.sent_at)) AS INTEGER)"
        }
        (crate::Backend::Postgres, true) => {
            "CAST(FLOOR(EXTRACT(EPOCH FROM (o.answered_at - o.sent_at)) / 86400) AS BIGINT)"
        }
        (crate::Backend::Postgres, false) => {
            "CAST(CAST(o.entered_on AS DATE) - CAST(o.sent_at AT TIME ZONE 'UTC' AS DATE) AS BIGINT)"
        }
    };
    let mut q = Sql::new("SELECT ");
    // The label column of the receiver grouping is not read here.
    q.push(match g {
        OrientationGrouping::Status => "o.status AS value",
        OrientationGrouping::Receiver => {
            "COALESCE(CAST(o.receiver_org_id AS TEXT), o.receiver_name) AS value"
        }
        OrientationGrouping::ReceiverKind => "COALESCE(r.kind, 'hors-partenaires') AS value",
        OrientationGrouping::Offer => "COALESCE(s.offer, 'hors-annuaire') AS value",
    });
    q.push(", ").push(days).push(" AS days, COUNT(*) AS n");
    orientation_from(&mut q, territories, p);
    q.push(if answer {
        " AND o.answered_at IS NOT NULL"
    } else {
        " AND o.entered_on IS NOT NULL"
    });
    q.push(" GROUP BY 1, 2 ORDER BY 1, 2");
    q.fetch_all(c).await
}

/// The decline reasons of the orientations sent in the period (an orientation may give
/// several): one count per reason (`c0`).
pub async fn decline_reasons(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    p: &Period,
) -> Result<Vec<CountRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT dr.reason AS value, COUNT(*) AS c0 FROM orientation_decline_reasons dr
         JOIN orientations o ON o.id = dr.orientation_id WHERE ",
    );
    instant_between(&mut q, "o.sent_at", p);
    within(&mut q, "o.territory_id", territories);
    q.push(" GROUP BY 1 ORDER BY 1");
    wide(c, &q, 1).await
}

/// The collective actions held in the period by kind: actions (`c0`), persons registered
/// (`c1`), present (`c2`), absent without excuse (`c3`), excused (`c4`).
pub async fn collective_actions(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    p: &Period,
) -> Result<Vec<CountRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT a.kind AS value, COUNT(DISTINCT a.id) AS c0,
                SUM(CASE WHEN ar.status = 'inscrite' THEN 1 ELSE 0 END) AS c1,
                SUM(CASE WHEN ar.attendance = 'present' THEN 1 ELSE 0 END) AS c2,
                SUM(CASE WHEN ar.attendance = 'absent' THEN 1 ELSE 0 END) AS c3,
                SUM(CASE WHEN ar.attendance = 'excuse' THEN 1 ELSE 0 END) AS c4
         FROM collective_actions a LEFT JOIN action_registrations ar ON ar.action_id = a.id
         WHERE ",
    );
    date_between(&mut q, "a.held_on", p);
    within(&mut q, "a.territory_id", territories);
    q.push(" GROUP BY 1 ORDER BY 1");
    wide(c, &q, 5).await
}

/// Employers' engagements in the period by kind: employers engaged (`c0`, distinct),
/// engagements (`c1`).
pub async fn engagements(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    p: &Period,
) -> Result<Vec<CountRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT g.kind AS value, COUNT(DISTINCT g.employer_id) AS c0, COUNT(*) AS c1
         FROM employer_engagements g JOIN employers e ON e.id = g.employer_id WHERE ",
    );
    date_between(&mut q, "g.happened_on", p);
    within(&mut q, "e.territory_id", territories);
    q.push(" GROUP BY 1 ORDER BY 1");
    wide(c, &q, 2).await
}

/// Each partner organisation's activity in the period (by organisation, or by kind when
/// `by_kind`): persons it followed (`c0`: a member of the follow-up group at some point of
/// the period), orientations it sent (`c1`) and received (`c2`).
pub async fn partners(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    p: &Period,
    by_kind: bool,
) -> Result<Vec<CountRow>, StoreError> {
    let key = if by_kind {
        "org.kind"
    } else {
        "CAST(org.id AS TEXT)"
    };
    let mut q = Sql::new("SELECT ");
    q.push(key).push(" AS value, MIN(org.name) AS label, CAST(SUM(x.followed) AS BIGINT) AS c0, CAST(SUM(x.sent) AS BIGINT) AS c1, CAST(SUM(x.received) AS BIGINT) AS c2 FROM (");
    q.push("SELECT m.organisation_id AS org_id, COUNT(DISTINCT m.person_id) AS followed, 0 AS sent, 0 AS received
            FROM person_members m JOIN persons p ON p.id = m.person_id
            WHERE m.organisation_id IS NOT NULL AND p.merged_into IS NULL AND m.started_at < ")
        .bind(p.until_at)
        .push(" AND (m.ended_at IS NULL OR m.ended_at >= ")
        .bind(p.from_at)
        .push(")");
    within(&mut q, "p.territory_id", territories);
    q.push(" GROUP BY m.organisation_id");
    q.push(" UNION ALL SELECT o.sender_org_id, 0, COUNT(*), 0 FROM orientations o WHERE o.sender_org_id IS NOT NULL AND ");
    instant_between(&mut q, "o.sent_at", p);
    within(&mut q, "o.territory_id", territories);
    q.push(" GROUP BY o.sender_org_id");
    q.push(" UNION ALL SELECT o.receiver_org_id, 0, 0, COUNT(*) FROM orientations o WHERE o.receiver_org_id IS NOT NULL AND ");
    instant_between(&mut q, "o.sent_at", p);
    within(&mut q, "o.territory_id", territories);
    q.push(" GROUP BY o.receiver_org_id");
    q.push(") x JOIN organisations org ON org.id = x.org_id GROUP BY ")
        .push(key)
        .push(" ORDER BY MIN(org.name)");
    wide(c, &q, 3).await
}

/// The follow-up checks due in the period, by months after the exit (`value` 3, 6, 12):
/// one count per situation found, in `Situation::ALL`'s order, then the checks still to do.
pub async fn follow_up(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    p: &Period,
) -> Result<Vec<CountRow>, StoreError> {
    use domain::exit::Situation;
    let mut q = Sql::new("SELECT CAST(f.months AS TEXT) AS value");
    let mut n = 0;
    for s in Situation::ALL {
        q.push(", SUM(CASE WHEN f.status = 'fait' AND f.situation = ")
            .bind(s.as_str())
            .push(&format!(" THEN 1 ELSE 0 END) AS c{n}"));
        n += 1;
    }
    q.push(&format!(
        ", SUM(CASE WHEN f.status = 'a-faire' THEN 1 ELSE 0 END) AS c{n} FROM follow_up_checks f JOIN persons p ON p.id = f.person_id WHERE p.merged_into IS NULL AND "
    ));
    date_between(&mut q, "f.due_on", p);
    within(&mut q, "f.territory_id", territories);
    q.push(" GROUP BY f.months ORDER BY f.months");
    wide(c, &q, n + 1).await
}

/// The counts kept for a reach (`france`, `t:<id>`…) over a period, with when they were
/// computed.
pub async fn snapshot(
    c: &mut Conn<'_>,
    reach: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<(DateTime<Utc>, String)>, StoreError> {
    let mut q = Sql::new("SELECT computed_at, counts FROM indicator_snapshots WHERE reach = ");
    q.bind(reach)
        .push(" AND period_from = ")
        .bind(from)
        .push(" AND period_to = ")
        .bind(to);
    Ok(q.fetch_all(c).await?.into_iter().next())
}

/// Keeps (or replaces) the counts of a reach over a period.
pub async fn keep_snapshot(
    c: &mut Conn<'_>,
    reach: &str,
    from: NaiveDate,
    to: NaiveDate,
    counts: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut q = Sql::new(
        "INSERT INTO indicator_snapshots (reach, period_from, period_to, computed_at, counts) VALUES (",
    );
    q.bind(reach)
        .push(", ")
        .bind(from)
        .push(", ")
        .bind(to)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(counts)
        .push(
            ") ON CONFLICT (reach, period_from, period_to) DO UPDATE SET computed_at = excluded.computed_at, counts = excluded.counts",
        );
    q.execute(c).await?;
    Ok(())
}

/// Forgets the counts taken before `before` (they are never served again: only the day's are).
pub async fn forget_snapshots(c: &mut Conn<'_>, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut q = Sql::new("DELETE FROM indicator_snapshots WHERE computed_at < ");
    q.bind(before);
    q.execute(c).await
}
