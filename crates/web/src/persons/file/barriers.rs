//! « Freins et plan d'action »: the latest signed diagnostic's levels, the plan's open and
//! overdue actions, and the way to the diagnostic and plan pages.

use app::persons::Sight;
use askama::Template;

use super::FileContext;

#[derive(Template)]
#[template(path = "persons/panels/barriers.html")]
struct BarriersPanel {
    id: i64,
    last: Option<String>,
    levels: Vec<(&'static str, u8)>,
    has_draft: bool,
    open: i64,
    overdue: i64,
    accompanied: bool,
}

pub(super) fn panel(ctx: &FileContext) -> Option<askama::Result<String>> {
    let f = ctx.file;
    if f.access.sight() != Sight::Full {
        return None;
    }
    let b = &f.barriers;
    Some(
        BarriersPanel {
            id: ctx.id(),
            last: b
                .last
                .as_ref()
                .map(|(d, _)| d.format("%d/%m/%Y").to_string()),
            levels: b
                .last
                .as_ref()
                .map(|(_, levels)| levels.iter().map(|(f, l)| (f.label(), l.value())).collect())
                .unwrap_or_default(),
            has_draft: b.summary.has_draft,
            open: b.summary.open_actions,
            overdue: b.summary.overdue_actions,
            accompanied: f.status == domain::person::FunnelStatus::EnAccompagnement,
        }
        .render(),
    )
}
