//! Person files: repérage, the funnel, consent, the follow-up group, the journal, the caseload
//! and duplicates — one file per part, each use case reading the typed form of its page and
//! answering per-field French errors. Need-to-know lives in [`access`] alone: reads go through
//! [`access::read`], writes through [`access::FileWrite`] (check, write and one audit row in one
//! transaction), lists through `store::persons::Scope`. See `docs/design.md` and
//! `docs/adding-a-feature.md`.

mod access;
mod access_log;
mod caseload;
mod file;
mod funnel;
mod group;
mod health;
mod identity;
pub mod import;
mod journal;
mod merge;
pub(crate) mod outreach;
pub mod rights;
mod situation;

use chrono::{Duration, NaiveDate};
use domain::person::Phone;
use domain::{Email, Field, PostalCode};

use crate::{App, FieldErrors};

pub use access::{Capabilities, Sight, may_record, read, scope};
pub(crate) use access::{FileWrite, organisation_in, read_receiving};
pub use access_log::{
    ACCESS_PAGE, AccessLog, AccessLogInput, SUSPICIOUS_ATTEMPTS, access_log, detail,
    territory_access_log,
};
pub(crate) use caseload::shown_in_list;
pub use caseload::{
    CASELOAD_PAGE, Caseload, CaseloadInput, EXPORT_MAX, caseload, caseload_export, rank_names,
};
pub use file::{Barriers, PersonFile, file};
pub use funnel::{EntryInput, enter_accompaniment, set_status};
pub use group::{
    BULK_MAX, add_member, assign_referent, change_referent, end_member, partners, revoke_consent,
    team,
};
pub(crate) use group::{team_choices, team_in};
pub use health::{HealthInput, set_health};
pub use identity::update;
pub use journal::{EntryForm, add_entry};
pub use merge::merge;
pub use outreach::{DECLARED, Duplicate, OutreachInput, Recorded, duplicates_of, record};
pub use situation::{CRITERIA, SituationInput, is_deld};

// ---------------------------------------------------------------------------------------------
// What several forms of the file share

/// A date typed in a form (JJ/MM/AAAA or AAAA-MM-JJ), not in the future.
pub(crate) fn past_date(
    errors: &mut FieldErrors,
    field: &'static str,
    input: &str,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let input = input.trim();
    if input.is_empty() {
        errors.add(field, "Indiquez la date.");
        return None;
    }
    match domain::parse_date(input) {
        Ok(d) if d > today => {
            errors.add(field, "La date est dans le futur.");
            None
        }
        Ok(d) if d < today - Duration::days(366 * 5) => {
            errors.add(field, "La date a plus de cinq ans : vérifiez l'année.");
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            errors.add(field, e.0);
            None
        }
    }
}

pub(crate) struct Contact {
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub commune: Option<String>,
}

pub(crate) fn contact(app: &App, errors: &mut FieldErrors, input: &OutreachInput) -> Contact {
    let (phone, email, address, postal_code, commune) = (
        input.phone.as_str(),
        input.email.as_str(),
        input.address.as_str(),
        input.postal_code.as_str(),
        input.commune.as_str(),
    );
    let phone = match phone.trim() {
        "" => None,
        p => errors
            .check("phone", Phone::parse(p))
            .map(|p| p.as_str().to_string()),
    };
    let email = match email.trim() {
        "" => None,
        e => errors
            .check("email", Email::parse(e))
            .map(|e| e.as_str().to_string()),
    };
    let commune = if postal_code.trim().is_empty() {
        if !commune.trim().is_empty() {
            errors.add("postal_code", "Indiquez le code postal de la commune.");
        }
        None
    } else {
        match PostalCode::parse(postal_code) {
            Ok(p) => match crate::organisations::resolve_commune(app.referential, &p, commune) {
                Ok(code) => Some(code.as_str().to_string()),
                Err(e) => {
                    errors.add("commune", e);
                    None
                }
            },
            Err(e) => {
                errors.add("postal_code", e.0);
                None
            }
        }
    };
    Contact {
        phone,
        email,
        address: address.trim().to_string(),
        postal_code: postal_code.trim().to_string(),
        commune,
    }
}

/// The needs ticked, as the group may see them, and whether « Santé / handicap » was among
/// them (that one is health data: it goes behind the health gate, not in the list).
pub(crate) fn need_fields(errors: &mut FieldErrors, values: &[String]) -> (Vec<Field>, bool) {
    let mut fields = Vec::new();
    let mut health = false;
    for v in values {
        match Field::parse(v) {
            Ok(Field::SanteHandicap) => health = true,
            Ok(f) => fields.push(f),
            Err(_) => errors.add("need_fields", "Choisissez parmi les huit champs d'action."),
        }
    }
    fields.sort();
    fields.dedup();
    (fields, health)
}

pub(crate) fn yes_no(errors: &mut FieldErrors, field: &'static str, value: &str) -> Option<bool> {
    match value {
        "oui" => Some(true),
        "non" => Some(false),
        "" => None,
        _ => {
            errors.add(field, "Répondez par oui ou non.");
            None
        }
    }
}
