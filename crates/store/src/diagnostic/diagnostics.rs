//! Diagnostics: one draft at most per person, signed ones kept as they were signed.

use chrono::{DateTime, NaiveDate, Utc};
use domain::diagnostic::{Availability, DiagnosticStatus, Level, RomeCode, WorkingHours};
use domain::{DiagnosticId, Field, PersonId, SituationId, UserId};

use super::HEALTH_FIELD;
use crate::sql::{Sql, iso};
use crate::{Conn, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DiagnosticRow {
    #[sqlx(try_from = "i64")]
    pub id: DiagnosticId,
    #[sqlx(try_from = "i64")]
    pub person_id: PersonId,
    #[sqlx(try_from = "String")]
    pub status: DiagnosticStatus,
    pub held_on: String,
    pub author_name: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
    pub signer_name: Option<String>,
    pub words: String,
    pub priorities: String,
    pub availability: Option<String>,
    pub distance_km: Option<i32>,
    pub updated_at: DateTime<Utc>,
}

/// One field's answer in one diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldAnswer {
    pub field: Field,
    pub level: Level,
    pub comment: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct AnswerRow {
    diagnostic_id: i64,
    #[sqlx(try_from = "String")]
    field: Field,
    level: String,
    comment: String,
}

/// What a diagnostic holds besides its head: answers, ticked situations, jobs, hours.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiagnosticContent {
    pub answers: Vec<FieldAnswer>,
    pub ticks: Vec<SituationId>,
    pub jobs: Vec<RomeCode>,
    pub hours: Vec<WorkingHours>,
}

/// A diagnostic to write (a draft saved again, or signed).
#[derive(Debug, Clone)]
pub struct DiagnosticWrite {
    pub held_on: NaiveDate,
    pub words: String,
    pub priorities: String,
    pub availability: Option<Availability>,
    pub distance_km: Option<i64>,
    pub content: DiagnosticContent,
}

const COLUMNS: &str = "d.id, d.person_id, d.status, d.held_on, a.display_name AS author_name, d.signed_at,
    s.display_name AS signer_name, d.words, d.priorities, d.availability, d.distance_km, d.updated_at
    FROM diagnostics d LEFT JOIN users a ON a.id = d.author_id LEFT JOIN users s ON s.id = d.signed_by";

/// A person's diagnostics, oldest first (signed and the draft).
pub async fn diagnostics(
    c: &mut Conn<'_>,
    person: PersonId,
) -> Result<Vec<DiagnosticRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(COLUMNS)
        .push(" WHERE d.person_id = ")
        .bind(person)
        .push(" ORDER BY d.status DESC, d.held_on, d.id");
    q.fetch_all(c).await
}

/// The content of several diagnostics at once (four statements, whatever their number).
pub async fn contents(
    c: &mut Conn<'_>,
    ids: &[DiagnosticId],
    health: bool,
) -> Result<Vec<(DiagnosticId, DiagnosticContent)>, StoreError> {
    let mut out: Vec<(DiagnosticId, DiagnosticContent)> = ids
        .iter()
        .map(|id| (*id, DiagnosticContent::default()))
        .collect();
    if ids.is_empty() {
        return Ok(out);
    }
    let health_filter = |q: &mut Sql, column: &str| {
        if !health {
            q.push(" AND ").push(column).push(" <> ").bind(HEALTH_FIELD);
        }
    };
    let mut q = Sql::new(
        "SELECT diagnostic_id, field, level, comment FROM diagnostic_fields WHERE diagnostic_id IN ",
    );
    q.bind_list(ids.iter().copied());
    health_filter(&mut q, "field");
    let answers: Vec<AnswerRow> = q.fetch_all(c).await?;
    let mut q = Sql::new(
        "SELECT t.diagnostic_id, t.situation_id FROM diagnostic_ticks t JOIN diagnostic_situations s ON s.id = t.situation_id WHERE t.diagnostic_id IN ",
    );
    q.bind_list(ids.iter().copied());
    health_filter(&mut q, "s.field");
    let ticks: Vec<(i64, i64)> = q.fetch_all(c).await?;
    let mut q =
        Sql::new("SELECT diagnostic_id, rome_code FROM diagnostic_jobs WHERE diagnostic_id IN ");
    q.bind_list(ids.iter().copied())
        .push(" ORDER BY diagnostic_id, position");
    let jobs: Vec<(i64, String)> = q.fetch_all(c).await?;
    let mut q =
        Sql::new("SELECT diagnostic_id, hours FROM diagnostic_hours WHERE diagnostic_id IN ");
    q.bind_list(ids.iter().copied());
    let hours: Vec<(i64, String)> = q.fetch_all(c).await?;
    for (id, content) in &mut out {
        let mine = |d: i64| d == id.0;
        content.answers = answers
            .iter()
            .filter(|a| mine(a.diagnostic_id))
            .filter_map(|a| {
                Some(FieldAnswer {
                    field: a.field,
                    level: Level::from_code(&a.level)?,
                    comment: a.comment.clone(),
                })
            })
            .collect();
        content.answers.sort_by_key(|a| a.field);
        content.ticks = ticks
            .iter()
            .filter(|t| mine(t.0))
            .map(|t| SituationId(t.1))
            .collect();
        content.jobs = jobs
            .iter()
            .filter(|j| mine(j.0))
            .map(|j| RomeCode::stored(j.1.clone()))
            .collect();
        content.hours = hours
            .iter()
            .filter(|h| mine(h.0))
            .filter_map(|h| WorkingHours::from_code(&h.1))
            .collect();
    }
    Ok(out)
}

