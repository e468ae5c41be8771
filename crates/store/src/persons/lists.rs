//! Lists, always scoped: the caseload, names for search and duplicates, counts.

use chrono::NaiveDate;
use domain::person::FunnelStatus;
use domain::{Field, PersonId};

use super::{HEALTH_NEED, Needs, Scope, list_agg};
use crate::sql::Sql;
use crate::{Conn, StoreError};

/// Caseload filters; all optional.
#[derive(Debug, Clone, Default)]
pub struct CaseloadFilter {
    pub status: Option<FunnelStatus>,
    /// `Some(true)`: living in a QPV; `Some(false)`: not (or unknown).
    pub in_qpv: Option<bool>,
    pub need_field: Option<Field>,
    pub without_referent: bool,
    /// Only people whose last contact (or repérage) is on or before this date.
    pub silent_since: Option<NaiveDate>,
    /// Only people with attempts that did not reach them since their last contact.
    pub to_call_back: bool,
    /// Only people met after this date (« repérés cette semaine »).
    pub met_after: Option<NaiveDate>,
    /// Only the people whose group the user belongs to (« Mes personnes »), even for a coordinator.
    pub mine: bool,
    /// Only these ids, best match first: a name search ranked them, and the page keeps that
    /// order.
    pub ranked: Option<Vec<PersonId>>,
    /// Only people with an action of the plan still open past its due date.
    pub overdue: bool,
    /// The day « overdue » is judged on (the territory's today).
    pub today: NaiveDate,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseloadRow {
    #[sqlx(try_from = "i64")]
    pub id: PersonId,
    pub first_name: String,
    pub last_name: String,
    #[sqlx(try_from = "String")]
    pub status: FunnelStatus,
    pub qpv_code: Option<String>,
    pub met_on: String,
    pub last_contact_on: Option<String>,
    #[sqlx(try_from = "String")]
    pub need_fields: Needs,
    pub referent_name: Option<String>,
    /// Open actions of the plan past their due date.
    pub overdue_actions: i64,
    pub total: i64,
}

fn caseload_conditions(q: &mut Sql, scope: &Scope, f: &CaseloadFilter) {
    scope.rows(q);
    if let Some(s) = &f.status {
        q.push(" AND p.status = ").bind(s.as_str());
    }
    match f.in_qpv {
        Some(true) => {
            q.push(" AND p.qpv_code IS NOT NULL");
        }
        Some(false) => {
            q.push(" AND p.qpv_code IS NULL");
        }
        None => {}
    }
    if let Some(field) = f.need_field {
        q.push(
            " AND (EXISTS (SELECT 1 FROM person_needs nf WHERE nf.person_id = p.id AND nf.field = ",
        )
        .bind(field.as_str())
        .push(")");
        // The health need is found for those who may know of it, or when the référent shared it.
        if field == Field::SanteHandicap {
            q.push(" OR ");
            scope.health_need(q);
        }
        q.push(")");
    }
    if f.without_referent {
        q.push(" AND p.status <> 'sorti' AND NOT EXISTS (SELECT 1 FROM person_members r WHERE r.person_id = p.id AND r.is_referent AND r.ended_at IS NULL)");
    }
    if let Some(date) = f.silent_since {
        q.push(" AND COALESCE(p.last_contact_on, p.met_on) <= ")
            .bind(date)
            .push(" AND p.status <> 'sorti'");
    }
    if f.to_call_back {
        q.push(" AND ");
        crate::home::to_call_back(q);
    }
    if let Some(date) = f.met_after {
        q.push(" AND p.met_on > ").bind(date);
    }
    if f.mine {
        q.push(" AND ");
        scope.member(q);
    }
    if f.overdue {
        q.push(" AND ");
        crate::diagnostic::has_overdue(q, f.today);
    }
    if let Some(ids) = &f.ranked {
        q.push(" AND p.id IN ").bind_list(ids.iter().copied());
    }
}

/// One page of the caseload with the total, the référent's name included (one query). Most
/// recent contact first — or, after a name search, best match first.
pub async fn caseload(
    c: &mut Conn<'_>,
    scope: &Scope,
    f: &CaseloadFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<CaseloadRow>, StoreError> {
    let backend = c.backend();
    // Each row's needs as this user may see them: the health need added where they may know of it.
    let mut q = Sql::new(
        "SELECT p.id, p.first_name, p.last_name, p.status, p.qpv_code, p.met_on, p.last_contact_on,
           COALESCE((SELECT ",
    );
    q.push(&list_agg(backend, "x.field"))
        .push(" FROM (SELECT n.field FROM person_needs n WHERE n.person_id = p.id UNION SELECT ")
        .bind(HEALTH_NEED)
        .push(" WHERE ");
    scope.health_need(&mut q);
    q.push(
        ") x), '') AS need_fields,
           (SELECT u.display_name FROM person_members r JOIN users u ON u.id = r.user_id
             WHERE r.person_id = p.id AND r.is_referent AND r.ended_at IS NULL LIMIT 1) AS referent_name,
           (SELECT COUNT(*) FROM plan_actions oa WHERE oa.person_id = p.id AND oa.status IN ('a-faire', 'en-cours')
             AND oa.due_on < ",
    );
    q.bind(f.today).push(
        ") AS overdue_actions,
           COUNT(*) OVER () AS total
         FROM persons p WHERE ",
    );
    caseload_conditions(&mut q, scope, f);
    q.push(" ORDER BY ");
    match &f.ranked {
        Some(ids) if !ids.is_empty() => {
            q.push("CASE p.id");
            for (rank, id) in ids.iter().enumerate() {
                q.push(" WHEN ")
                    .bind(*id)
                    .push(" THEN ")
                    .bind(i64::try_from(rank).unwrap_or(i64::MAX));
            }
            q.push(" END, p.id");
        }
        _ => {
            q.push("COALESCE(p.last_contact_on, p.met_on) DESC, p.id DESC");
        }
    }
    q.push(" LIMIT ").bind(limit).push(" OFFSET ").bind(offset);
    q.fetch_all(c).await
}

/// Names of the people in scope, for name search and duplicate detection (ranked by the caller).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NameRow {
    #[sqlx(try_from = "i64")]
    pub id: PersonId,
    pub folded_name: String,
    pub birth_date: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

pub async fn names(c: &mut Conn<'_>, scope: &Scope) -> Result<Vec<NameRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT p.id, p.folded_name, p.birth_date, p.phone, p.email FROM persons p WHERE ",
    );
    scope.rows(&mut q);
    q.fetch_all(c).await
}

/// How many people in scope per funnel status (for the caseload's counters; an aggregate scope
/// counts the whole territory).
pub async fn count_by_status(
    c: &mut Conn<'_>,
    scope: &Scope,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut q = Sql::new("SELECT p.status, COUNT(*) FROM persons p WHERE ");
    scope.counted(&mut q);
    q.push(" GROUP BY p.status");
    q.fetch_all(c).await
}

/// Which of these persons the scope may name (the others are counted, never shown).
pub async fn visible(
    c: &mut Conn<'_>,
    scope: &Scope,
    ids: &[PersonId],
) -> Result<Vec<PersonId>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new("SELECT p.id FROM persons p WHERE ");
    scope.rows(&mut q);
    q.push(" AND p.id IN ").bind_list(ids.iter().copied());
    let rows: Vec<(i64,)> = q.fetch_all(c).await?;
    Ok(rows.into_iter().map(|(i,)| PersonId(i)).collect())
}

/// The names and statuses of those of these persons the scope may name.
pub async fn names_in_scope(
    c: &mut Conn<'_>,
    scope: &Scope,
    ids: &[PersonId],
) -> Result<Vec<(PersonId, String, FunnelStatus)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        first_name: String,
        last_name: String,
        #[sqlx(try_from = "String")]
        status: FunnelStatus,
    }
    let mut q = Sql::new("SELECT p.id, p.first_name, p.last_name, p.status FROM persons p WHERE ");
    scope.rows(&mut q);
    q.push(" AND p.id IN ").bind_list(ids.iter().copied());
    let rows: Vec<Row> = q.fetch_all(c).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                PersonId(r.id),
                format!("{} {}", r.first_name, r.last_name)
                    .trim()
                    .to_string(),
                r.status,
            )
        })
        .collect())
}
