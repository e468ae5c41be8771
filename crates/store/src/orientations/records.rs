//! One orientation: its creation, its changes of status (each one logged), its decline reasons.

use chrono::{DateTime, NaiveDate, Utc};
use domain::orientation::{DeclineReason, Outcome, Status, Step};
use domain::{
    ConsentId, Field, OrganisationId, OrientationId, PersonId, ServiceId, TerritoryId, UserId,
};

use crate::persons::list_agg;
use crate::sql::Sql;
use crate::{Conn, OptionalExt, StoreError, exec, run};

/// An orientation as it is sent.
#[derive(Debug, Clone)]
pub struct NewOrientation<'a> {
    pub territory: TerritoryId,
    pub person: PersonId,
    pub previous: Option<OrientationId>,
    pub service: Option<ServiceId>,
    pub service_name: &'a str,
    pub receiver_org: Option<OrganisationId>,
    pub receiver_name: &'a str,
    pub receiver_email: Option<&'a str>,
    pub sender: UserId,
    pub sender_org: Option<OrganisationId>,
    pub consent: Option<ConsentId>,
    pub fields: &'a [Field],
    pub reason: &'a str,
    pub message: &'a str,
    pub documents: &'a str,
    pub contact_preference: &'a str,
    pub availability: &'a str,
    pub sent_on: NaiveDate,
}

/// Writes the orientation, its fields and the first row of its log (nothing → envoyée).
pub async fn create(
    c: &mut Conn<'_>,
    o: &NewOrientation<'_>,
    now: DateTime<Utc>,
) -> Result<OrientationId, StoreError> {
    let mut q = Sql::new(
        "INSERT INTO orientations (territory_id, person_id, previous_id, service_id, service_name,
           receiver_org_id, receiver_name, receiver_email, sender_id, sender_org_id, consent_id,
           status, status_on, reason, message, documents, contact_preference, availability,
           sent_at, updated_at) VALUES (",
    );
    q.bind(o.territory).push(", ").bind(o.person).push(", ");
    q.bind_or_null(o.previous, "BIGINT").push(", ");
    q.bind_or_null(o.service, "BIGINT").push(", ");
    q.bind(o.service_name).push(", ");
    q.bind_or_null(o.receiver_org, "BIGINT").push(", ");
    q.bind(o.receiver_name).push(", ");
    q.bind_or_null(o.receiver_email, "TEXT").push(", ");
    q.bind(o.sender).push(", ");
    q.bind_or_null(o.sender_org, "BIGINT").push(", ");
    q.bind_or_null(o.consent, "BIGINT").push(", ");
    q.bind(Status::Envoyee.as_str()).push(", ").bind(o.sent_on);
    for text in [
        o.reason,
        o.message,
        o.documents,
        o.contact_preference,
        o.availability,
    ] {
        q.push(", ").bind(text);
    }
    q.push(", ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(") RETURNING id");
    let id = OrientationId(q.fetch_scalar::<i64>(c).await?);
    if !o.fields.is_empty() {
        let mut f = Sql::new("INSERT INTO orientation_fields (orientation_id, field) VALUES ");
        f.join(o.fields, ", ", |f, field| {
            f.push("(")
                .bind(id)
                .push(", ")
                .bind(field.as_str())
                .push(")");
        });
        f.execute(c).await?;
    }
    log(
        c,
        id,
        now,
        Some(o.sender),
        false,
        None,
        Status::Envoyee,
        None,
        "",
    )
    .await?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
async fn log(
    c: &mut Conn<'_>,
    id: OrientationId,
    at: DateTime<Utc>,
    by: Option<UserId>,
    via_link: bool,
    from: Option<Status>,
    to: Status,
    step: Option<Step>,
    detail: &str,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO orientation_events (orientation_id, at, user_id, via_link, from_status, to_status, step, detail)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    let event: i64 = run!(c, |c| sqlx::query_scalar(sql)
        .bind(id.0)
        .bind(at)
        .bind(by.map(|u| u.0))
        .bind(via_link)
        .bind(from.map(Status::as_str))
        .bind(to.as_str())
        .bind(step.map(Step::as_str))
        .bind(detail)
        .fetch_one(&mut **c)
        .await)?;
    // In the same transaction: the partners' webhooks hear of it, or nobody does.
    crate::webhooks::fan_out(c, event, id.0, at).await?;
    Ok(())
}

/// An orientation with its names, as the pages show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrientationRow {
    #[sqlx(try_from = "i64")]
    pub id: OrientationId,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    #[sqlx(try_from = "i64")]
    pub person_id: PersonId,
    pub previous_id: Option<i64>,
    pub service_id: Option<i64>,
    pub service_name: String,
    pub receiver_org_id: Option<i64>,
    pub receiver_name: String,
    pub receiver_email: Option<String>,
    pub sender_id: Option<i64>,
    pub sender_name: Option<String>,
    pub sender_org_id: Option<i64>,
    pub sender_org_name: Option<String>,
    pub consent_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub status_on: String,
    pub reminders: i32,
    pub version: i32,
    pub reason: String,
    pub message: String,
    pub documents: String,
    pub contact_preference: String,
    pub availability: String,
    pub sent_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub entered_on: Option<String>,
    pub ended_on: Option<String>,
    pub outcome: Option<String>,
    pub decline_comment: String,
    /// The fields addressed, `a|b`.
    pub fields: String,
}

