//! Need-to-know, decided in one place. A person's file is readable by the current members of
//! their follow-up group and by the coordinators of their territory — national administration
//! and pilots excluded; everyone else gets `NotFound`, exactly as for a file that does not
//! exist, and the refused attempt goes to the security log. Health data and restricted notes
//! need more: being the référent, or a member explicitly allowed (`docs/domain.md` §7, `docs/design.md`).
//!
//! Opening a file returns [`Capabilities`], which only this module can make. A write opens the
//! file inside its own transaction ([`FileWrite`]): the check, the write and exactly one audit
//! row commit together or not at all.

use chrono::{DateTime, Utc};
use domain::person::{FileEvent, Visibility};
use domain::{OrganisationId, PersonId, TerritoryId, TimeZone};
use store::persons::{AccessRow, Scope};
use store::{Conn, Tx};

use crate::{App, AppError, Caller};

/// How much of a file the caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sight {
    /// What the follow-up group works with: situation, consent, group, journal (within the
    /// caller's visibilities).
    Full,
    /// What an organisation receiving an orientation needs to decide before accepting it:
    /// identity, contact, the reason and the barriers concerned — no journal, no health data,
    /// no group, no consent history, no other orientation. Granted only through
    /// [`read_receiving`] and [`FileWrite::open_receiving`], which the orientations feature
    /// calls for the professionals of the receiving organisation of an open orientation.
    Referral,
}

/// What the caller may see and do with one person's file. The fields are private: only this
/// module makes one, from the caller and the database, so no other code can forge a right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    person: PersonId,
    territory: TerritoryId,
    zone: TimeZone,
    sight: Sight,
    coordinator: bool,
    member: bool,
    referent: bool,
    health: bool,
}

impl Capabilities {
    pub fn person(&self) -> PersonId {
        self.person
    }

    pub fn territory(&self) -> TerritoryId {
        self.territory
    }

    /// The zone of the person's territory: « today » on the file is today there.
    pub fn zone(&self) -> TimeZone {
        self.zone
    }

    pub fn sight(&self) -> Sight {
        self.sight
    }

    /// A coordinator of the person's territory.
    pub fn is_coordinator(&self) -> bool {
        self.coordinator
    }

    /// A current member of the person's follow-up group.
    pub fn is_member(&self) -> bool {
        self.member
    }

    pub fn is_referent(&self) -> bool {
        self.referent
    }

    /// May read and write health/disability data and health-restricted notes.
    pub fn health(&self) -> bool {
        self.health
    }

    /// May read and write the notes restricted to the référent.
    pub fn restricted_notes(&self) -> bool {
        self.referent
    }

    /// Manages the group, the consent and the exit: the référent or a coordinator.
    pub fn manages_group(&self) -> bool {
        self.sight == Sight::Full && (self.referent || self.coordinator)
    }

    /// The journal visibilities this caller may read and write.
    pub fn visibilities(&self) -> Vec<Visibility> {
        if self.sight != Sight::Full {
            return Vec::new();
        }
        let mut v = vec![Visibility::Groupe];
        if self.restricted_notes() {
            v.push(Visibility::Referent);
        }
        if self.health {
            v.push(Visibility::Sante);
        }
        v
    }
}

/// The decision, from what the caller is to the person (one row). `None`: not theirs to see.
fn decide(caller: &Caller, person: PersonId, row: &AccessRow) -> Option<Capabilities> {
    if row.merged_into.is_some() {
        return None;
    }
    let coordinator = caller.is_coordinator_of(row.territory_id);
    // An archived file (intermediate archive) is the coordinators' only.
    let member =
        row.member_id.is_some() && caller.may_enter(row.territory_id) && row.archived_on.is_none();
    if !(coordinator || member) {
        return None;
    }
    let referent = member && row.is_referent == Some(true);
    Some(Capabilities {
        person,
        territory: row.territory_id,
        zone: TimeZone::from_code(&row.time_zone).unwrap_or_default(),
        sight: Sight::Full,
        coordinator,
        member,
        referent,
        health: referent || (member && row.health_access == Some(true)),
    })
}

/// Writes one audit row about a file.
async fn record(
    c: &mut Conn<'_>,
    caller: &Caller,
    now: DateTime<Utc>,
    event: FileEvent,
    person: PersonId,
    territory: TerritoryId,
    detail: &str,
) -> Result<(), AppError> {
    caller
        .audit(
            c,
            now,
            event.as_str(),
            ("person", Some(person.0)),
            Some(territory),
            detail,
        )
        .await
}

