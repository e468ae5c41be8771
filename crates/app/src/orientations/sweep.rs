//! The job queue's part: reminders to the receiver every so many days while an orientation is
//! open, expiry once the territory's delay is over — never a reminder after expiry, never
//! twice the same one (the reminder's number and the row's version guard each write).

use domain::orientation::{Delays, Due, Step, due};
use domain::person::FileEvent;
use domain::{OrganisationId, TimeZone};

use super::decide::{Author, Checked, change, describe, notice};
use super::{notices, path};
use crate::{App, AppError};

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub reminded: usize,
    pub expired: usize,
}

/// Open orientations read at a time.
const PAGE: i64 = 500;

pub async fn sweep(app: &App) -> Result<Swept, AppError> {
    let mut swept = Swept::default();
    let delays = {
        let mut pooled = app.db.acquire().await?;
        store::orientations::all_delays(&mut pooled.conn()).await?
    };
    let mut after = 0;
    loop {
        let rows = {
            let mut pooled = app.db.acquire().await?;
            store::orientations::open_after(&mut pooled.conn(), after, PAGE).await?
        };
        let Some(last) = rows.last() else {
            break;
        };
        after = last.id.0;
        for r in &rows {
            let d = delays
                .iter()
                .find(|(t, _)| *t == r.territory_id)
                .map_or_else(Delays::default, |(_, d)| *d);
            let today = app.today_in(TimeZone::from_code(&r.time_zone).unwrap_or_default());
            let Ok(since) = domain::parse_date(&r.status_on) else {
                continue;
            };
            let reminded = u32::try_from(r.reminders).unwrap_or(0);
            match due(r.status, since, reminded, today, d) {
                Due::Nothing => {}
                Due::Remind(n) => {
                    if remind(app, r, n).await? {
                        swept.reminded += 1;
                    }
                }
                Due::Expire => {
                    if expire(app, r, today).await? {
                        swept.expired += 1;
                    }
                }
            }
        }
    }
    Ok(swept)
}

async fn remind(
    app: &App,
    r: &store::orientations::OpenRow,
    number: u32,
) -> Result<bool, AppError> {
    let mut tx = app.db.begin_write().await?;
    if !store::orientations::mark_reminded(&mut tx.conn(), r.id, r.status, r.version, number)
        .await?
    {
        return Ok(false);
    }
    let Some(row) = store::orientations::get(&mut tx.conn(), r.id).await? else {
        return Ok(false);
    };
    let subject = format!(
        "Relance : l'orientation n° {} attend votre réponse",
        row.id.0
    );
    let receivers = notices::receivers_of(
        &mut tx.conn(),
        row.territory_id,
        row.receiver_org_id.map(OrganisationId),
    )
    .await?;
    if receivers.is_empty() {
        if let Some(email) = row.receiver_email.as_deref() {
            super::links::mail_link(
                &mut tx.conn(),
                app,
                row.id,
                email,
                &subject,
                &format!(
                    "Une orientation vous a été adressée le {} et attend toujours votre réponse (relance n° {number}).",
                    domain::french_date(domain::calendar::france_date(row.sent_at))
                ),
            )
            .await?;
        }
    } else {
        let body = format!(
            "L'orientation n° {} vers « {} », envoyée le {}, est « {} » et attend votre réponse (relance n° {number}).\n\nPour y répondre : {}{}",
            row.id.0,
            row.receiver_name,
            domain::french_date(domain::calendar::france_date(row.sent_at)),
            row.status.label().to_lowercase(),
            app.settings.base_url,
            path(row.id)
        );
        notices::notify(&mut tx.conn(), app, &receivers, &subject, &body).await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn expire(
    app: &App,
    r: &store::orientations::OpenRow,
    today: chrono::NaiveDate,
) -> Result<bool, AppError> {
    let mut tx = app.db.begin_write().await?;
    let Some(row) = store::orientations::get(&mut tx.conn(), r.id).await? else {
        return Ok(false);
    };
    if row.version != r.version {
        return Ok(false);
    }
    let Ok(to) = row.status.after(Step::Expire) else {
        return Ok(false);
    };
    let checked = Checked::default();
    let detail = format!(
        "{} (délai dépassé)",
        describe(&row, Step::Expire, to, &checked)
    );
    let ch = change(
        &row,
        Step::Expire,
        to,
        &checked,
        Author::PASSERELLE,
        today,
        &detail,
    );
    if !store::orientations::change(&mut tx.conn(), &ch, app.now()).await? {
        return Ok(false);
    }
    let (subject, body) = notice(app, &row, to, "sans réponse dans le délai du territoire");
    let to_whom = notices::senders_of(&mut tx.conn(), &row, None).await?;
    notices::notify(&mut tx.conn(), app, &to_whom, &subject, &body).await?;
    let event = store::audit::NewEvent {
        user: None,
        action: FileEvent::Orientation.as_str(),
        target_kind: "person",
        target_id: Some(row.person_id.0),
        territory: Some(row.territory_id),
        detail: &detail,
        client_ip: None,
        api_token: None,
    };
    store::audit::record(&mut tx.conn(), &event, app.now()).await?;
    tx.commit().await?;
    Ok(true)
}
