//! Creating and editing territorial programmes (national administrators).

use chrono::NaiveDate;
use domain::{EpciCode, InseeCode, Label, Slug, TerritoryId, TerritoryStatus, TimeZone};
use store::territories::{Territory, TerritoryData};
use territory::{CommuneKind, Referential};

use crate::{App, AppError, Caller, FieldErrors};

/// The territory form as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct TerritoryInput {
    pub name: String,
    pub slug: String,
    pub status: String,
    pub epci: String,
    /// INSEE codes separated by spaces, commas or line breaks.
    pub communes: String,
    pub co_pilots: String,
    pub starts_on: String,
    pub ends_on: String,
    /// A zone of the tz database (`Indian/Reunion`…); empty: the zone of the communes'
    /// département.
    pub time_zone: String,
}

impl TerritoryInput {
    pub fn from_territory(t: &Territory, communes: &[String]) -> TerritoryInput {
        TerritoryInput {
            name: t.name.clone(),
            slug: t.slug.clone(),
            status: t.status.clone(),
            epci: t.epci_siren.clone().unwrap_or_default(),
            communes: communes.join(" "),
            co_pilots: t.co_pilots.clone(),
            starts_on: t.starts_on.map(|d| d.to_string()).unwrap_or_default(),
            ends_on: t.ends_on.map(|d| d.to_string()).unwrap_or_default(),
            time_zone: t.time_zone.clone(),
        }
    }

    /// Validates against the COG: every commune must exist; with an EPCI and no commune, the
    /// territory covers all the EPCI's communes.
    pub fn validate(&self, referential: &Referential) -> Result<TerritoryData, AppError> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            "name",
            Label::parse(&self.name, "le nom du territoire", 150),
        );
        let slug_text = if self.slug.trim().is_empty() {
            Slug::suggest(&self.name)
        } else {
            self.slug.clone()
        };
        let slug = errors.check("slug", Slug::parse(&slug_text));
        let status = TerritoryStatus::from_code(self.status.trim());
        if status.is_none() {
            errors.add("status", "Choisissez un statut dans la liste.");
        }
        let epci = match self.epci.trim() {
            "" => None,
            text => match EpciCode::parse(text) {
                Ok(code) if referential.epci(&code).is_some() => Some(code),
                Ok(code) => {
                    errors.add(
                        "epci",
                        format!(
                            "Aucun EPCI n'a le SIREN {code} dans le Code officiel géographique."
                        ),
                    );
                    None
                }
                Err(e) => {
                    errors.add("epci", e.0);
                    None
                }
            },
        };
        let mut communes = Vec::new();
        let mut unknown = Vec::new();
        let mut ambiguous = Vec::new();
        for token in commune_tokens(&self.communes) {
            let found = match InseeCode::parse(&token) {
                Ok(code) => referential.commune(&code).ok_or(()),
                Err(_) => match communes_named(referential, &token) {
                    Named::One(c) => Ok(c),
                    Named::Several(candidates) => {
                        ambiguous.push(format!("« {token} » ({})", candidates.join(", ")));
                        continue;
                    }
                    Named::None => Err(()),
                },
            };
            match found {
                Ok(c) if matches!(c.kind, CommuneKind::Current | CommuneKind::Arrondissement) => {
                    if !communes.contains(&c.code) {
                        communes.push(c.code.clone())
                    }
                }
                Ok(c) => unknown.push(format!(
                    "{token} (ancienne commune {}, rattachée à {})",
                    c.name,
                    c.parent.as_ref().map(InseeCode::as_str).unwrap_or("?")
                )),
                Err(()) => unknown.push(token.to_string()),
            }
        }
        if !ambiguous.is_empty() {
            errors.add(
                "communes",
                format!(
                    "Plusieurs communes portent ce nom, précisez le département, par exemple « Saint-Denis (93) » : {}.",
                    ambiguous.join(" ; ")
                ),
            );
        }
        if !unknown.is_empty() {
            errors.add(
                "communes",
                format!("Communes inconnues ou périmées : {}.", unknown.join(", ")),
            );
        } else if communes.is_empty() && ambiguous.is_empty() {
            match &epci {
                Some(code) => communes = referential.epci_members(code).iter().map(|c| c.code.clone()).collect(),
                None => errors.add("communes", "Indiquez au moins une commune (code INSEE), ou un EPCI pour reprendre toutes ses communes."),
            }
        }
        let co_pilots = errors.check(
            "co_pilots",
            optional_text(&self.co_pilots, "les co-pilotes", 500),
        );
        let starts_on = errors.check("starts_on", optional_date(&self.starts_on));
        let ends_on = errors.check("ends_on", optional_date(&self.ends_on));
        if let (Some(Some(start)), Some(Some(end))) = (starts_on, ends_on)
            && end < start
        {
            errors.add(
                "ends_on",
                "La date de fin doit être postérieure à la date de début.",
            );
        }
        let time_zone = match self.time_zone.trim() {
            "" => communes
                .first()
                .map(|c| TimeZone::of_departement(c.departement()))
                .unwrap_or_default(),
            zone => errors
                .check("time_zone", TimeZone::parse(zone))
                .unwrap_or_default(),
        };
        errors.into_result(|| {
            Some(TerritoryData {
                slug: slug?,
                name: name?.to_string(),
                status: status?,
                epci,
                co_pilots: co_pilots?,
                starts_on: starts_on?,
                ends_on: ends_on?,
                communes,
                time_zone,
            })
        })
    }
}

