//! « Orientations »: every orientation of the person, its chain and its outcome, and the way to
//! send a new one.

use app::persons::Sight;
use askama::Template;

use super::FileContext;
use crate::forms::{date_fr, moment};

pub struct Line {
    pub id: i64,
    pub receiver: String,
    pub status: &'static str,
    pub badge: &'static str,
    pub sent: String,
    pub previous: Option<i64>,
    pub outcome: String,
}

#[derive(Template)]
#[template(path = "persons/panels/orientations.html")]
struct OrientationsPanel {
    id: i64,
    lines: Vec<Line>,
}

pub(super) fn panel(ctx: &FileContext) -> Option<askama::Result<String>> {
    let f = ctx.file;
    if f.access.sight() != Sight::Full {
        return None;
    }
    let zone = f.access.zone();
    Some(
        OrientationsPanel {
            id: ctx.id(),
            lines: f
                .orientations
                .iter()
                .rev()
                .map(|o| Line {
                    id: o.id.0,
                    receiver: if o.service_name.is_empty() {
                        o.receiver_name.clone()
                    } else {
                        format!("{} ({})", o.service_name, o.receiver_name)
                    },
                    status: o.status.label(),
                    badge: crate::orientations::badge(o.status),
                    sent: moment(o.sent_at, zone),
                    previous: o.previous_id,
                    outcome: match (o.outcome(), &o.entered_on) {
                        (Some(out), _) => out.label().to_string(),
                        (None, Some(on)) => format!("entrée le {}", date_fr(on)),
                        _ => String::new(),
                    },
                })
                .collect(),
        }
        .render(),
    )
}
