//! « Parcours »: the dated steps of the funnel, and the form that moves the person on — the
//! first contact, or the exit with its type, date and employer (its follow-up is the « Suivi
//! après la sortie » panel).

use askama::Template;
use domain::exit::{ExitCategory, ExitKind};
use domain::person::FunnelStatus;

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
    /// Exited: the way back into accompaniment (the référent or a coordinator).
    may_return: bool,
    open: bool,
    attempts: usize,
}

/// The exit types, labelled with their category (« Emploi durable — CDI »).
pub(super) fn exit_options() -> Vec<(String, String)> {
    ExitCategory::ALL
        .iter()
        .flat_map(|c| {
            ExitKind::of(*c).into_iter().map(move |k| {
                (
                    k.as_str().to_string(),
                    format!("{} — {}", c.label(), k.label()),
                )
            })
        })
        .collect()
}

pub(super) fn panel(ctx: &FileContext) -> Option<askama::Result<String>> {
    let p = ctx.person();
    let status = p.status;
    let current_exit = ctx
        .file
        .journey
        .exits
        .iter()
        .rev()
        .find(|x| x.returned_on.is_none());
    let steps = [
        Some(format!("Repérage le {}", date_fr(&p.met_on))),
        p.contacted_on
            .as_deref()
            .map(|d| format!("Premier contact le {}", date_fr(d))),
        p.accompanied_on
            .as_deref()
            .map(|d| format!("Accompagnement depuis le {}", date_fr(d))),
        p.exited_on.as_deref().map(|d| {
            let kind = current_exit.map_or(String::new(), |x| {
                format!(" : {} ({})", x.kind.label(), x.kind.category().label())
            });
            format!("Sortie le {}{kind}", date_fr(d))
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    let errors = ctx.errors(FileForm::Status);
    let typed = |k: &str| ctx.typed(FileForm::Status, k).unwrap_or_default();
    let form = (status != FunnelStatus::Sorti).then(|| {
        let mut employers = vec![(String::new(), "Aucun ou inconnu".to_string())];
        employers.extend(ctx.employers.iter().cloned());
        vec![
            Field::typed("on", "Date", &typed("on"), "date", "off")
                .required()
                .errors(&errors),
            Field::select("exit_kind", "Type de sortie", &typed("exit_kind"), exit_options())
                .hint("Pour une sortie seulement. L'emploi durable compte un CDD ou un intérim de 6 mois ou plus.")
                .errors(&errors),
            Field::select("employer", "Employeur", &typed("employer"), employers)
                .hint("Pour un emploi : l'employeur, s'il est connu du territoire (rubrique « Employeurs »).")
                .errors(&errors),
            Field::text("detail", "Précisions sur la sortie", &typed("detail")).errors(&errors),
        ]
    });
    Some(
        StatusPanel {
            id: ctx.id(),
            csrf: ctx.csrf,
            steps,
            form,
            may_contact: status == FunnelStatus::Repere,
            may_return: status == FunnelStatus::Sorti && ctx.file.access.manages_group(),
            open: ctx.is_refused(FileForm::Status),
            attempts: ctx.file.attempts_since_contact,
        }
        .render(),
    )
}
