//! « Sorties et suivi »: each exit with its checks at 3, 6 and 12 months — the form of the one
//! that is due, for the référent or a coordinator — and the person's cohorts and collective
//! actions.

use app::persons::Sight;
use askama::Template;
use chrono::Duration;
use domain::exit::{CheckStatus, Situation};

use super::{FileContext, FileForm};
use crate::forms::{Field, date_fr};

pub struct CheckLine {
    pub months: i32,
    pub due: String,
    pub status: &'static str,
    pub badge: &'static str,
    pub found: String,
}

pub struct CheckForm {
    pub id: i64,
    pub months: i32,
    pub fields: Vec<Field>,
}

pub struct ExitBlock {
    pub on: String,
    pub kind: &'static str,
    pub category: &'static str,
    pub employer: Option<(i64, String)>,
    pub detail: String,
    pub returned: Option<String>,
    pub checks: Vec<CheckLine>,
    pub form: Option<CheckForm>,
}

pub struct Link {
    pub href: String,
    pub label: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "persons/panels/journey.html")]
struct JourneyPanel<'a> {
    id: i64,
    csrf: &'a str,
    exits: Vec<ExitBlock>,
    stays: Vec<Link>,
    actions: Vec<Link>,
    meetings: Vec<Link>,
    open: bool,
}

pub(super) fn panel(ctx: &FileContext) -> Option<askama::Result<String>> {
    let f = ctx.file;
    if f.access.sight() != Sight::Full {
        return None;
    }
    let j = &f.journey;
    let errors = ctx.errors(FileForm::Check);
    let typed = |k: &str| ctx.typed(FileForm::Check, k).unwrap_or_default();
    let exits = j
        .exits
        .iter()
        .rev()
        .map(|x| {
            let checks = j.checks_of(x.id);
            // The form of the first check still to do, once it may be answered.
            let form = checks
                .iter()
                .find(|k| k.status == CheckStatus::AFaire)
                .filter(|k| {
                    f.access.manages_group()
                        && domain::parse_date(&k.due_on)
                            .is_ok_and(|d| d - Duration::days(15) <= ctx.today)
                })
                .map(|k| {
                    let mut employers = vec![(String::new(), "Aucun ou inconnu".to_string())];
                    employers.extend(ctx.employers.iter().cloned());
                    CheckForm {
                        id: k.id.0,
                        months: k.months,
                        fields: vec![
                            Field::select(
                                "situation",
                                "Situation constatée",
                                &typed("situation"),
                                Situation::options(),
                            )
                            .required()
                            .errors(&errors),
                            Field::select(
                                "employer",
                                "Employeur actuel",
                                &typed("employer"),
                                employers,
                            )
                            .errors(&errors),
                            Field::typed(
                                "done_on",
                                "Date de la vérification",
                                &typed("done_on"),
                                "date",
                                "off",
                            )
                            .required()
                            .errors(&errors),
                            Field::textarea("note", "Précisions", &typed("note")).errors(&errors),
                        ],
                    }
                });
            ExitBlock {
                on: date_fr(&x.exited_on),
                kind: x.kind.label(),
                category: x.kind.category().label(),
                employer: x.employer_id.zip(x.employer_name.clone()),
                detail: x.detail.clone(),
                returned: x.returned_on.as_deref().map(date_fr),
                checks: checks
                    .iter()
                    .map(|k| CheckLine {
                        months: k.months,
                        due: date_fr(&k.due_on),
                        status: k.status.label(),
                        badge: match k.status {
                            CheckStatus::AFaire => "fr-badge--new",
                            CheckStatus::Fait => "fr-badge--success",
                            CheckStatus::Annule => "fr-badge--info",
                        },
                        found: match k.situation() {
                            Some(s) => {
                                let mut t = s.label().to_string();
                                if let Some(e) = &k.employer_name {
                                    t.push_str(&format!(" ({e})"));
                                }
                                if let Some(on) = &k.done_on {
                                    t.push_str(&format!(", vérifié le {}", date_fr(on)));
                                }
                                if !k.note.is_empty() {
                                    t.push_str(&format!(" — {}", k.note));
                                }
                                t
                            }
                            None => String::new(),
                        },
                    })
                    .collect(),
                form,
            }
        })
        .collect();
    let stays = j
        .stays
        .iter()
        .rev()
        .map(|s| Link {
            href: format!("/cohortes/{}", s.cohort_id.0),
            label: s.cohort_name.clone(),
            detail: match (&s.left_on, s.leave_reason()) {
                (Some(l), Some(r)) => format!(
                    "du {} au {} ({})",
                    date_fr(&s.entered_on),
                    date_fr(l),
                    r.label().to_lowercase()
                ),
                (Some(l), None) => format!("du {} au {}", date_fr(&s.entered_on), date_fr(l)),
                (None, _) => format!("depuis le {}", date_fr(&s.entered_on)),
            },
        })
        .collect();
    let actions = j
        .actions
        .iter()
        .map(|a| Link {
            href: format!("/actions-collectives/{}", a.id.0),
            label: format!("{} : {}", a.kind.label(), a.title),
            detail: format!(
                "le {} — {}",
                date_fr(&a.held_on),
                a.attendance
                    .as_deref()
                    .and_then(domain::cohort::Attendance::from_code)
                    .map_or_else(
                        || a.status.label().to_lowercase(),
                        |x| x.label().to_lowercase()
                    )
            ),
        })
        .collect();
    let meetings = j
        .meetings
        .iter()
        .map(|(id, on, title, note)| Link {
            href: format!("/gouvernance/reunions/{id}"),
            label: title.clone(),
            detail: if note.is_empty() {
                format!("le {}", date_fr(on))
            } else {
                format!("le {} — {note}", date_fr(on))
            },
        })
        .collect();
    Some(
        JourneyPanel {
            id: ctx.id(),
            csrf: ctx.csrf,
            exits,
            stays,
            actions,
            meetings,
            open: ctx.is_refused(FileForm::Check),
        }
        .render(),
    )
}
