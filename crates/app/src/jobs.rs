//! Background work through the job table (`store::jobs`, `docs/jobs.md`): mail, the periodic
//! purge and the daily retention. A job is enqueued in the transaction of the change that causes
//! it, so a rolled-back change leaves no job; a worker claims one job at a time under a lease,
//! runs it, then marks it done — or failed, to be retried after a growing delay, until it ends
//! « en-echec » with its last error. Periodic work is enqueued under a de-duplication key per
//! period, so several instances never run it twice. Every instant comes from the app's clock.

use chrono::{DateTime, Duration, Utc};
use domain::MailId;

use crate::{App, AppError};

/// How long a claimed job is its worker's; past it, another worker may take it again.
pub const LEASE: Duration = Duration::minutes(5);
/// Attempts before a job ends « en-echec ».
pub const MAX_ATTEMPTS: i32 = 5;
/// Minutes between two purges of expired sessions and stale throttling rows.
const PURGE_EVERY_MINUTES: i64 = 10;

/// What a job does. Stored as its kind (a stable code) and a JSON payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Delivers one message of the outbox by SMTP.
    SendMail(MailId),
    /// Purges expired sessions, login failures and old finished jobs.
    Purge,
    /// Applies the retention rules of person files and audit rows.
    Retention,
    /// Reminds receivers of open orientations and expires those past the delay.
    Orientations,
    /// Sends the daily digest of orientation notices.
    Digest,
    /// Tells référents of the follow-up checks that fell due (3, 6, 12 months after an exit).
    FollowUp,
    /// Takes the day's snapshots of the indicators (the whole country and each territory).
    Indicators,
    /// Runs the dry run of a bulk import of persons.
    PersonImportDryRun(i64),
    /// Runs a bulk import of persons the user launched after its dry run.
    PersonImport(i64),
    /// Posts one delivery of an orientation event to a partner's webhook.
    Webhook(i64),
    /// For the tests of the queue itself: records an audit row with this number, or fails.
    #[cfg(any(test, feature = "test-support"))]
    Probe { number: i64, fail: bool },
}

impl Work {
    fn kind(&self) -> &'static str {
        match self {
            Work::SendMail(_) => "courriel",
            Work::Purge => "purge",
            Work::Retention => "conservation",
            Work::Orientations => "orientations",
            Work::Digest => "resume",
            Work::FollowUp => "suivi",
            Work::Indicators => "indicateurs",
            Work::PersonImportDryRun(_) => "simulation-import",
            Work::PersonImport(_) => "import-personnes",
            Work::Webhook(_) => store::webhooks::JOB_KIND,
            #[cfg(any(test, feature = "test-support"))]
            Work::Probe { .. } => "essai",
        }
    }

    fn payload(&self) -> String {
        match self {
            Work::SendMail(id) => serde_json::json!({ "courriel": id.0 }).to_string(),
            Work::PersonImport(id) | Work::PersonImportDryRun(id) => {
                serde_json::json!({ "import": id }).to_string()
            }
            Work::Webhook(id) => store::webhooks::job_payload(*id),
            Work::Purge
            | Work::Retention
            | Work::Orientations
            | Work::Digest
            | Work::FollowUp
            | Work::Indicators => "{}".into(),
            #[cfg(any(test, feature = "test-support"))]
            Work::Probe { number, fail } => {
                serde_json::json!({ "numero": number, "echec": fail }).to_string()
            }
        }
    }

    fn parse(kind: &str, payload: &str) -> Result<Work, String> {
        let value: serde_json::Value =
            serde_json::from_str(payload).map_err(|e| format!("contenu illisible : {e}"))?;
        let number = |key: &str| {
            value
                .get(key)
                .and_then(serde_json::Value::as_i64)
                .ok_or_else(|| format!("« {key} » manque"))
        };
        match kind {
            "courriel" => Ok(Work::SendMail(MailId(number("courriel")?))),
            "purge" => Ok(Work::Purge),
            "conservation" => Ok(Work::Retention),
            "orientations" => Ok(Work::Orientations),
            "resume" => Ok(Work::Digest),
            "suivi" => Ok(Work::FollowUp),
            "indicateurs" => Ok(Work::Indicators),
            "import-personnes" => Ok(Work::PersonImport(number("import")?)),
            "simulation-import" => Ok(Work::PersonImportDryRun(number("import")?)),
            store::webhooks::JOB_KIND => Ok(Work::Webhook(number("livraison")?)),
            #[cfg(any(test, feature = "test-support"))]
            "essai" => Ok(Work::Probe {
                number: number("numero")?,
                fail: value.get("echec").and_then(serde_json::Value::as_bool) == Some(true),
            }),
            other => Err(format!("tâche inconnue « {other} »")),
        }
    }

    /// The label administrators read.
    pub fn label_of(kind: &str) -> &'static str {
        match kind {
            "courriel" => "envoi d'un courriel",
            "purge" => "purge des sessions expirées",
            "conservation" => "durées de conservation",
            "orientations" => "relances et expiration des orientations",
            "resume" => "résumé quotidien des orientations",
            "suivi" => "vérifications de suivi échues",
            "indicateurs" => "instantanés quotidiens des indicateurs",
            "import-personnes" => "import d'une liste de personnes",
            "simulation-import" => "simulation d'un import de liste",
            store::webhooks::JOB_KIND => "envoi d'un événement à un webhook",
            "essai" => "essai",
            _ => "tâche inconnue",
        }
    }
}

