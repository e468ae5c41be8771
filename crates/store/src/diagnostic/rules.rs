//! A territory's own eligibility rules (JSON of `domain::eligibility::Rule`), and the rules a
//! service of the directory requires.

use chrono::{DateTime, Utc};
use domain::eligibility::Rule;
use domain::{RuleId, ServiceId, TerritoryId, UserId};

use crate::sql::{Sql, iso};
use crate::{Conn, StoreError, exec, run};

#[derive(Debug, Clone)]
pub struct StoredRule {
    pub id: RuleId,
    pub rule: Rule,
    pub updated_at: DateTime<Utc>,
    pub author_name: Option<String>,
}

/// The rules of a territory, every version. A definition that no longer reads (it cannot be
/// written unread) is an error, not a silent skip.
pub async fn rules(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<StoredRule>, StoreError> {
    let rows: Vec<(i64, String, DateTime<Utc>, Option<String>)> = run!(c, |c| {
        sqlx::query_as(
        "SELECT r.id, r.definition, r.updated_at, u.display_name FROM eligibility_rules r
         LEFT JOIN users u ON u.id = r.updated_by WHERE r.territory_id = $1 ORDER BY r.code, r.valid_from"
    )
    .bind(territory.0)
    .fetch_all(&mut **c)
    .await
    })?;
    rows.into_iter()
        .map(|(id, definition, updated_at, author_name)| {
            let rule: Rule = serde_json::from_str(&definition)
                .map_err(|e| StoreError::Corrupt(format!("règle {id} : {e}")))?;
            Ok(StoredRule {
                id: RuleId(id),
                rule,
                updated_at,
                author_name,
            })
        })
        .collect()
}

/// Writes a rule version: a new one, or the one with the same code and start replaced.
pub async fn save_rule(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    rule: &Rule,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let definition = serde_json::to_string(rule).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    exec!(c, |c| {
        sqlx::query(
        "INSERT INTO eligibility_rules (territory_id, code, valid_from, definition, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (territory_id, code, valid_from) DO UPDATE SET definition = excluded.definition,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by"
    )
    .bind(territory.0)
    .bind(&rule.code)
    .bind(iso(rule.valid_from))
    .bind(&definition)
    .bind(now)
    .bind(user.0)
    })?;
    Ok(())
}

pub async fn delete_rule(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    id: RuleId,
) -> Result<bool, StoreError> {
    let n = exec!(c, |c| sqlx::query(
        "DELETE FROM eligibility_rules WHERE id = $1 AND territory_id = $2"
    )
    .bind(id.0)
    .bind(territory.0))?;
    Ok(n == 1)
}

/// The rule codes each of these services requires.
pub async fn service_rules(
    c: &mut Conn<'_>,
    services: &[ServiceId],
) -> Result<Vec<(ServiceId, String)>, StoreError> {
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let mut q =
        Sql::new("SELECT service_id, rule_code FROM directory_service_rules WHERE service_id IN ");
    q.bind_list(services.iter().copied())
        .push(" ORDER BY service_id, rule_code");
    let rows: Vec<(i64, String)> = q.fetch_all(c).await?;
    Ok(rows.into_iter().map(|(s, r)| (ServiceId(s), r)).collect())
}

/// Replaces the rules a service requires.
pub async fn set_service_rules(
    c: &mut Conn<'_>,
    service: ServiceId,
    codes: &[String],
) -> Result<(), StoreError> {
    exec!(c, |c| sqlx::query(
        "DELETE FROM directory_service_rules WHERE service_id = $1"
    )
    .bind(service.0))?;
    if !codes.is_empty() {
        let mut q = Sql::new("INSERT INTO directory_service_rules (service_id, rule_code) VALUES ");
        q.join(codes, ", ", |q, code| {
            q.push("(")
                .bind(service)
                .push(", ")
                .bind(code.as_str())
                .push(")");
        });
        q.execute(c).await?;
    }
    Ok(())
}

/// Every (service, rule code) of a territory's directory (few: rules are attached by hand).
pub async fn territory_service_rules(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<(ServiceId, String)>, StoreError> {
    let rows: Vec<(i64, String)> = run!(c, |c| sqlx::query_as(
        "SELECT r.service_id, r.rule_code FROM directory_service_rules r
         JOIN directory_services s ON s.id = r.service_id WHERE s.territory_id = $1"
    )
    .bind(territory.0)
    .fetch_all(&mut **c)
    .await)?;
    Ok(rows.into_iter().map(|(s, r)| (ServiceId(s), r)).collect())
}