/// The person's draft, if there is one.
pub async fn draft(c: &mut Conn<'_>, person: PersonId) -> Result<Option<DiagnosticId>, StoreError> {
    let id: Option<i64> = run!(c, |c| sqlx::query_scalar(
        "SELECT id FROM diagnostics WHERE person_id = $1 AND status = 'brouillon'"
    )
    .bind(person.0)
    .fetch_optional(&mut **c)
    .await)?;
    Ok(id.map(DiagnosticId))
}

/// The date of the person's latest signed diagnostic.
pub async fn last_signed_on(
    c: &mut Conn<'_>,
    person: PersonId,
) -> Result<Option<String>, StoreError> {
    Ok(run!(c, |c| sqlx::query_scalar(
        "SELECT MAX(held_on) FROM diagnostics WHERE person_id = $1 AND status = 'signe'"
    )
    .bind(person.0)
    .fetch_one(&mut **c)
    .await)?)
}

/// Writes the draft (creating it, or replacing what it held), or signs it. A writer without
/// health access leaves the health field of the draft as it was.
pub async fn save(
    c: &mut Conn<'_>,
    person: PersonId,
    w: &DiagnosticWrite,
    sign: bool,
    health: bool,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<DiagnosticId, StoreError> {
    let status = if sign {
        DiagnosticStatus::Signe
    } else {
        DiagnosticStatus::Brouillon
    };
    let availability = w.availability.map(Availability::as_str);
    let id = match draft(c, person).await? {
        Some(id) => {
            exec!(c, |c| {
                sqlx::query(
                "UPDATE diagnostics SET status = $2, held_on = $3, words = $4, priorities = $5, availability = $6,
                   distance_km = $7, updated_at = $8, author_id = COALESCE(author_id, $9),
                   signed_at = CASE WHEN $10 THEN $8 ELSE NULL END, signed_by = CASE WHEN $10 THEN $9 ELSE NULL END
                 WHERE id = $1"
            )
            .bind(id.0)
            .bind(status.as_str())
            .bind(iso(w.held_on))
            .bind(&w.words)
            .bind(&w.priorities)
            .bind(availability)
            .bind(w.distance_km)
            .bind(now)
            .bind(user.0)
            .bind(sign)
            })?;
            let mut q = Sql::new("DELETE FROM diagnostic_fields WHERE diagnostic_id = ");
            q.bind(id);
            if !health {
                q.push(" AND field <> ").bind(HEALTH_FIELD);
            }
            q.execute(c).await?;
            let mut q = Sql::new("DELETE FROM diagnostic_ticks WHERE diagnostic_id = ");
            q.bind(id);
            if !health {
                q.push(
                    " AND situation_id NOT IN (SELECT id FROM diagnostic_situations WHERE field = ",
                )
                .bind(HEALTH_FIELD)
                .push(")");
            }
            q.execute(c).await?;
            for table in ["diagnostic_jobs", "diagnostic_hours"] {
                let mut q = Sql::new("DELETE FROM ");
                q.push(table).push(" WHERE diagnostic_id = ").bind(id);
                q.execute(c).await?;
            }
            id
        }
        None => {
            let id: i64 = run!(c, |c| {
                sqlx::query_scalar(
                "INSERT INTO diagnostics (person_id, status, held_on, author_id, signed_at, signed_by, words, priorities,
                   availability, distance_km, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN $6 ELSE NULL END, CASE WHEN $5 THEN $4 ELSE NULL END, $7, $8, $9, $10, $6, $6)
                 RETURNING id"
            )
            .bind(person.0)
            .bind(status.as_str())
            .bind(iso(w.held_on))
            .bind(user.0)
            .bind(sign)
            .bind(now)
            .bind(&w.words)
            .bind(&w.priorities)
            .bind(availability)
            .bind(w.distance_km)
            .fetch_one(&mut **c)
            .await
            })?;
            DiagnosticId(id)
        }
    };
    let content = &w.content;
    let answers: Vec<&FieldAnswer> = content
        .answers
        .iter()
        .filter(|a| health || a.field != Field::SanteHandicap)
        .collect();
    if !answers.is_empty() {
        let mut q = Sql::new(
            "INSERT INTO diagnostic_fields (diagnostic_id, field, level, comment) VALUES ",
        );
        q.join(&answers, ", ", |q, a| {
            q.push("(")
                .bind(id)
                .push(", ")
                .bind(a.field.as_str())
                .push(", ")
                .bind(a.level.as_str())
                .push(", ")
                .bind(a.comment.as_str())
                .push(")");
        });
        q.execute(c).await?;
    }
    if !content.ticks.is_empty() {
        // Only situations that exist and, without health access, not health ones.
        let mut q = Sql::new("INSERT INTO diagnostic_ticks (diagnostic_id, situation_id) SELECT ");
        q.bind(id)
            .push(", s.id FROM diagnostic_situations s WHERE s.id IN ")
            .bind_list(content.ticks.iter().copied());
        if !health {
            q.push(" AND s.field <> ").bind(HEALTH_FIELD);
        }
        q.execute(c).await?;
    }
    if !content.jobs.is_empty() {
        let mut q =
            Sql::new("INSERT INTO diagnostic_jobs (diagnostic_id, position, rome_code) VALUES ");
        q.join(content.jobs.iter().enumerate(), ", ", |q, (i, job)| {
            q.push("(")
                .bind(id)
                .push(", ")
                .bind(i as i64)
                .push(", ")
                .bind(job.as_str())
                .push(")");
        });
        q.execute(c).await?;
    }
    if !content.hours.is_empty() {
        let mut q = Sql::new("INSERT INTO diagnostic_hours (diagnostic_id, hours) VALUES ");
        q.join(&content.hours, ", ", |q, h| {
            q.push("(").bind(id).push(", ").bind(h.as_str()).push(")");
        });
        q.execute(c).await?;
    }
    Ok(id)
}