impl OrientationRow {
    pub fn fields(&self) -> Vec<Field> {
        self.fields
            .split('|')
            .filter_map(Field::from_code)
            .collect()
    }

    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome.as_deref().and_then(Outcome::from_code)
    }
}

pub(crate) fn columns(c: &Conn<'_>) -> String {
    format!(
        "o.id, o.territory_id, o.person_id, o.previous_id, o.service_id, o.service_name,
         o.receiver_org_id, o.receiver_name, o.receiver_email, o.sender_id, su.display_name AS sender_name,
         o.sender_org_id, so.name AS sender_org_name, o.consent_id, o.status, o.status_on, o.reminders,
         o.version, o.reason, o.message, o.documents, o.contact_preference, o.availability, o.sent_at,
         o.answered_at, o.entered_on, o.ended_on, o.outcome, o.decline_comment,
         COALESCE((SELECT {} FROM orientation_fields f WHERE f.orientation_id = o.id), '') AS fields
         FROM orientations o LEFT JOIN users su ON su.id = o.sender_id
         LEFT JOIN organisations so ON so.id = o.sender_org_id",
        list_agg(c.backend(), "f.field")
    )
}

pub async fn get(
    c: &mut Conn<'_>,
    id: OrientationId,
) -> Result<Option<OrientationRow>, StoreError> {
    let sql = format!("SELECT {} WHERE o.id = $1", columns(c));
    run!(c, |c| sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Every orientation of a person, oldest first (their chain is read from `previous_id`).
pub async fn of_person(
    c: &mut Conn<'_>,
    person: PersonId,
) -> Result<Vec<OrientationRow>, StoreError> {
    let sql = format!(
        "SELECT {} WHERE o.person_id = $1 ORDER BY o.sent_at, o.id",
        columns(c)
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(person.0)
        .fetch_all(&mut **c)
        .await)?)
}

/// A change of status, as the state machine allowed it.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub id: OrientationId,
    /// The status and version the actor saw: the update matches nothing if either moved.
    pub from: Status,
    pub version: i32,
    pub to: Status,
    pub step: Step,
    pub by: Option<UserId>,
    pub via_link: bool,
    pub on: NaiveDate,
    pub detail: &'a str,
    pub entered_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub outcome: Option<Outcome>,
    pub decline_comment: Option<&'a str>,
}

/// Applies a change and logs it; `false` when someone else changed the orientation first
/// (nothing written).
pub async fn change(
    c: &mut Conn<'_>,
    ch: &Change<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Sql::new("UPDATE orientations SET status = ");
    q.bind(ch.to.as_str())
        .push(", status_on = ")
        .bind(ch.on)
        .push(", reminders = 0, version = version + 1, updated_at = ")
        .bind(now);
    if ch.step.is_answer() {
        q.push(", answered_at = ").bind(now);
    }
    if let Some(on) = ch.entered_on {
        q.push(", entered_on = ").bind(on);
    }
    if let Some(on) = ch.ended_on {
        q.push(", ended_on = ").bind(on);
    }
    if let Some(outcome) = ch.outcome {
        q.push(", outcome = ").bind(outcome.as_str());
    }
    if let Some(comment) = ch.decline_comment {
        q.push(", decline_comment = ").bind(comment);
    }
    q.push(" WHERE id = ")
        .bind(ch.id)
        .push(" AND status = ")
        .bind(ch.from.as_str())
        .push(" AND version = ")
        .bind(i64::from(ch.version));
    if q.execute(c).await? != 1 {
        return Ok(false);
    }
    log(
        c,
        ch.id,
        now,
        ch.by,
        ch.via_link,
        Some(ch.from),
        ch.to,
        Some(ch.step),
        ch.detail,
    )
    .await?;
    Ok(true)
}

pub async fn set_decline_reasons(
    c: &mut Conn<'_>,
    id: OrientationId,
    reasons: &[(DeclineReason, String)],
) -> Result<(), StoreError> {
    if reasons.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new(
        "INSERT INTO orientation_decline_reasons (orientation_id, reason, detail) VALUES ",
    );
    q.join(reasons, ", ", |q, (reason, detail)| {
        q.push("(")
            .bind(id)
            .push(", ")
            .bind(reason.as_str())
            .push(", ")
            .bind(detail.as_str())
            .push(")");
    });
    q.execute(c).await?;
    Ok(())
}

