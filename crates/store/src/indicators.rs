//! The funnel counted over a period, broken down (docs/domain.md §5): one statement per
//! breakdown, one pass over the persons of the territories asked for, each step a sum of a
//! condition — never a person, only counts.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::TerritoryId;
use domain::exit::ExitKind;
use domain::indicators::{Breakdown, Step};

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

/// One value of a breakdown and its count at each step, in `Step::ALL`'s order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    pub value: String,
    pub counts: Vec<i64>,
}

fn dimension(q: &mut Sql, b: Breakdown, p: &Period) {
    match b {
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
            let years_before = |n: i32| {
                p.to.with_year(p.to.year() - n)
                    .or_else(|| (p.to - chrono::Duration::days(1)).with_year(p.to.year() - n))
                    .unwrap_or(p.to)
            };
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

/// The funnel by `b` over the persons of `territories` (all of them when `None`).
pub async fn funnel(
    c: &mut Conn<'_>,
    territories: Option<&[TerritoryId]>,
    b: Breakdown,
    p: &Period,
) -> Result<Vec<CountRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    dimension(&mut q, b, p);
    q.push(" AS value");
    for (n, s) in Step::ALL.iter().enumerate() {
        q.push(", SUM(CASE WHEN ");
        step(&mut q, *s, p);
        q.push(&format!(" THEN 1 ELSE 0 END) AS s{n}"));
    }
    q.push(" FROM persons p WHERE p.merged_into IS NULL");
    if let Some(ts) = territories {
        if ts.is_empty() {
            return Ok(Vec::new());
        }
        q.push(" AND p.territory_id IN ")
            .bind_list(ts.iter().copied());
    }
    q.push(" GROUP BY 1 ORDER BY 1");
    #[derive(sqlx::FromRow)]
    struct Row {
        value: String,
        s0: Option<i64>,
        s1: Option<i64>,
        s2: Option<i64>,
        s3: Option<i64>,
        s4: Option<i64>,
        s5: Option<i64>,
        s6: Option<i64>,
        s7: Option<i64>,
        s8: Option<i64>,
        s9: Option<i64>,
    }
    let rows: Vec<Row> = q.fetch_all(c).await?;
    Ok(rows
        .into_iter()
        .map(|r| CountRow {
            value: r.value,
            counts: [r.s0, r.s1, r.s2, r.s3, r.s4, r.s5, r.s6, r.s7, r.s8, r.s9]
                .into_iter()
                .map(|v| v.unwrap_or(0))
                .collect(),
        })
        .collect())
}
