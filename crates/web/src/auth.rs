//! Login, logout, forgotten password and invitations.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::auth::LoginError;

use crate::forms::Field;
use crate::layout::Layout;
use crate::redirect::LocalPath;
use crate::session::{
    ClientIp, CsrfForm, CurrentUser, MaybeUser, with_session_cookie, without_session_cookie,
};
use crate::{AppState, WebError};

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub(crate) struct LoginPage {
    layout: Layout,
    error: Option<String>,
    email: Field,
    password: Field,
    next: String,
    /// The ProConnect button's address, when the service offers it.
    proconnect: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    suite: String,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    suite: String,
}

/// Where the ProConnect button leads, when the service offers it.
fn proconnect_href(state: &AppState, next: &str) -> Option<String> {
    state.app.proconnect.as_ref().map(|_| {
        format!(
            "/connexion/proconnect?{}",
            serde_urlencoded::to_string([("suite", next)]).unwrap_or_default()
        )
    })
}

pub(crate) fn login_page(
    state: &AppState,
    csrf: String,
    email: &str,
    error: Option<String>,
    next: &str,
    message: Option<&str>,
) -> LoginPage {
    LoginPage {
        proconnect: proconnect_href(state, next),
        layout: Layout::public("Connexion", csrf).with_message(message),
        error,
        email: Field::typed("email", "Adresse électronique", email, "email", "username")
            .hint("Format attendu : nom@domaine.fr")
            .required(),
        password: Field::typed(
            "password",
            "Mot de passe",
            "",
            "password",
            "current-password",
        )
        .required(),
        next: next.to_string(),
    }
}

/// Where a login goes next: the page asked for, or first the second factor.
pub(crate) fn after_login(pending: Option<app::second_factor::Step>, suite: &str) -> Response {
    match pending {
        None => LocalPath::or_home(suite).redirect(),
        Some(step) => crate::second_factor::to_step(step, suite),
    }
}

pub async fn show_login(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(query): Query<LoginQuery>,
) -> Response {
    if user.caller.is_some() {
        return LocalPath::or_home(&query.suite).redirect();
    }
    if let Some(pending) = &user.pending {
        return after_login(Some(pending.step), &query.suite);
    }
    let next = LocalPath::or_home(&query.suite);
    login_page(
        &state,
        user.csrf,
        "",
        None,
        next.as_str(),
        query.message.as_deref(),
    )
    .into_response()
}

