//! Webhooks of orientation events and their deliveries (docs/api.md, « Webhooks »). Every
//! orientation event is fanned out, in the transaction that logs it, to the live webhooks of
//! the organisations that receive or send it in its territory: one delivery row each, and one
//! job of the queue each, which posts it and retries it.

use chrono::{DateTime, Utc};
use domain::{OrganisationId, TerritoryId, UserId};

use crate::sql::Sql;
use crate::{Conn, OptionalExt, StoreError, exec, run};

/// The job kind of a delivery, and how many times it is tried (backing off from 30 s to an hour
/// between tries: about two hours in all).
pub const JOB_KIND: &str = "webhook";
pub const ATTEMPTS: i32 = 8;

/// The job payload of a delivery.
pub fn job_payload(delivery: i64) -> String {
    format!("{{\"livraison\":{delivery}}}")
}

#[derive(Debug, Clone, Copy)]
pub struct NewWebhook<'a> {
    pub territory: TerritoryId,
    pub organisation: OrganisationId,
    pub url: &'a str,
    pub nonce: &'a str,
    pub created_by: UserId,
}

pub async fn create(
    c: &mut Conn<'_>,
    w: &NewWebhook<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sql =
        "INSERT INTO webhooks (territory_id, organisation_id, url, nonce, created_by, created_at)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    Ok(run!(c, |c| sqlx::query_scalar(sql)
        .bind(w.territory.0)
        .bind(w.organisation.0)
        .bind(w.url)
        .bind(w.nonce)
        .bind(w.created_by.0)
        .bind(now)
        .fetch_one(&mut **c)
        .await)?)
}

/// A webhook as its territory's page lists it, with what became of its deliveries.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub delivered: i64,
    /// Not delivered yet: waiting for a try, or tried and failed so far.
    pub pending: i64,
    pub last_delivered_at: Option<DateTime<Utc>>,
}

const ROWS: &str =
    "SELECT w.id, w.organisation_id, o.name AS organisation_name, w.url, w.created_at,
                           w.disabled_at,
                           (SELECT COUNT(*) FROM webhook_deliveries d
                             WHERE d.webhook_id = w.id AND d.delivered_at IS NOT NULL) AS delivered,
                           (SELECT COUNT(*) FROM webhook_deliveries d
                             WHERE d.webhook_id = w.id AND d.delivered_at IS NULL) AS pending,
                           (SELECT MAX(d.delivered_at) FROM webhook_deliveries d
                             WHERE d.webhook_id = w.id) AS last_delivered_at
                    FROM webhooks w JOIN organisations o ON o.id = w.organisation_id";

/// The webhooks of a territory, live ones first, then the most recent.
pub async fn of_territory(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<WebhookRow>, StoreError> {
    let sql = format!(
        "{ROWS} WHERE w.territory_id = $1 ORDER BY (w.disabled_at IS NULL) DESC, w.id DESC"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(territory.0)
        .fetch_all(&mut **c)
        .await)?)
}

