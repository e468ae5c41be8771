//! « Les 8 champs d'action » (`/champs-d-action`): constats, relays, inspiring actions.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::knowledge::ActionInput;
use app::models::Action;
use domain::{ActionId, Field as ActionField};

use crate::forms::Field;
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

pub struct ActionView {
    pub id: i64,
    pub field: String,
    pub field_slug: String,
    pub title: String,
    pub territory: String,
    pub description: String,
    pub partners: String,
    pub results: String,
    pub contact: String,
    pub updated: String,
    pub author: String,
    pub editable: bool,
}

fn view(user: &CurrentUser, a: Action) -> ActionView {
    let field = ActionField::parse(&a.field).ok();
    ActionView {
        id: a.id.0,
        editable: app::knowledge::may_edit_action(&user.caller, &a),
        field: field.map_or_else(|| a.field.clone(), |f| f.label().to_string()),
        field_slug: a.field.clone(),
        title: a.title,
        territory: a.territory_name,
        description: a.description,
        partners: a.partners,
        results: a.results,
        contact: a.contact,
        updated: a.updated_at.format("%d/%m/%Y").to_string(),
        author: a.author.unwrap_or_default(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct KnowledgeQuery {
    q: String,
    message: Option<String>,
}

pub struct SummaryView {
    pub slug: String,
    pub number: u8,
    pub label: String,
    pub constat: String,
    pub actions: i64,
    pub relays: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "knowledge/index.html")]
pub struct IndexPage {
    layout: Layout,
    fields: Vec<SummaryView>,
    query: Field,
    searched: Option<String>,
    found: Vec<ActionView>,
    territory: Option<String>,
}

fn first_sentence(text: &str) -> String {
    match text.find(". ") {
        Some(i) => text[..=i].to_string(),
        None => text.to_string(),
    }
}

pub async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<KnowledgeQuery>,
) -> Result<IndexPage, WebError> {
    let overview = app::knowledge::overview(&state.app, &user.caller).await?;
    let searched = Some(q.q.trim().to_string()).filter(|s| !s.is_empty());
    let found = match &searched {
        Some(s) => app::knowledge::search_actions(&state.app, s)
            .await?
            .into_iter()
            .map(|a| view(&user, a))
            .collect(),
        None => Vec::new(),
    };
    Ok(IndexPage {
        layout: Layout::for_user("Les 8 champs d'action", &user, Nav::Knowledge)
            .crumbs(&[("Accueil", "/"), ("Les 8 champs d'action", "")])
            .with_message(q.message.as_deref()),
        fields: overview
            .into_iter()
            .map(|s| SummaryView {
                slug: s.field.slug().to_string(),
                number: s.field.number(),
                label: s.field.label().to_string(),
                constat: first_sentence(&s.constat),
                actions: s.actions,
                relays: s.relays,
            })
            .collect(),
        query: Field::typed(
            "q",
            "Rechercher une action inspirante",
            &q.q,
            "search",
            "off",
        )
        .hint("Mots du titre, de la description, des partenaires ou du territoire"),
        searched,
        found,
        territory: user
            .caller
            .active_territory
            .as_ref()
            .map(|t| t.name.clone()),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "knowledge/field.html")]
pub struct FieldPage {
    layout: Layout,
    slug: String,
    number: u8,
    label: String,
    constat: Vec<String>,
    constat_updated: Option<String>,
    typical: Vec<&'static str>,
    relays: i64,
    territory: Option<String>,
    actions: Vec<ActionView>,
    may_write_action: bool,
    constat_form: Option<Field>,
}

fn parse_field(slug: &str) -> Result<ActionField, WebError> {
    ActionField::parse(slug).map_err(|_| app::AppError::NotFound.into())
}

async fn field_page(
    state: &AppState,
    user: &CurrentUser,
    field: ActionField,
    constat_input: Option<(&str, &FieldErrors)>,
    message: Option<&str>,
) -> Result<FieldPage, WebError> {
    let p = app::knowledge::field_page(&state.app, &user.caller, field).await?;
    let title = format!("{}. {}", field.number(), field.label());
    Ok(FieldPage {
        layout: Layout::for_user(&title, user, Nav::Knowledge)
            .crumbs(&[
                ("Accueil", "/"),
                ("Les 8 champs d'action", "/champs-d-action"),
                (&title, ""),
            ])
            .with_message(message),
        slug: field.slug().to_string(),
        number: field.number(),
        label: field.label().to_string(),
        constat: p.constat.split("\n\n").map(str::to_string).collect(),
        constat_updated: p.constat_updated.map(|d| d.format("%d/%m/%Y").to_string()),
        typical: field.typical_relays().to_vec(),
        relays: p.relays,
        territory: user
            .caller
            .active_territory
            .as_ref()
            .map(|t| t.name.clone()),
        actions: p.actions.into_iter().map(|a| view(user, a)).collect(),
        may_write_action: p.may_write_action,
        constat_form: p.may_edit_constat.then(|| {
            let none = FieldErrors::default();
            let (value, errors) = constat_input.unwrap_or((&p.constat, &none));
            Field::textarea("constat", "Constat", value).errors(errors)
        }),
    })
}

pub async fn show_field(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Query(m): Query<MessageQuery>,
) -> Result<FieldPage, WebError> {
    field_page(
        &state,
        &user,
        parse_field(&slug)?,
        None,
        m.message.as_deref(),
    )
    .await
}

#[derive(Deserialize)]
pub struct ConstatForm {
    constat: String,
}

pub async fn update_constat(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<ConstatForm>,
) -> Result<Response, WebError> {
    let field = parse_field(&slug)?;
    match app::knowledge::set_constat(&state.app, &user.caller, field, &form.constat).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/champs-d-action/{slug}?message=constat-modifie"))
                .into_response(),
        ),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            field_page(&state, &user, field, Some((&form.constat, &errors)), None).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/form.html")]
pub struct ActionFormPage {
    layout: Layout,
    heading: String,
    intro: String,
    has_errors: bool,
    action: String,
    fields: Vec<Field>,
    button: String,
}

fn action_form(
    user: &CurrentUser,
    heading: &str,
    action: String,
    input: &ActionInput,
    errors: &FieldErrors,
) -> ActionFormPage {
    let territory = user
        .caller
        .active_territory
        .as_ref()
        .map(|t| t.name.clone())
        .unwrap_or_default();
    ActionFormPage {
        layout: Layout::for_user(heading, user, Nav::Knowledge).crumbs(&[
            ("Accueil", "/"),
            ("Les 8 champs d'action", "/champs-d-action"),
            (heading, ""),
        ]),
        heading: heading.to_string(),
        intro: format!(
            "Partagez avec tous les territoires une action qui a fonctionné à {territory} : ce qui a été fait, avec qui, et ce que cela a donné. Ne citez aucune personne accompagnée."
        ),
        has_errors: !errors.is_empty(),
        action,
        fields: vec![
            Field::select(
                "field",
                "Champ d'action",
                &input.field,
                crate::directory::field_options(),
            )
            .required()
            .errors(errors),
            Field::text("title", "Titre", &input.title)
                .required()
                .errors(errors),
            Field::textarea("description", "Description", &input.description)
                .required()
                .hint("Le besoin, ce qui a été fait, comment")
                .errors(errors),
            Field::textarea("partners", "Partenaires", &input.partners).errors(errors),
            Field::textarea("results", "Résultats", &input.results)
                .hint("Chiffres, enseignements, suites")
                .errors(errors),
            Field::text("contact", "Contact", &input.contact)
                .hint("Une fonction et une adresse professionnelle")
                .errors(errors),
        ],
        button: "Publier".into(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    field: String,
    title: String,
    description: String,
    partners: String,
    results: String,
    contact: String,
}

impl From<ActionForm> for ActionInput {
    fn from(f: ActionForm) -> ActionInput {
        ActionInput {
            field: f.field,
            title: f.title,
            description: f.description,
            partners: f.partners,
            results: f.results,
            contact: f.contact,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewActionQuery {
    champ: String,
}

pub async fn new_action(
    user: CurrentUser,
    Query(q): Query<NewActionQuery>,
) -> Result<ActionFormPage, WebError> {
    if !app::knowledge::may_write_action(&user.caller) {
        return Err(app::AppError::Forbidden.into());
    }
    let input = ActionInput {
        field: q.champ,
        ..ActionInput::default()
    };
    Ok(action_form(
        &user,
        "Partager une action inspirante",
        "/champs-d-action/actions".into(),
        &input,
        &FieldErrors::default(),
    ))
}

pub async fn create_action(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    let input: ActionInput = form.into();
    match app::knowledge::create_action(&state.app, &user.caller, &input).await {
        Ok(id) => Ok(Redirect::to(&format!(
            "/champs-d-action/actions/{}?message=action-publiee",
            id.0
        ))
        .into_response()),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            action_form(
                &user,
                "Partager une action inspirante",
                "/champs-d-action/actions".into(),
                &input,
                &errors,
            ),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "knowledge/action.html")]
pub struct ActionPage {
    layout: Layout,
    a: ActionView,
}

pub async fn show_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ActionId>,
    Query(m): Query<MessageQuery>,
) -> Result<ActionPage, WebError> {
    let a = view(&user, app::knowledge::action(&state.app, id).await?);
    Ok(ActionPage {
        layout: Layout::for_user(&a.title, &user, Nav::Knowledge)
            .crumbs(&[
                ("Accueil", "/"),
                ("Les 8 champs d'action", "/champs-d-action"),
                (&a.field, &format!("/champs-d-action/{}", a.field_slug)),
                (&a.title, ""),
            ])
            .with_message(m.message.as_deref()),
        a,
    })
}

pub async fn edit_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ActionId>,
) -> Result<ActionFormPage, WebError> {
    let a = app::knowledge::action(&state.app, id).await?;
    if !app::knowledge::may_edit_action(&user.caller, &a) {
        return Err(app::AppError::Forbidden.into());
    }
    Ok(action_form(
        &user,
        "Modifier l'action",
        format!("/champs-d-action/actions/{id}/modifier"),
        &ActionInput::from_action(&a),
        &FieldErrors::default(),
    ))
}

pub async fn update_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ActionId>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    let input: ActionInput = form.into();
    match app::knowledge::update_action(&state.app, &user.caller, id, &input).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/champs-d-action/actions/{id}?message=action-modifiee"
        ))
        .into_response()),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            action_form(
                &user,
                "Modifier l'action",
                format!("/champs-d-action/actions/{id}/modifier"),
                &input,
                &errors,
            ),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
