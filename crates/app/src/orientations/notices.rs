//! Who hears of an orientation, and how: a mail each time, or the day's notices in one digest
//! (each professional's choice); the territory's delays (its coordinators' choice). Mail goes to
//! the outbox in the transaction of the change, so nothing is sent for a change rolled back.

use chrono::Duration;
use domain::orientation::{Delays, NoticeMode};
use domain::{OrganisationId, TerritoryId, UserId};
use serde::Deserialize;
use store::Conn;

use crate::{App, AppError, Caller, FieldErrors};

/// Someone to notify: their account and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recipient {
    pub user: UserId,
    pub email: String,
}

/// The active professionals of the receiving organisation in the territory.
pub(crate) async fn receivers_of(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    org: Option<OrganisationId>,
) -> Result<Vec<Recipient>, AppError> {
    let Some(org) = org else {
        return Ok(Vec::new());
    };
    Ok(crate::persons::team_in(c, territory)
        .await?
        .into_iter()
        .filter(|m| {
            m.organisation_id == Some(org.0) && m.role() == Some(domain::Role::Professional)
        })
        .map(|m| Recipient {
            user: m.user_id,
            email: m.email,
        })
        .fold(Vec::new(), |mut all, r| {
            if !all.contains(&r) {
                all.push(r);
            }
            all
        }))
}

/// The sender and the person's référent (once each), but not `except` (who acted).
pub(crate) async fn senders_of(
    c: &mut Conn<'_>,
    row: &store::orientations::OrientationRow,
    except: Option<UserId>,
) -> Result<Vec<Recipient>, AppError> {
    let members = store::persons::members(c, row.person_id).await?;
    let mut wanted: Vec<i64> = row.sender_id.into_iter().collect();
    wanted.extend(
        members
            .iter()
            .filter(|m| m.ended_at.is_none() && m.is_referent)
            .map(|m| m.user_id),
    );
    wanted.retain(|u| Some(UserId(*u)) != except);
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let team = crate::persons::team_in(c, row.territory_id).await?;
    let mut out: Vec<Recipient> = Vec::new();
    for u in wanted {
        if let Some(m) = team.iter().find(|m| m.user_id.0 == u) {
            out.push(Recipient {
                user: m.user_id,
                email: m.email.clone(),
            });
        }
    }
    Ok(out)
}

/// Tells each recipient, as they chose: a mail now, or a notice for tomorrow's digest.
pub(crate) async fn notify(
    c: &mut Conn<'_>,
    app: &App,
    to: &[Recipient],
    subject: &str,
    body: &str,
) -> Result<(), AppError> {
    if to.is_empty() {
        return Ok(());
    }
    let users: Vec<UserId> = to.iter().map(|r| r.user).collect();
    let modes = store::orientations::notice_modes(c, &users).await?;
    for r in to {
        let mode = modes
            .iter()
            .find(|(u, _)| *u == r.user)
            .map_or(NoticeMode::Immediate, |(_, m)| *m);
        match mode {
            NoticeMode::Immediate => {
                crate::mail::enqueue(c, app, &r.email, subject, body).await?;
            }
            NoticeMode::Digest => {
                store::orientations::push_notice(c, r.user, subject, body, app.now()).await?;
            }
        }
    }
    Ok(())
}

/// The daily digest: one mail per professional with the notices kept since the last one.
/// Returns how many mails it queued.
pub(crate) async fn digest(app: &App) -> Result<usize, AppError> {
    let mut tx = app.db.begin_write().await?;
    let notices = store::orientations::pending_notices(&mut tx.conn(), 10_000).await?;
    let mut sent = 0;
    let mut ids = Vec::with_capacity(notices.len());
    for user_notices in notices.chunk_by(|a, b| a.user_id == b.user_id) {
        let Some(first) = user_notices.first() else {
            continue;
        };
        let mut body = format!(
            "Voici les {} avis de vos orientations depuis votre dernier résumé.\n",
            user_notices.len()
        );
        for n in user_notices {
            body.push_str(&format!("\n— {}\n{}\n", n.subject, n.body));
            ids.push(n.id);
        }
        crate::mail::enqueue(
            &mut tx.conn(),
            app,
            &first.email,
            "Résumé quotidien de vos orientations",
            &body,
        )
        .await?;
        sent += 1;
    }
    store::orientations::digested(&mut tx.conn(), &ids, app.now()).await?;
    tx.commit().await?;
    Ok(sent)
}

/// What the settings page shows.
#[derive(Debug, Clone)]
pub struct NoticeSettings {
    pub mode: NoticeMode,
    pub delays: Delays,
    /// A coordinator of the active territory may change the delays.
    pub may_set_delays: bool,
}

pub async fn notice_settings(app: &App, caller: &Caller) -> Result<NoticeSettings, AppError> {
    let territory = caller
        .active_territory
        .as_ref()
        .ok_or(AppError::NotFound)?
        .id;
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let mode = store::orientations::notice_modes(c, &[caller.user_id])
        .await?
        .first()
        .map_or(NoticeMode::Immediate, |(_, m)| *m);
    Ok(NoticeSettings {
        mode,
        delays: store::orientations::delays(c, territory).await?,
        may_set_delays: caller.is_coordinator_of(territory),
    })
}

/// A professional chooses how they hear of orientations.
pub async fn set_notice_mode(app: &App, caller: &Caller, mode: &str) -> Result<(), AppError> {
    let mode = NoticeMode::parse(mode).map_err(|e| AppError::field("mode", e.0))?;
    let mut tx = app.db.begin().await?;
    store::orientations::set_notice_mode(&mut tx.conn(), caller.user_id, mode).await?;
    caller
        .audit(
            &mut tx.conn(),
            app.now(),
            "orientation.notices",
            ("user", Some(caller.user_id.0)),
            None,
            mode.as_str(),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DelaysInput {
    pub unanswered_days: String,
    pub study_days: String,
    pub reminder_days: String,
}

/// A coordinator sets the territory's delays (audited).
pub async fn set_delays(app: &App, caller: &Caller, input: &DelaysInput) -> Result<(), AppError> {
    let territory = caller
        .active_territory
        .as_ref()
        .ok_or(AppError::NotFound)?
        .id;
    if !caller.is_coordinator_of(territory) {
        return Err(AppError::Forbidden);
    }
    let mut errors = FieldErrors::default();
    let mut number = |field: &'static str, value: &str| match value.trim().parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(field, "Indiquez un nombre de jours.");
            None
        }
    };
    let values = (
        number("unanswered_days", &input.unanswered_days),
        number("study_days", &input.study_days),
        number("reminder_days", &input.reminder_days),
    );
    let (Some(u), Some(s), Some(r)) = values else {
        return Err(AppError::Invalid(errors));
    };
    let delays = Delays::new(u, s, r).map_err(|list| {
        let mut errors = FieldErrors::default();
        for (field, message) in list {
            errors.add(field, message);
        }
        AppError::Invalid(errors)
    })?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::orientations::set_delays(&mut tx.conn(), territory, delays, caller.user_id, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "orientation.delays",
            ("territory", Some(territory.0)),
            Some(territory),
            &format!("{u} / {s} / {r} jours"),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// How long a magic link stays valid.
pub(crate) const LINK_VALID: Duration = Duration::days(7);
