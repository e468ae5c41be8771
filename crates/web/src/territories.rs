//! A territory's page: its communes and partners for everyone who works there; partners,
//! team and invitations for its coordinators.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::organisations::OrganisationInput;
use app::team::{InvitationInput, TerritoryOverview};
use domain::{InseeCode, OrganisationKind, Role};

use crate::forms::Field;
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

pub struct CommuneView {
    pub code: String,
    pub name: String,
}

pub struct MemberView {
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub organisation: String,
    pub last_login: String,
    pub second_factor: &'static str,
}

pub struct InvitationView {
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub organisation: String,
    pub status: &'static str,
    pub sent: String,
}

pub struct ManagementView {
    pub members: Vec<MemberView>,
    pub invitations: Vec<InvitationView>,
    pub add_partner: Field,
    pub has_other_organisations: bool,
    pub invite_fields: Vec<Field>,
    pub organisation_fields: Vec<Field>,
    /// Its coordinators must sign in with a second factor.
    pub second_factor_required: bool,
    pub requirement_error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "territories/show.html")]
pub struct TerritoryPage {
    layout: Layout,
    slug: String,
    name: String,
    status: &'static str,
    co_pilots: String,
    period: String,
    communes: Vec<CommuneView>,
    partners: Vec<(String, &'static str)>,
    qpvs: Vec<(String, String)>,
    management: Option<ManagementView>,
    /// Which form the errors belong to, so the page opens at it.
    invalid_form: &'static str,
}

fn date(d: chrono::DateTime<chrono::Utc>) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn role_options(roles: &[Role]) -> Vec<(String, String)> {
    roles
        .iter()
        .map(|r| (r.as_str().to_string(), r.label().to_string()))
        .collect()
}

pub fn kind_options() -> Vec<(String, String)> {
    OrganisationKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect()
}

pub fn organisation_fields(input: &OrganisationInput, errors: &FieldErrors) -> Vec<Field> {
    vec![
        Field::text("name", "Nom de la structure", &input.name)
            .required()
            .errors(errors),
        Field::select("kind", "Type de structure", &input.kind, kind_options())
            .required()
            .errors(errors),
        Field::text("siret", "SIRET", &input.siret)
            .hint("14 chiffres, facultatif pour une association qui n'en a pas")
            .errors(errors),
        Field::typed(
            "address",
            "Adresse",
            &input.address,
            "text",
            "street-address",
        )
        .errors(errors),
        Field::typed(
            "postal_code",
            "Code postal",
            &input.postal_code,
            "text",
            "postal-code",
        )
        .required()
        .errors(errors),
        Field::text("commune", "Commune", &input.commune)
            .hint("Facultatif quand le code postal ne dessert qu'une commune")
            .errors(errors),
    ]
}

struct Forms<'a> {
    invitation: &'a InvitationInput,
    organisation: &'a OrganisationInput,
    errors: &'a FieldErrors,
    invalid_form: &'static str,
}

fn page(
    app: &app::App,
    user: &CurrentUser,
    overview: TerritoryOverview,
    forms: Forms<'_>,
    message: Option<&str>,
) -> TerritoryPage {
    let t = &overview.territory;
    let none = FieldErrors::default();
    let errors_for = |form: &str| {
        if forms.invalid_form == form {
            forms.errors
        } else {
            &none
        }
    };
    let communes = overview
        .communes
        .iter()
        .map(|code| CommuneView {
            code: code.clone(),
            name: InseeCode::parse(code)
                .ok()
                .and_then(|c| app.referential.commune(&c))
                .map_or_else(|| code.clone(), |c| c.display_name()),
        })
        .collect();
    let partner_options: Vec<(String, String)> = overview
        .partners
        .iter()
        .map(|o| (o.id.0.to_string(), o.name.clone()))
        .collect();
    let management = overview.management.map(|m| {
        let e = errors_for("invitation");
        ManagementView {
            members: m
                .team
                .iter()
                .map(|tm| MemberView {
                    name: tm.display_name.clone(),
                    email: tm.email.clone(),
                    role: Role::from_code(&tm.role).map_or("?", Role::label),
                    organisation: tm.organisation_name.clone().unwrap_or_default(),
                    last_login: tm.last_login_at.map_or_else(|| "jamais".to_string(), date),
                    second_factor: if tm.second_factor { "activée" } else { "non" },
                })
                .collect(),
            invitations: m
                .invitations
                .iter()
                .map(|i| InvitationView {
                    email: i.email.clone(),
                    name: i.display_name.clone(),
                    role: i.role().map_or("?", Role::label),
                    organisation: i.organisation_name.clone().unwrap_or_default(),
                    status: if i.accepted_at.is_some() {
                        "acceptée"
                    } else if i.revoked_at.is_some() {
                        "annulée"
                    } else if i.expires_at < app.now() {
                        "expirée"
                    } else {
                        "en attente"
                    },
                    sent: date(i.created_at),
                })
                .collect(),
            has_other_organisations: !m.other_organisations.is_empty(),
            add_partner: Field::select(
                "organisation_id",
                "Structure à ajouter",
                "",
                m.other_organisations
                    .iter()
                    .map(|o| {
                        (
                            o.id.0.to_string(),
                            format!("{} ({})", o.name, o.kind_label()),
                        )
                    })
                    .collect(),
            )
            .errors(errors_for("partner")),
            invite_fields: vec![
                Field::typed(
                    "email",
                    "Adresse électronique",
                    &forms.invitation.email,
                    "email",
                    "off",
                )
                .required()
                .errors(e),
                Field::text(
                    "display_name",
                    "Prénom et nom",
                    &forms.invitation.display_name,
                )
                .required()
                .errors(e),
                Field::select(
                    "role",
                    "Rôle",
                    &forms.invitation.role,
                    role_options(&[Role::Professional, Role::Coordinator, Role::Pilot]),
                )
                .required()
                .errors(e),
                Field::select(
                    "organisation_id",
                    "Structure (pour un professionnel)",
                    &forms.invitation.organisation_id,
                    partner_options.clone(),
                )
                .errors(e),
            ],
            organisation_fields: organisation_fields(
                forms.organisation,
                errors_for("organisation"),
            ),
            second_factor_required: t.second_factor_required,
            requirement_error: errors_for("securite")
                .iter()
                .map(|(_, m)| m.to_string())
                .next(),
        }
    });
    let period = match (t.starts_on, t.ends_on) {
        (Some(s), Some(e)) => format!("du {} au {}", s.format("%d/%m/%Y"), e.format("%d/%m/%Y")),
        (Some(s), None) => format!("depuis le {}", s.format("%d/%m/%Y")),
        (None, Some(e)) => format!("jusqu'au {}", e.format("%d/%m/%Y")),
        (None, None) => "non renseignée".to_string(),
    };
    TerritoryPage {
        layout: Layout::for_user(&t.name, user, Nav::Territory)
            .crumbs(&[("Accueil", "/"), (&t.name, "")])
            .with_message(message),
        slug: t.slug.clone(),
        name: t.name.clone(),
        status: t.status_label(),
        co_pilots: t.co_pilots.clone(),
        period,
        communes,
        partners: overview
            .partners
            .iter()
            .map(|o| (o.name.clone(), o.kind_label()))
            .collect(),
        qpvs: overview.qpvs.clone(),
        management,
        invalid_form: forms.invalid_form,
    }
}

