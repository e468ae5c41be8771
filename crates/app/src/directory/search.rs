//! « Trouver un relais »: the search, nearest first within eligibility.

use super::*;

/// What « Trouver un relais » was asked, as typed (validated here).
#[derive(Debug, Clone, Default)]
pub struct SearchInput {
    pub field: String,
    pub thematique: String,
    pub public: String,
    pub kind: String,
    pub frais: String,
    pub mode_accueil: String,
    pub specific_only: bool,
    pub text: String,
    pub place: String,
    pub page: usize,
}

/// One result.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: ServiceId,
    pub service: Service,
    pub structure: String,
    pub fields: Vec<Field>,
    pub distance_m: Option<f64>,
    /// `None` when the record does not say where the service is open to.
    pub eligible: Option<bool>,
    pub stale: bool,
    pub specific: bool,
}

#[derive(Debug, Clone)]
pub struct SearchResults {
    pub territory: Territory,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub hits: Vec<Hit>,
    /// The commune searched from, when a place was given and found.
    pub place: Option<String>,
    /// A place was found but its position is unknown: no distance ordering.
    pub place_unlocated: bool,
    pub directory_size: i64,
}

fn option_in(
    errors: &mut FieldErrors,
    name: &'static str,
    value: &str,
    vocabulary: Vocabulary,
) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        None
    } else if vocabulary.contains(value) {
        Some(value.to_string())
    } else {
        errors.add(name, "Choisissez une valeur de la liste.");
        None
    }
}

/// The commune a place input designates, as a search place.
pub fn resolve_place(app: &App, input: &str) -> Result<Option<(Place, String)>, AppError> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    let commune = app.referential.find_commune(input).ok_or_else(|| {
        AppError::field("lieu", format!("Aucune commune ne correspond à « {input} ». Indiquez un nom de commune ou un code postal."))
    })?;
    let place = app
        .referential
        .place(&commune.code)
        .ok_or_else(|| AppError::Internal("commune sans département".into()))?;
    Ok(Some((place, commune.display_name())))
}

/// A commune's position: cached (from the directory's own records or an earlier geocoding),
/// else asked of the geocoder (briefly: a search does not wait on an unreachable service).
pub async fn commune_position(app: &App, commune: &str) -> Result<Option<(f64, f64)>, AppError> {
    {
        let mut pooled = app.db.acquire().await?;
        if let Some(p) = store::directory::commune_position(&mut pooled.conn(), commune).await? {
            return Ok(Some(p));
        }
    }
    let Some(c) = InseeCode::parse(commune)
        .ok()
        .and_then(|code| app.referential.commune(&code))
    else {
        return Ok(None);
    };
    let query = format!(
        "{} {}",
        c.name,
        c.postal_codes
            .first()
            .map(|p| p.as_str())
            .unwrap_or_default()
    );
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        app.geocoder.geocode(&query),
    )
    .await;
    let Ok(Ok(Some(found))) = answer else {
        return Ok(None);
    };
    if found.citycode.as_deref() != Some(commune) {
        return Ok(None);
    }
    let mut pooled = app.db.acquire().await?;
    store::directory::set_commune_position(
        &mut pooled.conn(),
        commune,
        (found.lon, found.lat),
        "ban",
    )
    .await?;
    Ok(Some((found.lon, found.lat)))
}

/// Searches the directory of the caller's active territory. Six queries, whatever the size of
/// the directory: mapping, position of the place, directory size, count, page ids, page records.
pub async fn search(
    app: &App,
    caller: &Caller,
    input: &SearchInput,
) -> Result<SearchResults, AppError> {
    let territory = caller.active_territory.clone().ok_or(AppError::NotFound)?;
    readable(caller, territory.id)?;
    let mut errors = FieldErrors::default();
    let field = match input.field.trim() {
        "" => None,
        slug => errors.check("champ", Field::parse(slug)),
    };
    let thematique = option_in(
        &mut errors,
        "thematique",
        &input.thematique,
        Vocabulary::Thematique,
    );
    let public = option_in(&mut errors, "public", &input.public, Vocabulary::Public);
    let kind = option_in(&mut errors, "type", &input.kind, Vocabulary::TypeService);
    let frais = option_in(&mut errors, "frais", &input.frais, Vocabulary::Frais);
    let mode_accueil = option_in(
        &mut errors,
        "accueil",
        &input.mode_accueil,
        Vocabulary::ModeAccueil,
    );
    let place = match resolve_place(app, &input.place) {
        Ok(p) => p,
        Err(AppError::Invalid(e)) => {
            for (f, m) in e.iter() {
                errors.add(f, m);
            }
            None
        }
        Err(e) => return Err(e),
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mapping = mapping(app).await?;
    let words = domain::text::search_words(&input.text);
    let filters = store::directory::Filters {
        thematiques: thematique.into_iter().collect(),
        thematiques_of_field: field.map(|f| mapping.thematiques_of(f)),
        public,
        kind,
        frais,
        mode_accueil,
        specific_only: input.specific_only,
        words,
        zone_codes: place.as_ref().map(|(p, _)| p.zone_codes()),
    };
    let origin = match &place {
        Some((p, _)) => commune_position(app, &p.commune).await?,
        None => None,
    };
    let page = input.page.max(1);
    let mut pooled = app.db.acquire().await?;
    let directory_size = store::directory::count_services(&mut pooled.conn(), territory.id).await?;
    let origin_point = origin.map(|(longitude, latitude)| store::directory::Origin {
        longitude,
        latitude,
    });
    let offset = |page: usize| {
        domain::page_offset(i64::try_from(page).unwrap_or(i64::MAX), PAGE_SIZE as i64)
    };
    let limit = PAGE_SIZE as i64;
    let (mut total, mut slice) = store::directory::search(
        &mut pooled.conn(),
        territory.id,
        &filters,
        origin_point,
        offset(page),
        limit,
    )
    .await?;
    let pages = usize::try_from(total)
        .unwrap_or(0)
        .div_ceil(PAGE_SIZE)
        .max(1);
    let page = if page > pages {
        // A page past the end (the directory changed since the link was made): the last one.
        (total, slice) = store::directory::search(
            &mut pooled.conn(),
            territory.id,
            &filters,
            origin_point,
            offset(pages),
            limit,
        )
        .await?;
        pages
    } else {
        page
    };
    let ids: Vec<ServiceId> = slice.iter().map(|c| c.id).collect();
    let stored = store::directory::services(&mut pooled.conn(), &ids).await?;
    drop(pooled);
    let by_id: HashMap<ServiceId, StoredService> = stored.into_iter().map(|s| (s.id, s)).collect();
    let today = app.today();
    let hits = slice
        .into_iter()
        .filter_map(|c| {
            let stored = by_id.get(&c.id)?;
            let service: Service = serde_json::from_str(&stored.record).ok()?;
            Some(Hit {
                id: c.id,
                fields: mapping.fields_of_service(&service),
                stale: service.is_stale(today),
                structure: stored.structure_nom.clone(),
                specific: stored.offer == "specifique",
                service,
                distance_m: match (origin, c.longitude, c.latitude) {
                    (Some(o), Some(lon), Some(lat)) => Some(territory::distance_m(o, (lon, lat))),
                    _ => None,
                },
                eligible: place.as_ref().and(c.zone.as_ref()).map(|_| true),
            })
        })
        .collect();
    Ok(SearchResults {
        territory,
        total: usize::try_from(total).unwrap_or(0),
        page,
        pages,
        hits,
        place_unlocated: place.is_some() && origin.is_none(),
        place: place.map(|(_, name)| name),
        directory_size,
    })
}
