//! The action plan: objectives per field, actions with an owner from the follow-up group, a
//! due date and a status. Overdue actions show on their owner's home page and caseload.

use chrono::NaiveDate;
use domain::diagnostic::{ActionStatus, overdue};
use domain::eligibility::Evaluation;
use domain::person::FileEvent;
use domain::{Field, ObjectiveId, PersonId, PlanActionId, ServiceId, UserId};
use store::diagnostic::{ActionChange, ActionRow, NewAction, ObjectiveRow, Overdue};

use super::eligibility::{evaluate_all, facts_of};
use super::suggestions::{FieldSuggestions, suggest};
use crate::persons::{FileWrite, PersonFile, Sight, file};
use crate::{App, AppError, Caller, FieldErrors};

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ObjectiveInput {
    pub field: String,
    pub title: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ActionInput {
    pub objective: String,
    pub title: String,
    pub owner: String,
    pub due_on: String,
    /// A service of the directory the action is about (an orientation to prepare).
    pub service: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ActionChangeInput {
    pub status: String,
    pub owner: String,
    pub due_on: String,
    pub done_on: String,
}

#[derive(Debug, Clone)]
pub struct ActionView {
    pub row: ActionRow,
    pub due_on: NaiveDate,
    pub overdue: bool,
}

#[derive(Debug, Clone)]
pub struct ObjectiveView {
    pub row: ObjectiveRow,
    pub actions: Vec<ActionView>,
}

/// The plan page: objectives and actions, what the rules answer, and the relays suggested.
#[derive(Debug, Clone)]
pub struct PlanPage {
    pub file: PersonFile,
    pub objectives: Vec<ObjectiveView>,
    /// The date of the latest signed diagnostic, if any.
    pub diagnosed_on: Option<NaiveDate>,
    pub eligibility: Vec<Evaluation>,
    pub suggestions: Vec<FieldSuggestions>,
    pub today: NaiveDate,
    /// The reference date the rules were evaluated at (today unless another was asked).
    pub rules_on: NaiveDate,
}

impl PlanPage {
    pub fn writable(&self) -> bool {
        self.file.access.sight() == Sight::Full
    }

    /// The members of the group who may own an action (of a health objective: those with
    /// health access only).
    pub fn owners(&self, field: Option<Field>) -> Vec<(UserId, String)> {
        self.file
            .members
            .iter()
            .filter(|m| m.ended_at.is_none())
            .filter(|m| field != Some(Field::SanteHandicap) || m.is_referent || m.health_access)
            .map(|m| (UserId(m.user_id), m.user_name.clone()))
            .collect()
    }
}

/// The plan page (one audited read), the rules evaluated at `rules_on` (default: today).
pub async fn plan_page(
    app: &App,
    caller: &Caller,
    id: PersonId,
    rules_on: Option<NaiveDate>,
) -> Result<PlanPage, AppError> {
    let file = file(app, caller, id, &format!("/personnes/{}/plan", id.0)).await?;
    if file.access.sight() != Sight::Full {
        return Err(AppError::NotFound);
    }
    let today = app.today_in(file.access.zone());
    let health = file.access.health();
    let mut pooled = app.db.acquire().await?;
    let objectives = store::diagnostic::objectives(&mut pooled.conn(), id, health).await?;
    let actions = store::diagnostic::actions(&mut pooled.conn(), id, health).await?;
    let diagnosed_on = store::diagnostic::last_signed_on(&mut pooled.conn(), id)
        .await?
        .and_then(|d| domain::parse_date(&d).ok());
    let levels = store::diagnostic::levels(&mut pooled.conn(), id, health).await?;
    drop(pooled);
    let facts = facts_of(&file, &levels);
    let rules_on = rules_on.unwrap_or(today);
    let eligibility = evaluate_all(app, file.access.territory(), &facts, rules_on).await?;
    let suggestions = suggest(app, &file, &facts, &levels, today).await?;
    let objectives = objectives
        .into_iter()
        .map(|o| ObjectiveView {
            actions: actions
                .iter()
                .filter(|a| a.objective_id == o.id)
                .map(|a| {
                    let due_on = domain::parse_date(&a.due_on).unwrap_or(today);
                    ActionView {
                        overdue: overdue(a.status, due_on, today),
                        due_on,
                        row: a.clone(),
                    }
                })
                .collect(),
            row: o,
        })
        .collect();
    Ok(PlanPage {
        file,
        objectives,
        diagnosed_on,
        eligibility,
        suggestions,
        today,
        rules_on,
    })
}

async fn open<'c>(app: &App, caller: &'c Caller, id: PersonId) -> Result<FileWrite<'c>, AppError> {
    let w = FileWrite::open(
        app,
        caller,
        id,
        FileEvent::Plan,
        &format!("/personnes/{}/plan", id.0),
    )
    .await?;
    if w.caps().sight() != Sight::Full {
        return Err(AppError::NotFound);
    }
    Ok(w)
}

