//! National administration: territories, organisations, national accounts, mail, audit trail.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::organisations::OrganisationInput;
use app::team::InvitationInput;
use app::territories::TerritoryInput;
use domain::{MailId, OrganisationId, Role, TerritoryId, TerritoryStatus};

use crate::forms::Field;
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::territories::organisation_fields;
use crate::{AppState, WebError};

/// National pages show the time in Paris.
fn paris(d: chrono::DateTime<chrono::Utc>) -> String {
    crate::forms::moment(d, domain::TimeZone::Paris)
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/index.html")]
pub struct AdminPage {
    layout: Layout,
}

pub async fn show_admin(user: CurrentUser) -> Result<AdminPage, WebError> {
    user.caller.require_admin()?;
    Ok(AdminPage {
        layout: Layout::for_user("Administration", &user, Nav::Admin)
            .crumbs(&[("Accueil", "/"), ("Administration", "")]),
    })
}

// ---- Territories ----

pub struct TerritoryRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub status: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/territories.html")]
pub struct TerritoriesPage {
    layout: Layout,
    rows: Vec<TerritoryRow>,
}

pub async fn list_territories(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MessageQuery>,
) -> Result<TerritoriesPage, WebError> {
    let territories = app::territories::list(&state.app, &user.caller).await?;
    Ok(TerritoriesPage {
        layout: Layout::for_user("Territoires", &user, Nav::Admin)
            .crumbs(&[
                ("Accueil", "/"),
                ("Administration", "/admin"),
                ("Territoires", ""),
            ])
            .with_message(q.message.as_deref()),
        rows: territories
            .iter()
            .map(|t| TerritoryRow {
                id: t.id.0,
                name: t.name.clone(),
                slug: t.slug.clone(),
                status: t.status_label(),
            })
            .collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/form.html")]
pub struct FormPage {
    layout: Layout,
    heading: String,
    intro: String,
    action: String,
    fields: Vec<Field>,
    button: String,
    has_errors: bool,
}

fn territory_form(
    user: &CurrentUser,
    id: Option<i64>,
    input: &TerritoryInput,
    errors: &FieldErrors,
) -> FormPage {
    let heading = if id.is_some() {
        "Modifier le territoire"
    } else {
        "Créer un territoire"
    };
    let statuses = TerritoryStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), s.label().to_string()))
        .collect();
    FormPage {
        layout: Layout::for_user(heading, user, Nav::Admin).crumbs(&[
            ("Accueil", "/"),
            ("Administration", "/admin"),
            ("Territoires", "/admin/territoires"),
            (heading, ""),
        ]),
        heading: heading.into(),
        intro: "Un territoire est un programme territorial : une cité de l'emploi, ou le volet emploi d'un contrat de ville « Quartiers 2030 ».".into(),
        action: id.map_or_else(|| "/admin/territoires".to_string(), |id| format!("/admin/territoires/{id}")),
        fields: vec![
            Field::text("name", "Nom du territoire", &input.name).hint("Par exemple : Cité de l'emploi de Maubeuge Val de Sambre").required().errors(errors),
            Field::text("slug", "Identifiant court", &input.slug).hint("Utilisé dans les adresses des pages ; laissé vide, il est déduit du nom").errors(errors),
            Field::select("status", "Statut", &input.status, statuses).required().errors(errors),
            Field::text("epci", "EPCI (SIREN)", &input.epci).hint("9 chiffres, facultatif").errors(errors),
            Field::textarea("communes", "Communes", &input.communes)
                .hint("Par leur nom, séparés par des virgules (« Maubeuge, Louvroil » ; « Saint-Denis (974) » quand plusieurs communes portent ce nom), ou par leur code INSEE (59392 59365). Laissé vide avec un EPCI : toutes les communes de l'EPCI.")
                .errors(errors),
            Field::textarea("co_pilots", "Co-pilotes", &input.co_pilots).hint("Par exemple : Préfecture du Nord (délégué du préfet), Ville de Maubeuge").errors(errors),
            Field::typed("starts_on", "Date de début", &input.starts_on, "date", "off").errors(errors),
            Field::typed("ends_on", "Date de fin", &input.ends_on, "date", "off").errors(errors),
            Field::select("time_zone", "Fuseau horaire", &input.time_zone, domain::TimeZone::options())
                .hint("Laissé vide : celui du département des communes (La Réunion, Mayotte, Guyane, Martinique, Guadeloupe ou la métropole)")
                .errors(errors),
        ],
        button: if id.is_some() { "Enregistrer les modifications".into() } else { "Créer le territoire".into() },
        has_errors: !errors.is_empty(),
    }
}

fn invalid_form(page: FormPage) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

pub async fn new_territory(user: CurrentUser) -> Result<FormPage, WebError> {
    user.caller.require_admin()?;
    let input = TerritoryInput {
        status: TerritoryStatus::Preparation.as_str().into(),
        ..TerritoryInput::default()
    };
    Ok(territory_form(&user, None, &input, &FieldErrors::default()))
}

pub async fn create_territory(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<TerritoryInput>,
) -> Result<Response, WebError> {
    match app::territories::create(&state.app, &user.caller, &form).await {
        Ok(_) => Ok(Redirect::to("/admin/territoires?message=territoire-cree").into_response()),
        Err(app::AppError::Invalid(errors)) => {
            Ok(invalid_form(territory_form(&user, None, &form, &errors)))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_territory(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<TerritoryId>,
) -> Result<FormPage, WebError> {
    let (territory, communes) = app::territories::for_edit(&state.app, &user.caller, id).await?;
    Ok(territory_form(
        &user,
        Some(id.0),
        &TerritoryInput::from_territory(&territory, &communes),
        &FieldErrors::default(),
    ))
}

pub async fn update_territory(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<TerritoryId>,
    CsrfForm(form): CsrfForm<TerritoryInput>,
) -> Result<Response, WebError> {
    match app::territories::update(&state.app, &user.caller, id, &form).await {
        Ok(()) => Ok(Redirect::to("/admin/territoires?message=territoire-modifie").into_response()),
        Err(app::AppError::Invalid(errors)) => Ok(invalid_form(territory_form(
            &user,
            Some(id.0),
            &form,
            &errors,
        ))),
        Err(e) => Err(e.into()),
    }
}

// ---- Organisations ----

pub struct OrganisationRow {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub siret: String,
    pub commune: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/organisations.html")]
pub struct OrganisationsPage {
    layout: Layout,
    rows: Vec<OrganisationRow>,
}

pub async fn list_organisations(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<MessageQuery>,
) -> Result<OrganisationsPage, WebError> {
    let organisations = app::organisations::list(&state.app, &user.caller).await?;
    let referential = state.app.referential;
    Ok(OrganisationsPage {
        layout: Layout::for_user("Structures", &user, Nav::Admin)
            .crumbs(&[
                ("Accueil", "/"),
                ("Administration", "/admin"),
                ("Structures", ""),
            ])
            .with_message(q.message.as_deref()),
        rows: organisations
            .iter()
            .map(|o| OrganisationRow {
                id: o.id.0,
                name: o.name.clone(),
                kind: o.kind_label(),
                siret: o.siret.clone().unwrap_or_default(),
                commune: domain::InseeCode::parse(&o.commune_insee)
                    .ok()
                    .and_then(|c| referential.commune(&c).map(|c| c.display_name()))
                    .unwrap_or_else(|| o.commune_insee.clone()),
            })
            .collect(),
    })
}

fn organisation_form(
    user: &CurrentUser,
    id: Option<i64>,
    input: &OrganisationInput,
    errors: &FieldErrors,
) -> FormPage {
    let heading = if id.is_some() {
        "Modifier la structure"
    } else {
        "Créer une structure"
    };
    FormPage {
        layout: Layout::for_user(heading, user, Nav::Admin).crumbs(&[
            ("Accueil", "/"),
            ("Administration", "/admin"),
            ("Structures", "/admin/structures"),
            (heading, ""),
        ]),
        heading: heading.into(),
        intro: "Une structure est un organisme partenaire : agence France Travail, Mission locale, association, CCAS, SIAE, employeur…".into(),
        action: id.map_or_else(|| "/admin/structures".to_string(), |id| format!("/admin/structures/{id}")),
        fields: organisation_fields(input, errors),
        button: if id.is_some() { "Enregistrer les modifications".into() } else { "Créer la structure".into() },
        has_errors: !errors.is_empty(),
    }
}

pub async fn new_organisation(user: CurrentUser) -> Result<FormPage, WebError> {
    user.caller.require_admin()?;
    Ok(organisation_form(
        &user,
        None,
        &OrganisationInput::default(),
        &FieldErrors::default(),
    ))
}

pub async fn create_organisation(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<OrganisationInput>,
) -> Result<Response, WebError> {
    match app::organisations::create(&state.app, &user.caller, &form, None).await {
        Ok(_) => Ok(Redirect::to("/admin/structures?message=structure-creee").into_response()),
        Err(app::AppError::Invalid(errors)) => {
            Ok(invalid_form(organisation_form(&user, None, &form, &errors)))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_organisation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<OrganisationId>,
) -> Result<FormPage, WebError> {
    let organisation = app::organisations::get(&state.app, &user.caller, id).await?;
    let input = OrganisationInput::from_organisation(&organisation, state.app.referential);
    Ok(organisation_form(
        &user,
        Some(id.0),
        &input,
        &FieldErrors::default(),
    ))
}

pub async fn update_organisation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<OrganisationId>,
    CsrfForm(form): CsrfForm<OrganisationInput>,
) -> Result<Response, WebError> {
    match app::organisations::update(&state.app, &user.caller, id, &form).await {
        Ok(()) => Ok(Redirect::to("/admin/structures?message=structure-modifiee").into_response()),
        Err(app::AppError::Invalid(errors)) => Ok(invalid_form(organisation_form(
            &user,
            Some(id.0),
            &form,
            &errors,
        ))),
        Err(e) => Err(e.into()),
    }
}

// ---- National accounts ----

pub struct AccountRow {
    pub name: String,
    pub email: String,
    pub active: bool,
    pub last_login: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/accounts.html")]
pub struct AccountsPage {
    layout: Layout,
    search: String,
    rows: Vec<AccountRow>,
    fields: Vec<Field>,
    has_errors: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AccountsQuery {
    recherche: String,
    message: Option<String>,
}

async fn accounts_page(
    state: &AppState,
    user: &CurrentUser,
    search: &str,
    input: &InvitationInput,
    errors: &FieldErrors,
    message: Option<&str>,
) -> Result<AccountsPage, WebError> {
    let accounts = app::oversight::accounts(&state.app, &user.caller, search).await?;
    let roles = [Role::Admin, Role::Pilot]
        .iter()
        .map(|r| (r.as_str().to_string(), format!("{} (national)", r.label())))
        .collect();
    Ok(AccountsPage {
        layout: Layout::for_user("Comptes", user, Nav::Admin)
            .crumbs(&[
                ("Accueil", "/"),
                ("Administration", "/admin"),
                ("Comptes", ""),
            ])
            .with_message(message),
        search: search.to_string(),
        rows: accounts
            .iter()
            .map(|u| AccountRow {
                name: u.display_name.clone(),
                email: u.email.clone(),
                active: u.is_active,
                last_login: u.last_login_at.map_or_else(|| "jamais".into(), paris),
            })
            .collect(),
        fields: vec![
            Field::typed(
                "email",
                "Adresse électronique",
                &input.email,
                "email",
                "off",
            )
            .required()
            .errors(errors),
            Field::text("display_name", "Prénom et nom", &input.display_name)
                .required()
                .errors(errors),
            Field::select("role", "Rôle", &input.role, roles)
                .required()
                .errors(errors),
        ],
        has_errors: !errors.is_empty(),
    })
}

pub async fn show_accounts(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AccountsQuery>,
) -> Result<AccountsPage, WebError> {
    accounts_page(
        &state,
        &user,
        &q.recherche,
        &InvitationInput::default(),
        &FieldErrors::default(),
        q.message.as_deref(),
    )
    .await
}

pub async fn invite_nationally(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<InvitationInput>,
) -> Result<Response, WebError> {
    match app::team::invite(&state.app, &user.caller, None, &form).await {
        Ok(outcome) => {
            let code = crate::layout::invitation_message(
                &outcome,
                state.app.settings.mail.smtp_url.is_some(),
            );
            Ok(Redirect::to(&format!("/admin/comptes?message={code}")).into_response())
        }
        Err(app::AppError::Invalid(errors)) => {
            let page = accounts_page(&state, &user, "", &form, &errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---- Mail and audit ----

pub struct MailRow {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub created: String,
    pub status: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/mail.html")]
pub struct MailPage {
    layout: Layout,
    rows: Vec<MailRow>,
    smtp: bool,
}

pub async fn list_mail(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<MailPage, WebError> {
    let mails = app::oversight::outbox(&state.app, &user.caller).await?;
    let smtp = state.app.settings.mail.smtp_url.is_some();
    Ok(MailPage {
        layout: Layout::for_user("Courriels", &user, Nav::Admin).crumbs(&[
            ("Accueil", "/"),
            ("Administration", "/admin"),
            ("Courriels", ""),
        ]),
        rows: mails
            .iter()
            .map(|m| MailRow {
                id: m.id.0,
                recipient: m.recipient.clone(),
                subject: m.subject.clone(),
                created: paris(m.created_at),
                status: match (&m.sent_at, &m.last_error) {
                    (Some(at), _) => format!("envoyé le {}", paris(*at)),
                    (None, Some(e)) => format!("échec ({} essais) : {e}", m.attempts),
                    (None, None) if smtp => "en attente d'envoi".into(),
                    (None, None) => "non envoyé (pas de serveur SMTP configuré)".into(),
                },
            })
            .collect(),
        smtp,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/mail_message.html")]
pub struct MailMessagePage {
    layout: Layout,
    recipient: String,
    subject: String,
    created: String,
    body: String,
}

pub async fn show_mail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MailId>,
) -> Result<MailMessagePage, WebError> {
    let mail = app::oversight::mail(&state.app, &user.caller, id).await?;
    Ok(MailMessagePage {
        layout: Layout::for_user(&mail.subject, &user, Nav::Admin).crumbs(&[
            ("Accueil", "/"),
            ("Administration", "/admin"),
            ("Courriels", "/admin/courriels"),
            (&mail.subject, ""),
        ]),
        recipient: mail.recipient,
        subject: mail.subject,
        created: paris(mail.created_at),
        body: mail.body,
    })
}

pub struct AuditRow {
    pub at: String,
    pub who: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    /// Accounts with many refused attempts on person files in 24 hours: name, count.
    suspicious: Vec<(String, i64)>,
    layout: Layout,
    rows: Vec<AuditRow>,
}

pub async fn show_audit(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<AuditPage, WebError> {
    let events = app::oversight::audit_trail(&state.app, &user.caller).await?;
    let suspicious = app::oversight::suspicious_accounts(&state.app, &user.caller).await?;
    Ok(AuditPage {
        suspicious: suspicious
            .into_iter()
            .map(|s| (s.user_name, s.attempts))
            .collect(),
        layout: Layout::for_user("Journal des actions", &user, Nav::Admin).crumbs(&[
            ("Accueil", "/"),
            ("Administration", "/admin"),
            ("Journal des actions", ""),
        ]),
        rows: events
            .into_iter()
            .map(|e| AuditRow {
                detail: app::persons::detail(&e),
                at: paris(e.at),
                who: e.user_name.unwrap_or_else(|| "—".into()),
                action: e.action,
                target: match e.target_id {
                    Some(id) => format!("{} n° {id}", e.target_kind),
                    None => e.target_kind,
                },
                ip: e.client_ip.unwrap_or_default(),
            })
            .collect(),
    })
}

pub struct JobRow {
    id: i64,
    label: &'static str,
    run_at: String,
    attempts: String,
    error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/jobs.html")]
pub struct JobsPage {
    layout: Layout,
    counts: Vec<(&'static str, i64)>,
    /// Title, jobs, whether they can be sent back to the queue.
    sections: Vec<(&'static str, Vec<JobRow>, bool)>,
    max_attempts: i32,
}

fn state_label(state: &str) -> &'static str {
    match state {
        "en-attente" => "en attente",
        "en-cours" => "en cours",
        "fait" => "faites",
        "en-echec" => "en échec",
        _ => "état inconnu",
    }
}

pub async fn show_jobs(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<JobsPage, WebError> {
    let o = app::jobs::overview(&state.app, &user.caller).await?;
    let rows = |jobs: Vec<app::models::Job>| -> Vec<JobRow> {
        jobs.into_iter()
            .map(|j| JobRow {
                id: j.id,
                label: app::jobs::Work::label_of(&j.kind),
                run_at: paris(j.run_at),
                attempts: format!("{} / {}", j.attempts, j.max_attempts),
                error: j.last_error.unwrap_or_default(),
            })
            .collect()
    };
    Ok(JobsPage {
        layout: Layout::for_user("Tâches de fond", &user, Nav::Admin).crumbs(&[
            ("Accueil", "/"),
            ("Administration", "/admin"),
            ("Tâches de fond", ""),
        ]),
        counts: o.counts.iter().map(|(s, n)| (state_label(s), *n)).collect(),
        sections: vec![
            ("En échec", rows(o.failed), true),
            ("En cours", rows(o.running), false),
            ("En attente", rows(o.waiting), false),
        ],
        max_attempts: app::jobs::MAX_ATTEMPTS,
    })
}

pub async fn retry_job(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::auth::EmptyForm>,
) -> Result<Response, WebError> {
    app::jobs::retry(&state.app, &user.caller, id).await?;
    Ok(Redirect::to("/admin/taches?message=tache-relancee").into_response())
}