pub async fn show_territory(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Query(query): Query<MessageQuery>,
) -> Result<TerritoryPage, WebError> {
    let overview = app::team::overview(&state.app, &user.caller, &slug).await?;
    let forms = Forms {
        invitation: &InvitationInput::default(),
        organisation: &OrganisationInput::default(),
        errors: &FieldErrors::default(),
        invalid_form: "",
    };
    Ok(page(
        &state.app,
        &user,
        overview,
        forms,
        query.message.as_deref(),
    ))
}

/// The territory page after a refused change of its second-factor requirement.
pub async fn invalid_requirement(
    state: &AppState,
    user: &CurrentUser,
    slug: &str,
    errors: &FieldErrors,
) -> Result<Response, WebError> {
    let forms = Forms {
        invitation: &InvitationInput::default(),
        organisation: &OrganisationInput::default(),
        errors,
        invalid_form: "securite",
    };
    invalid(state, user, slug, forms).await
}

/// Re-renders the territory page with one form's errors and what was typed in it.
async fn invalid(
    state: &AppState,
    user: &CurrentUser,
    slug: &str,
    forms: Forms<'_>,
) -> Result<Response, WebError> {
    let overview = app::team::overview(&state.app, &user.caller, slug).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        page(&state.app, user, overview, forms, None),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SwitchForm {
    slug: String,
}

pub async fn switch_territory(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> Result<Redirect, WebError> {
    let territory = app::caller::switch_territory(&state.app, &user.caller, &form.slug).await?;
    Ok(Redirect::to(&format!(
        "/territoires/{}?message=territoire-change",
        territory.slug
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PartnerForm {
    organisation_id: String,
}

pub async fn add_partner(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<PartnerForm>,
) -> Result<Response, WebError> {
    match app::team::add_partner(&state.app, &user.caller, &slug, &form.organisation_id).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/territoires/{slug}?message=partenaire-ajoute#partenaires"
        ))
        .into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let forms = Forms {
                invitation: &InvitationInput::default(),
                organisation: &OrganisationInput::default(),
                errors: &errors,
                invalid_form: "partner",
            };
            invalid(&state, &user, &slug, forms).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create_organisation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<OrganisationInput>,
) -> Result<Response, WebError> {
    match app::organisations::create(&state.app, &user.caller, &form, Some(&slug)).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/territoires/{slug}?message=partenaire-ajoute#partenaires"
        ))
        .into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let forms = Forms {
                invitation: &InvitationInput::default(),
                organisation: &form,
                errors: &errors,
                invalid_form: "organisation",
            };
            invalid(&state, &user, &slug, forms).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn invite(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<InvitationInput>,
) -> Result<Response, WebError> {
    match app::team::invite(&state.app, &user.caller, Some(&slug), &form).await {
        Ok(outcome) => {
            let code = crate::layout::invitation_message(
                &outcome,
                state.app.settings.mail.smtp_url.is_some(),
            );
            Ok(Redirect::to(&format!("/territoires/{slug}?message={code}#equipe")).into_response())
        }
        Err(app::AppError::Invalid(errors)) => {
            let forms = Forms {
                invitation: &form,
                organisation: &OrganisationInput::default(),
                errors: &errors,
                invalid_form: "invitation",
            };
            invalid(&state, &user, &slug, forms).await
        }
        Err(e) => Err(e.into()),
    }
}
