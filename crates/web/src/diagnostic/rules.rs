//! `/territoire/regles`: the eligibility rules of the territory — the shipped ones (with their
//! legal references) and the territory's own, written through one form (a new rule, or a
//! shipped one adapted, which then replaces it for the territory). Coordinators write; every
//! professional of the territory reads.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::diagnostic::{self, RuleForm, RuleRow};
use domain::eligibility::{Flag, Rule};
use domain::person::{QualificationLevel, Sex};
use domain::{Field as ActionField, RuleId, ServiceId};

use super::Message;
use crate::flash;
use crate::forms::{Pairs, many};
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

pub struct RuleView {
    pub id: Option<i64>,
    pub code: String,
    pub name: String,
    pub reference: String,
    pub validity: String,
    pub fields: Vec<&'static str>,
    pub paths: Vec<(String, String, Vec<String>)>,
    pub priority: Vec<String>,
    pub replaced: bool,
    pub author: String,
}

fn view(r: &RuleRow) -> RuleView {
    let rule: &Rule = &r.rule;
    RuleView {
        id: r.stored.as_ref().map(|(id, _)| id.0),
        code: rule.code.clone(),
        name: rule.name.clone(),
        reference: rule.reference.clone(),
        validity: match rule.valid_until {
            Some(until) => format!(
                "du {} au {}",
                rule.valid_from.format("%d/%m/%Y"),
                until.format("%d/%m/%Y")
            ),
            None => format!("depuis le {}", rule.valid_from.format("%d/%m/%Y")),
        },
        fields: rule.fields.iter().map(|f| f.label()).collect(),
        paths: rule
            .paths
            .iter()
            .map(|p| {
                (
                    p.label.clone(),
                    match p.at_least {
                        None => "tous les critères".to_string(),
                        Some(n) => format!("au moins {n} critère{}", if n > 1 { "s" } else { "" }),
                    },
                    p.criteria.iter().map(|c| c.describe()).collect(),
                )
            })
            .collect(),
        priority: rule.priority.iter().map(|c| c.describe()).collect(),
        replaced: r.replaced,
        author: r
            .stored
            .as_ref()
            .map(|(_, a)| a.clone())
            .unwrap_or_default(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "diagnostic/rules.html")]
pub struct RulesPage {
    layout: Layout,
    coordinator: bool,
    shipped: Vec<RuleView>,
    own: Vec<RuleView>,
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MessageQuery>,
) -> Result<RulesPage, WebError> {
    let rules = diagnostic::rules(&state.app, &user.caller).await?;
    let coordinator = user
        .caller
        .active_territory
        .as_ref()
        .is_some_and(|t| user.caller.is_coordinator_of(t.id));
    Ok(RulesPage {
        layout: Layout::for_user("Règles d'éligibilité", &user, Nav::Territory)
            .crumbs(&[("Accueil", "/"), ("Règles d'éligibilité", "")])
            .with_message(q.message.as_deref()),
        coordinator,
        shipped: rules.shipped.iter().map(view).collect(),
        own: rules.own.iter().map(view).collect(),
    })
}

/// One path of the form, with what was typed.
pub struct PathForm {
    pub n: usize,
    pub label: String,
    pub at_least: String,
    pub ages: Vec<(&'static str, &'static str, String, String)>,
    pub flags: Vec<(&'static str, &'static str, String)>,
    pub qualification: String,
    pub ft_min: String,
    pub ft_max: String,
    pub child: String,
    pub sex: String,
    pub others: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "diagnostic/rule_form.html")]
