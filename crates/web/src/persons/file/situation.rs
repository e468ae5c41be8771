//! « Situation »: what was recorded at the entry into accompaniment.

use askama::Template;
use domain::person::{FunnelStatus, QualificationLevel, Sex};

use super::FileContext;
use crate::forms::date_fr;
use crate::persons::yn;

#[derive(Template)]
#[template(path = "persons/panels/situation.html")]
struct SituationPanel {
    rows: Vec<(&'static str, String)>,
}

pub(super) fn panel(ctx: &FileContext) -> Option<askama::Result<String>> {
    let p = ctx.person();
    let today = ctx.today;
    let mut rows = Vec::new();
    if let Some(b) = p
        .birth_date
        .as_deref()
        .and_then(|b| domain::parse_date(b).ok())
    {
        rows.push((
            "Date de naissance",
            format!(
                "{} ({} ans)",
                b.format("%d/%m/%Y"),
                domain::person::age_on(b, today)
            ),
        ));
    }
    if let Some(s) = p.sex.as_deref() {
        rows.push((
            "Sexe",
            Sex::from_code(s).map_or("?", Sex::label).to_string(),
        ));
    }
    if p.status >= FunnelStatus::EnAccompagnement {
        rows.push(("Parent isolé", yn(p.single_parent)));
        rows.push((
            "Enfants de moins de 12 ans",
            p.children_under_12
                .map_or_else(|| "non renseigné".into(), |n| n.to_string()),
        ));
        let ft = match (p.ft_registered, p.ft_since.as_deref()) {
            (Some(true), Some(since)) => format!(
                "oui, depuis le {}{}",
                date_fr(since),
                if app::persons::is_deld(p, today) {
                    " (demandeur d'emploi de longue durée)"
                } else {
                    ""
                }
            ),
            (r, _) => yn(r),
        };
        rows.push(("Inscrit à France Travail", ft));
        rows.push(("Bénéficiaire du RSA", yn(p.brsa)));
        rows.push(("CEJ ou PACEA", yn(p.cej_pacea)));
        rows.push((
            "Niveau de qualification",
            p.qualification
                .as_deref()
                .and_then(QualificationLevel::from_code)
                .map_or_else(|| "non renseigné".into(), |q| q.label().to_string()),
        ));
        rows.push((
            "Langues",
            if p.languages.is_empty() {
                "non renseigné".into()
            } else {
                p.languages.clone()
            },
        ));
        rows.push(("Permis de conduire", yn(p.driving_licence)));
        rows.push(("Véhicule", yn(p.vehicle)));
        if let Some(born) = p.criteria.youngest_child_born_on.as_deref() {
            rows.push(("Plus jeune enfant né le", date_fr(born)));
        }
        // The eligibility facts, when known (the blanks are named by the rules that need them).
        for ((_, label), value) in app::persons::CRITERIA.iter().zip(p.criteria.flags()) {
            if value.is_some() {
                rows.push((label, yn(value)));
            }
        }
    }
    if rows.is_empty() {
        return None;
    }
    Some(SituationPanel { rows }.render())
}
