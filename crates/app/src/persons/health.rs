//! Health data (RQTH, the health need and its text), behind the health gate.

use domain::PersonId;
use domain::person::FileEvent;
use store::persons::Health;
use store::sql::iso;

use super::access::FileWrite;
use super::yes_no;
use crate::{App, AppError, Caller, FieldErrors};

/// The health section of a file, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct HealthInput {
    pub rqth: String,
    pub rqth_until: String,
    /// Allocation aux adultes handicapés (an IAE criterion of level 1).
    pub aah: String,
    /// « oui »: a need in the « Santé / handicap » field.
    pub need: String,
    pub need_note: String,
    /// « oui »: the group may see that a health need exists (not its text).
    pub need_shared: String,
}

/// Health data (RQTH, the health need and its text): the référent and explicitly allowed
/// members only. Sharing the need's existence with the group is their choice.
pub async fn set_health(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &HealthInput,
) -> Result<(), AppError> {
    let mut w = FileWrite::open(
        app,
        caller,
        id,
        FileEvent::Health,
        &format!("/personnes/{}/sante", id.0),
    )
    .await?;
    let access = w.caps();
    if !access.health() {
        return Err(AppError::NotFound);
    }
    let mut errors = FieldErrors::default();
    let rqth = yes_no(&mut errors, "rqth", &input.rqth);
    let aah = yes_no(&mut errors, "aah", &input.aah);
    let until = match input.rqth_until.trim() {
        "" => None,
        u => errors.check("rqth_until", domain::parse_date(u)).map(iso),
    };
    let need = yes_no(&mut errors, "need", &input.need).unwrap_or(false);
    let shared = yes_no(&mut errors, "need_shared", &input.need_shared).unwrap_or(false);
    let note = input.need_note.trim();
    if note.chars().count() > 1000 {
        errors.add("need_note", "Les précisions dépassent 1 000 caractères.");
    }
    if shared && !need {
        errors.add(
            "need_shared",
            "Il n'y a pas de besoin de santé à signaler au groupe.",
        );
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = w.now();
    store::persons::set_health(
        &mut w.conn(),
        id,
        &Health {
            rqth,
            aah,
            rqth_until: until,
            need,
            need_note: if need {
                note.to_string()
            } else {
                String::new()
            },
            need_shared: shared,
        },
        caller.user_id,
        now,
    )
    .await?;
    w.commit(if shared {
        "données de santé modifiées (besoin signalé au groupe)"
    } else {
        "données de santé modifiées"
    })
    .await?;
    Ok(())
}
