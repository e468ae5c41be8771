//! The journal: contacts and notes, each with its visibility (group, référent, health).

use domain::PersonId;
use domain::person::{
    ContactChannel, ContactOutcome, FileEvent, FunnelStatus, JournalKind, Visibility,
};
use store::persons::NewEntry;

use super::access::FileWrite;
use super::past_date;
use crate::{App, AppError, Caller, FieldErrors};

/// A journal entry as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct EntryForm {
    pub kind: String,
    pub occurred_on: String,
    pub channel: String,
    pub outcome: String,
    pub body: String,
    pub visibility: String,
}

pub async fn add_entry(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &EntryForm,
) -> Result<(), AppError> {
    let mut w = FileWrite::open(
        app,
        caller,
        id,
        FileEvent::Journal,
        &format!("/personnes/{}/journal", id.0),
    )
    .await?;
    let access = w.caps();
    let mut errors = FieldErrors::default();
    let kind = errors.check("kind", JournalKind::parse(&input.kind));
    let on = past_date(
        &mut errors,
        "occurred_on",
        &input.occurred_on,
        app.today_in(access.zone()),
    );
    let visibility = errors.check("visibility", Visibility::parse(&input.visibility));
    if let Some(v) = visibility
        && !access.visibilities().contains(&v)
    {
        errors.add(
            "visibility",
            "Vous ne pouvez pas écrire une note de cette confidentialité.",
        );
    }
    let (channel, outcome) = if kind == Some(JournalKind::Contact) {
        (
            errors.check("channel", ContactChannel::parse(&input.channel)),
            errors.check("outcome", ContactOutcome::parse(&input.outcome)),
        )
    } else {
        (None, None)
    };
    let body = input.body.trim();
    if body.is_empty() && kind == Some(JournalKind::Note) {
        errors.add("body", "Écrivez la note.");
    }
    if body.chars().count() > 5000 {
        errors.add("body", "La note dépasse 5 000 caractères.");
    }
    let (Some(kind), Some(on), Some(visibility)) = (kind, on, visibility) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = w.now();
    store::persons::add_entry(
        &mut w.conn(),
        &NewEntry {
            person: id,
            occurred_on: on,
            author: caller.user_id,
            kind,
            channel,
            outcome,
            body,
            visibility,
        },
        now,
    )
    .await?;
    // Only a contact that reached the person counts as one: an attempt (no answer, message
    // left, wrong number, no-show) is in the journal but leaves « dernier contact » alone.
    if kind == JournalKind::Contact && outcome.is_some_and(ContactOutcome::reached) {
        store::persons::touch_contact(&mut w.conn(), id, on).await?;
        // A first contact that reached the person moves them from « repéré » to « contacté ».
        let person = store::persons::get(&mut w.conn(), id)
            .await?
            .ok_or(AppError::NotFound)?;
        if person.status == FunnelStatus::Repere {
            store::persons::set_status(&mut w.conn(), id, FunnelStatus::Contacte, on, now).await?;
        }
    }
    w.commit(&format!("{} ({})", kind.label(), visibility.label()))
        .await?;
    Ok(())
}
