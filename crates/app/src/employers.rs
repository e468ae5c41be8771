//! Employers (docs/domain.md §11): the companies of the territory (SIRET checked, sector by
//! NAF code, commune, contact), their engagement over time — parrainage, immersion, job
//! dating, recrutement, visite, club d'entreprises —, the actions they took part in, the persons
//! they met, hosted or hired, and their job offers matched to the people of the territory by
//! target job (ROME code of the diagnostic) and place.

use domain::diagnostic::RomeCode;
use domain::employer::{Engagement, NafCode, OfferStatus, sector};
use domain::person::FileEvent;
use domain::{EmployerId, InseeCode, OfferId, PersonId, Siret, TerritoryId};
use serde::Deserialize;
use store::employers::{
    EmployerRow, EngagementRow, NewEmployer, NewEngagement, NewOffer, OfferRow,
};

use crate::{App, AppError, Caller, FieldErrors};

pub fn path(id: EmployerId) -> String {
    format!("/employeurs/{}", id.0)
}

fn territory_of(caller: &Caller) -> Result<TerritoryId, AppError> {
    let t = caller
        .active_territory
        .as_ref()
        .ok_or(AppError::NotFound)?
        .id;
    if crate::persons::may_record(caller, t) {
        Ok(t)
    } else {
        Err(AppError::Forbidden)
    }
}

async fn load(app: &App, caller: &Caller, id: EmployerId) -> Result<EmployerRow, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    store::employers::get(&mut pooled.conn(), id)
        .await?
        .filter(|e| e.territory_id == t)
        .ok_or(AppError::NotFound)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EmployerInput {
    pub siret: String,
    pub name: String,
    pub naf: String,
    /// An INSEE code or a commune's name.
    pub commune: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub notes: String,
}

fn short(errors: &mut FieldErrors, field: &'static str, value: &str, max: usize) -> String {
    let value = value.trim();
    if value.chars().count() > max {
        errors.add(
            field,
            format!("Ce texte est trop long ({max} caractères au plus)."),
        );
    }
    value.to_string()
}

/// A commune by its INSEE code or its name, in the official referential.
fn commune(
    app: &App,
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
) -> Option<(String, String)> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Ok(code) = InseeCode::parse(value)
        && let Some(c) = app.referential.commune(&code)
    {
        return Some((c.code.to_string(), c.name.clone()));
    }
    let found = app.referential.search_communes(value, 5);
    let folded = domain::text::fold(value);
    if let Some(c) = found
        .iter()
        .find(|c| domain::text::fold(&c.name) == folded)
        .or(if found.len() == 1 {
            found.first()
        } else {
            None
        })
    {
        return Some((c.code.to_string(), c.name.clone()));
    }
    errors.add(
        field,
        if found.is_empty() {
            format!("Aucune commune ne s'appelle « {value} » : indiquez son nom ou son code INSEE.")
        } else {
            format!(
                "Plusieurs communes répondent à « {value} » ({}) : précisez, ou indiquez le code INSEE.",
                found.iter().map(|c| c.display_name()).collect::<Vec<_>>().join(", ")
            )
        },
    );
    None
}