pub async fn login(
    State(state): State<AppState>,
    user: MaybeUser,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, WebError> {
    match app::auth::login(&state.app, &form.email, &form.password, &ip).await {
        Ok(login) => {
            let response = after_login(login.pending, &form.suite);
            Ok(with_session_cookie(&state, response, &login.token))
        }
        Err(LoginError::Internal(e)) => Err(e.into()),
        Err(e @ (LoginError::Invalid | LoginError::Throttled)) => {
            let status = if matches!(e, LoginError::Throttled) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            Ok((
                status,
                login_page(
                    &state,
                    user.csrf,
                    &form.email,
                    Some(e.to_string()),
                    &form.suite,
                    None,
                ),
            )
                .into_response())
        }
    }
}

#[derive(Deserialize, Default)]
pub struct EmptyForm {}

/// Ends the session, ready or waiting for its second factor (« Annuler » on the code page).
pub async fn logout(
    State(state): State<AppState>,
    user: MaybeUser,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, WebError> {
    let provider = match (&user.caller, &user.pending) {
        (Some(caller), _) => app::auth::logout(&state.app, caller).await?,
        (None, Some(pending)) => app::auth::abandon(&state.app, pending).await?,
        (None, None) => None,
    };
    // A session from ProConnect ends there too, which then sends the browser back here.
    let to = provider.unwrap_or_else(|| "/connexion?message=deconnecte".into());
    Ok(without_session_cookie(
        &state,
        Redirect::to(&to).into_response(),
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/forgotten_password.html")]
struct ForgottenPasswordPage {
    layout: Layout,
    email: Field,
    sent: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ForgottenPasswordForm {
    email: String,
}

pub async fn show_forgotten_password(user: MaybeUser) -> impl IntoResponse {
    ForgottenPasswordPage {
        layout: Layout::public("Mot de passe oublié", user.csrf),
        email: Field::typed(
            "email",
            "Adresse électronique de votre compte",
            "",
            "email",
            "username",
        )
        .required(),
        sent: false,
    }
}

pub async fn request_password_reset(
    State(state): State<AppState>,
    user: MaybeUser,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<ForgottenPasswordForm>,
) -> Result<Response, WebError> {
    let layout = Layout::public("Mot de passe oublié", user.csrf);
    match app::auth::request_password_reset(&state.app, &form.email, &ip).await {
        // The mail leaves with the job queue: the answer does not wait for it.
        Ok(()) => Ok(ForgottenPasswordPage {
            layout,
            email: Field::typed(
                "email",
                "Adresse électronique de votre compte",
                &form.email,
                "email",
                "username",
            ),
            sent: true,
        }
        .into_response()),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            ForgottenPasswordPage {
                layout,
                email: Field::typed(
                    "email",
                    "Adresse électronique de votre compte",
                    &form.email,
                    "email",
                    "username",
                )
                .required()
                .errors(&errors),
                sent: false,
            },
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/new_password.html")]
struct NewPasswordPage {
    layout: Layout,
    heading: String,
    intro: String,
    action: String,
    name: Option<Field>,
    password: Field,
    confirmation: Field,
    button: String,
    /// The ProConnect button's address, on an invitation ProConnect can accept.
    proconnect: Option<String>,
}

fn password_fields(errors: &FieldErrors) -> (Field, Field) {
    (
        Field::typed("password", "Nouveau mot de passe", "", "password", "new-password")
            .hint("12 caractères au moins. Une phrase de plusieurs mots est facile à retenir et difficile à deviner.")
            .required()
            .errors(errors),
        Field::typed("confirmation", "Confirmation du mot de passe", "", "password", "new-password").required(),
    )
}

fn expired_link() -> Response {
    crate::error::error_page(
        StatusCode::NOT_FOUND,
        "Lien invalide ou expiré",
        "Ce lien n'est plus valable : il a peut-être déjà servi, ou il a expiré. Vous pouvez demander un nouveau lien depuis la page « Mot de passe oublié », ou une nouvelle invitation à la coordination de votre territoire.",
    )
}

fn reset_page(csrf: String, token: &str, errors: &FieldErrors) -> NewPasswordPage {
    let (password, confirmation) = password_fields(errors);
    NewPasswordPage {
        layout: Layout::public("Choisir un nouveau mot de passe", csrf),
        heading: "Choisir un nouveau mot de passe".into(),
        intro: "Après ce changement, toutes vos sessions ouvertes seront fermées.".into(),
        action: format!("/mot-de-passe/{token}"),
        name: None,
        password,
        confirmation,
        button: "Enregistrer le mot de passe".into(),
        proconnect: None,
    }
}

pub async fn show_password_reset(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    if !app::auth::reset_link_is_valid(&state.app, &token).await? {
        return Ok(expired_link());
    }
    Ok(reset_page(user.csrf, &token, &FieldErrors::default()).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewPasswordForm {
    display_name: String,
    password: String,
    confirmation: String,
}

pub async fn reset_password(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<NewPasswordForm>,
) -> Result<Response, WebError> {
    match app::auth::reset_password(&state.app, &token, &form.password, &form.confirmation).await {
        Ok(()) => Ok(without_session_cookie(
            &state,
            Redirect::to("/connexion?message=mot-de-passe-change").into_response(),
        )),
        Err(app::AppError::NotFound) => Ok(expired_link()),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            reset_page(user.csrf, &token, &errors),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

fn invitation_page(
    state: &AppState,
    csrf: String,
    token: &str,
    invitation: &app::models::Invitation,
    name: &str,
    errors: &FieldErrors,
) -> NewPasswordPage {
    let (password, confirmation) = password_fields(errors);
    let place = match (&invitation.territory_name, &invitation.organisation_name) {
        (Some(t), _) => format!(" pour le territoire « {t} »"),
        (None, Some(o)) => format!(" au titre de la structure « {o} »"),
        (None, None) => String::new(),
    };
    let role = invitation.role().map_or("", |r| r.label());
    NewPasswordPage {
        layout: Layout::public("Créer votre compte", csrf),
        heading: "Créer votre compte Passerelle".into(),
        intro: format!(
            "Vous êtes invité{place}, avec le rôle « {role} ». Votre identifiant sera {}.",
            invitation.email
        ),
        action: format!("/invitation/{token}"),
        name: Some(
            Field::typed("display_name", "Prénom et nom", name, "text", "name")
                .required()
                .errors(errors),
        ),
        password,
        confirmation,
        button: "Créer mon compte".into(),
        // ProConnect accepts an invitation to an organisation whose SIRET is known.
        proconnect: invitation
            .organisation_siret
            .as_ref()
            .and_then(|_| proconnect_href(state, "/")),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/invitation_existing.html")]
struct ExistingAccountInvitationPage {
    layout: Layout,
    intro: String,
    mine: bool,
    token: String,
    /// The login page's query, to come back here.
    login: String,
}

/// An invitation for an address that has an account: accepted by that account, logged in.
fn existing_account_page(
    user: MaybeUser,
    token: &str,
    invitation: &app::models::Invitation,
) -> Response {
    let mine = user
        .caller
        .as_ref()
        .is_some_and(|c| c.email.eq_ignore_ascii_case(&invitation.email));
    let place = match (&invitation.territory_name, &invitation.organisation_name) {
        (Some(t), _) => format!(" à rejoindre le territoire « {t} »"),
        (None, Some(o)) => format!(" à rejoindre la structure « {o} »"),
        (None, None) => String::new(),
    };
    let role = invitation.role().map_or("", |r| r.label());
    ExistingAccountInvitationPage {
        layout: Layout::public("Accepter une invitation", user.csrf.clone()),
        intro: format!(
            "Le compte {} est invité{place}, avec le rôle « {role} ».",
            invitation.email
        ),
        mine,
        token: token.to_string(),
        login: serde_urlencoded::to_string([("suite", format!("/invitation/{token}"))])
            .unwrap_or_default(),
    }
    .into_response()
}

pub async fn show_invitation(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    match app::auth::pending_invitation(&state.app, &token).await {
        Ok(invitation) if app::auth::invitation_has_account(&state.app, &invitation).await? => {
            Ok(existing_account_page(user, &token, &invitation))
        }
        Ok(invitation) => Ok(invitation_page(
            &state,
            user.csrf,
            &token,
            &invitation,
            &invitation.display_name,
            &FieldErrors::default(),
        )
        .into_response()),
        Err(app::AppError::NotFound) => Ok(expired_link()),
        Err(e) => Err(e.into()),
    }
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<NewPasswordForm>,
) -> Result<Response, WebError> {
    match app::auth::accept_invitation(
        &state.app,
        &token,
        &form.display_name,
        &form.password,
        &form.confirmation,
    )
    .await
    {
        Ok(login) => Ok(with_session_cookie(
            &state,
            Redirect::to("/?message=bienvenue").into_response(),
            &login.token,
        )),
        Err(app::AppError::NotFound) => Ok(expired_link()),
        Err(app::AppError::Forbidden) => {
            match app::auth::pending_invitation(&state.app, &token).await {
                Ok(invitation) => Ok(existing_account_page(user, &token, &invitation)),
                Err(_) => Ok(expired_link()),
            }
        }
        Err(app::AppError::Invalid(errors)) => {
            let invitation = match app::auth::pending_invitation(&state.app, &token).await {
                Ok(i) => i,
                Err(_) => return Ok(expired_link()),
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                invitation_page(
                    &state,
                    user.csrf,
                    &token,
                    &invitation,
                    &form.display_name,
                    &errors,
                ),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// An existing account accepts an invitation addressed to it.
pub async fn accept_invitation_as(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(token): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, WebError> {
    match app::auth::accept_invitation_as(&state.app, &user.caller, &token).await {
        Ok(()) => Ok(Redirect::to("/?message=acces-accepte").into_response()),
        Err(app::AppError::NotFound) => Ok(expired_link()),
        Err(e) => Err(e.into()),
    }
}
