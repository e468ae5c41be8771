//! The service page, its edition (a form of 32 fields) and its history.

use super::*;

#[derive(Debug, Clone)]
pub struct ServicePage {
    pub id: ServiceId,
    pub territory: TerritoryId,
    pub service: Service,
    pub structure: Structure,
    pub fields: Vec<Field>,
    pub offer: Option<SpecificOffer>,
    pub stale: bool,
    pub quality: domain::inclusion::Quality,
    pub may_edit: bool,
    pub updated_at: DateTime<Utc>,
    /// The territory's rules in force (code, name) and whether this service requires each.
    pub rules: Vec<(String, String, bool)>,
    /// Coordinators choose the rules a service requires.
    pub may_set_rules: bool,
}

async fn load(app: &App, caller: &Caller, id: ServiceId) -> Result<StoredService, AppError> {
    let mut pooled = app.db.acquire().await?;
    let stored = store::directory::service(&mut pooled.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    readable(caller, stored.territory_id)?;
    Ok(stored)
}

fn parse<T: serde::de::DeserializeOwned>(record: &str) -> Result<T, AppError> {
    serde_json::from_str(record)
        .map_err(|e| AppError::Internal(format!("enregistrement illisible : {e}")))
}

pub async fn get(app: &App, caller: &Caller, id: ServiceId) -> Result<ServicePage, AppError> {
    let stored = load(app, caller, id).await?;
    let service: Service = parse(&stored.record)?;
    let structure: Structure = parse(&stored.structure_record)?;
    let mapping = mapping(app).await?;
    let today = app.today();
    let required: Vec<String> = {
        let mut pooled = app.db.acquire().await?;
        store::diagnostic::service_rules(&mut pooled.conn(), &[id])
            .await?
            .into_iter()
            .map(|(_, code)| code)
            .collect()
    };
    let rules = crate::diagnostic::rules_in_force(app, stored.territory_id, today)
        .await?
        .into_iter()
        .map(|r| {
            let chosen = required.contains(&r.code);
            (r.code, r.name, chosen)
        })
        .collect();
    Ok(ServicePage {
        rules,
        may_set_rules: caller.is_coordinator_of(stored.territory_id),
        id,
        territory: stored.territory_id,
        fields: mapping.fields_of_service(&service),
        offer: stored.specific_offer(),
        stale: service.is_stale(today),
        quality: service.quality(today),
        may_edit: may_edit(caller, stored.territory_id, stored.organisation_id),
        updated_at: stored.updated_at,
        service,
        structure,
    })
}

/// What the edit form holds, as typed (decoded from the form: field names are the inputs'
/// names; lists come from checkboxes).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ServiceInput {
    pub structure: String,
    pub nom: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub thematiques: Vec<String>,
    pub publics: Vec<String>,
    pub publics_precisions: String,
    pub frais: String,
    pub frais_precisions: String,
    pub conditions_acces: String,
    pub modes_accueil: Vec<String>,
    pub adresse: String,
    pub complement_adresse: String,
    pub code_postal: String,
    pub commune: String,
    pub zone_eligibilite: String,
    pub telephone: String,
    pub courriel: String,
    pub contact_nom_prenom: String,
    pub lien_mobilisation: String,
    pub modes_mobilisation: Vec<String>,
    pub mobilisable_par: Vec<String>,
    pub mobilisation_precisions: String,
    pub horaires_accueil: String,
    pub volume_horaire_hebdomadaire: String,
    pub nombre_semaines: String,
    /// « offre » = « specifique » (a radio button beside « droit commun »).
    #[serde(rename = "offre", deserialize_with = "specific_offer")]
    pub specific: bool,
    pub funder: String,
    pub amount_euros: String,
    pub period_start: String,
    pub period_end: String,
    pub capacity: String,
}

fn specific_offer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(<String as serde::Deserialize>::deserialize(d)? == "specifique")
}

