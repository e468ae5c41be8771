//! Organisations: created by administrators anywhere, or by a coordinator for their territory
//! (then added to it as a partner at once).

use domain::{InseeCode, Label, OrganisationId, OrganisationKind, PostalCode, Siret, text::fold};
use store::organisations::{Organisation, OrganisationData};
use territory::{CommuneKind, Referential};

use crate::{App, AppError, Caller, FieldErrors};

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct OrganisationInput {
    pub name: String,
    pub kind: String,
    pub siret: String,
    pub address: String,
    pub postal_code: String,
    /// The commune's name (or INSEE code); may stay empty when the postal code serves one commune.
    pub commune: String,
}

impl OrganisationInput {
    pub fn from_organisation(o: &Organisation, referential: &Referential) -> OrganisationInput {
        let commune = InseeCode::parse(&o.commune_insee)
            .ok()
            .and_then(|c| referential.commune(&c).map(|c| c.name.clone()))
            .unwrap_or_else(|| o.commune_insee.clone());
        OrganisationInput {
            name: o.name.clone(),
            kind: o.kind.clone(),
            siret: o.siret.clone().unwrap_or_default(),
            address: o.address.clone(),
            postal_code: o.postal_code.clone(),
            commune,
        }
    }

    pub fn validate(&self, referential: &Referential) -> Result<OrganisationData, AppError> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            "name",
            Label::parse(&self.name, "le nom de la structure", 200),
        );
        let kind = OrganisationKind::from_code(self.kind.trim());
        if kind.is_none() {
            errors.add("kind", "Choisissez un type de structure dans la liste.");
        }
        let siret = match self.siret.trim() {
            "" => Some(None),
            text => errors.check("siret", Siret::parse(text)).map(Some),
        };
        let address = errors.check(
            "address",
            crate::territories::optional_text(&self.address, "l'adresse", 300),
        );
        let postal_code = errors.check("postal_code", PostalCode::parse(&self.postal_code));
        let commune = postal_code.as_ref().and_then(|pc| {
            match resolve_commune(referential, pc, &self.commune) {
                Ok(code) => Some(code),
                Err(message) => {
                    errors.add("commune", message);
                    None
                }
            }
        });
        errors.into_result(|| {
            Some(OrganisationData {
                name: name?.to_string(),
                kind: kind?,
                siret: siret?,
                address: address?,
                postal_code: postal_code?.to_string(),
                commune_insee: commune?,
            })
        })
    }
}

/// Finds the commune meant by a postal code and a name (accents and case ignored) or an INSEE code.
pub fn resolve_commune(
    referential: &Referential,
    postal_code: &PostalCode,
    commune: &str,
) -> Result<InseeCode, String> {
    let candidates: Vec<_> = referential
        .communes_by_postal_code(postal_code)
        .into_iter()
        .filter(|c| matches!(c.kind, CommuneKind::Current | CommuneKind::Arrondissement))
        .collect();
    if candidates.is_empty() {
        return Err(format!("Aucune commune n'a le code postal {postal_code}."));
    }
    let wanted = fold(commune.trim());
    let matching: Vec<_> = if wanted.is_empty() {
        candidates.clone()
    } else {
        candidates
            .iter()
            .filter(|c| fold(&c.name) == wanted || c.code.as_str() == commune.trim().to_uppercase())
            .copied()
            .collect()
    };
    match matching.as_slice() {
        [one] => Ok(one.code.clone()),
        _ => {
            let names: Vec<_> = candidates.iter().map(|c| c.name.as_str()).collect();
            Err(if wanted.is_empty() {
                format!(
                    "Le code postal {postal_code} dessert plusieurs communes : précisez laquelle ({}).",
                    names.join(", ")
                )
            } else {
                format!(
                    "« {} » n'est pas desservie par le code postal {postal_code}, qui couvre : {}.",
                    commune.trim(),
                    names.join(", ")
                )
            })
        }
    }
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<Organisation>, AppError> {
    caller.require_admin()?;
    let mut pooled = app.db.acquire().await?;
    Ok(store::organisations::list(&mut pooled.conn()).await?)
}

pub async fn get(app: &App, caller: &Caller, id: OrganisationId) -> Result<Organisation, AppError> {
    caller.require_admin()?;
    let mut pooled = app.db.acquire().await?;
    store::organisations::by_id(&mut pooled.conn(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Creates an organisation. A coordinator creates it for the given territory, which it joins.
pub async fn create(
    app: &App,
    caller: &Caller,
    input: &OrganisationInput,
    for_territory: Option<&str>,
) -> Result<OrganisationId, AppError> {
    let territory = match for_territory {
        Some(slug) => {
            let t = caller.territory(slug)?;
            if !caller.coordinates(t.id) {
                return Err(AppError::Forbidden);
            }
            Some(t.id)
        }
        None => {
            caller.require_admin()?;
            None
        }
    };
    let data = input.validate(app.referential)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let id = store::organisations::create(&mut tx.conn(), &data, now)
        .await
        .map_err(siret_taken)?;
    if let Some(t) = territory {
        store::territories::add_partner(&mut tx.conn(), t, id, Some(caller.user_id), now).await?;
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "organisation_created",
            ("organisation", Some(id.0)),
            territory,
            &data.name,
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(
    app: &App,
    caller: &Caller,
    id: OrganisationId,
    input: &OrganisationInput,
) -> Result<(), AppError> {
    caller.require_admin()?;
    let data = input.validate(app.referential)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::organisations::by_id(&mut tx.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    store::organisations::update(&mut tx.conn(), id, &data, now)
        .await
        .map_err(siret_taken)?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "organisation_updated",
            ("organisation", Some(id.0)),
            None,
            &data.name,
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

fn siret_taken(e: store::StoreError) -> AppError {
    match e {
        store::StoreError::Conflict => {
            AppError::field("siret", "Une structure portant ce SIRET existe déjà.")
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pc(s: &str) -> PostalCode {
        PostalCode::parse(s).expect("valid")
    }

    #[test]
    fn a_postal_code_with_several_communes_needs_the_name() {
        let r = Referential::official();
        let err = resolve_commune(r, &pc("59600"), "").expect_err("ambiguous");
        assert!(
            err.contains("plusieurs communes") && err.contains("Maubeuge"),
            "{err}"
        );
        assert_eq!(
            resolve_commune(r, &pc("59600"), "maubeuge")
                .expect("found")
                .as_str(),
            "59392"
        );
        assert!(
            resolve_commune(r, &pc("59600"), "Lille")
                .expect_err("wrong")
                .contains("n'est pas desservie")
        );
        assert!(
            resolve_commune(r, &pc("00000"), "")
                .expect_err("none")
                .contains("Aucune commune")
        );
    }

    #[test]
    fn an_organisation_with_a_bad_siret_reports_the_siret_field_only() {
        let input = OrganisationInput {
            name: "Mission locale".into(),
            kind: "mission_locale".into(),
            siret: "13002526500014".into(),
            postal_code: "59600".into(),
            commune: "Maubeuge".into(),
            ..OrganisationInput::default()
        };
        let Err(AppError::Invalid(errors)) = input.validate(Referential::official()) else {
            panic!("refused")
        };
        assert!(errors.get("siret").is_some());
        assert_eq!(errors.iter().count(), 1);
    }
}
