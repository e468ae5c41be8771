//! « Parcours »: the dated steps of the funnel, and the form that moves the person on.

use askama::Template;
use domain::person::{ExitReason, FunnelStatus};

use super::{FileContext, FileForm};
use crate::forms::{Field, date_fr};

#[derive(Template)]
#[template(path = "persons/panels/status.html")]
struct StatusPanel<'a> {
    id: i64,
    csrf: &'a str,
    steps: Vec<String>,
    /// The form, unless the person has exited.
    form: Option<Vec<Field>>,
    may_contact: bool,
    open: bool,
    attempts: usize,
}

pub(super) fn panel(ctx: &FileContext) -> Option<askama::Result<String>> {
    let p = ctx.person();
    let status = p.status;
    let steps = [
        Some(format!("Repérage le {}", date_fr(&p.met_on))),
        p.contacted_on
            .as_deref()
            .map(|d| format!("Premier contact le {}", date_fr(d))),
        p.accompanied_on
            .as_deref()
            .map(|d| format!("Accompagnement depuis le {}", date_fr(d))),
        p.exited_on.as_deref().map(|d| {
            let reason = p
                .exit_reason
                .as_deref()
                .and_then(ExitReason::from_code)
                .map_or(String::new(), |r| format!(" : {}", r.label()));
            format!("Sortie le {}{reason}", date_fr(d))
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    let errors = ctx.errors(FileForm::Status);
    let typed = |k: &str| ctx.typed(FileForm::Status, k).unwrap_or_default();
    let form = (status != FunnelStatus::Sorti).then(|| {
        vec![
            Field::typed("on", "Date", &typed("on"), "date", "off")
                .required()
                .errors(&errors),
            Field::select(
                "exit_reason",
                "Motif de sortie",
                &typed("exit_reason"),
                ExitReason::options(),
            )
            .errors(&errors),
        ]
    });
    Some(
        StatusPanel {
            id: ctx.id(),
            csrf: ctx.csrf,
            steps,
            form,
            may_contact: status == FunnelStatus::Repere,
            open: ctx.is_refused(FileForm::Status),
            attempts: ctx.file.attempts_since_contact,
        }
        .render(),
    )
}
