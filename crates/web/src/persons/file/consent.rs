//! « Consentement »: each consent recorded (purposes, organisations shared with, withdrawal), and
//! its withdrawal for those who manage the group.

use app::models::Consent;
use app::persons::Sight;
use askama::Template;
use domain::person::ConsentMethod;

use super::FileContext;
use crate::forms::date_fr;

struct ConsentView {
    given_on: String,
    method: &'static str,
    purposes: Vec<&'static str>,
    organisations: Vec<String>,
    recorded_by: String,
    revoked: Option<String>,
}

fn consent_view(c: &Consent, names: &[(i64, String)]) -> ConsentView {
    ConsentView {
        given_on: date_fr(&c.given_on),
        method: ConsentMethod::from_code(&c.method).map_or("?", ConsentMethod::label),
        purposes: c.purposes.iter().map(|p| p.label()).collect(),
        organisations: c
            .organisations
            .iter()
            .map(|o| {
                names
                    .iter()
                    .find(|(id, _)| *id == o.0)
                    .map_or_else(|| format!("structure n° {}", o.0), |(_, n)| n.clone())
            })
            .collect(),
        recorded_by: c.recorded_by_name.clone().unwrap_or_default(),
        revoked: c.revoked_at.map(|r| {
            format!(
                "retiré le {} par {}",
                r.format("%d/%m/%Y"),
                c.revoked_by_name.clone().unwrap_or_default()
            )
        }),
    }
}

#[derive(Template)]
#[template(path = "persons/panels/consent.html")]
struct ConsentPanel<'a> {
    id: i64,
    csrf: &'a str,
    consents: Vec<ConsentView>,
    manages: bool,
}

pub(super) fn panel(ctx: &FileContext) -> Option<askama::Result<String>> {
    if ctx.file.access.sight() != Sight::Full {
        return None;
    }
    let names: Vec<(i64, String)> = ctx
        .team
        .iter()
        .filter_map(|m| Some((m.organisation_id?, m.organisation_name.clone()?)))
        .collect();
    Some(
        ConsentPanel {
            id: ctx.id(),
            csrf: ctx.csrf,
            consents: ctx
                .file
                .consents
                .iter()
                .map(|c| consent_view(c, &names))
                .collect(),
            manages: ctx.file.access.manages_group(),
        }
        .render(),
    )
}
