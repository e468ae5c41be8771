//! The job table: background work enqueued in the transaction of the change that causes it,
//! claimed by one worker at a time under a lease (`locked_until`): a worker that dies leaves
//! its job to be claimed again once the lease is over. See `docs/jobs.md`.

use chrono::{DateTime, Utc};

use crate::{Conn, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub dedup_key: Option<String>,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, kind, payload, dedup_key, state, attempts, max_attempts, run_at, locked_until, locked_by, last_error, created_at, finished_at";

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: &'a str,
    /// A second job with the same key is not enqueued (periodic work, once per period).
    pub dedup_key: Option<&'a str>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
}

/// Enqueues a job; returns its id, or `None` when its de-duplication key was already taken.
pub async fn enqueue(
    c: &mut Conn<'_>,
    job: &NewJob<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    let sql = "INSERT INTO jobs (kind, payload, dedup_key, run_at, max_attempts, created_at)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (dedup_key) DO NOTHING RETURNING id";
    Ok(run!(c, |c| sqlx::query_scalar(sql)
        .bind(job.kind)
        .bind(job.payload)
        .bind(job.dedup_key)
        .bind(job.run_at)
        .bind(job.max_attempts)
        .bind(now)
        .fetch_optional(&mut **c)
        .await)?)
}

/// Claims the next due job for `worker` until `lease_until`: a waiting job whose time has come,
/// or a running one whose lease is over (its worker died). One statement, so two workers never
/// claim the same job: PostgreSQL skips the rows another worker has locked; SQLite has a single
/// writer.
pub async fn claim(
    c: &mut Conn<'_>,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<Job>, StoreError> {
    let due =
        "(state = 'en-attente' AND run_at <= $1) OR (state = 'en-cours' AND locked_until < $1)";
    // The one difference between the backends: PostgreSQL workers skip each other's rows.
    let lock = match c {
        Conn::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        Conn::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE jobs SET state = 'en-cours', attempts = attempts + 1, locked_until = $2, locked_by = $3
         WHERE id = (SELECT id FROM jobs WHERE {due} ORDER BY run_at, id LIMIT 1 {lock})
         RETURNING {COLUMNS}"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(now)
        .bind(lease_until)
        .bind(worker)
        .fetch_optional(&mut **c)
        .await)?)
}

/// Extends the lease of a job `worker` still holds (a long job says it is alive); returns
/// whether it did.
pub async fn renew(
    c: &mut Conn<'_>,
    id: i64,
    worker: &str,
    lease_until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql =
        "UPDATE jobs SET locked_until = $3 WHERE id = $1 AND locked_by = $2 AND state = 'en-cours'";
    Ok(exec!(c, |c| sqlx::query(sql)
        .bind(id)
        .bind(worker)
        .bind(lease_until))?
        == 1)
}

/// Marks a job done, if `worker` still holds it; returns whether it did.
pub async fn complete(
    c: &mut Conn<'_>,
    id: i64,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql =
        "UPDATE jobs SET state = 'fait', finished_at = $3, locked_until = NULL, last_error = NULL
               WHERE id = $1 AND locked_by = $2 AND state = 'en-cours'";
    Ok(exec!(c, |c| sqlx::query(sql).bind(id).bind(worker).bind(now))? == 1)
}

/// Records a failure: the job waits until `retry_at`, or ends « en-echec » when it used all
/// its attempts.
pub async fn fail(
    c: &mut Conn<'_>,
    id: i64,
    worker: &str,
    error: &str,
    now: DateTime<Utc>,
    retry_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "UPDATE jobs SET last_error = $3, locked_until = NULL,
                 state = CASE WHEN attempts >= max_attempts THEN 'en-echec' ELSE 'en-attente' END,
                 run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE $5 END,
                 finished_at = CASE WHEN attempts >= max_attempts THEN $4 ELSE NULL END
               WHERE id = $1 AND locked_by = $2 AND state = 'en-cours'";
    exec!(c, |c| sqlx::query(sql)
        .bind(id)
        .bind(worker)
        .bind(error)
        .bind(now)
        .bind(retry_at))?;
    Ok(())
}

/// An administrator sends a failed job back to the queue, with its attempts renewed.
pub async fn retry(c: &mut Conn<'_>, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let sql = "UPDATE jobs SET state = 'en-attente', attempts = 0, run_at = $2, finished_at = NULL
               WHERE id = $1 AND state = 'en-echec'";
    Ok(exec!(c, |c| sqlx::query(sql).bind(id).bind(now))? == 1)
}

/// Jobs in one state, most recent first.
pub async fn in_state(c: &mut Conn<'_>, state: &str, limit: i64) -> Result<Vec<Job>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE state = $1 ORDER BY run_at DESC, id DESC LIMIT $2"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(state)
        .bind(limit)
        .fetch_all(&mut **c)
        .await)?)
}

/// How many jobs are in each state.
pub async fn counts(c: &mut Conn<'_>) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(run!(c, |c| sqlx::query_as(
        "SELECT state, COUNT(*) FROM jobs GROUP BY state"
    )
    .fetch_all(&mut **c)
    .await)?)
}

/// Forgets finished jobs older than `before` (failed ones stay until an administrator acts).
pub async fn purge_done(c: &mut Conn<'_>, before: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(exec!(c, |c| sqlx::query(
        "DELETE FROM jobs WHERE state = 'fait' AND finished_at < $1"
    )
    .bind(before))?)
}
