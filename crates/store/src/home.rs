//! What the home pages count: the week's work in a scope, a territory's set-up, what waits for
//! the administrators. Each figure is one statement, whatever the number of people behind it.

use chrono::{DateTime, NaiveDate, Utc};
use domain::TerritoryId;
use domain::person::{ContactOutcome, FunnelStatus};

use crate::persons::Scope;
use crate::sql::Sql;
use crate::{Conn, StoreError};

/// The week's work among the people of a scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct WeekCounts {
    /// Every live file in the scope.
    pub total: i64,
    /// Attempts that did not reach the person since their last contact: to call back.
    pub to_call_back: i64,
    pub silent_30: i64,
    pub silent_60: i64,
    pub silent_90: i64,
    /// Repérés, never contacted.
    pub not_contacted: i64,
    /// Not exited, and nobody is référent.
    pub without_referent: i64,
    /// Met in the last seven days.
    pub new_this_week: i64,
    pub contacted: i64,
    pub accompanied: i64,
    pub exited: i64,
}

/// The condition « an attempt since the last contact » over `persons p`.
pub(crate) fn to_call_back(q: &mut Sql) {
    q.push(
        "p.status <> 'sorti' AND EXISTS (SELECT 1 FROM person_journal ja WHERE ja.person_id = p.id
           AND ja.kind = 'contact' AND ja.occurred_on > COALESCE(p.last_contact_on, p.met_on) AND ja.outcome IN ",
    )
    .bind_list(
        ContactOutcome::ALL
            .iter()
            .filter(|o| !o.reached())
            .map(|o| o.as_str()),
    )
    .push(")");
}

/// The counts of the home page for a scope (an aggregate scope counts the whole territory).
pub async fn week_counts(
    c: &mut Conn<'_>,
    scope: &Scope,
    today: NaiveDate,
) -> Result<WeekCounts, StoreError> {
    let days = |n: i64| today - chrono::Duration::days(n);
    let mut q = Sql::new("SELECT COUNT(*) AS total, ");
    let sum = |q: &mut Sql, name: &str, condition: &dyn Fn(&mut Sql)| {
        q.push("COALESCE(SUM(CASE WHEN ");
        condition(q);
        q.push(" THEN 1 ELSE 0 END), 0) AS ").push(name);
    };
    sum(&mut q, "to_call_back", &|q| to_call_back(q));
    for (name, n) in [("silent_30", 30), ("silent_60", 60), ("silent_90", 90)] {
        q.push(", ");
        sum(&mut q, name, &|q| {
            q.push("p.status <> 'sorti' AND COALESCE(p.last_contact_on, p.met_on) <= ")
                .bind(days(n));
        });
    }
    for (name, status) in [
        ("not_contacted", FunnelStatus::Repere),
        ("contacted", FunnelStatus::Contacte),
        ("accompanied", FunnelStatus::EnAccompagnement),
        ("exited", FunnelStatus::Sorti),
    ] {
        q.push(", ");
        sum(&mut q, name, &|q| {
            q.push("p.status = ").bind(status.as_str());
        });
    }
    q.push(", ");
    sum(&mut q, "without_referent", &|q| {
        q.push("p.status <> 'sorti' AND NOT EXISTS (SELECT 1 FROM person_members r WHERE r.person_id = p.id AND r.is_referent AND r.ended_at IS NULL)");
    });
    q.push(", ");
    sum(&mut q, "new_this_week", &|q| {
        q.push("p.met_on > ").bind(days(7));
    });
    q.push(" FROM persons p WHERE ");
    scope.counted(&mut q);
    let rows: Vec<WeekCounts> = q.fetch_all(c).await?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// How far a territory's set-up has come, for its coordinators' first steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Setup {
    pub partners: i64,
    /// Professionals of partner organisations with an active membership.
    pub professionals: i64,
    pub services: i64,
    /// QPVs of the official map in the territory's communes.
    pub qpvs: i64,
    pub persons: i64,
}

pub async fn setup(c: &mut Conn<'_>, territory: TerritoryId) -> Result<Setup, StoreError> {
    let mut q =
        Sql::new("SELECT (SELECT COUNT(*) FROM territory_partners tp WHERE tp.territory_id = ");
    q.bind(territory)
        .push(") AS partners, (SELECT COUNT(DISTINCT m.user_id) FROM memberships m JOIN territory_partners tp ON tp.organisation_id = m.organisation_id WHERE tp.territory_id = ")
        .bind(territory)
        .push(" AND m.role = 'professional' AND m.ended_at IS NULL AND (m.territory_id IS NULL OR m.territory_id = tp.territory_id)) AS professionals, (SELECT COUNT(*) FROM directory_services s WHERE s.territory_id = ")
        .bind(territory)
        .push(") AS services, (SELECT COUNT(DISTINCT qc.code) FROM qpv_communes qc JOIN territory_communes tc ON tc.insee_code = qc.insee_code WHERE tc.territory_id = ")
        .bind(territory)
        .push(") AS qpvs, (SELECT COUNT(*) FROM persons p WHERE p.merged_into IS NULL AND p.territory_id = ")
        .bind(territory)
        .push(") AS persons");
    let rows: Vec<Setup> = q.fetch_all(c).await?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// Partner organisations of a territory where nobody works in Passerelle (no active
/// professional), by name.
pub async fn partners_without_staff(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut q = Sql::new(
        "SELECT o.id, o.name FROM organisations o JOIN territory_partners tp ON tp.organisation_id = o.id
         WHERE tp.territory_id = ",
    );
    q.bind(territory).push(
        " AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organisation_id = o.id AND m.role = 'professional'
             AND m.ended_at IS NULL AND (m.territory_id IS NULL OR m.territory_id = tp.territory_id))
         ORDER BY o.name, o.id",
    );
    q.fetch_all(c).await
}

/// What waits for the national administrators.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Waiting {
    /// Invitations neither accepted, revoked nor expired.
    pub invitations: i64,
    /// Mail that could not be delivered (the last attempt failed).
    pub failed_mail: i64,
    /// Background jobs « en échec ».
    pub failed_jobs: i64,
}

pub async fn waiting(c: &mut Conn<'_>, now: DateTime<Utc>) -> Result<Waiting, StoreError> {
    let mut q = Sql::new(
        "SELECT (SELECT COUNT(*) FROM invitations WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ",
    );
    q.bind(now).push(
        ") AS invitations,
           (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND last_error IS NOT NULL) AS failed_mail,
           (SELECT COUNT(*) FROM jobs WHERE state = 'en-echec') AS failed_jobs",
    );
    let rows: Vec<Waiting> = q.fetch_all(c).await?;
    Ok(rows.into_iter().next().unwrap_or_default())
}