fn title(errors: &mut FieldErrors, name: &'static str, value: &str) -> String {
    let value = value.trim();
    if value.is_empty() {
        errors.add(name, "Indiquez l'intitulé.");
    } else if value.chars().count() > 300 {
        errors.add(name, "L'intitulé dépasse 300 caractères.");
    }
    value.to_string()
}

pub async fn add_objective(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &ObjectiveInput,
) -> Result<ObjectiveId, AppError> {
    let mut w = open(app, caller, id).await?;
    let mut errors = FieldErrors::default();
    let field = errors.check("field", Field::parse(&input.field));
    if field == Some(Field::SanteHandicap) && !w.caps().health() {
        errors.add(
            "field",
            "Le champ « Santé et handicap » est réservé aux personnes autorisées à voir les données de santé.",
        );
    }
    let title = title(&mut errors, "title", &input.title);
    let Some(field) = field else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = w.now();
    let objective =
        store::diagnostic::add_objective(&mut w.conn(), id, field, &title, caller.user_id, now)
            .await?;
    w.commit(&format!("objectif ajouté ({})", field.label()))
        .await?;
    Ok(objective)
}

/// The owner typed, if they are in the group now (with health access for a health objective).
async fn owner(
    w: &mut FileWrite<'_>,
    errors: &mut FieldErrors,
    id: PersonId,
    field: Field,
    input: &str,
) -> Result<Option<UserId>, AppError> {
    let Ok(user) = input.trim().parse::<i64>() else {
        errors.add("owner", "Choisissez un membre du groupe de suivi.");
        return Ok(None);
    };
    let members = store::persons::members(&mut w.conn(), id).await?;
    let member = members
        .iter()
        .find(|m| m.user_id == user && m.ended_at.is_none());
    match member {
        None => {
            errors.add(
                "owner",
                "Cette personne ne fait pas partie du groupe de suivi.",
            );
            Ok(None)
        }
        Some(m) if field == Field::SanteHandicap && !(m.is_referent || m.health_access) => {
            errors.add(
                "owner",
                "Une action du champ « Santé et handicap » revient à un membre autorisé à voir les données de santé.",
            );
            Ok(None)
        }
        Some(_) => Ok(Some(UserId(user))),
    }
}