/// Enqueues work in the caller's transaction; `dedup` makes it once per key.
pub async fn enqueue(
    c: &mut store::Conn<'_>,
    app: &App,
    work: &Work,
    dedup: Option<&str>,
    run_at: DateTime<Utc>,
) -> Result<Option<i64>, AppError> {
    let payload = work.payload();
    let job = store::jobs::NewJob {
        kind: work.kind(),
        payload: &payload,
        dedup_key: dedup,
        run_at,
        max_attempts: MAX_ATTEMPTS,
    };
    Ok(store::jobs::enqueue(c, &job, app.now()).await?)
}

/// The local hour (Paris) from which the day's digest goes out.
const DIGEST_HOUR: u32 = 7;

/// Enqueues the periodic work due now: the purge every ten minutes, the orientations' reminders
/// and expiry every hour, the retention once a day and the digest once a day from 7 o'clock,
/// each under the key of its period (so every instance may call this as often as it likes).
pub async fn schedule_periodic(app: &App) -> Result<(), AppError> {
    use chrono::Timelike;
    let now = app.now();
    let slot = now.timestamp() / (PURGE_EVERY_MINUTES * 60);
    let hour = now.timestamp() / 3600;
    let day = domain::iso_date(app.today());
    let mut periodic = vec![
        (Work::Purge, format!("purge:{slot}")),
        (Work::Orientations, format!("orientations:{hour}")),
        (Work::Retention, format!("conservation:{day}")),
        (Work::FollowUp, format!("suivi:{day}")),
        (Work::Indicators, format!("indicateurs:{day}")),
    ];
    if domain::TimeZone::Paris.local(now).hour() >= DIGEST_HOUR {
        periodic.push((Work::Digest, format!("resume:{day}")));
    }
    let mut tx = app.db.begin().await?;
    for (work, key) in periodic {
        enqueue(&mut tx.conn(), app, &work, Some(&key), now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The claim a worker holds on the job it runs. A job that may outlast [`LEASE`] (an import of
/// a long list) renews it as it goes, so that no other worker takes it again meanwhile.
pub struct Lease {
    id: i64,
    worker: String,
    renewed: std::sync::Mutex<DateTime<Utc>>,
}

impl Lease {
    pub fn new(id: i64, worker: &str, at: DateTime<Utc>) -> Lease {
        Lease {
            id,
            worker: worker.to_string(),
            renewed: std::sync::Mutex::new(at),
        }
    }

    /// Extends the lease to [`LEASE`] from now, at most once a minute. An error when another
    /// worker holds the job now: this one must stop.
    pub async fn renew(&self, app: &App) -> Result<(), AppError> {
        let now = app.now();
        let due = self
            .renewed
            .lock()
            .map(|last| now - *last >= Duration::minutes(1))
            .unwrap_or(true);
        if !due {
            return Ok(());
        }
        let mut pooled = app.db.acquire().await?;
        if !store::jobs::renew(&mut pooled.conn(), self.id, &self.worker, now + LEASE).await? {
            return Err(AppError::Internal(format!(
                "la tâche n° {} n'est plus tenue par {}",
                self.id, self.worker
            )));
        }
        if let Ok(mut last) = self.renewed.lock() {
            *last = now;
        }
        Ok(())
    }
}

/// What happened to the job a worker claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    Done { id: i64 },
    Failed { id: i64, error: String },
}

/// Claims and runs one due job; `None` when nothing is due.
pub async fn run_one(app: &App, worker: &str) -> Result<Option<Ran>, AppError> {
    let now = app.now();
    let job = {
        let mut pooled = app.db.acquire().await?;
        store::jobs::claim(&mut pooled.conn(), worker, now, now + LEASE).await?
    };
    let Some(job) = job else {
        return Ok(None);
    };
    let lease = Lease::new(job.id, worker, now);
    let outcome = match Work::parse(&job.kind, &job.payload) {
        Ok(work) => execute(app, &work, &lease).await,
        Err(e) => Err(e),
    };
    let mut pooled = app.db.acquire().await?;
    let now = app.now();
    Ok(Some(match outcome {
        Ok(()) => {
            store::jobs::complete(&mut pooled.conn(), job.id, worker, now).await?;
            Ran::Done { id: job.id }
        }
        Err(error) => {
            tracing::warn!(job = job.id, kind = %job.kind, %error, "job failed");
            let retry_at = now + backoff(job.attempts);
            store::jobs::fail(&mut pooled.conn(), job.id, worker, &error, now, retry_at).await?;
            Ran::Failed { id: job.id, error }
        }
    }))
}

/// 30 s after the first failure, doubling, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(7);
    Duration::seconds(30 * 2_i64.pow(exponent)).min(Duration::hours(1))
}

async fn execute(app: &App, work: &Work, lease: &Lease) -> Result<(), String> {
    match work {
        Work::SendMail(id) => crate::mail::deliver_one(app, *id).await,
        Work::Purge => {
            crate::auth::purge_expired(app)
                .await
                .map_err(|e| e.to_string())?;
            crate::persons::import::abandon_stale(app)
                .await
                .map_err(|e| e.to_string())?;
            let mut pooled = app.db.acquire().await.map_err(|e| e.to_string())?;
            store::jobs::purge_done(&mut pooled.conn(), app.now() - Duration::days(30))
                .await
                .map_err(|e| e.to_string())?;
            store::webhooks::purge(&mut pooled.conn(), app.now() - Duration::days(30))
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        }
        Work::Retention => {
            let r = crate::retention::apply(app)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(
                archived = r.archived,
                deleted = r.deleted,
                audit_deleted = r.audit_deleted,
                "retention applied"
            );
            Ok(())
        }
        Work::Orientations => {
            let swept = crate::orientations::sweep(app)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(
                reminded = swept.reminded,
                expired = swept.expired,
                "orientations swept"
            );
            Ok(())
        }
        Work::FollowUp => {
            let told = crate::exits::sweep(app).await.map_err(|e| e.to_string())?;
            tracing::info!(told, "follow-up checks announced");
            Ok(())
        }
        Work::Indicators => {
            let kept = crate::indicators::refresh_snapshots(app)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(kept, "indicator snapshots taken");
            Ok(())
        }
        Work::PersonImport(id) => crate::persons::import::run(app, *id, lease)
            .await
            .map_err(|e| e.to_string()),
        Work::PersonImportDryRun(id) => crate::persons::import::dry_run(app, *id, lease)
            .await
            .map_err(|e| e.to_string()),
        Work::Webhook(id) => crate::webhooks::deliver(app, *id).await,
        Work::Digest => {
            let sent = crate::orientations::digest(app)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(sent, "orientation digests queued");
            Ok(())
        }
        #[cfg(any(test, feature = "test-support"))]
        Work::Probe { number, fail } => {
            if *fail {
                return Err(format!("l'essai n° {number} échoue toujours"));
            }
            let mut pooled = app.db.acquire().await.map_err(|e| e.to_string())?;
            let event = store::audit::NewEvent {
                user: None,
                action: "job.probe",
                target_kind: "job",
                target_id: Some(*number),
                territory: None,
                detail: "",
                client_ip: None,
                api_token: None,
            };
            store::audit::record(&mut pooled.conn(), &event, app.now())
                .await
                .map_err(|e| e.to_string())
        }
    }
}

/// Runs due jobs until none is left (the command line, the demo and tests).
pub async fn drain(app: &App, worker: &str) -> Result<usize, AppError> {
    let mut ran = 0;
    while run_one(app, worker).await?.is_some() {
        ran += 1;
    }
    Ok(ran)
}

/// A worker's loop: runs what is due, then waits `poll`; once a minute it also schedules the
/// periodic work (a write that every instance may make: the keys keep it to one job a period).
pub async fn work_forever(app: App, worker: String, poll: std::time::Duration) {
    let mut scheduled: Option<DateTime<Utc>> = None;
    loop {
        let now = app.now();
        if scheduled.is_none_or(|at| now - at >= Duration::minutes(1)) {
            match schedule_periodic(&app).await {
                Ok(()) => scheduled = Some(now),
                Err(e) => tracing::warn!(error = %e, "periodic jobs not scheduled"),
            }
        }
        if let Err(e) = drain(&app, &worker).await {
            tracing::warn!(error = %e, "job queue unavailable");
        }
        tokio::time::sleep(poll).await;
    }
}

/// A name for this worker in the job table: host and process.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "passerelle".into());
    format!(
        "{host}-{}-{}",
        std::process::id(),
        crate::secrets::random_token().get(..6).unwrap_or("")
    )
}

/// What administrators see of the queue.
pub struct Overview {
    pub counts: Vec<(String, i64)>,
    pub waiting: Vec<store::jobs::Job>,
    pub running: Vec<store::jobs::Job>,
    pub failed: Vec<store::jobs::Job>,
}

pub async fn overview(app: &App, caller: &crate::Caller) -> Result<Overview, AppError> {
    caller.require_admin()?;
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    Ok(Overview {
        counts: store::jobs::counts(c).await?,
        waiting: store::jobs::in_state(c, "en-attente", 50).await?,
        running: store::jobs::in_state(c, "en-cours", 50).await?,
        failed: store::jobs::in_state(c, "en-echec", 100).await?,
    })
}

/// An administrator sends a failed job back to the queue (audited).
pub async fn retry(app: &App, caller: &crate::Caller, id: i64) -> Result<(), AppError> {
    caller.require_admin()?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !store::jobs::retry(&mut tx.conn(), id, now).await? {
        return Err(AppError::NotFound);
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "job_retried",
            ("job", Some(id)),
            None,
            "",
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let waits: Vec<i64> = (1..=9).map(|a| backoff(a).num_seconds()).collect();
        assert_eq!(waits, vec![30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[test]
    fn every_kind_reads_back_as_it_was_written() {
        for work in [
            Work::SendMail(MailId(12)),
            Work::Purge,
            Work::Retention,
            Work::Orientations,
            Work::Digest,
            Work::FollowUp,
            Work::Indicators,
            Work::PersonImport(3),
            Work::PersonImportDryRun(4),
            Work::Webhook(5),
            Work::Probe {
                number: 7,
                fail: true,
            },
        ] {
            assert_eq!(Work::parse(work.kind(), &work.payload()), Ok(work));
        }
        assert!(Work::parse("inconnue", "{}").is_err());
        assert!(Work::parse("courriel", "{}").is_err());
    }
}