/// The limited view of a receiving organisation's professional, when nothing more is theirs.
fn referral(caller: &Caller, person: PersonId, row: &AccessRow) -> Option<Capabilities> {
    (row.merged_into.is_none() && row.archived_on.is_none() && caller.may_enter(row.territory_id))
        .then(|| Capabilities {
            person,
            territory: row.territory_id,
            zone: TimeZone::from_code(&row.time_zone).unwrap_or_default(),
            sight: Sight::Referral,
            coordinator: false,
            member: false,
            referent: false,
            health: false,
        })
}

/// Looks the file up for the caller: their capabilities, or `NotFound` after the refused
/// attempt is recorded (on the same connection; the caller commits it when in a transaction).
/// `receiving`: the caller works for the receiving organisation of an open orientation of
/// this person, which opens the referral view when nothing more is theirs.
#[allow(clippy::too_many_arguments)]
async fn check(
    c: &mut Conn<'_>,
    caller: &Caller,
    now: DateTime<Utc>,
    person: PersonId,
    event: FileEvent,
    page: &str,
    row: Option<AccessRow>,
    receiving: bool,
) -> Result<Result<Capabilities, AppError>, AppError> {
    let Some(row) = row else {
        return Ok(Err(AppError::NotFound));
    };
    let decided = decide(caller, person, &row)
        .or_else(|| receiving.then(|| referral(caller, person, &row)).flatten());
    match decided {
        Some(caps) => Ok(Ok(caps)),
        None if row.merged_into.is_some() => Ok(Err(AppError::NotFound)),
        None => {
            // The caller sees « introuvable », as for a file that does not exist; the refusal
            // goes to the security log the territory's coordinators and the administrators read.
            let detail = format!("{} refusé ({page})", event.as_str());
            record(
                c,
                caller,
                now,
                FileEvent::Denied,
                person,
                row.territory_id,
                &detail,
            )
            .await?;
            Ok(Err(AppError::NotFound))
        }
    }
}

/// Opens a file to read it: the caller's capabilities, with the audit row of the read (who,
/// when, which page) written in the same step, so no access goes unrecorded.
pub async fn read(
    app: &App,
    caller: &Caller,
    person: PersonId,
    page: &str,
) -> Result<Capabilities, AppError> {
    read_as(app, caller, person, page, false).await
}

/// [`read`] for a professional of the receiving organisation of an open orientation: the full
/// file if they are in the group or coordinate, else the referral view.
pub(crate) async fn read_receiving(
    app: &App,
    caller: &Caller,
    person: PersonId,
    page: &str,
) -> Result<Capabilities, AppError> {
    read_as(app, caller, person, page, true).await
}

async fn read_as(
    app: &App,
    caller: &Caller,
    person: PersonId,
    page: &str,
    receiving: bool,
) -> Result<Capabilities, AppError> {
    let mut pooled = app.db.acquire().await?;
    let row = store::persons::access(&mut pooled.conn(), person, caller.user_id).await?;
    let now = app.now();
    let caps = check(
        &mut pooled.conn(),
        caller,
        now,
        person,
        FileEvent::Read,
        page,
        row,
        receiving,
    )
    .await??;
    record(
        &mut pooled.conn(),
        caller,
        now,
        FileEvent::Read,
        person,
        caps.territory,
        page,
    )
    .await?;
    Ok(caps)
}

/// A write to one file (or two, for a merge) in one transaction: opened with the access check
/// under the write lock, committed with exactly one audit row per file. Dropped without
/// [`FileWrite::commit`] (a refused value, a conflict), nothing of it remains.
pub(crate) struct FileWrite<'c> {
    caller: &'c Caller,
    tx: Tx,
    caps: Capabilities,
    event: FileEvent,
    now: DateTime<Utc>,
    /// A second file changed by the same write, with its audit detail.
    also: Option<(Capabilities, String)>,
}