/// The communes typed in the form: INSEE codes separated by spaces, or names (with their
/// département in brackets when needed) separated by commas, semicolons or line breaks.
fn commune_tokens(text: &str) -> Vec<String> {
    text.split([',', ';', '\n'])
        .flat_map(|item| {
            let item = item.trim();
            // « 59392 59343 »: codes separated by spaces.
            if item.split_whitespace().all(|w| {
                w.chars().all(|c| c.is_ascii_alphanumeric())
                    && w.chars().any(|c| c.is_ascii_digit())
            }) {
                item.split_whitespace().map(str::to_string).collect()
            } else {
                vec![item.to_string()]
            }
        })
        .filter(|t| !t.is_empty())
        .collect()
}

enum Named<'r> {
    One(&'r territory::Commune),
    Several(Vec<String>),
    None,
}

/// The current commune called so (accents and case ignored), « Nom (dép.) » to choose.
fn communes_named<'r>(referential: &'r Referential, token: &str) -> Named<'r> {
    let (name, departement) = match token.rsplit_once('(') {
        Some((n, d)) => (n.trim(), Some(d.trim_end_matches(')').trim())),
        None => (token, None),
    };
    let folded = domain::text::fold(name);
    let matching: Vec<&territory::Commune> = referential
        .search_communes(name, 200)
        .into_iter()
        .filter(|c| domain::text::fold(&c.name) == folded)
        .filter(|c| departement.is_none_or(|d| c.departement == d))
        .collect();
    match matching.as_slice() {
        [] => Named::None,
        [one] => Named::One(one),
        several => Named::Several(several.iter().map(|c| c.display_name()).collect()),
    }
}

pub(crate) fn optional_text(
    input: &str,
    what: &str,
    max: usize,
) -> Result<String, domain::Invalid> {
    if input.trim().is_empty() {
        Ok(String::new())
    } else {
        Label::parse(input, what, max).map(|l| l.to_string())
    }
}

