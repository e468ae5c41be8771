//! The file page's data, as the caller may see it.

use chrono::NaiveDate;
use domain::diagnostic::Level;
use domain::person::{ContactOutcome, FunnelStatus, JournalKind, lost_from_view};
use domain::{Field, PersonId};
use store::persons::{Consent, Entry, Health, Member, Person};

use super::access::{Capabilities, Sight, read};
use crate::{App, AppError, Caller};

/// A person's file as the caller may see it.
#[derive(Debug, Clone)]
pub struct PersonFile {
    pub access: Capabilities,
    pub person: Person,
    /// `None` unless the caller may read health data.
    pub health: Option<Health>,
    /// Empty in a referral view.
    pub members: Vec<Member>,
    pub consents: Vec<Consent>,
    /// Only the visibilities the caller may read.
    pub journal: Vec<Entry>,
    /// No contact for longer than the configured silence, and not exited.
    pub lost_from_view: bool,
    /// Contact attempts that did not reach the person since the last contact that did.
    pub attempts_since_contact: usize,
    pub status: FunnelStatus,
    /// The diagnostic and the plan, in short (empty in a referral view).
    pub barriers: Barriers,
    /// Every orientation of the person, oldest first (empty in a referral view).
    pub orientations: Vec<store::orientations::OrientationRow>,
    /// Exits and their follow-up, cohorts, collective actions (empty in a referral view).
    pub journey: crate::exits::Journey,
}

/// What the file page says of the diagnostic and the plan.
#[derive(Debug, Clone, Default)]
pub struct Barriers {
    /// The latest signed diagnostic: its date and the levels the caller may see.
    pub last: Option<(NaiveDate, Vec<(Field, Level)>)>,
    pub summary: store::diagnostic::Summary,
}

impl PersonFile {
    pub fn consent_in_force(&self) -> Option<&Consent> {
        self.consents.iter().find(|c| c.revoked_at.is_none())
    }
}

/// Reads a file (one audit row). What the capabilities do not open is not even queried.
pub async fn file(
    app: &App,
    caller: &Caller,
    id: PersonId,
    page: &str,
) -> Result<PersonFile, AppError> {
    let access = read(app, caller, id, page).await?;
    let mut pooled = app.db.acquire().await?;
    let person = store::persons::get(&mut pooled.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let health = if access.health() && access.sight() == Sight::Full {
        Some(store::persons::health(&mut pooled.conn(), id).await?)
    } else {
        None
    };
    let (members, consents, journal, orientations, journey) = match access.sight() {
        Sight::Full => {
            let visibilities = access.visibilities();
            (
                store::persons::members(&mut pooled.conn(), id).await?,
                store::persons::consents(&mut pooled.conn(), id).await?,
                store::persons::journal(&mut pooled.conn(), id, &visibilities).await?,
                store::orientations::of_person(&mut pooled.conn(), id).await?,
                crate::exits::Journey::load(&mut pooled.conn(), id).await?,
            )
        }
        Sight::Referral => Default::default(),
    };
    let today = app.today_in(access.zone());
    let barriers = match access.sight() {
        Sight::Full => {
            let levels = store::diagnostic::levels(&mut pooled.conn(), id, access.health()).await?;
            let last = levels.last().map(|(on, _, _)| on.clone());
            Barriers {
                last: last.map(|on| {
                    (
                        domain::parse_date(&on).unwrap_or(today),
                        levels
                            .iter()
                            .filter(|(d, _, _)| *d == on)
                            .map(|(_, f, l)| (*f, *l))
                            .collect(),
                    )
                }),
                summary: store::diagnostic::summary(&mut pooled.conn(), id, today, access.health())
                    .await?,
            }
        }
        Sight::Referral => Barriers::default(),
    };
    let status = person.status;
    let last = person.last_contact_on.as_deref().unwrap_or(&person.met_on);
    let lost = domain::parse_date(last).is_ok_and(|last| {
        lost_from_view(
            status,
            last,
            app.today_in(access.zone()),
            app.settings.lost_after_days,
        )
    });
    let attempts_since_contact = journal
        .iter()
        .filter(|e| e.kind == JournalKind::Contact && e.occurred_on.as_str() > last)
        .filter(|e| {
            e.outcome
                .as_deref()
                .and_then(ContactOutcome::from_code)
                .is_some_and(|o| !o.reached())
        })
        .count();
    Ok(PersonFile {
        barriers,
        orientations,
        journey,
        attempts_since_contact,
        access,
        person,
        health,
        members,
        consents,
        journal,
        lost_from_view: lost,
        status,
    })
}
