//! The funnel: repéré → contacté → en accompagnement → sorti, forward only and dated. The entry
//! into accompaniment records the consent, the référent and the situation together.

use domain::person::{ConsentMethod, ConsentPurpose, FileEvent, FunnelStatus};
use domain::{OrganisationId, PersonId};
use store::persons::NewConsent;

use super::access::FileWrite;
use super::group::{set_referent_in, team_in};
use super::past_date;
use super::situation::SituationInput;
use crate::{App, AppError, Caller, FieldErrors};

/// Moves the person to « contacté » or « sorti » (the entry into accompaniment has its own form;
/// an exit's type, employer and follow-up are `crate::exits`').
pub async fn set_status(
    app: &App,
    caller: &Caller,
    id: PersonId,
    status: &str,
    on: &str,
    exit: &crate::exits::ExitInput,
) -> Result<(), AppError> {
    let mut w = FileWrite::open(
        app,
        caller,
        id,
        FileEvent::Update,
        &format!("/personnes/{}/statut", id.0),
    )
    .await?;
    let access = w.caps();
    let mut errors = FieldErrors::default();
    let next = errors.check("status", FunnelStatus::parse(status));
    let today = app.today_in(access.zone());
    let on = past_date(&mut errors, "on", on, today);
    if next == Some(FunnelStatus::EnAccompagnement) {
        errors.add(
            "status",
            "L'entrée en accompagnement se fait avec le recueil du consentement.",
        );
    }
    let (Some(next), Some(on)) = (next, on) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // The exit ends every membership of the group: the référent's or a coordinator's call.
    if next == FunnelStatus::Sorti && !access.manages_group() {
        return Err(AppError::Forbidden);
    }
    let person = store::persons::get(&mut w.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = person.status;
    if !current.may_become(next) {
        return Err(AppError::field(
            "status",
            format!(
                "Une personne « {} » ne peut pas redevenir « {} ».",
                current.label(),
                next.label()
            ),
        ));
    }
    let detail = if next == FunnelStatus::Sorti {
        crate::exits::record(&mut w, caller, &person, on, exit, today).await?
    } else {
        let now = w.now();
        store::persons::set_status(&mut w.conn(), id, next, on, now).await?;
        format!("statut : {}", next.label())
    };
    store::persons::touch_contact(&mut w.conn(), id, on).await?;
    w.commit(&detail).await?;
    Ok(())
}

/// The form of the entry into accompaniment: consent, référent, situation.
/// Decoded from the form, the situation apart (its own struct, decoded from the same form).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct EntryInput {
    pub given_on: String,
    pub method: String,
    pub purposes: Vec<String>,
    /// Organisations (ids) the person agrees to share with.
    pub organisations: Vec<String>,
    /// The référent (a user id of the territory's team); empty: the caller.
    pub referent: String,
    #[serde(skip)]
    pub situation: SituationInput,
}

/// Entry into accompaniment: the consent (date, method, purposes, organisations), the référent,
/// and the situation, in one transaction.
pub async fn enter_accompaniment(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &EntryInput,
) -> Result<(), AppError> {
    let mut w = FileWrite::open(
        app,
        caller,
        id,
        FileEvent::Update,
        &format!("/personnes/{}/accompagnement", id.0),
    )
    .await?;
    let access = w.caps();
    let today = app.today_in(access.zone());
    let mut errors = FieldErrors::default();
    let given_on = past_date(&mut errors, "given_on", &input.given_on, today);
    let method = errors.check("method", ConsentMethod::parse(&input.method));
    let purposes: Vec<ConsentPurpose> = input
        .purposes
        .iter()
        .filter_map(|p| ConsentPurpose::parse(p).ok())
        .collect();
    if !purposes.contains(&ConsentPurpose::Accompagnement) {
        errors.add(
            "purposes",
            "L'accompagnement suppose l'accord de la personne pour être accompagnée.",
        );
    }
    let team = team_in(&mut w.conn(), access.territory()).await?;
    let partner_ids: Vec<i64> =
        store::organisations::partners_of(&mut w.conn(), access.territory())
            .await?
            .iter()
            .map(|o| o.id.0)
            .collect();
    let organisations: Vec<i64> = input
        .organisations
        .iter()
        .filter_map(|o| o.parse().ok())
        .filter(|o| partner_ids.contains(o))
        .collect();
    if purposes.contains(&ConsentPurpose::Partage) && organisations.is_empty() {
        errors.add(
            "organisations",
            "Choisissez les structures avec lesquelles la personne accepte le partage.",
        );
    }
    let referent = match input.referent.trim() {
        "" => team.iter().find(|m| m.user_id == caller.user_id).cloned(),
        r => team
            .iter()
            .find(|m| Some(m.user_id.0) == r.parse().ok())
            .cloned(),
    };
    let Some(referent) = referent else {
        errors.add(
            "referent",
            "Choisissez le référent parmi l'équipe du territoire.",
        );
        return Err(AppError::Invalid(errors));
    };
    if let Some(org) = referent.organisation_id
        && !organisations.contains(&org)
        && purposes.contains(&ConsentPurpose::Partage)
    {
        errors.add(
            "organisations",
            "La structure du référent doit faire partie des structures choisies.",
        );
    }
    let situation = input.situation.validate(&mut errors, today);
    let (Some(given_on), Some(method)) = (given_on, method) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let person = store::persons::get(&mut w.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = person.status;
    if !current.may_become(FunnelStatus::EnAccompagnement) {
        return Err(AppError::field(
            "given_on",
            format!("La personne est déjà « {} ».", current.label()),
        ));
    }
    let cancelled = if current == FunnelStatus::Sorti {
        Some(crate::exits::returned(&mut w, &person, given_on).await?)
    } else {
        None
    };
    let now = w.now();
    let organisations: Vec<OrganisationId> =
        organisations.into_iter().map(OrganisationId).collect();
    store::persons::add_consent(
        &mut w.conn(),
        &NewConsent {
            person: id,
            given_on,
            method,
            purposes: &purposes,
            organisations: &organisations,
            recorded_by: caller.user_id,
        },
        now,
    )
    .await?;
    store::persons::set_status(
        &mut w.conn(),
        id,
        FunnelStatus::EnAccompagnement,
        given_on,
        now,
    )
    .await?;
    store::persons::touch_contact(&mut w.conn(), id, given_on).await?;
    store::persons::set_situation(&mut w.conn(), id, &situation, now).await?;
    // The repérage's answer and the consent's purposes say the same thing.
    store::persons::set_agrees_recontact(
        &mut w.conn(),
        id,
        purposes.contains(&ConsentPurpose::Recontact),
    )
    .await?;
    set_referent_in(&mut w.conn(), id, &referent, caller.user_id, now).await?;
    w.commit(&match cancelled {
        None => "entrée en accompagnement, consentement recueilli".to_string(),
        Some(n) => format!(
            "retour en accompagnement après une sortie, consentement recueilli ({n} vérification(s) de suivi annulée(s))"
        ),
    })
    .await?;
    Ok(())
}
