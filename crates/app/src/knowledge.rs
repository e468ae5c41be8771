//! The knowledge base « Les 8 champs d'action »: for each field its constat, the relays of the
//! caller's territory and the typical droit-commun relays, and inspiring actions written by
//! coordinators and read by every user of every territory.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::text::fold;
use domain::{ActionId, Field};
use store::knowledge::{Action, ActionData};

use crate::{App, AppError, Caller, FieldErrors};

#[derive(Debug, Clone)]
pub struct FieldSummary {
    pub field: Field,
    pub constat: String,
    pub actions: i64,
    /// Relays of the caller's active territory linked to the field.
    pub relays: i64,
}

/// Every field with its counts (three queries).
pub async fn overview(app: &App, caller: &Caller) -> Result<Vec<FieldSummary>, AppError> {
    let constats = constats(app).await?;
    let counts: HashMap<String, i64> = {
        let mut pooled = app.db.acquire().await?;
        store::knowledge::counts(&mut pooled.conn())
            .await?
            .into_iter()
            .collect()
    };
    let relays = match &caller.active_territory {
        Some(t) => {
            let mapping = crate::directory::mapping(app).await?;
            crate::directory::relays_per_field(app, t.id, &mapping).await?
        }
        None => Default::default(),
    };
    Ok(Field::ALL
        .iter()
        .copied()
        .map(|f| FieldSummary {
            field: f,
            constat: constats
                .get(&f)
                .map_or_else(|| f.default_constat().to_string(), |c| c.0.clone()),
            actions: counts.get(f.slug()).copied().unwrap_or(0),
            relays: relays.get(&f).copied().unwrap_or(0),
        })
        .collect())
}

async fn constats(app: &App) -> Result<HashMap<Field, (String, DateTime<Utc>)>, AppError> {
    let mut pooled = app.db.acquire().await?;
    Ok(store::knowledge::constats(&mut pooled.conn())
        .await?
        .into_iter()
        .filter_map(|c| Some((Field::parse(&c.field).ok()?, (c.body, c.updated_at))))
        .collect())
}

#[derive(Debug, Clone)]
pub struct FieldPage {
    pub field: Field,
    pub constat: String,
    pub constat_updated: Option<DateTime<Utc>>,
    pub actions: Vec<Action>,
    pub relays: i64,
    pub may_write_action: bool,
    pub may_edit_constat: bool,
}

pub fn may_write_action(caller: &Caller) -> bool {
    caller
        .active_territory
        .as_ref()
        .is_some_and(|t| caller.coordinates(t.id))
}

pub async fn field_page(app: &App, caller: &Caller, field: Field) -> Result<FieldPage, AppError> {
    let constat = constats(app).await?.remove(&field);
    let actions = {
        let mut pooled = app.db.acquire().await?;
        store::knowledge::actions(&mut pooled.conn(), Some(field.slug()), &[], 200).await?
    };
    let relays = match &caller.active_territory {
        Some(t) => {
            let mapping = crate::directory::mapping(app).await?;
            crate::directory::relays_per_field(app, t.id, &mapping)
                .await?
                .get(&field)
                .copied()
                .unwrap_or(0)
        }
        None => 0,
    };
    Ok(FieldPage {
        field,
        constat: constat
            .as_ref()
            .map_or_else(|| field.default_constat().to_string(), |c| c.0.clone()),
        constat_updated: constat.map(|c| c.1),
        actions,
        relays,
        may_write_action: may_write_action(caller),
        may_edit_constat: caller.is_admin(),
    })
}

/// Inspiring actions of every field whose text holds every word of the query.
pub async fn search_actions(app: &App, query: &str) -> Result<Vec<Action>, AppError> {
    let words = domain::text::search_words(query);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let mut pooled = app.db.acquire().await?;
    Ok(store::knowledge::actions(&mut pooled.conn(), None, &words, 100).await?)
}