/// Drops the person's draft (nothing signed is touched); false when there was none.
pub async fn discard_draft(c: &mut Conn<'_>, person: PersonId) -> Result<bool, StoreError> {
    let n = exec!(c, |c| sqlx::query(
        "DELETE FROM diagnostics WHERE person_id = $1 AND status = 'brouillon'"
    )
    .bind(person.0))?;
    Ok(n > 0)
}

/// Each field's level in each signed diagnostic of a person, in date order.
pub async fn levels(
    c: &mut Conn<'_>,
    person: PersonId,
    health: bool,
) -> Result<Vec<(String, Field, Level)>, StoreError> {
    let mut q = Sql::new(
        "SELECT d.held_on, f.field, f.level FROM diagnostics d JOIN diagnostic_fields f ON f.diagnostic_id = d.id
         WHERE d.status = 'signe' AND d.person_id = ",
    );
    q.bind(person);
    if !health {
        q.push(" AND f.field <> ").bind(HEALTH_FIELD);
    }
    q.push(" ORDER BY d.held_on, d.id");
    let rows: Vec<(String, String, String)> = q.fetch_all(c).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(on, f, l)| Some((on, Field::from_code(&f)?, Level::from_code(&l)?)))
        .collect())
}

/// The distance the person accepts, from the latest signed diagnostic that says it.
pub async fn accepted_distance(
    c: &mut Conn<'_>,
    person: PersonId,
) -> Result<Option<i64>, StoreError> {
    let km: Option<Option<i64>> = run!(c, |c| {
        sqlx::query_scalar(
        "SELECT CAST(distance_km AS BIGINT) FROM diagnostics WHERE person_id = $1 AND status = 'signe' AND distance_km IS NOT NULL
         ORDER BY held_on DESC, id DESC LIMIT 1"
    )
    .bind(person.0)
    .fetch_optional(&mut **c)
    .await
    })?;
    Ok(km.flatten())
}