/// One webhook as its territory's list shows it.
pub async fn row(c: &mut Conn<'_>, id: i64) -> Result<Option<WebhookRow>, StoreError> {
    let sql = format!("{ROWS} WHERE w.id = $1");
    run!(c, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Webhook {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    #[sqlx(try_from = "i64")]
    pub organisation_id: OrganisationId,
    pub url: String,
    pub nonce: String,
    pub disabled_at: Option<DateTime<Utc>>,
}

pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Webhook>, StoreError> {
    let sql = "SELECT id, territory_id, organisation_id, url, nonce, disabled_at
               FROM webhooks WHERE id = $1";
    run!(c, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Stops a webhook: no new delivery, and those waiting are dropped when their turn comes.
pub async fn disable(c: &mut Conn<'_>, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let sql = "UPDATE webhooks SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL";
    Ok(exec!(c, |c| sqlx::query(sql).bind(now).bind(id))? == 1)
}

/// Fans an orientation event out to the live webhooks of the organisations that receive or
/// send the orientation in its territory, with one job each; returns how many.
pub async fn fan_out(
    c: &mut Conn<'_>,
    event: i64,
    orientation: i64,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let sql = "INSERT INTO webhook_deliveries (webhook_id, event_id, orientation_id, territory_id,
                      to_status, event_at, receives, created_at)
               SELECT w.id, e.id, o.id, o.territory_id, e.to_status, e.at,
                      (o.receiver_org_id IS NOT NULL AND o.receiver_org_id = w.organisation_id), $2
               FROM webhooks w JOIN orientations o ON o.id = $3
               JOIN orientation_events e ON e.id = $1
               WHERE w.disabled_at IS NULL AND w.territory_id = o.territory_id
                 AND (w.organisation_id = o.receiver_org_id OR w.organisation_id = o.sender_org_id)
               RETURNING id";
    let ids: Vec<i64> = run!(c, |c| sqlx::query_scalar(sql)
        .bind(event)
        .bind(now)
        .bind(orientation)
        .fetch_all(&mut **c)
        .await)?;
    if ids.is_empty() {
        return Ok(0);
    }
    let mut q = Sql::new(
        "INSERT INTO jobs (kind, payload, dedup_key, run_at, max_attempts, created_at) VALUES ",
    );
    q.join(&ids, ", ", |q, id| {
        q.push("(")
            .bind(JOB_KIND)
            .push(", ")
            .bind(job_payload(*id))
            .push(", ")
            .bind(format!("{JOB_KIND}:{id}"))
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(i64::from(ATTEMPTS))
            .push(", ")
            .bind(now)
            .push(")");
    });
    q.execute(c).await?;
    Ok(ids.len())
}

/// A delivery with what its job needs to post it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Outgoing {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub nonce: String,
    pub disabled: bool,
    pub delivered: bool,
    pub attempts: i32,
    pub orientation_id: i64,
    pub territory_slug: String,
    pub to_status: String,
    pub at: DateTime<Utc>,
    /// The webhook's organisation receives the orientation (else it sent it).
    pub receives: bool,
}

pub async fn outgoing(c: &mut Conn<'_>, delivery: i64) -> Result<Option<Outgoing>, StoreError> {
    let sql = "SELECT d.id, d.webhook_id, w.url, w.nonce, (w.disabled_at IS NOT NULL) AS disabled,
                      (d.delivered_at IS NOT NULL) AS delivered, d.attempts, d.orientation_id,
                      t.slug AS territory_slug, d.to_status, d.event_at AS at, d.receives
               FROM webhook_deliveries d
               JOIN webhooks w ON w.id = d.webhook_id
               JOIN territories t ON t.id = d.territory_id
               WHERE d.id = $1";
    run!(c, |c| sqlx::query_as(sql)
        .bind(delivery)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Records one attempt: the HTTP status when an answer came, the error in French when it was
/// not a success.
pub async fn record_attempt(
    c: &mut Conn<'_>,
    delivery: i64,
    now: DateTime<Utc>,
    status: Option<i32>,
    error: &str,
) -> Result<(), StoreError> {
    let delivered = error.is_empty();
    let sql = "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $1,
                      last_status = $2, last_error = $3,
                      delivered_at = CASE WHEN $4 THEN $1 ELSE delivered_at END
               WHERE id = $5";
    exec!(c, |c| sqlx::query(sql)
        .bind(now)
        .bind(status)
        .bind(error)
        .bind(delivered)
        .bind(delivery))?;
    Ok(())
}

/// A line of a webhook's delivery log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub orientation_id: i64,
    pub to_status: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: String,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The last `limit` deliveries of a webhook, the most recent first.
pub async fn deliveries(
    c: &mut Conn<'_>,
    webhook: i64,
    limit: i64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let sql = "SELECT d.id, d.orientation_id, d.to_status, d.created_at, d.attempts,
                      d.last_attempt_at, d.last_status, d.last_error, d.delivered_at
               FROM webhook_deliveries d
               WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT $2";
    Ok(run!(c, |c| sqlx::query_as(sql)
        .bind(webhook)
        .bind(limit)
        .fetch_all(&mut **c)
        .await)?)
}

/// Drops the deliveries created before `before` (the delivery log keeps a month).
pub async fn purge(c: &mut Conn<'_>, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let sql = "DELETE FROM webhook_deliveries WHERE created_at < $1";
    Ok(exec!(c, |c| sqlx::query(sql).bind(before))?)
}