/// The decline reasons of some orientations, in one query.
pub async fn decline_reasons(
    c: &mut Conn<'_>,
    ids: &[OrientationId],
) -> Result<Vec<(OrientationId, DeclineReason, String)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        orientation_id: i64,
        #[sqlx(try_from = "String")]
        reason: DeclineReason,
        detail: String,
    }
    let mut q = Sql::new(
        "SELECT orientation_id, reason, detail FROM orientation_decline_reasons WHERE orientation_id IN ",
    );
    q.bind_list(ids.iter().copied())
        .push(" ORDER BY orientation_id, reason");
    let rows: Vec<Row> = q.fetch_all(c).await?;
    Ok(rows
        .into_iter()
        .map(|r| (OrientationId(r.orientation_id), r.reason, r.detail))
        .collect())
}

/// One row of the log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub orientation_id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub via_link: bool,
    pub from_status: Option<String>,
    #[sqlx(try_from = "String")]
    pub to_status: Status,
    pub step: Option<String>,
    pub detail: String,
}

impl EventRow {
    pub fn from(&self) -> Option<Status> {
        self.from_status.as_deref().and_then(Status::from_code)
    }
}

/// The log of some orientations, oldest first, in one query.
pub async fn events(c: &mut Conn<'_>, ids: &[OrientationId]) -> Result<Vec<EventRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT e.id, e.orientation_id, e.at, e.user_id, u.display_name AS user_name, e.via_link,
           e.from_status, e.to_status, e.step, e.detail
         FROM orientation_events e LEFT JOIN users u ON u.id = e.user_id WHERE e.orientation_id IN ",
    );
    q.bind_list(ids.iter().copied()).push(" ORDER BY e.id");
    q.fetch_all(c).await
}

/// Records that reminder `number` went out, unless the orientation moved or it already did;
/// whether this caller is the one who records it (and so sends it).
pub async fn mark_reminded(
    c: &mut Conn<'_>,
    id: OrientationId,
    status: Status,
    version: i32,
    number: u32,
) -> Result<bool, StoreError> {
    let sql = "UPDATE orientations SET reminders = $4
               WHERE id = $1 AND status = $2 AND version = $3 AND reminders < $4";
    Ok(exec!(c, |c| sqlx::query(sql)
        .bind(id.0)
        .bind(status.as_str())
        .bind(version)
        .bind(i32::try_from(number).unwrap_or(i32::MAX)))?
        == 1)
}

/// The open orientations of every territory, with what the job queue needs to judge them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenRow {
    #[sqlx(try_from = "i64")]
    pub id: OrientationId,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    /// The territory's zone: « today » is today there.
    pub time_zone: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub status_on: String,
    pub reminders: i32,
    pub version: i32,
}

/// Open orientations after `after` (by id, a page of `limit`): the job queue walks them all.
pub async fn open_after(
    c: &mut Conn<'_>,
    after: i64,
    limit: i64,
) -> Result<Vec<OpenRow>, StoreError> {
    let sql =
        "SELECT o.id, o.territory_id, t.time_zone, o.status, o.status_on, o.reminders, o.version
               FROM orientations o JOIN territories t ON t.id = o.territory_id
               WHERE o.status IN ('envoyee', 'a-l-etude') AND o.id > $1 ORDER BY o.id LIMIT $2";
    Ok(run!(c, |c| sqlx::query_as(sql)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut **c)
        .await)?)
}

/// Notes the idempotency key an orientation was sent with, and the fingerprint of its request.
pub async fn set_idempotency(
    c: &mut Conn<'_>,
    id: OrientationId,
    key: &str,
    fingerprint: &str,
) -> Result<(), StoreError> {
    let sql =
        "UPDATE orientations SET idempotency_key = $2, idempotency_fingerprint = $3 WHERE id = $1";
    exec!(c, |c| sqlx::query(sql)
        .bind(id.0)
        .bind(key)
        .bind(fingerprint))?;
    Ok(())
}

/// The orientation this sender already sent with this key, with the fingerprint of its request.
pub async fn by_idempotency_key(
    c: &mut Conn<'_>,
    sender: UserId,
    key: &str,
) -> Result<Option<(OrientationId, String)>, StoreError> {
    let sql = "SELECT id, idempotency_fingerprint FROM orientations
               WHERE sender_id = $1 AND idempotency_key = $2";
    let row: Option<(i64, Option<String>)> = run!(c, |c| sqlx::query_as(sql)
        .bind(sender.0)
        .bind(key)
        .fetch_one(&mut **c)
        .await)
    .optional()?;
    Ok(row.map(|(id, f)| (OrientationId(id), f.unwrap_or_default())))
}