pub async fn set_constat(
    app: &App,
    caller: &Caller,
    field: Field,
    body: &str,
) -> Result<(), AppError> {
    caller.require_admin()?;
    let body = body.trim();
    if body.chars().count() < 20 {
        return Err(AppError::field(
            "constat",
            "Le constat doit compter au moins 20 caractères.",
        ));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::knowledge::set_constat(&mut tx.conn(), field.slug(), body, caller.user_id, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "knowledge.constat",
            ("field", None),
            None,
            field.slug(),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    pub field: String,
    pub title: String,
    pub description: String,
    pub partners: String,
    pub results: String,
    pub contact: String,
}

impl ActionInput {
    pub fn from_action(a: &Action) -> ActionInput {
        ActionInput {
            field: a.field.clone(),
            title: a.title.clone(),
            description: a.description.clone(),
            partners: a.partners.clone(),
            results: a.results.clone(),
            contact: a.contact.clone(),
        }
    }

    fn validate(
        &self,
        territory: (Option<domain::TerritoryId>, &str),
    ) -> Result<ActionData, AppError> {
        let mut errors = FieldErrors::default();
        let field = errors.check(
            "field",
            Field::parse(&self.field)
                .map_err(|_| domain::Invalid("Choisissez un champ d'action.".into())),
        );
        let title = self.title.trim();
        if title.chars().count() < 5 || title.chars().count() > 150 {
            errors.add("title", "Le titre doit compter entre 5 et 150 caractères.");
        }
        if self.description.trim().chars().count() < 20 {
            errors.add(
                "description",
                "Décrivez l'action en au moins 20 caractères.",
            );
        }
        errors.into_result(|| {
            let field = field?;
            let text = [
                title,
                &self.description,
                &self.partners,
                &self.results,
                territory.1,
            ]
            .join(" ");
            Some(ActionData {
                field: field.slug().to_string(),
                territory: territory.0,
                territory_name: territory.1.to_string(),
                title: title.to_string(),
                description: self.description.trim().to_string(),
                partners: self.partners.trim().to_string(),
                results: self.results.trim().to_string(),
                contact: self.contact.trim().to_string(),
                search_text: fold(&text),
            })
        })
    }
}

/// Coordinators write inspiring actions from their territory's experience.
pub async fn create_action(
    app: &App,
    caller: &Caller,
    input: &ActionInput,
) -> Result<ActionId, AppError> {
    if !may_write_action(caller) {
        return Err(AppError::Forbidden);
    }
    let territory = caller
        .active_territory
        .as_ref()
        .ok_or(AppError::Forbidden)?;
    let data = input.validate((Some(territory.id), &territory.name))?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let id = store::knowledge::create_action(&mut tx.conn(), &data, caller.user_id, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "knowledge.action.create",
            ("action", Some(id.0)),
            data.territory,
            &data.title,
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn action(app: &App, id: ActionId) -> Result<Action, AppError> {
    let mut pooled = app.db.acquire().await?;
    store::knowledge::action(&mut pooled.conn(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The coordinators of the territory an action comes from (and administrators) may edit it.
pub fn may_edit_action(caller: &Caller, a: &Action) -> bool {
    caller.is_admin()
        || a.territory_id
            .is_some_and(|t| caller.coordinates(domain::TerritoryId(t)))
}

pub async fn update_action(
    app: &App,
    caller: &Caller,
    id: ActionId,
    input: &ActionInput,
) -> Result<(), AppError> {
    let existing = action(app, id).await?;
    if !may_edit_action(caller, &existing) {
        return Err(AppError::Forbidden);
    }
    let data = input.validate((
        existing.territory_id.map(domain::TerritoryId),
        &existing.territory_name,
    ))?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::knowledge::update_action(&mut tx.conn(), id, &data, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "knowledge.action.update",
            ("action", Some(id.0)),
            data.territory,
            &data.title,
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