fn text(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

impl ServiceInput {
    pub fn from_page(p: &ServicePage) -> ServiceInput {
        let s = &p.service;
        let o = p.offer.clone().unwrap_or_default();
        let number = |n: Option<f64>| {
            n.map(|v| v.to_string().replace('.', ","))
                .unwrap_or_default()
        };
        ServiceInput {
            structure: String::new(),
            nom: s.nom.clone(),
            description: s.description.clone(),
            kind: text(&s.type_),
            thematiques: s.thematiques.clone().unwrap_or_default(),
            publics: s.publics.clone().unwrap_or_default(),
            publics_precisions: text(&s.publics_precisions),
            frais: text(&s.frais),
            frais_precisions: text(&s.frais_precisions),
            conditions_acces: text(&s.conditions_acces),
            modes_accueil: s.modes_accueil.clone().unwrap_or_default(),
            adresse: text(&s.adresse),
            complement_adresse: text(&s.complement_adresse),
            code_postal: text(&s.code_postal),
            commune: text(&s.commune),
            zone_eligibilite: s.zone_eligibilite.clone().unwrap_or_default().join(" "),
            telephone: text(&s.telephone),
            courriel: text(&s.courriel),
            contact_nom_prenom: text(&s.contact_nom_prenom),
            lien_mobilisation: text(&s.lien_mobilisation),
            modes_mobilisation: s.modes_mobilisation.clone().unwrap_or_default(),
            mobilisable_par: s.mobilisable_par.clone().unwrap_or_default(),
            mobilisation_precisions: text(&s.mobilisation_precisions),
            horaires_accueil: text(&s.horaires_accueil),
            volume_horaire_hebdomadaire: number(s.volume_horaire_hebdomadaire),
            nombre_semaines: s.nombre_semaines.map(|n| n.to_string()).unwrap_or_default(),
            specific: p.offer.is_some(),
            funder: o.funder,
            amount_euros: o.amount_euros.map(|a| a.to_string()).unwrap_or_default(),
            period_start: o.period_start.unwrap_or_default(),
            period_end: o.period_end.unwrap_or_default(),
            capacity: o.capacity.map(|c| c.to_string()).unwrap_or_default(),
        }
    }
}

/// Form fields that carry a data·inclusion field of the same name.
const RECORD_FIELDS: [&str; 24] = [
    "nom",
    "description",
    "type",
    "thematiques",
    "publics",
    "publics_precisions",
    "frais",
    "frais_precisions",
    "conditions_acces",
    "modes_accueil",
    "adresse",
    "complement_adresse",
    "code_postal",
    "commune",
    "code_insee",
    "zone_eligibilite",
    "telephone",
    "courriel",
    "contact_nom_prenom",
    "lien_mobilisation",
    "modes_mobilisation",
    "mobilisable_par",
    "volume_horaire_hebdomadaire",
    "nombre_semaines",
];

/// The record an edit produces: the form's values over the previous record, checked by the
/// schema's own rules (one set of rules for imports and edits); errors by form field.
fn record_from_input(
    app: &App,
    input: &ServiceInput,
    key: (&str, &str, &str),
    previous: Option<&Service>,
    today: NaiveDate,
) -> Result<(Service, Option<SpecificOffer>), FieldErrors> {
    let mut errors = FieldErrors::default();
    let opt = |s: &str| {
        let s = s.trim();
        if s.is_empty() {
            Value::Null
        } else {
            Value::String(s.to_string())
        }
    };
    let list = |v: &[String]| {
        if v.is_empty() {
            Value::Null
        } else {
            Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
        }
    };
    let number = |name: &'static str, s: &str, errors: &mut FieldErrors| -> Value {
        let s = s.trim().replace(',', ".");
        if s.is_empty() {
            return Value::Null;
        }
        match s.parse::<serde_json::Number>() {
            Ok(n) => Value::Number(n),
            Err(_) => {
                errors.add(name, "Indiquez un nombre.");
                Value::Null
            }
        }
    };
    // The commune's code comes from the postal code and the commune's name.
    let code_insee = if input.code_postal.trim().is_empty() {
        Value::Null
    } else {
        let resolved = domain::PostalCode::parse(&input.code_postal)
            .map_err(|e| ("code_postal", e.0))
            .and_then(|p| {
                crate::organisations::resolve_commune(app.referential, &p, &input.commune)
                    .map_err(|e| ("commune", e))
            });
        match resolved {
            Ok(code) => Value::String(code.as_str().to_string()),
            Err((field, message)) => {
                errors.add(field, message);
                Value::Null
            }
        }
    };
    let commune_name = match code_insee
        .as_str()
        .and_then(|c| InseeCode::parse(c).ok())
        .and_then(|c| app.referential.commune(&c))
    {
        Some(c) => Value::String(c.name.clone()),
        None => opt(&input.commune),
    };
    let zone: Vec<String> = input
        .zone_eligibilite
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    // The position follows the address: kept when the address did not change.
    let same_place = previous.is_some_and(|p| {
        text(&p.adresse) == input.adresse.trim() && text(&p.code_postal) == input.code_postal.trim()
    });
    let (longitude, latitude) = match previous {
        Some(p) if same_place => (p.longitude, p.latitude),
        _ => (None, None),
    };
    let record = serde_json::json!({
        "source": key.0,
        "structure_id": key.1,
        "id": key.2,
        "nom": input.nom.trim(),
        "description": input.description.trim(),
        "lien_source": previous.and_then(|p| p.lien_source.clone()),
        "date_maj": domain::iso_date(today),
        "type": opt(&input.kind),
        "thematiques": list(&input.thematiques),
        "frais": opt(&input.frais),
        "frais_precisions": opt(&input.frais_precisions),
        "publics": list(&input.publics),
        "publics_precisions": opt(&input.publics_precisions),
        "conditions_acces": opt(&input.conditions_acces),
        "commune": commune_name,
        "code_postal": opt(&input.code_postal),
        "code_insee": code_insee,
        "adresse": opt(&input.adresse),
        "complement_adresse": opt(&input.complement_adresse),
        "longitude": longitude,
        "latitude": latitude,
        "telephone": opt(&input.telephone),
        "courriel": opt(&input.courriel),
        "modes_accueil": list(&input.modes_accueil),
        "zone_eligibilite": list(&zone),
        "contact_nom_prenom": opt(&input.contact_nom_prenom),
        "lien_mobilisation": opt(&input.lien_mobilisation),
        "modes_mobilisation": list(&input.modes_mobilisation),
        "mobilisable_par": list(&input.mobilisable_par),
        "mobilisation_precisions": opt(&input.mobilisation_precisions),
        "volume_horaire_hebdomadaire": number("volume_horaire_hebdomadaire", &input.volume_horaire_hebdomadaire, &mut errors),
        "nombre_semaines": number("nombre_semaines", &input.nombre_semaines, &mut errors),
        "horaires_accueil": opt(&input.horaires_accueil),
    });
    let service = match Service::from_json(&record, app.referential) {
        Ok(s) => Some(s),
        Err(problems) => {
            for p in problems {
                let (name, message) = p.split_once(" : ").unwrap_or(("formulaire", p.as_str()));
                let field = RECORD_FIELDS
                    .iter()
                    .find(|f| **f == name)
                    .copied()
                    .unwrap_or("formulaire");
                if errors.get(field).is_none() {
                    errors.add(field, capitalise(message));
                }
            }
            None
        }
    };
    let offer = if input.specific {
        let integer = |name: &'static str, s: &str, errors: &mut FieldErrors| -> Option<i64> {
            let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            if s.is_empty() {
                return None;
            }
            match s.parse::<i64>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    errors.add(name, "Indiquez un nombre entier positif.");
                    None
                }
            }
        };
        let date = |name: &'static str, s: &str, errors: &mut FieldErrors| -> Option<String> {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            match NaiveDate::parse_from_str(s, domain::ISO_DATE) {
                Ok(d) => Some(domain::iso_date(d)),
                Err(_) => {
                    errors.add(name, "Indiquez une date valide.");
                    None
                }
            }
        };
        if input.funder.trim().is_empty() {
            errors.add("funder", "Indiquez le financeur de cette offre spécifique.");
        }
        let offer = SpecificOffer {
            funder: input.funder.trim().to_string(),
            amount_euros: integer("amount_euros", &input.amount_euros, &mut errors),
            period_start: date("period_start", &input.period_start, &mut errors),
            period_end: date("period_end", &input.period_end, &mut errors),
            capacity: integer("capacity", &input.capacity, &mut errors),
        };
        if let (Some(a), Some(b)) = (&offer.period_start, &offer.period_end)
            && b < a
        {
            errors.add("period_end", "La fin de la période doit suivre son début.");
        }
        Some(offer)
    } else {
        None
    };
    match service {
        Some(s) if errors.is_empty() => Ok((s, offer)),
        _ => Err(errors),
    }
}

fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!(
            "{}{}.",
            first.to_uppercase(),
            chars.as_str().trim_end_matches('.')
        ),
        None => String::new(),
    }
}

/// Records a service's position from its address, when the geocoder is sure of it.
async fn locate(app: &App, s: &mut Service) {
    if s.longitude.is_some() || s.adresse.is_none() || s.code_postal.is_none() {
        return;
    }
    let query = format!(
        "{} {} {}",
        text(&s.adresse),
        text(&s.code_postal),
        text(&s.commune)
    );
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        app.geocoder.geocode(&query),
    )
    .await;
    if let Ok(Ok(Some(found))) = answer
        && found.confidence != territory::geocoder::Confidence::Indetermine
    {
        s.longitude = Some(found.lon);
        s.latitude = Some(found.lat);
    }
}

async fn save(
    app: &App,
    caller: &Caller,
    territory: TerritoryId,
    structure: (StructureId, &str),
    existing: Option<(ServiceId, &Service, Option<SpecificOffer>)>,
    mut service: Service,
    offer: Option<SpecificOffer>,
) -> Result<ServiceId, AppError> {
    locate(app, &mut service).await;
    let write = service_write(structure, &service)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let (id, before) = match existing {
        Some((id, previous, _)) => {
            store::directory::write_service(&mut tx.conn(), id, &write, now).await?;
            (id, serde_json::to_value(previous).ok())
        }
        None => {
            let (id, outcome, _) =
                store::directory::upsert_service(&mut tx.conn(), territory, &write, now).await?;
            if outcome != Outcome::Created {
                return Err(AppError::Internal(
                    "identifiant de service déjà pris".into(),
                ));
            }
            (id, None)
        }
    };
    store::directory::set_offer(&mut tx.conn(), id, offer.as_ref()).await?;
    let mut changes = diff(
        before.as_ref(),
        &serde_json::to_value(&service).map_err(|e| AppError::Internal(e.to_string()))?,
    );
    let previous_offer = existing.and_then(|(_, _, o)| o);
    if previous_offer != offer {
        let describe = |o: &Option<SpecificOffer>| match o {
            None => "droit commun".to_string(),
            Some(o) => format!(
                "offre spécifique — {} ; {} € ; {} → {} ; {} places",
                o.funder,
                o.amount_euros.map_or("?".into(), |a| a.to_string()),
                o.period_start.clone().unwrap_or_else(|| "?".into()),
                o.period_end.clone().unwrap_or_else(|| "?".into()),
                o.capacity.map_or("?".into(), |c| c.to_string()),
            ),
        };
        changes.push(serde_json::json!({"champ": "offre", "avant": describe(&previous_offer), "apres": describe(&offer)}));
    }
    let changes = Value::Array(changes).to_string();
    store::directory::add_change(
        &mut tx.conn(),
        id,
        Some(caller.user_id),
        "saisie",
        &changes,
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            if before.is_some() {
                "service.update"
            } else {
                "service.create"
            },
            ("service", Some(id.0)),
            Some(territory),
            &service.nom,
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a service: its editors only; the previous values go to the history.
pub async fn update(
    app: &App,
    caller: &Caller,
    id: ServiceId,
    input: &ServiceInput,
) -> Result<ServiceId, AppError> {
    let stored = load(app, caller, id).await?;
    if !may_edit(caller, stored.territory_id, stored.organisation_id) {
        return Err(AppError::Forbidden);
    }
    let previous: Service = parse(&stored.record)?;
    let today = app.today();
    let (service, offer) = record_from_input(
        app,
        input,
        (&previous.source, &previous.structure_id, &previous.id),
        Some(&previous),
        today,
    )
    .map_err(AppError::Invalid)?;
    save(
        app,
        caller,
        stored.territory_id,
        (stored.structure_id, &stored.structure_nom),
        Some((id, &previous, stored.specific_offer())),
        service,
        offer,
    )
    .await
}

/// The structures a caller may add a service to in their active territory: all of them for a
/// coordinator, their organisations' for a professional (created from the organisation when the
/// directory does not hold it yet).
pub async fn editable_structures(
    app: &App,
    caller: &Caller,
) -> Result<Vec<(StructureId, String)>, AppError> {
    let territory = caller.active_territory.clone().ok_or(AppError::NotFound)?;
    let coordinator = caller.coordinates(territory.id);
    let organisations = caller.organisations_in(territory.id);
    let mut pooled = app.db.acquire().await?;
    let mut found = store::directory::structures_of(
        &mut pooled.conn(),
        territory.id,
        &organisations,
        coordinator,
    )
    .await?;
    drop(pooled);
    // A professional's organisation that takes part in the territory gets its structure.
    let partners = {
        let mut pooled = app.db.acquire().await?;
        store::organisations::partners_of(&mut pooled.conn(), territory.id).await?
    };
    for o in partners.iter().filter(|o| organisations.contains(&o.id)) {
        if found.iter().any(|s| s.organisation_id == Some(o.id.0)) {
            continue;
        }
        let id = structure_for_organisation(app, territory.id, o).await?;
        found.push(store::directory::StructureRef {
            id,
            nom: o.name.clone(),
            organisation_id: Some(o.id.0),
        });
    }
    Ok(found.into_iter().map(|s| (s.id, s.nom)).collect())
}

/// The directory structure standing for one of Passerelle's organisations.
pub(crate) async fn structure_for_organisation(
    app: &App,
    territory: TerritoryId,
    o: &store::organisations::Organisation,
) -> Result<StructureId, AppError> {
    let commune = InseeCode::parse(&o.commune_insee)
        .ok()
        .and_then(|c| app.referential.commune(&c));
    let structure = Structure {
        source: SOURCE.into(),
        id: format!("{SOURCE}--structure-{}", o.id.0),
        nom: o.name.trim_end_matches('.').to_string(),
        date_maj: domain::iso_date(app.today()),
        description: None,
        lien_source: None,
        siret: o.siret.clone(),
        commune: commune.map(|c| c.name.clone()),
        code_postal: Some(o.postal_code.clone()).filter(|p| !p.is_empty()),
        code_insee: Some(o.commune_insee.clone()),
        adresse: Some(o.address.clone()).filter(|a| !a.is_empty()),
        complement_adresse: None,
        longitude: None,
        latitude: None,
        telephone: None,
        courriel: None,
        site_web: None,
        horaires_accueil: None,
        accessibilite_lieu: None,
        reseaux_porteurs: None,
    };
    let record =
        serde_json::to_string(&structure).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut pooled = app.db.acquire().await?;
    let (id, _) = store::directory::upsert_structure(
        &mut pooled.conn(),
        territory,
        &StructureWrite {
            source: SOURCE,
            record_id: &structure.id,
            nom: &structure.nom,
            record: &record,
            organisation: Some(o.id),
        },
        app.now(),
    )
    .await?;
    Ok(id)
}

/// Adds a service to a structure the caller may edit, in their active territory.
pub async fn create(
    app: &App,
    caller: &Caller,
    input: &ServiceInput,
) -> Result<ServiceId, AppError> {
    let territory = caller.active_territory.clone().ok_or(AppError::NotFound)?;
    let structures = editable_structures(app, caller).await?;
    if structures.is_empty() {
        return Err(AppError::Forbidden);
    }
    let chosen = input.structure.trim().parse::<i64>().ok().map(StructureId);
    let Some((structure, nom)) = structures.into_iter().find(|(id, _)| Some(*id) == chosen) else {
        return Err(AppError::field(
            "structure",
            "Choisissez la structure qui propose ce service.",
        ));
    };
    let record_id = {
        let mut pooled = app.db.acquire().await?;
        let key: Option<(String, String)> =
            store::directory::structure_key(&mut pooled.conn(), structure).await?;
        key.ok_or(AppError::NotFound)?
    };
    let id = format!("{SOURCE}--{}", uuid::Uuid::new_v4());
    let (service, offer) = record_from_input(
        app,
        input,
        (&record_id.0, &record_id.1, &id),
        None,
        app.today(),
    )
    .map_err(AppError::Invalid)?;
    save(
        app,
        caller,
        territory.id,
        (structure, &nom),
        None,
        service,
        offer,
    )
    .await
}

/// A change in a service's history, ready to show.
#[derive(Debug, Clone)]
pub struct ChangeView {
    pub at: DateTime<Utc>,
    pub who: String,
    pub origin: String,
    pub changes: Vec<(String, String, String)>,
}

pub async fn history(
    app: &App,
    caller: &Caller,
    id: ServiceId,
) -> Result<(ServicePage, Vec<ChangeView>), AppError> {
    let page = get(app, caller, id).await?;
    let mut pooled = app.db.acquire().await?;
    let changes = store::directory::changes(&mut pooled.conn(), id).await?;
    let text = |v: &Value| v.as_str().map_or_else(|| "—".to_string(), str::to_string);
    let views = changes
        .into_iter()
        .map(|c| {
            let items: Vec<Value> = serde_json::from_str(&c.changes).unwrap_or_default();
            ChangeView {
                at: c.at,
                who: c.user_name.unwrap_or_else(|| "import de fichier".into()),
                origin: c.origin,
                changes: items
                    .iter()
                    .map(|i| (text(&i["champ"]), text(&i["avant"]), text(&i["apres"])))
                    .collect(),
            }
        })
        .collect();
    Ok((page, views))
}