impl<'c> FileWrite<'c> {
    pub(crate) async fn open(
        app: &App,
        caller: &'c Caller,
        person: PersonId,
        event: FileEvent,
        page: &str,
    ) -> Result<FileWrite<'c>, AppError> {
        FileWrite::open_as(app, caller, person, event, page, false).await
    }

    /// [`FileWrite::open`] for a professional of the receiving organisation of an open
    /// orientation (the referral view when nothing more is theirs).
    pub(crate) async fn open_receiving(
        app: &App,
        caller: &'c Caller,
        person: PersonId,
        event: FileEvent,
        page: &str,
    ) -> Result<FileWrite<'c>, AppError> {
        FileWrite::open_as(app, caller, person, event, page, true).await
    }

    async fn open_as(
        app: &App,
        caller: &'c Caller,
        person: PersonId,
        event: FileEvent,
        page: &str,
        receiving: bool,
    ) -> Result<FileWrite<'c>, AppError> {
        let mut tx = app.db.begin_write().await?;
        let now = app.now();
        let row = store::persons::access_for_write(&mut tx.conn(), person, caller.user_id).await?;
        match check(
            &mut tx.conn(),
            caller,
            now,
            person,
            event,
            page,
            row,
            receiving,
        )
        .await?
        {
            Ok(caps) => Ok(FileWrite {
                caller,
                tx,
                caps,
                event,
                now,
                also: None,
            }),
            Err(refused) => {
                tx.commit().await?;
                Err(refused)
            }
        }
    }

    /// Opens a second file in the same transaction (a merge changes two).
    pub(crate) async fn also(
        mut self,
        person: PersonId,
        page: &str,
        detail: String,
    ) -> Result<(FileWrite<'c>, Capabilities), AppError> {
        let row =
            store::persons::access_for_write(&mut self.tx.conn(), person, self.caller.user_id)
                .await?;
        let now = self.now;
        match check(
            &mut self.tx.conn(),
            self.caller,
            now,
            person,
            self.event,
            page,
            row,
            false,
        )
        .await?
        {
            Ok(caps) => {
                self.also = Some((caps, detail));
                Ok((self, caps))
            }
            Err(refused) => {
                self.tx.commit().await?;
                Err(refused)
            }
        }
    }

    pub(crate) fn caps(&self) -> Capabilities {
        self.caps
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub(crate) fn conn(&mut self) -> Conn<'_> {
        self.tx.conn()
    }

    /// Writes the audit row (`detail`: what changed) and commits everything.
    pub(crate) async fn commit(mut self, detail: &str) -> Result<(), AppError> {
        let (caller, now, event, caps) = (self.caller, self.now, self.event, self.caps);
        record(
            &mut self.tx.conn(),
            caller,
            now,
            event,
            caps.person,
            caps.territory,
            detail,
        )
        .await?;
        if let Some((other, detail)) = &self.also {
            record(
                &mut self.tx.conn(),
                caller,
                now,
                event,
                other.person,
                other.territory,
                detail,
            )
            .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

/// The caller's scope in their active territory (`NotFound` without one): the whole territory
/// for its coordinators, their own groups for its professionals, counts only for its pilots.
pub fn scope(caller: &Caller) -> Result<Scope, AppError> {
    let territory = caller
        .active_territory
        .as_ref()
        .ok_or(AppError::NotFound)?
        .id;
    if caller.is_coordinator_of(territory) {
        return Ok(Scope::Territory {
            user: caller.user_id,
            territory,
        });
    }
    if !caller.organisations_in(territory).is_empty() {
        return Ok(Scope::Group {
            user: caller.user_id,
            territory,
        });
    }
    if caller.roles_in(territory).contains(&domain::Role::Pilot) {
        return Ok(Scope::Aggregate { territory });
    }
    // Anyone else who may enter the territory (an administrator) follows nobody.
    Ok(Scope::Group {
        user: caller.user_id,
        territory,
    })
}

/// Who may record and follow persons: the territory's coordinators and its partners'
/// professionals.
pub fn may_record(caller: &Caller, territory: TerritoryId) -> bool {
    caller.is_coordinator_of(territory) || !caller.organisations_in(territory).is_empty()
}

/// The organisation a professional works for in a territory (for group membership).
pub(crate) async fn organisation_in(
    c: &mut Conn<'_>,
    caller: &Caller,
    territory: TerritoryId,
) -> Result<Option<OrganisationId>, AppError> {
    let mine = caller.organisations_in(territory);
    if mine.is_empty() {
        return Ok(None);
    }
    let partners = store::organisations::partners_of(c, territory).await?;
    Ok(partners.iter().map(|o| o.id).find(|o| mine.contains(o)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(sight: Sight, referent: bool, coordinator: bool) -> Capabilities {
        Capabilities {
            person: PersonId(1),
            territory: TerritoryId(1),
            zone: TimeZone::Paris,
            sight,
            coordinator,
            member: referent,
            referent,
            health: referent,
        }
    }

    #[test]
    fn a_referral_view_reads_no_journal_and_manages_nothing() {
        let referral = caps(Sight::Referral, true, false);
        assert!(referral.visibilities().is_empty());
        assert!(!referral.manages_group());
        let full = caps(Sight::Full, true, false);
        assert_eq!(full.visibilities().len(), 3);
        assert!(full.manages_group());
    }

    #[test]
    fn a_coordinator_reads_group_notes_only_and_manages_the_group() {
        let c = caps(Sight::Full, false, true);
        assert_eq!(c.visibilities(), vec![Visibility::Groupe]);
        assert!(c.manages_group());
        assert!(!c.health());
    }
}
