//! The follow-up group: who follows the person, within what the consent allows; the référent;
//! the withdrawal of consent and its consequences.

use domain::person::{ConsentPurpose, FileEvent, MemberEndReason};
use domain::{GroupMemberId, OrganisationId, PersonId, Role, TerritoryId, UserId};
use store::Conn;
use store::persons::{Consent, EndWhich, NewMember};

use super::access::FileWrite;
use crate::{App, AppError, Caller};

/// The people and organisations a référent may be chosen among: the territory's professionals.
pub async fn team(
    app: &App,
    territory: TerritoryId,
) -> Result<Vec<store::memberships::TeamMember>, AppError> {
    let mut pooled = app.db.acquire().await?;
    team_in(&mut pooled.conn(), territory).await
}

/// The territory's partner organisations: those the person may agree to share with.
pub async fn partners(
    app: &App,
    territory: TerritoryId,
) -> Result<Vec<(OrganisationId, String)>, AppError> {
    let mut pooled = app.db.acquire().await?;
    Ok(
        store::organisations::partners_of(&mut pooled.conn(), territory)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect(),
    )
}

/// [`team`] on a connection already held (inside a write).
pub(crate) async fn team_in(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<store::memberships::TeamMember>, AppError> {
    Ok(store::memberships::team_of(c, territory)
        .await?
        .into_iter()
        .filter(|m| matches!(m.role(), Some(Role::Professional | Role::Coordinator)))
        .collect())
}

/// The team for a choice in a form: (user, « Name (Organisation) »).
pub(crate) async fn team_choices(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<(domain::UserId, String)>, AppError> {
    Ok(team_in(c, territory)
        .await?
        .into_iter()
        .map(|m| {
            let name = match &m.organisation_name {
                Some(o) => format!("{} ({o})", m.display_name),
                None => m.display_name.clone(),
            };
            (m.user_id, name)
        })
        .collect())
}

/// Makes someone the référent: the previous référent's membership ends (history kept) and the
/// new one gets a membership as référent (health data included, as the référent's).
pub(crate) async fn set_referent_in(
    c: &mut Conn<'_>,
    person: PersonId,
    who: &store::memberships::TeamMember,
    by: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    let current = store::persons::members(c, person).await?;
    let theirs = current
        .iter()
        .find(|m| m.user_id == who.user_id.0 && m.ended_at.is_none());
    if theirs.is_some_and(|m| m.is_referent) {
        // Already the référent: nothing changes, and the group lists them once.
        return Ok(());
    }
    store::persons::end_members(
        c,
        person,
        EndWhich::Referent,
        MemberEndReason::ChangementReferent,
        now,
    )
    .await?;
    match theirs {
        // A member becomes the référent: the same membership, now with the référent's rights.
        Some(m) => store::persons::promote_to_referent(c, m.id).await?,
        None => {
            store::persons::add_member(
                c,
                &NewMember {
                    person,
                    user: who.user_id,
                    organisation: who.organisation_id.map(OrganisationId),
                    is_referent: true,
                    health_access: true,
                    added_by: by,
                },
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// Opens the file to change its group or its consent: the référent's or a coordinator's act.
async fn managing<'c>(
    app: &App,
    caller: &'c Caller,
    id: PersonId,
    event: FileEvent,
    page: &str,
) -> Result<FileWrite<'c>, AppError> {
    let w = FileWrite::open(
        app,
        caller,
        id,
        event,
        &format!("/personnes/{}/{page}", id.0),
    )
    .await?;
    if !w.caps().manages_group() {
        return Err(AppError::Forbidden);
    }
    Ok(w)
}

/// The member of the territory's team a form names (by user id), or the field's error.
fn team_member<'t>(
    team: &'t [store::memberships::TeamMember],
    user: &str,
    field: &'static str,
    message: &str,
) -> Result<&'t store::memberships::TeamMember, AppError> {
    team.iter()
        .find(|m| Some(m.user_id.0) == user.trim().parse().ok())
        .ok_or_else(|| AppError::field(field, message))
}

/// Organisations the person's consent in force allows sharing with (`None`: no consent yet,
/// only the repérage group).
fn shared_with(consents: &[Consent]) -> Option<Vec<i64>> {
    let c = consents.iter().find(|c| c.revoked_at.is_none())?;
    if !c.purposes.contains(&ConsentPurpose::Partage) {
        return Some(Vec::new());
    }
    Some(c.organisations.iter().map(|o| o.0).collect())
}

/// Adds a professional of the territory to the group (référent or coordinator only), within what
/// the consent allows.
pub async fn add_member(
    app: &App,
    caller: &Caller,
    id: PersonId,
    user: &str,
    health_access: bool,
) -> Result<(), AppError> {
    let mut w = managing(app, caller, id, FileEvent::Group, "groupe").await?;
    let access = w.caps();
    let team = team_in(&mut w.conn(), access.territory()).await?;
    let who = team_member(
        &team,
        user,
        "user",
        "Choisissez un professionnel de l'équipe du territoire.",
    )?;
    // Health access is granted by someone else, never by the caller to themself.
    if health_access && who.user_id == caller.user_id {
        return Err(AppError::field(
            "user",
            "Vous ne pouvez pas vous donner à vous-même l'accès aux données de santé : c'est le référent (ou un coordinateur) qui l'accorde.",
        ));
    }
    let consents = store::persons::consents(&mut w.conn(), id).await?;
    match (shared_with(&consents), who.organisation_id) {
        (None, _) => {
            return Err(AppError::field(
                "user",
                "Recueillez d'abord le consentement de la personne (entrée en accompagnement).",
            ));
        }
        (Some(orgs), Some(org)) if !orgs.contains(&org) => {
            return Err(AppError::field(
                "user",
                format!(
                    "La personne n'a pas accepté le partage avec {} : modifiez d'abord son consentement.",
                    who.organisation_name
                        .as_deref()
                        .unwrap_or("cette structure")
                ),
            ));
        }
        _ => {}
    }
    let members = store::persons::members(&mut w.conn(), id).await?;
    if members
        .iter()
        .any(|m| m.user_id == who.user_id.0 && m.ended_at.is_none())
    {
        return Err(AppError::field(
            "user",
            format!("{} fait déjà partie du groupe de suivi.", who.display_name),
        ));
    }
    let now = w.now();
    store::persons::add_member(
        &mut w.conn(),
        &NewMember {
            person: id,
            user: who.user_id,
            organisation: who.organisation_id.map(OrganisationId),
            is_referent: false,
            health_access,
            added_by: caller.user_id,
        },
        now,
    )
    .await?;
    w.commit(&format!(
        "ajout de {} au groupe{}",
        who.display_name,
        if health_access {
            " (avec accès santé)"
        } else {
            ""
        }
    ))
    .await?;
    Ok(())
}

pub async fn end_member(
    app: &App,
    caller: &Caller,
    id: PersonId,
    member: GroupMemberId,
    reason: &str,
) -> Result<(), AppError> {
    let mut w = managing(app, caller, id, FileEvent::Group, "groupe").await?;
    let reason = MemberEndReason::parse(reason).map_err(|e| AppError::field("reason", e.0))?;
    let now = w.now();
    let ended =
        store::persons::end_members(&mut w.conn(), id, EndWhich::One(member), reason, now).await?;
    if ended == 0 {
        return Err(AppError::NotFound);
    }
    w.commit(&format!("fin de participation : {}", reason.label()))
        .await?;
    Ok(())
}

/// Changes the référent; the previous one's membership ends, kept in the history.
pub async fn change_referent(
    app: &App,
    caller: &Caller,
    id: PersonId,
    user: &str,
) -> Result<(), AppError> {
    let mut w = managing(app, caller, id, FileEvent::Group, "groupe").await?;
    let access = w.caps();
    let team = team_in(&mut w.conn(), access.territory()).await?;
    let who = team_member(
        &team,
        user,
        "referent",
        "Choisissez le nouveau référent dans l'équipe du territoire.",
    )?;
    // Becoming référent opens the health data: while someone else is référent, the caller
    // cannot name themself (the référent hands over, or another coordinator decides).
    if who.user_id == caller.user_id && !access.is_referent() {
        let members = store::persons::members(&mut w.conn(), id).await?;
        if members
            .iter()
            .any(|m| m.is_referent && m.ended_at.is_none() && m.user_id != caller.user_id.0)
        {
            return Err(AppError::field(
                "referent",
                "Vous ne pouvez pas vous désigner vous-même référent à la place du référent actuel : demandez-lui de vous passer le relais.",
            ));
        }
    }
    let consents = store::persons::consents(&mut w.conn(), id).await?;
    if let (Some(orgs), Some(org)) = (shared_with(&consents), who.organisation_id)
        && !orgs.contains(&org)
    {
        return Err(AppError::field(
            "referent",
            "La personne n'a pas accepté le partage avec la structure de ce professionnel.",
        ));
    }
    let now = w.now();
    set_referent_in(&mut w.conn(), id, who, caller.user_id, now).await?;
    w.commit(&format!("nouveau référent : {}", who.display_name))
        .await?;
    Ok(())
}

/// At most this many persons in one bulk assignment.
pub const BULK_MAX: usize = 200;

/// A coordinator names the same référent for several persons at once: each file is changed on
/// its own (its own transaction and audit row, the consent checked for each), and the answer
/// says, person by person, whether it was done or why not.
pub async fn assign_referent(
    app: &App,
    caller: &Caller,
    persons: &[PersonId],
    user: &str,
) -> Result<Vec<(PersonId, Result<(), String>)>, AppError> {
    let scope = super::scope(caller)?;
    if !scope.whole_territory() {
        return Err(AppError::Forbidden);
    }
    if persons.is_empty() {
        return Err(AppError::field(
            "personnes",
            "Cochez au moins une personne.",
        ));
    }
    if persons.len() > BULK_MAX {
        return Err(AppError::field(
            "personnes",
            format!("Pas plus de {BULK_MAX} personnes à la fois."),
        ));
    }
    if user.trim().is_empty() {
        return Err(AppError::field("referent", "Choisissez le référent."));
    }
    let mut report = Vec::with_capacity(persons.len());
    for &id in persons {
        let outcome = match change_referent(app, caller, id, user).await {
            Ok(()) => Ok(()),
            Err(AppError::Invalid(e)) => Err(e
                .iter()
                .map(|(_, m)| m.to_string())
                .collect::<Vec<_>>()
                .join(" ")),
            Err(AppError::NotFound) => Err("Dossier introuvable.".to_string()),
            Err(AppError::Forbidden) => Err("Vous ne pouvez pas modifier ce dossier.".to_string()),
            Err(other) => return Err(other),
        };
        report.push((id, outcome));
    }
    Ok(report)
}

/// Revokes consent, with the consequences at once: every member outside the référent's
/// organisation leaves the group, and nothing more is shared.
pub async fn revoke_consent(app: &App, caller: &Caller, id: PersonId) -> Result<usize, AppError> {
    let mut w = managing(app, caller, id, FileEvent::Consent, "consentement").await?;
    let now = w.now();
    let revoked = store::persons::revoke_consents(&mut w.conn(), id, caller.user_id, now).await?;
    if revoked == 0 {
        return Err(AppError::field(
            "consent",
            "Aucun consentement en cours à retirer.",
        ));
    }
    let ended = store::persons::end_members(
        &mut w.conn(),
        id,
        EndWhich::OutsideReferentOrganisation,
        MemberEndReason::RetraitConsentement,
        now,
    )
    .await?;
    let today = app.today_in(w.caps().zone());
    let cancelled = crate::orientations::cancel_open(
        &mut w.conn(),
        app,
        id,
        caller.user_id,
        today,
        now,
        "la personne a retiré son consentement",
    )
    .await?;
    w.commit(&format!(
        "consentement retiré, {ended} membre(s) retiré(s) du groupe, {cancelled} orientation(s) en cours annulée(s)"
    ))
    .await?;
    Ok(usize::try_from(ended).unwrap_or(0))
}