pub async fn create(
    app: &App,
    caller: &Caller,
    input: &EmployerInput,
) -> Result<EmployerId, AppError> {
    let t = territory_of(caller)?;
    let mut errors = FieldErrors::default();
    let siret = errors.check("siret", Siret::parse(&input.siret));
    let name = short(&mut errors, "name", &input.name, 200);
    if name.is_empty() {
        errors.add("name", "Indiquez la raison sociale ou l'enseigne.");
    }
    let naf = match input.naf.trim() {
        "" => None,
        n => errors.check("naf", NafCode::parse(n)),
    };
    let place = commune(app, &mut errors, "commune", &input.commune);
    let contact_name = short(&mut errors, "contact_name", &input.contact_name, 200);
    let contact_email = match input.contact_email.trim() {
        "" => String::new(),
        e => errors
            .check("contact_email", domain::Email::parse(e))
            .map(|e| e.as_str().to_string())
            .unwrap_or_default(),
    };
    let contact_phone = short(&mut errors, "contact_phone", &input.contact_phone, 40);
    let notes = short(&mut errors, "notes", &input.notes, 4_000);
    let Some(siret) = siret else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let created = store::employers::create(
        &mut tx.conn(),
        &NewEmployer {
            territory: t,
            siret: siret.as_str(),
            name: &name,
            naf: naf.as_ref().map_or("", NafCode::as_str),
            commune_insee: place.as_ref().map(|(c, _)| c.as_str()),
            commune_name: place.as_ref().map_or("", |(_, n)| n.as_str()),
            contact_name: &contact_name,
            contact_email: &contact_email,
            contact_phone: &contact_phone,
            notes: &notes,
            created_by: caller.user_id,
        },
        now,
    )
    .await;
    let id = match created {
        Err(store::StoreError::Conflict) => {
            return Err(AppError::field(
                "siret",
                format!(
                    "Un employeur du territoire a déjà le SIRET {} : retrouvez-le dans la liste.",
                    siret.as_str()
                ),
            ));
        }
        other => other?,
    };
    caller
        .audit(
            &mut tx.conn(),
            now,
            "employer_created",
            ("employer", Some(id.0)),
            Some(t),
            &format!("employeur « {name} » ({})", siret.as_str()),
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn list(app: &App, caller: &Caller, search: &str) -> Result<Vec<EmployerRow>, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    let search: String = search.trim().chars().take(100).collect();
    Ok(store::employers::list(&mut pooled.conn(), t, Some(&search)).await?)
}

/// A person the employer met, as the page names them (or counts them).
#[derive(Debug, Clone)]
pub struct Met {
    pub person: PersonId,
    pub name: String,
    /// What linked them: an engagement's kind, « action » (attended with it), « embauche ».
    pub how: Vec<String>,
}

pub struct EmployerPage {
    pub employer: EmployerRow,
    pub sector: Option<String>,
    pub engagements: Vec<EngagementRow>,
    pub offers: Vec<OfferRow>,
    pub actions: Vec<store::actions::ActionRow>,
    pub met: Vec<Met>,
    /// Persons met, hosted or hired whom the caller may not see.
    pub hidden: usize,
}

pub async fn page(app: &App, caller: &Caller, id: EmployerId) -> Result<EmployerPage, AppError> {
    let employer = load(app, caller, id).await?;
    let scope = crate::persons::scope(caller)?;
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let engagements = store::employers::engagements(c, id).await?;
    let offers = store::employers::offers(c, id).await?;
    let actions = store::actions::list(c, employer.territory_id, None, Some(id)).await?;
    let links = store::employers::persons_met(c, id).await?;
    let mut ids: Vec<PersonId> = links.iter().map(|(p, _)| PersonId(*p)).collect();
    ids.sort();
    ids.dedup();
    let names = store::persons::names_in_scope(c, &scope, &ids).await?;
    let met: Vec<Met> = names
        .iter()
        .map(|(p, name, _)| Met {
            person: *p,
            name: name.clone(),
            how: links
                .iter()
                .filter(|(q, _)| *q == p.0)
                .map(|(_, how)| match Engagement::from_code(how) {
                    Some(e) => e.label().to_string(),
                    None if how == "embauche" => "Embauche (sortie vers cet employeur)".to_string(),
                    None => "Rencontré lors d'une action collective".to_string(),
                })
                .collect(),
        })
        .collect();
    let shown: Vec<i64> = met.iter().map(|m| m.person.0).collect();
    crate::persons::shown_in_list(
        app,
        caller,
        &scope,
        &shown,
        &format!("employeur n° {}", id.0),
        c,
    )
    .await?;
    Ok(EmployerPage {
        sector: (!employer.naf.is_empty())
            .then(|| sector(&employer.naf[..2.min(employer.naf.len())]).to_string()),
        hidden: ids.len() - met.len(),
        employer,
        engagements,
        offers,
        actions,
        met,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EngagementInput {
    pub kind: String,
    pub on: String,
    /// A person the engagement concerns (an immersion hosted, a recruitment), optional.
    pub person: String,
    pub note: String,
}

pub async fn engage(
    app: &App,
    caller: &Caller,
    id: EmployerId,
    input: &EngagementInput,
) -> Result<(), AppError> {
    let employer = load(app, caller, id).await?;
    let today = app.today_in(caller.zone());
    let mut errors = FieldErrors::default();
    let kind = errors.check("kind", Engagement::parse(&input.kind));
    let on = crate::persons::past_date(&mut errors, "on", &input.on, today);
    let note = short(&mut errors, "note", &input.note, 2_000);
    let scope = crate::persons::scope(caller)?;
    let mut tx = app.db.begin_write().await?;
    let person = match input.person.trim() {
        "" => None,
        p => {
            let wanted: Vec<PersonId> = p.parse::<i64>().ok().map(PersonId).into_iter().collect();
            let visible = store::persons::visible(&mut tx.conn(), &scope, &wanted).await?;
            if visible.is_empty() {
                errors.add(
                    "person",
                    "Cette personne est introuvable parmi vos dossiers.",
                );
            }
            visible.first().copied()
        }
    };
    let (Some(kind), Some(on)) = (kind, on) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    store::employers::engage(
        &mut tx.conn(),
        &NewEngagement {
            employer: id,
            kind,
            on,
            action: None,
            person,
            note: &note,
            by: caller.user_id,
        },
        now,
    )
    .await?;
    match person {
        Some(p) => {
            caller
                .audit(
                    &mut tx.conn(),
                    now,
                    FileEvent::Update.as_str(),
                    ("person", Some(p.0)),
                    Some(employer.territory_id),
                    &format!("{} chez « {} »", kind.label(), employer.name),
                )
                .await?
        }
        None => {
            caller
                .audit(
                    &mut tx.conn(),
                    now,
                    "employer_engagement",
                    ("employer", Some(id.0)),
                    Some(employer.territory_id),
                    kind.label(),
                )
                .await?
        }
    }
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OfferInput {
    pub title: String,
    pub rome_code: String,
    pub commune: String,
    pub positions: String,
    pub description: String,
}

pub async fn add_offer(
    app: &App,
    caller: &Caller,
    id: EmployerId,
    input: &OfferInput,
) -> Result<OfferId, AppError> {
    let employer = load(app, caller, id).await?;
    let today = app.today_in(caller.zone());
    let mut errors = FieldErrors::default();
    let title = short(&mut errors, "title", &input.title, 200);
    if title.is_empty() {
        errors.add("title", "Indiquez l'intitulé du poste.");
    }
    let rome = errors.check("rome_code", RomeCode::parse(&input.rome_code));
    let place = match input.commune.trim() {
        "" => employer
            .commune_insee
            .clone()
            .map(|c| (c, employer.commune_name.clone())),
        v => commune(app, &mut errors, "commune", v),
    };
    let positions =
        crate::cohorts::number(&mut errors, "positions", &input.positions, 1..=1_000).unwrap_or(1);
    let description = short(&mut errors, "description", &input.description, 4_000);
    let Some(rome) = rome else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let offer = store::employers::add_offer(
        &mut tx.conn(),
        &NewOffer {
            employer: id,
            territory: employer.territory_id,
            title: &title,
            rome_code: rome.as_str(),
            commune_insee: place.as_ref().map(|(c, _)| c.as_str()),
            positions,
            description: &description,
            opened_on: today,
            by: caller.user_id,
        },
        now,
    )
    .await?;
    store::employers::engage(
        &mut tx.conn(),
        &NewEngagement {
            employer: id,
            kind: Engagement::Recrutement,
            on: today,
            action: None,
            person: None,
            note: &format!("besoin de recrutement : {title}"),
            by: caller.user_id,
        },
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "job_offer_created",
            ("employer", Some(id.0)),
            Some(employer.territory_id),
            &format!("offre « {title} » ({})", rome.as_str()),
        )
        .await?;
    tx.commit().await?;
    Ok(offer)
}

pub async fn set_offer_status(
    app: &App,
    caller: &Caller,
    id: EmployerId,
    offer: OfferId,
    status: &str,
) -> Result<(), AppError> {
    let employer = load(app, caller, id).await?;
    let status = OfferStatus::parse(status).map_err(|e| AppError::field("status", e.0))?;
    let mut tx = app.db.begin_write().await?;
    if !store::employers::set_offer_status(&mut tx.conn(), offer, id, status).await? {
        return Err(AppError::NotFound);
    }
    caller
        .audit(
            &mut tx.conn(),
            app.now(),
            "job_offer_status",
            ("employer", Some(id.0)),
            Some(employer.territory_id),
            &format!("offre n° {} : {}", offer.0, status.label()),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The persons of the caller's scope an offer fits: the job they aim at (their last signed
/// diagnostic), nearest first (same commune).
pub struct OfferMatches {
    pub employer: EmployerRow,
    pub offer: OfferRow,
    pub rome: String,
    pub persons: Vec<(PersonId, String, bool)>,
}

pub async fn matches(
    app: &App,
    caller: &Caller,
    id: EmployerId,
    offer: OfferId,
) -> Result<OfferMatches, AppError> {
    let employer = load(app, caller, id).await?;
    let scope = crate::persons::scope(caller)?;
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let offer = store::employers::offers(c, id)
        .await?
        .into_iter()
        .find(|o| o.id == offer)
        .ok_or(AppError::NotFound)?;
    let rows =
        store::employers::matches(c, &scope, &offer.rome_code, offer.commune_insee.as_deref())
            .await?;
    let ids: Vec<PersonId> = rows.iter().map(|r| PersonId(r.person_id)).collect();
    let names = store::persons::names_in_scope(c, &scope, &ids).await?;
    let persons: Vec<(PersonId, String, bool)> = rows
        .iter()
        .filter_map(|r| {
            names
                .iter()
                .find(|(p, _, _)| p.0 == r.person_id)
                .map(|(p, n, _)| (*p, n.clone(), r.same_commune))
        })
        .collect();
    let shown: Vec<i64> = persons.iter().map(|(p, _, _)| p.0).collect();
    crate::persons::shown_in_list(
        app,
        caller,
        &scope,
        &shown,
        &format!("rapprochement de l'offre n° {}", offer.id.0),
        c,
    )
    .await?;
    Ok(OfferMatches {
        rome: RomeCode::stored(offer.rome_code.clone()).display(),
        employer,
        offer,
        persons,
    })
}

/// The employers of the territory, for a select (exits, checks).
pub async fn options(app: &App, territory: TerritoryId) -> Result<Vec<(String, String)>, AppError> {
    let mut pooled = app.db.acquire().await?;
    Ok(store::employers::list(&mut pooled.conn(), territory, None)
        .await?
        .into_iter()
        .map(|e| (e.id.0.to_string(), format!("{} ({})", e.name, e.siret)))
        .collect())
}
