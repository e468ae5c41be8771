//! Corrections of a file: contact details, address (checked again against the QPV map when it
//! changed) and situation.

use domain::PersonId;
use domain::person::{FileEvent, FunnelStatus};
use domain::text::fold;
use store::persons::{Identity, QpvCheck};

use super::access::FileWrite;
use super::contact;
use super::outreach::{OutreachInput, check_qpv};
use super::situation::SituationInput;
use crate::{App, AppError, Caller, FieldErrors};

/// Contact details and situation corrections.
pub async fn update(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &OutreachInput,
    situation: &SituationInput,
) -> Result<(), AppError> {
    let mut errors = FieldErrors::default();
    if input.first_name.trim().is_empty() {
        errors.add("first_name", "Indiquez au moins le prénom.");
    }
    let c = contact(app, &mut errors, input);
    let situation = situation.validate(&mut errors, app.today_in(caller.zone()));
    let agrees = input.agrees_recontact == "oui";
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // The QPV check may wait on the geocoder: it runs before the write takes the lock, for the
    // address typed when it differs from the one stored (compared again under the lock).
    let stored = {
        let mut pooled = app.db.acquire().await?;
        store::persons::address_of(&mut pooled.conn(), id).await?
    };
    let typed = (c.address.clone(), c.postal_code.clone());
    let qpv = if stored.as_ref() != Some(&typed) {
        check_qpv(app, &c.address, &c.postal_code, c.commune.as_deref()).await
    } else {
        None
    };
    let mut w = FileWrite::open(
        app,
        caller,
        id,
        FileEvent::Update,
        &format!("/personnes/{}/modifier", id.0),
    )
    .await?;
    let previous = store::persons::get(&mut w.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let moved = previous.address != c.address || previous.postal_code != c.postal_code;
    let identity = Identity {
        first_name: input.first_name.trim().to_string(),
        last_name: input.last_name.trim().to_string(),
        folded_name: fold(&format!(
            "{} {}",
            input.first_name.trim(),
            input.last_name.trim()
        ))
        .trim()
        .to_string(),
        phone: c.phone,
        email: c.email,
        address: c.address,
        postal_code: c.postal_code,
        commune_insee: c.commune,
        neighbourhood: input.neighbourhood.trim().to_string(),
        qpv: if moved {
            Some(qpv.unwrap_or(QpvCheck {
                code: None,
                millesime: domain::Millesime::CURRENT.year(),
                confidence: "non vérifiée".into(),
                checked_at: w.now(),
                position: None,
            }))
        } else {
            None
        },
        agrees_recontact: agrees,
    };
    let now = w.now();
    store::persons::update_identity(&mut w.conn(), id, &identity, now).await?;
    if previous.status != FunnelStatus::Repere && previous.status != FunnelStatus::Contacte {
        store::persons::set_situation(&mut w.conn(), id, &situation, now).await?;
    }
    w.commit("coordonnées et situation").await?;
    Ok(())
}
