//! « Trouver un relais »: the directory of the services of each territory, in the data·inclusion
//! format. Who may read and write it, how a record becomes searchable, the search itself, the
//! service page with its history, and the thematique → field mapping.
//! Imports and exports of data·inclusion files are in `directory_file`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use domain::inclusion::{Place, Service, Structure, Vocabulary};
use domain::text::fold;
use domain::{Field, InseeCode, OrganisationId, ServiceId, StructureId, TerritoryId};
use serde_json::Value;
use store::directory::{Outcome, ServiceWrite, SpecificOffer, StoredService, StructureWrite};
use store::territories::Territory;

use crate::{App, AppError, Caller, FieldErrors};

mod mapping;
mod search;
mod service;

pub use mapping::*;
pub use search::*;
pub use service::*;

/// Results per page of « Trouver un relais ».
pub const PAGE_SIZE: usize = 20;

/// The source Passerelle writes records under when users create them.
pub const SOURCE: &str = "passerelle";

/// Everyone working in a territory reads its directory.
fn readable(caller: &Caller, territory: TerritoryId) -> Result<(), AppError> {
    if caller.may_enter(territory) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Coordinators edit every service of their territory; professionals those of their own
/// organisation's structures.
pub fn may_edit(caller: &Caller, territory: TerritoryId, organisation: Option<i64>) -> bool {
    caller.coordinates(territory)
        || organisation.is_some_and(|o| {
            caller
                .organisations_in(territory)
                .contains(&OrganisationId(o))
        })
}

fn joined(values: &Option<Vec<String>>) -> String {
    match values {
        Some(v) if !v.is_empty() => format!("|{}|", v.join("|")),
        _ => String::new(),
    }
}

/// The searchable form of a service: its record, and the columns derived from it.
pub(crate) fn service_write(
    structure: (StructureId, &str),
    s: &Service,
) -> Result<ServiceWrite, AppError> {
    let record = serde_json::to_string(s).map_err(|e| AppError::Internal(e.to_string()))?;
    let labels = |v: &Option<Vec<String>>, vocabulary: Vocabulary| {
        v.iter()
            .flatten()
            .filter_map(|value| vocabulary.label(value))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let text = [
        s.nom.as_str(),
        structure.1,
        &s.description,
        s.commune.as_deref().unwrap_or_default(),
        s.conditions_acces.as_deref().unwrap_or_default(),
        s.publics_precisions.as_deref().unwrap_or_default(),
        &labels(&s.thematiques, Vocabulary::Thematique),
        &labels(&s.publics, Vocabulary::Public),
        s.type_
            .as_deref()
            .and_then(|t| Vocabulary::TypeService.label(t))
            .unwrap_or_default(),
    ]
    .join(" ");
    Ok(ServiceWrite {
        structure: structure.0,
        source: s.source.clone(),
        record_id: s.id.clone(),
        record,
        nom: s.nom.clone(),
        kind: s.type_.clone(),
        thematiques: joined(&s.thematiques),
        publics: joined(&s.publics),
        frais: s.frais.clone(),
        modes_accueil: joined(&s.modes_accueil),
        zone: s
            .zone_eligibilite
            .as_ref()
            .map(|z| format!("|{}|", z.join("|"))),
        longitude: s.longitude,
        latitude: s.latitude,
        search_text: fold(&text),
        nom_sort: fold(&s.nom),
        date_maj: s.date_maj.clone(),
    })
}

/// The field-by-field difference between two records, for the history.
pub(crate) fn diff(before: Option<&Value>, after: &Value) -> Vec<Value> {
    let empty = serde_json::Map::new();
    let before = before.and_then(Value::as_object).unwrap_or(&empty);
    let Some(after) = after.as_object() else {
        return Vec::new();
    };
    let shown = |v: Option<&Value>| match v {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Array(items)) => Value::String(
            items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Some(other) => Value::String(other.to_string()),
    };
    after
        .iter()
        .filter(|(k, v)| before.get(*k).unwrap_or(&Value::Null) != *v && *k != "date_maj")
        .map(|(k, v)| serde_json::json!({"champ": k, "avant": shown(before.get(k)), "apres": shown(Some(v))}))
        .collect()
}
