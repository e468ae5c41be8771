//! « Orientations reçues » and « Orientations envoyées », with filters and delays; what a
//! person's file shows; what waits on the home page; how fast a receiver answers.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::orientation::{Status, median_days};
use domain::{OrganisationId, ServiceId};
use serde::Deserialize;
use store::Conn;
use store::orientations::{Answering, ListFilter, ListRow};

use super::days_between;
use crate::{App, AppError, Caller, FieldErrors};

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Received,
    Sent,
}

/// The filters, as the page's form sends them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListInput {
    pub statut: String,
    pub organisation: String,
    pub service: String,
    pub du: String,
    pub au: String,
    /// « mes envois » only.
    pub miennes: String,
    pub page: String,
}

/// Lines per page.
pub const PER_PAGE: i64 = 50;

#[derive(Debug, Clone)]
pub struct Inbox {
    pub kind: ListKind,
    pub rows: Vec<ListRow>,
    /// Per status (the other filters applied), in the lifecycle's order.
    pub counts: Vec<(Status, i64)>,
    pub total: i64,
    pub page: i64,
    /// Days since sending for the open ones, response delay for the answered ones.
    pub delays: Vec<Option<i64>>,
    /// Organisations of the other side (for the filter).
    pub organisations: Vec<(OrganisationId, String)>,
    /// The receiving organisations' median response delay (received list).
    pub answers_within: Option<i64>,
    /// Whether the caller receives at all (a professional of a partner).
    pub receives: bool,
    pub input: ListInput,
}

