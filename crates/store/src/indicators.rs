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
            q.push(
                "COALESCE((SELECT o.kind FROM person_members m JOIN organisations o ON o.id = m.organisation_id
                  WHERE m.person_id = p.id AND m.is_referent AND m.ended_at IS NULL ORDER BY m.id LIMIT 1), 'sans-referent')",
            );
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
            q.push("EXISTS (SELECT 1 FROM diagnostics d WHERE d.person_id = p.id AND d.status = 'signe' AND ");
            between(q, "d.held_on");
            q.push(")");
        }
        Step::Orientes => {
            q.push(
                "EXISTS (SELECT 1 FROM orientations o WHERE o.person_id = p.id AND o.sent_at >= ",
            )
            .bind(p.from_at)
            .push(" AND o.sent_at < ")
            .bind(p.until_at)
            .push(")");
        }
        Step::Entrees => {
            q.push("EXISTS (SELECT 1 FROM orientations o WHERE o.person_id = p.id AND ");
            between(q, "o.entered_on");
            q.push(")");
        }
        Step::SortiesDurable
        | Step::SortiesTransition
        | Step::SortiesPositives
        | Step::SortiesAutres => {
            let kinds: Vec<&str> = s
                .exit_category()
                .map(|c| ExitKind::of(c).into_iter().map(ExitKind::as_str).collect())
                .unwrap_or_default();
            q.push("EXISTS (SELECT 1 FROM person_exits x WHERE x.person_id = p.id AND ");
            between(q, "x.exited_on");
            q.push(" AND x.kind IN ").bind_list(kinds).push(")");
        }
    }
}

// The statement names one column per step: the row below reads ten.
const _: () = assert!(Step::ALL.len() == 10);

/// What the rows of a funnel table are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Breakdown(Breakdown),
    /// One row per cohort of the territories (a person in two cohorts counts in both).
    Cohort,
    /// One row per territory, side by side.
    Territory,
}

/// A row of counts: its code (a breakdown's value, a cohort's or territory's id), the label
/// the store knows (a cohort's or a territory's name, else the code) and its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The funnel grouped by `g` over the persons of `territories` (all of them when `None`).
pub async fn funnel(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    g: Grouping,
    p: &Period,
) -> Result<Vec<CountRow>, StoreError> {
    if territories.is_some_and(<[TerritoryId]>::is_empty) {
        return Ok(Vec::new());
    }
    let mut q = Sql::new("SELECT ");
    match g {
        Grouping::Breakdown(b) => {
            dimension(&mut q, b, p);
            q.push(" AS value");
        }
        Grouping::Cohort => {
            q.push("CAST(k.id AS TEXT) AS value, MIN(k.name) AS label");
        }
        Grouping::Territory => {
            q.push("CAST(t.id AS TEXT) AS value, MIN(t.name) AS label");
        }
    }
    for (n, s) in Step::ALL.iter().enumerate() {
        q.push(", SUM(CASE WHEN ");
        step(&mut q, *s, p);
        q.push(&format!(" THEN 1 ELSE 0 END) AS c{n}"));
    }
    q.push(" FROM persons p");
    match g {
        Grouping::Breakdown(Breakdown::Rqth) => {
            q.push(" LEFT JOIN person_health h ON h.person_id = p.id");
        }
        Grouping::Breakdown(_) => {}
        Grouping::Cohort => {
            q.push(
                " JOIN (SELECT DISTINCT cohort_id, person_id FROM cohort_members) cm ON cm.person_id = p.id
                  JOIN cohorts k ON k.id = cm.cohort_id",
            );
        }
        Grouping::Territory => {
            q.push(" JOIN territories t ON t.id = p.territory_id");
        }
    }
    q.push(" WHERE p.merged_into IS NULL");
    within(&mut q, "p.territory_id", territories);
    q.push(match g {
        Grouping::Breakdown(_) => " GROUP BY 1 ORDER BY 1",
        Grouping::Cohort => " GROUP BY k.id ORDER BY MIN(k.starts_on), k.id",
        Grouping::Territory => " GROUP BY t.id ORDER BY MIN(t.name), t.id",
    });
    wide(c, &q, Step::ALL.len()).await
}

/// Persons whose first signed diagnostic was held in the period.
pub async fn first_diagnosed(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    p: &Period,
) -> Result<i64, StoreError> {
    let mut q = Sql::new(
        "SELECT COUNT(*) FROM persons p JOIN diagnostics d ON d.person_id = p.id AND d.status = 'signe' AND ",
    );
    date_between(&mut q, "d.held_on", p);
    q.push(FIRST_DIAGNOSTIC);
    q.push(" WHERE p.merged_into IS NULL");
    within(&mut q, "p.territory_id", territories);
    q.fetch_scalar(c).await
}

/// `d` is the person's first signed diagnostic (the earliest held, then the first recorded).
const FIRST_DIAGNOSTIC: &str = " AND NOT EXISTS (SELECT 1 FROM diagnostics e WHERE e.person_id = d.person_id AND e.status = 'signe' AND (e.held_on < d.held_on OR (e.held_on = d.held_on AND e.id < d.id)))";

/// Per field, for the persons first diagnosed in the period: how many had the barrier
/// (important or blocking) at that first diagnostic (`c0`), and how many of them no longer
/// had it (none or light) at their last signed diagnostic up to the end of the period (`c1`).
pub async fn barriers(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    p: &Period,
) -> Result<Vec<CountRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT f.field AS value, COUNT(*) AS c0,
                SUM(CASE WHEN lf.level IN ('0', '1') THEN 1 ELSE 0 END) AS c1
         FROM persons p
         JOIN diagnostics d ON d.person_id = p.id AND d.status = 'signe' AND ",
    );
    date_between(&mut q, "d.held_on", p);
    q.push(FIRST_DIAGNOSTIC);
    q.push(
        " JOIN diagnostic_fields f ON f.diagnostic_id = d.id AND f.level IN ('2', '3')
          LEFT JOIN diagnostics l ON l.person_id = p.id AND l.status = 'signe' AND l.id <> d.id AND l.held_on <= ",
    )
    .bind(p.to)
    .push(" AND NOT EXISTS (SELECT 1 FROM diagnostics e WHERE e.person_id = l.person_id AND e.status = 'signe' AND e.held_on <= ")
    .bind(p.to)
    .push(
        " AND (e.held_on > l.held_on OR (e.held_on = l.held_on AND e.id > l.id)))
          LEFT JOIN diagnostic_fields lf ON lf.diagnostic_id = l.id AND lf.field = f.field
          WHERE p.merged_into IS NULL",
    );
    within(&mut q, "p.territory_id", territories);
    q.push(" GROUP BY f.field ORDER BY 1");
    wide(c, &q, 2).await
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
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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
