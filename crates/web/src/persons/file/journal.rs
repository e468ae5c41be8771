//! « Journal »: the notes and contacts the caller may read, newest first, and the form to add
//! one (with the visibilities the caller may write).

use app::models::Entry;
use app::persons::Sight;
use askama::Template;
use domain::person::{ContactChannel, ContactOutcome, JournalKind, Visibility};

use super::{FileContext, FileForm};
use crate::forms::{Field, date_fr};

struct EntryView {
    date: String,
    author: String,
    kind: &'static str,
    contact: String,
    body: String,
    visibility: &'static str,
    restricted: bool,
}

fn entry_view(e: &Entry) -> EntryView {
    let contact = match (e.channel.as_deref(), e.outcome.as_deref()) {
        (Some(c), Some(o)) => format!(
            "{} — {}",
            ContactChannel::from_code(c).map_or("?", ContactChannel::label),
            ContactOutcome::from_code(o).map_or("?", ContactOutcome::label)
        ),
        _ => String::new(),
    };
    let visibility = Some(e.visibility);
    EntryView {
        date: date_fr(&e.occurred_on),
        author: e.author_name.clone().unwrap_or_default(),
        kind: e.kind.label(),
        contact,
        body: e.body.clone(),
        visibility: visibility.map_or("?", Visibility::label),
        restricted: visibility != Some(Visibility::Groupe),
    }
}

#[derive(Template)]
#[template(path = "persons/panels/journal.html")]
struct JournalPanel<'a> {
    id: i64,
    csrf: &'a str,
    entries: Vec<EntryView>,
    form: Vec<Field>,
    open: bool,
}

pub(super) fn panel(ctx: &FileContext) -> Option<askama::Result<String>> {
    if ctx.file.access.sight() != Sight::Full {
        return None;
    }
    let errors = ctx.errors(FileForm::Journal);
    let typed = |k: &str| ctx.typed(FileForm::Journal, k);
    let visibilities: Vec<(String, String)> = ctx
        .file
        .access
        .visibilities()
        .iter()
        .map(|v| (v.as_str().to_string(), v.label().to_string()))
        .collect();
    let form = vec![
        Field::select(
            "kind",
            "Type",
            &typed("kind").unwrap_or_else(|| JournalKind::Contact.as_str().into()),
            JournalKind::options(),
        )
        .required()
        .errors(&errors),
        Field::typed(
            "occurred_on",
            "Date",
            &typed("occurred_on").unwrap_or_else(|| domain::iso_date(ctx.today)),
            "date",
            "off",
        )
        .required()
        .errors(&errors),
        Field::select(
            "channel",
            "Canal du contact",
            &typed("channel").unwrap_or_default(),
            ContactChannel::options(),
        )
        .errors(&errors),
        Field::select(
            "outcome",
            "Résultat du contact",
            &typed("outcome").unwrap_or_default(),
            ContactOutcome::options(),
        )
        .errors(&errors),
        Field::select(
            "visibility",
            "Qui peut lire",
            &typed("visibility").unwrap_or_else(|| Visibility::Groupe.as_str().into()),
            visibilities,
        )
        .required()
        .errors(&errors),
        Field::textarea("body", "Note", &typed("body").unwrap_or_default())
            .hint("Seulement ce qui est nécessaire au suivi")
            .errors(&errors),
    ];
    Some(
        JournalPanel {
            id: ctx.id(),
            csrf: ctx.csrf,
            entries: ctx.file.journal.iter().map(entry_view).collect(),
            form,
            open: ctx.is_refused(FileForm::Journal),
        }
        .render(),
    )
}