fn parse_filter(input: &ListInput, zone: domain::TimeZone) -> Result<ListFilter, AppError> {
    let mut errors = FieldErrors::default();
    let mut f = ListFilter {
        limit: PER_PAGE,
        ..ListFilter::default()
    };
    if !input.statut.trim().is_empty() {
        f.status = errors.check("statut", Status::parse(&input.statut));
    }
    let id = |errors: &mut FieldErrors, field: &'static str, v: &str| -> Option<i64> {
        if v.trim().is_empty() {
            return None;
        }
        match v.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(field, "Choisissez une valeur de la liste.");
                None
            }
        }
    };
    f.organisation = id(&mut errors, "organisation", &input.organisation).map(OrganisationId);
    f.service = id(&mut errors, "service", &input.service).map(ServiceId);
    let date = |errors: &mut FieldErrors, field: &'static str, v: &str| -> Option<NaiveDate> {
        if v.trim().is_empty() {
            return None;
        }
        errors.check(field, domain::parse_date(v))
    };
    let from = date(&mut errors, "du", &input.du);
    let to = date(&mut errors, "au", &input.au);
    if let (Some(a), Some(b)) = (from, to)
        && b < a
    {
        errors.add("au", "La fin de la période précède son début.");
    }
    f.sent_from = from.map(|d| zone.midnight(d));
    f.sent_before = to.map(|d| zone.midnight(d + Duration::days(1)));
    let page = input.page.trim().parse::<i64>().unwrap_or(1);
    f.offset = domain::page_offset(page, PER_PAGE);
    if errors.is_empty() {
        Ok(f)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// A list, within the caller's rights: received by their organisations in the active
/// territory, or sent for the persons they follow (every person shown is audited).
pub async fn list(
    app: &App,
    caller: &Caller,
    kind: ListKind,
    input: &ListInput,
) -> Result<Inbox, AppError> {
    let territory = caller
        .active_territory
        .as_ref()
        .ok_or(AppError::NotFound)?
        .id;
    let zone = caller.zone();
    let mut f = parse_filter(input, zone)?;
    let orgs = caller.organisations_in(territory);
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let scope = crate::persons::scope(caller)?;
    let (rows, counts) = match kind {
        ListKind::Received => (
            store::orientations::received(c, territory, &orgs, &f).await?,
            store::orientations::received_counts(c, territory, &orgs, &f).await?,
        ),
        ListKind::Sent => {
            if input.miennes == "1" {
                f.sent_by = Some(caller.user_id);
            }
            (
                store::orientations::sent(c, &scope, &f).await?,
                store::orientations::sent_counts(c, &scope, &f).await?,
            )
        }
    };
    let now = app.now();
    let delays = rows
        .iter()
        .map(|r| match (r.status.is_open(), r.answered_at) {
            (true, _) => Some(days_between(r.sent_at, now)),
            (false, Some(a)) => Some(days_between(r.sent_at, a)),
            (false, None) => None,
        })
        .collect();
    let shown: Vec<i64> = rows
        .iter()
        .filter(|r| r.first_name.is_some())
        .map(|r| r.person_id)
        .collect();
    let detail = match kind {
        ListKind::Received => "/orientations/recues",
        ListKind::Sent => "/orientations/envoyees",
    };
    crate::persons::shown_in_list(app, caller, &scope, &shown, detail, c).await?;
    let organisations = store::organisations::partners_of(c, territory)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let answers_within = match (kind, orgs.first()) {
        (ListKind::Received, Some(org)) => {
            answers_within_in(c, Answering::Organisation(*org), now).await?
        }
        _ => None,
    };
    let counts: Vec<(Status, i64)> = Status::ALL
        .iter()
        .filter_map(|s| counts.iter().find(|(x, _)| x == s).copied())
        .collect();
    let total = match f.status {
        Some(s) => counts.iter().find(|(x, _)| *x == s).map_or(0, |(_, n)| *n),
        None => counts.iter().map(|(_, n)| n).sum(),
    };
    Ok(Inbox {
        kind,
        rows,
        counts,
        total,
        page: f.offset / PER_PAGE + 1,
        delays,
        organisations,
        answers_within,
        receives: !orgs.is_empty(),
        input: input.clone(),
    })
}

/// The median response delay of a service or an organisation over the last year, in days.
pub(crate) async fn answers_within_in(
    c: &mut Conn<'_>,
    who: Answering,
    now: DateTime<Utc>,
) -> Result<Option<i64>, AppError> {
    let pairs = store::orientations::answer_delays(c, who, now - Duration::days(365)).await?;
    // Fewer than three answers say nothing of a habit.
    if pairs.len() < 3 {
        return Ok(None);
    }
    Ok(median_days(
        pairs
            .into_iter()
            .map(|(sent, answered)| days_between(sent, answered))
            .collect(),
    ))
}

/// The median response delay of each of `orgs` (in their order), in one query.
pub(crate) async fn answers_within_each(
    c: &mut Conn<'_>,
    orgs: &[OrganisationId],
    now: DateTime<Utc>,
) -> Result<Vec<Option<i64>>, AppError> {
    let rows = store::orientations::answer_delays_of(c, orgs, now - Duration::days(365)).await?;
    Ok(orgs
        .iter()
        .map(|o| {
            let days: Vec<i64> = rows
                .iter()
                .filter(|(org, _, _)| *org == o.0)
                .map(|(_, sent, answered)| days_between(*sent, *answered))
                .collect();
            if days.len() < 3 {
                None
            } else {
                median_days(days)
            }
        })
        .collect())
}

/// « répond en général sous N jours » for a service (the service page).
pub async fn answers_within(app: &App, service: ServiceId) -> Result<Option<i64>, AppError> {
    let mut pooled = app.db.acquire().await?;
    answers_within_in(&mut pooled.conn(), Answering::Service(service), app.now()).await
}

/// What waits for an answer, for the home page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waiting {
    /// Received by the caller's organisations, not answered yet.
    pub received: i64,
    /// Sent by the caller, not answered yet.
    pub sent: i64,
}

pub async fn waiting(app: &App, caller: &Caller) -> Result<Waiting, AppError> {
    let Some(territory) = caller.active_territory.as_ref().map(|t| t.id) else {
        return Ok(Waiting::default());
    };
    let orgs = caller.organisations_in(territory);
    let mut pooled = app.db.acquire().await?;
    let (received, sent) =
        store::orientations::waiting(&mut pooled.conn(), territory, &orgs, caller.user_id).await?;
    Ok(Waiting { received, sent })
}