pub struct RuleFormPage {
    layout: Layout,
    has_errors: bool,
    errors: Vec<(&'static str, String)>,
    code: String,
    name: String,
    reference: String,
    valid_from: String,
    valid_until: String,
    fields: Vec<(&'static str, &'static str, bool)>,
    paths: Vec<PathForm>,
    qualifications: Vec<(String, String)>,
    sexes: Vec<(String, String)>,
    priority: Vec<(&'static str, &'static str, bool)>,
    priority_others: String,
}

fn form_page(user: &CurrentUser, form: &RuleForm, errors: &FieldErrors) -> RuleFormPage {
    let err = |k: &str| errors.get(k).map(str::to_string);
    let paths = (1..=app::diagnostic::RULE_PATHS)
        .map(|n| {
            let k = |s: &str| format!("voie{n}-{s}");
            PathForm {
                n,
                label: form.get(&k("label")).to_string(),
                at_least: form.get(&k("n")).to_string(),
                ages: vec![
                    (
                        "age",
                        "Âge",
                        form.get(&k("age-min")).into(),
                        form.get(&k("age-max")).into(),
                    ),
                    (
                        "age2",
                        "Autre critère d'âge",
                        form.get(&k("age2-min")).into(),
                        form.get(&k("age2-max")).into(),
                    ),
                ],
                flags: Flag::ALL
                    .iter()
                    .map(|f| (f.as_str(), f.label(), form.get(&k(f.as_str())).to_string()))
                    .collect(),
                qualification: form.get(&k("qualification")).into(),
                ft_min: form.get(&k("ft-min")).into(),
                ft_max: form.get(&k("ft-max")).into(),
                child: form.get(&k("enfant")).into(),
                sex: form.get(&k("sexe")).into(),
                others: form.get(&k("autres")).into(),
                error: err(["voie1", "voie2", "voie3"][n - 1]),
            }
        })
        .collect();
    let chosen = form.all("fields");
    let priority = form.all("priorite");
    RuleFormPage {
        layout: Layout::for_user("Règle d'éligibilité du territoire", user, Nav::Territory).crumbs(
            &[
                ("Accueil", "/"),
                ("Règles d'éligibilité", "/territoire/regles"),
                ("Règle du territoire", ""),
            ],
        ),
        has_errors: !errors.is_empty(),
        errors: errors.iter().map(|(k, m)| (k, m.to_string())).collect(),
        code: form.get("code").into(),
        name: form.get("name").into(),
        reference: form.get("reference").into(),
        valid_from: form.get("valid_from").into(),
        valid_until: form.get("valid_until").into(),
        fields: ActionField::ALL
            .iter()
            .map(|f| (f.as_str(), f.label(), chosen.contains(&f.as_str())))
            .collect(),
        paths,
        qualifications: QualificationLevel::options(),
        sexes: Sex::options()
            .into_iter()
            .filter(|(c, _)| c != "non-precise")
            .collect(),
        priority: Flag::ALL
            .iter()
            .map(|f| (f.as_str(), f.label(), priority.contains(&f.as_str())))
            .collect(),
        priority_others: form.get("priorite-autres").into(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FormQuery {
    code: String,
}

pub async fn show_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FormQuery>,
) -> Result<RuleFormPage, WebError> {
    let code = (!q.code.is_empty()).then_some(q.code.as_str());
    let form = diagnostic::rule_form(&state.app, &user.caller, code).await?;
    Ok(form_page(&user, &form, &FieldErrors::default()))
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let form = RuleForm(pairs);
    match diagnostic::save_rule(&state.app, &user.caller, &form).await {
        Ok(_) => Ok(flash::redirect("/territoire/regles", Message::RuleSaved).into_response()),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            form_page(&user, &form, &errors),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RuleId>,
    CsrfForm(_): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    diagnostic::delete_rule(&state.app, &user.caller, id).await?;
    Ok(flash::redirect("/territoire/regles", Message::RuleDeleted).into_response())
}

pub async fn set_service_rules(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ServiceId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    diagnostic::set_service_rules(&state.app, &user.caller, id, &many(&pairs, "rules")).await?;
    Ok(flash::redirect(
        &format!("/annuaire/services/{}#conditions", id.0),
        Message::ServiceRules,
    )
    .into_response())
}
