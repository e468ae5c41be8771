//! Retention (docs/domain.md §7, promised on the « Données personnelles » page): a person's file goes
//! to the intermediate archive two years after the last contact (out of every list, readable by
//! the territory's coordinators only) and is deleted two years later; audit rows are kept one
//! year. Runs once a day as the job `conservation` (`crate::jobs`), enqueued under the day's
//! key so that several instances never run it twice; the work is idempotent anyway.

use chrono::{Duration, Months};

use crate::{App, AppError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub archived: u64,
    pub deleted: u64,
    pub audit_deleted: u64,
}

pub async fn apply(app: &App) -> Result<Report, AppError> {
    let today = app.today();
    let archive_before = today.checked_sub_months(Months::new(24)).unwrap_or(today);
    let delete_before = today.checked_sub_months(Months::new(48)).unwrap_or(today);
    let mut tx = app.db.begin().await?;
    let deleted = store::persons::delete_expired(&mut tx.conn(), delete_before).await?;
    let archived = store::persons::archive_silent(&mut tx.conn(), archive_before, today).await?;
    let audit_deleted =
        store::audit::purge_before(&mut tx.conn(), app.now() - Duration::days(365)).await?;
    if archived + deleted > 0 {
        let event = store::audit::NewEvent {
            user: None,
            action: "retention",
            target_kind: "person",
            target_id: None,
            territory: None,
            detail: &format!("{archived} dossier(s) archivé(s), {deleted} supprimé(s)"),
            client_ip: None,
            api_token: None,
        };
        store::audit::record(&mut tx.conn(), &event, app.now()).await?;
    }
    tx.commit().await?;
    Ok(Report {
        archived,
        deleted,
        audit_deleted,
    })
}