fn optional_date(input: &str) -> Result<Option<NaiveDate>, domain::Invalid> {
    let text = input.trim();
    if text.is_empty() {
        return Ok(None);
    }
    domain::parse_date(text).map(Some)
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<Territory>, AppError> {
    caller.require_admin()?;
    let mut pooled = app.db.acquire().await?;
    Ok(store::territories::list(&mut pooled.conn()).await?)
}

/// A territory and its communes, for its edit form.
pub async fn for_edit(
    app: &App,
    caller: &Caller,
    id: TerritoryId,
) -> Result<(Territory, Vec<String>), AppError> {
    caller.require_admin()?;
    let mut pooled = app.db.acquire().await?;
    let territory = store::territories::by_id(&mut pooled.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let communes = store::territories::communes(&mut pooled.conn(), id).await?;
    Ok((territory, communes))
}

pub async fn create(
    app: &App,
    caller: &Caller,
    input: &TerritoryInput,
) -> Result<TerritoryId, AppError> {
    caller.require_admin()?;
    let data = input.validate(app.referential)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let id = store::territories::create(&mut tx.conn(), &data, now)
        .await
        .map_err(slug_taken)?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "territory_created",
            ("territory", Some(id.0)),
            Some(id),
            &data.name,
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(
    app: &App,
    caller: &Caller,
    id: TerritoryId,
    input: &TerritoryInput,
) -> Result<(), AppError> {
    caller.require_admin()?;
    let data = input.validate(app.referential)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::territories::by_id(&mut tx.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    store::territories::update(&mut tx.conn(), id, &data, now)
        .await
        .map_err(slug_taken)?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "territory_updated",
            ("territory", Some(id.0)),
            Some(id),
            &data.name,
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

fn slug_taken(e: store::StoreError) -> AppError {
    match e {
        store::StoreError::Conflict => AppError::field(
            "slug",
            "Cet identifiant court est déjà celui d'un autre territoire.",
        ),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> TerritoryInput {
        TerritoryInput {
            name: "Cité de l'emploi de Maubeuge".into(),
            status: "active".into(),
            communes: "59392, 59343".into(),
            starts_on: "01/01/2024".into(),
            ..TerritoryInput::default()
        }
    }

    #[test]
    fn a_valid_territory_gets_a_suggested_slug_and_its_communes() {
        let data = input().validate(Referential::official()).expect("valid");
        assert_eq!(data.slug.as_str(), "cite-de-l-emploi-de-maubeuge");
        assert_eq!(data.communes.len(), 2);
        assert_eq!(data.starts_on, NaiveDate::from_ymd_opt(2024, 1, 1));
    }

    #[test]
    fn unknown_communes_and_reversed_dates_are_reported_on_their_fields() {
        let mut bad = input();
        bad.communes = "59392 99999 5939".into();
        bad.starts_on = "2025-01-01".into();
        bad.ends_on = "2024-01-01".into();
        bad.status = "autre".into();
        let Err(AppError::Invalid(errors)) = bad.validate(Referential::official()) else {
            panic!("must be refused")
        };
        assert!(
            errors
                .get("communes")
                .expect("communes error")
                .contains("99999, 5939")
        );
        assert!(errors.get("ends_on").is_some());
        assert!(errors.get("status").is_some());
        assert!(errors.get("name").is_none());
    }

    #[test]
    fn communes_may_be_chosen_by_name_with_their_departement_when_needed() {
        let mut named = input();
        named.communes = "Maubeuge, louvroil".into();
        let data = named.validate(Referential::official()).expect("valid");
        let codes: Vec<&str> = data.communes.iter().map(InseeCode::as_str).collect();
        assert_eq!(codes, vec!["59392", "59365"]);
        named.communes = "Saint-Denis".into();
        let Err(AppError::Invalid(errors)) = named.validate(Referential::official()) else {
            panic!("ambiguous")
        };
        let message = errors.get("communes").expect("communes error");
        assert!(
            message.contains("(93)") && message.contains("(974)"),
            "{message}"
        );
        named.communes = "Saint-Denis (974)".into();
        let data = named.validate(Referential::official()).expect("valid");
        assert_eq!(data.communes[0].as_str(), "97411");
        assert_eq!(
            data.time_zone,
            domain::TimeZone::Reunion,
            "the zone of La Réunion"
        );
    }

    #[test]
    fn an_epci_alone_brings_all_its_communes() {
        let mut only_epci = input();
        only_epci.communes.clear();
        only_epci.epci = "200043396".into();
        let data = only_epci.validate(Referential::official()).expect("valid");
        assert!(data.communes.len() > 10, "{}", data.communes.len());
    }
}
