//! The referential of situations per field: shipped, edited by administrators. A situation
//! already ticked in diagnostics is deactivated, never deleted, so that those stay readable.

use domain::{Field, SituationId};
use store::diagnostic::SituationRow;

use crate::{App, AppError, Caller, FieldErrors};

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SituationInput {
    pub field: String,
    pub label: String,
    /// Ticked: still offered in the diagnostic form.
    #[serde(deserialize_with = "crate::form::ticked")]
    pub active: bool,
}

fn admin(caller: &Caller) -> Result<(), AppError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn label(errors: &mut FieldErrors, input: &str) -> String {
    let label = input.trim();
    if label.is_empty() {
        errors.add("label", "Décrivez la situation.");
    } else if label.chars().count() > 200 {
        errors.add("label", "La situation dépasse 200 caractères.");
    }
    label.to_string()
}

/// Every situation (administrators see the inactive ones too).
pub async fn situations(app: &App, caller: &Caller) -> Result<Vec<SituationRow>, AppError> {
    admin(caller)?;
    let mut pooled = app.db.acquire().await?;
    Ok(store::diagnostic::situations(&mut pooled.conn()).await?)
}

pub async fn add_situation(
    app: &App,
    caller: &Caller,
    input: &SituationInput,
) -> Result<SituationId, AppError> {
    admin(caller)?;
    let mut errors = FieldErrors::default();
    let field = errors.check("field", Field::parse(&input.field));
    let label = label(&mut errors, &input.label);
    let Some(field) = field else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = app.db.begin_write().await?;
    let now = app.now();
    let id = store::diagnostic::add_situation(&mut tx.conn(), field, &label, caller.user_id, now)
        .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "situation.add",
            ("situation", Some(id.0)),
            None,
            &format!("{} : {label}", field.label()),
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_situation(
    app: &App,
    caller: &Caller,
    id: SituationId,
    input: &SituationInput,
) -> Result<(), AppError> {
    admin(caller)?;
    let mut errors = FieldErrors::default();
    let label = label(&mut errors, &input.label);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let active = input.active;
    let mut tx = app.db.begin_write().await?;
    let now = app.now();
    if !store::diagnostic::update_situation(&mut tx.conn(), id, &label, active, caller.user_id, now)
        .await?
    {
        return Err(AppError::NotFound);
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "situation.update",
            ("situation", Some(id.0)),
            None,
            &format!("{label}{}", if active { "" } else { " (désactivée)" }),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
