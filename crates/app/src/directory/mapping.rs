//! The thematique → field mapping (shipped, overridden by administrators) and the relays
//! counted per field.

use super::*;

/// The effective mapping: shipped defaults, overridden by administrators thematique by thematique.
#[derive(Debug, Clone)]
pub struct Mapping {
    fields: HashMap<String, Vec<Field>>,
    overridden: Vec<String>,
}

impl Mapping {
    pub fn fields_of(&self, thematique: &str) -> &[Field] {
        self.fields.get(thematique).map_or(&[], Vec::as_slice)
    }

    pub fn thematiques_of(&self, field: Field) -> Vec<String> {
        let mut out: Vec<String> = self
            .fields
            .iter()
            .filter(|(_, fs)| fs.contains(&field))
            .map(|(t, _)| t.clone())
            .collect();
        out.sort();
        out
    }

    pub fn is_overridden(&self, thematique: &str) -> bool {
        self.overridden.iter().any(|t| t == thematique)
    }

    /// The fields of a service, from its thematiques.
    pub fn fields_of_service(&self, s: &Service) -> Vec<Field> {
        let mut out: Vec<Field> = s
            .thematiques
            .iter()
            .flatten()
            .flat_map(|t| self.fields_of(t).iter().copied())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

pub async fn mapping(app: &App) -> Result<Mapping, AppError> {
    let mut pooled = app.db.acquire().await?;
    let overrides = store::directory::mapping_overrides(&mut pooled.conn()).await?;
    let mut fields: HashMap<String, Vec<Field>> = Vocabulary::Thematique
        .terms()
        .iter()
        .map(|t| (t.value.clone(), Field::defaults_for(&t.value)))
        .collect();
    let mut overridden = Vec::new();
    for (thematique, slugs) in overrides {
        let parsed = slugs
            .split_whitespace()
            .filter_map(|s| Field::parse(s).ok())
            .collect();
        overridden.push(thematique.clone());
        fields.insert(thematique, parsed);
    }
    Ok(Mapping { fields, overridden })
}

/// An administrator sets the fields of a thematique (`None`: back to the shipped mapping).
pub async fn set_mapping(
    app: &App,
    caller: &Caller,
    thematique: &str,
    fields: Option<&[Field]>,
) -> Result<(), AppError> {
    caller.require_admin()?;
    if !Vocabulary::Thematique.contains(thematique) {
        return Err(AppError::field(
            "thematique",
            format!("« {thematique} » n'est pas une thématique du schéma data·inclusion"),
        ));
    }
    let slugs = fields.map(|fs| fs.iter().map(|f| f.slug()).collect::<Vec<_>>().join(" "));
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::directory::set_mapping(
        &mut tx.conn(),
        thematique,
        slugs.as_deref(),
        caller.user_id,
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "directory.mapping",
            ("thematique", None),
            None,
            &format!(
                "{thematique} → {}",
                slugs.as_deref().unwrap_or("(par défaut)")
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Counts of relays per field of action in a territory (one query).
pub async fn relays_per_field(
    app: &App,
    territory: TerritoryId,
    mapping: &Mapping,
) -> Result<BTreeMap<Field, i64>, AppError> {
    let mut pooled = app.db.acquire().await?;
    let lists = store::directory::thematique_lists(&mut pooled.conn(), territory).await?;
    let mut counts = BTreeMap::new();
    for (list, n) in lists {
        let mut fields: Vec<Field> = list
            .split('|')
            .filter(|s| !s.is_empty())
            .flat_map(|t| mapping.fields_of(t).iter().copied())
            .collect();
        fields.sort();
        fields.dedup();
        for f in fields {
            *counts.entry(f).or_insert(0) += n;
        }
    }
    Ok(counts)
}