/// A due date: a date, not before the latest signed diagnostic (nor before today without one).
async fn due_date(
    w: &mut FileWrite<'_>,
    errors: &mut FieldErrors,
    id: PersonId,
    input: &str,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, AppError> {
    let due = match input.trim() {
        "" => {
            errors.add("due_on", "Indiquez l'échéance.");
            return Ok(None);
        }
        d => match domain::parse_date(d) {
            Ok(d) => d,
            Err(e) => {
                errors.add("due_on", e.0);
                return Ok(None);
            }
        },
    };
    let diagnosed = store::diagnostic::last_signed_on(&mut w.conn(), id)
        .await?
        .and_then(|d| domain::parse_date(&d).ok());
    match diagnosed {
        Some(d) if due < d => {
            errors.add(
                "due_on",
                format!(
                    "L'échéance précède le diagnostic du {} : choisissez une date postérieure.",
                    d.format("%d/%m/%Y")
                ),
            );
            Ok(None)
        }
        None if due < today => {
            errors.add("due_on", "L'échéance est déjà passée.");
            Ok(None)
        }
        _ if due > today + chrono::Duration::days(366 * 3) => {
            errors.add(
                "due_on",
                "L'échéance est à plus de trois ans : vérifiez l'année.",
            );
            Ok(None)
        }
        _ => Ok(Some(due)),
    }
}

pub async fn add_action(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &ActionInput,
) -> Result<PlanActionId, AppError> {
    let mut w = open(app, caller, id).await?;
    let today = app.today_in(w.caps().zone());
    let mut errors = FieldErrors::default();
    let objective = match input.objective.trim().parse::<i64>() {
        Ok(n) => store::diagnostic::objective(&mut w.conn(), ObjectiveId(n))
            .await?
            .filter(|(person, field)| {
                *person == id && (*field != Field::SanteHandicap || w.caps().health())
            })
            .map(|(_, field)| (ObjectiveId(n), field)),
        Err(_) => None,
    };
    if objective.is_none() {
        errors.add("objective", "Choisissez un objectif du plan.");
    }
    let title = title(&mut errors, "title", &input.title);
    let field = objective.map_or(Field::ReseauProfessionnel, |o| o.1);
    let owner = owner(&mut w, &mut errors, id, field, &input.owner).await?;
    let due_on = due_date(&mut w, &mut errors, id, &input.due_on, today).await?;
    let service = match input.service.trim() {
        "" => None,
        s => {
            let found = match s.parse::<i64>() {
                Ok(n) => store::directory::service(&mut w.conn(), ServiceId(n))
                    .await?
                    .filter(|svc| svc.territory_id == w.caps().territory()),
                Err(_) => None,
            };
            if found.is_none() {
                errors.add(
                    "service",
                    "Ce relais n'est pas dans l'annuaire du territoire.",
                );
            }
            found.map(|svc| svc.id)
        }
    };
    let (Some((objective, _)), Some(owner), Some(due_on)) = (objective, owner, due_on) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = w.now();
    let action = store::diagnostic::add_action(
        &mut w.conn(),
        &NewAction {
            objective,
            person: id,
            title: &title,
            owner,
            due_on,
            service,
        },
        caller.user_id,
        now,
    )
    .await?;
    w.commit(&format!(
        "action ajoutée au plan (échéance {})",
        due_on.format("%d/%m/%Y")
    ))
    .await?;
    Ok(action)
}

pub async fn change_action(
    app: &App,
    caller: &Caller,
    id: PersonId,
    action: PlanActionId,
    input: &ActionChangeInput,
) -> Result<(), AppError> {
    let mut w = open(app, caller, id).await?;
    let today = app.today_in(w.caps().zone());
    let current = store::diagnostic::action(&mut w.conn(), action)
        .await?
        .filter(|a| a.person_id == id && (a.field != Field::SanteHandicap || w.caps().health()))
        .ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::default();
    let status = errors.check("status", ActionStatus::parse(&input.status));
    let owner = owner(&mut w, &mut errors, id, current.field, &input.owner).await?;
    let due_on = if input.due_on.trim() == current.due_on {
        domain::parse_date(&current.due_on).ok()
    } else {
        due_date(&mut w, &mut errors, id, &input.due_on, today).await?
    };
    let done_on = match (status, input.done_on.trim()) {
        (Some(ActionStatus::Fait), "") => Some(today),
        (Some(ActionStatus::Fait), d) => {
            crate::persons::past_date(&mut errors, "done_on", d, today)
        }
        (_, "") => None,
        (_, _) => {
            errors.add(
                "done_on",
                "Une date de réalisation suppose une action faite.",
            );
            None
        }
    };
    let (Some(status), Some(owner), Some(due_on)) = (status, owner, due_on) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = w.now();
    store::diagnostic::change_action(
        &mut w.conn(),
        action,
        &ActionChange {
            status,
            done_on,
            owner,
            due_on,
        },
        caller.user_id,
        now,
    )
    .await?;
    w.commit(&format!(
        "action du plan : {}",
        status.label().to_lowercase()
    ))
    .await?;
    Ok(())
}

/// The caller's overdue actions among the files they may see (for the home page): how many,
/// and the oldest `limit`. The persons shown are audited as a list.
pub async fn overdue_of(
    app: &App,
    caller: &Caller,
    limit: i64,
) -> Result<(i64, Vec<Overdue>), AppError> {
    let scope = crate::persons::scope(caller)?;
    let today = app.today_in(caller.zone());
    let mut pooled = app.db.acquire().await?;
    let (total, rows) =
        store::diagnostic::overdue(&mut pooled.conn(), &scope, caller.user_id, today, limit)
            .await?;
    // The people named on the home page are recorded as shown (one statement).
    let mut ids: Vec<i64> = rows.iter().map(|r| r.person_id.0).collect();
    ids.sort_unstable();
    ids.dedup();
    crate::persons::shown_in_list(
        app,
        caller,
        &scope,
        &ids,
        "accueil : actions en retard",
        &mut pooled.conn(),
    )
    .await?;
    Ok((total, rows))
}

/// What « Ajouter au plan » sends from a suggestion.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PrepareInput {
    pub field: String,
    pub service: String,
}

