//! « Santé et handicap »: only for those the health gate lets in (the référent and the members
//! explicitly allowed).

use askama::Template;

use super::{FileContext, FileForm};
use crate::forms::{Field, date_fr};
use crate::persons::{yes_no_options, yn};

#[derive(Template)]
#[template(path = "persons/panels/health.html")]
struct HealthPanel<'a> {
    id: i64,
    csrf: &'a str,
    rqth: String,
    until: String,
    need: bool,
    note: String,
    shared: bool,
    form: Vec<Field>,
}

pub(super) fn panel(ctx: &FileContext) -> Option<askama::Result<String>> {
    if !ctx.file.access.health() {
        return None;
    }
    let h = ctx.file.health.clone().unwrap_or_default();
    let errors = ctx.errors(FileForm::Health);
    let yes = |b: bool| if b { "oui" } else { "non" }.to_string();
    let typed = |k: &str, stored: String| ctx.typed(FileForm::Health, k).unwrap_or(stored);
    let rqth = typed("rqth", h.rqth.map(yes).unwrap_or_default());
    let need = typed("need", yes(h.need));
    let aah = typed("aah", h.aah.map(yes).unwrap_or_default());
    let note = typed("need_note", h.need_note.clone());
    let shared = typed("need_shared", yes(h.need_shared));
    let form = vec![
        Field::select(
            "rqth",
            "Reconnaissance de la qualité de travailleur handicapé (RQTH)",
            &rqth,
            yes_no_options(),
        )
        .errors(&errors),
        Field::select(
            "aah",
            "Bénéficiaire de l'allocation aux adultes handicapés (AAH)",
            &aah,
            yes_no_options(),
        )
        .hint("Critère de niveau 1 de l'insertion par l'activité économique")
        .errors(&errors),
        Field::select(
            "need",
            "Besoin dans le champ « Santé et handicap »",
            &need,
            yes_no_options(),
        )
        .errors(&errors),
        Field::textarea("need_note", "Précisions (confidentiel)", &note).errors(&errors),
        Field::select(
            "need_shared",
            "Signaler au groupe de suivi qu'un besoin de santé existe (sans les précisions)",
            &shared,
            yes_no_options(),
        )
        .hint("Les professionnels du groupe sans accès aux données de santé verront seulement « Santé et handicap » dans les besoins.")
        .errors(&errors),
        Field::typed(
            "rqth_until",
            "Valable jusqu'au",
            &h.rqth_until.clone().unwrap_or_default(),
            "date",
            "off",
        )
        .errors(&errors),
    ];
    Some(
        HealthPanel {
            id: ctx.id(),
            csrf: ctx.csrf,
            rqth: yn(h.rqth),
            until: h.rqth_until.as_deref().map(date_fr).unwrap_or_default(),
            need: h.need,
            note: h.need_note,
            shared: h.need_shared,
            form,
        }
        .render(),
    )
}