/// One click from a suggested relay: an action « Orienter vers … » in the plan, under the
/// field's objective (created if the plan has none for that field), owned by the caller when
/// they are in the group (else the référent), due in two weeks. The referrals feature turns
/// it into an orientation sent to the service.
pub async fn prepare_orientation(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &PrepareInput,
) -> Result<PlanActionId, AppError> {
    let mut w = open(app, caller, id).await?;
    let caps = w.caps();
    let today = app.today_in(caps.zone());
    let field = Field::parse(&input.field).map_err(|e| AppError::field("field", e.0))?;
    if field == Field::SanteHandicap && !caps.health() {
        return Err(AppError::NotFound);
    }
    let service = match input.service.trim().parse::<i64>() {
        Ok(n) => store::directory::service(&mut w.conn(), ServiceId(n))
            .await?
            .filter(|s| s.territory_id == caps.territory()),
        Err(_) => None,
    }
    .ok_or_else(|| {
        AppError::field(
            "service",
            "Ce relais n'est pas dans l'annuaire du territoire.",
        )
    })?;
    let record: domain::inclusion::Service = serde_json::from_str(&service.record)
        .map_err(|e| AppError::Internal(format!("service {} illisible : {e}", service.id.0)))?;
    let members = store::persons::members(&mut w.conn(), id).await?;
    let active = |m: &&store::persons::Member| m.ended_at.is_none();
    let owner = members
        .iter()
        .filter(active)
        .find(|m| m.user_id == caller.user_id.0)
        .or_else(|| members.iter().filter(active).find(|m| m.is_referent))
        .map(|m| UserId(m.user_id))
        .ok_or_else(|| {
            AppError::field(
                "service",
                "Le groupe de suivi n'a pas de référent : nommez-en un avant de préparer une orientation.",
            )
        })?;
    let now = w.now();
    let objectives = store::diagnostic::objectives(&mut w.conn(), id, caps.health()).await?;
    let objective = match objectives.iter().find(|o| o.field == field) {
        Some(o) => o.id,
        None => {
            store::diagnostic::add_objective(
                &mut w.conn(),
                id,
                field,
                &format!("Lever le frein « {} »", field.label()),
                caller.user_id,
                now,
            )
            .await?
        }
    };
    let diagnosed = store::diagnostic::last_signed_on(&mut w.conn(), id)
        .await?
        .and_then(|d| domain::parse_date(&d).ok())
        .unwrap_or(today);
    let due_on = today.max(diagnosed) + chrono::Duration::days(14);
    let title = format!(
        "Orienter vers « {} » ({})",
        record.nom, service.structure_nom
    );
    let action = store::diagnostic::add_action(
        &mut w.conn(),
        &NewAction {
            objective,
            person: id,
            title: &title,
            owner,
            due_on,
            service: Some(service.id),
        },
        caller.user_id,
        now,
    )
    .await?;
    w.commit(&format!(
        "orientation préparée vers le service {}",
        service.id.0
    ))
    .await?;
    Ok(action)
}
