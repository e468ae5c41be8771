//! The second factor's pages: the code asked after the password, the enrolment of an
//! authenticator app (asked at login where a territory requires it, or chosen from the
//! account's security page), recovery codes shown once, and the territory's requirement.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use app::FieldErrors;
use app::second_factor::{self, Step};

use crate::flash::{self, flashes};
use crate::forms::Field;
use crate::layout::{Layout, MessageQuery, Nav};
use crate::redirect::LocalPath;
use crate::session::{CsrfForm, CurrentUser, PendingUser, with_session_cookie};
use crate::{AppState, WebError};

flashes! {
    /// What these pages say after a redirect.
    Message {
        Disabled => "double-authentification-desactivee", "La double authentification est désactivée : votre mot de passe suffit de nouveau pour vous connecter.";
        RecoveryUsed => "code-de-secours-utilise", "Vous vous êtes connecté avec un code de secours, qui ne servira plus. Si vous n'en avez presque plus, générez-en de nouveaux ci-dessous.";
        Required => "double-authentification-obligatoire", "La double authentification est désormais obligatoire pour les coordinateurs du territoire : ceux qui ne l'ont pas encore activée le feront à leur prochaine page.";
        Optional => "double-authentification-facultative", "La double authentification redevient facultative pour les coordinateurs du territoire.";
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connexion/code", get(show_code).post(check_code))
        .route(
            "/connexion/activation",
            get(show_login_enrolment).post(confirm_login_enrolment),
        )
        .route("/compte/securite", get(show_security))
        .route(
            "/compte/securite/activation",
            get(show_enrolment).post(confirm_enrolment),
        )
        .route("/compte/securite/codes-de-secours", post(renew_codes))
        .route("/compte/securite/desactivation", post(disable))
        .route(
            "/territoires/{slug}/double-authentification",
            post(set_required),
        )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SuiteQuery {
    suite: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
    suite: String,
}

fn code_field(label: &str, errors: &FieldErrors) -> Field {
    Field::typed("code", label, "", "text", "one-time-code")
        .required()
        .errors(errors)
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/second_factor_code.html")]
struct CodePage {
    layout: Layout,
    code: Field,
    next: String,
}

fn code_page(csrf: String, next: &str, errors: &FieldErrors) -> Response {
    (
        crate::forms::status_for(errors),
        CodePage {
            layout: Layout::public("Code de vérification", csrf),
            code: code_field("Code de vérification", errors).hint(
                "Les 6 chiffres affichés par votre application d'authentification, ou l'un de vos codes de secours (par exemple abcde-fghjk).",
            ),
            next: LocalPath::or_home(next).as_str().to_string(),
        },
    )
        .into_response()
}

/// Sends a pending session to the page of its step, then on to `suite`.
pub(crate) fn to_step(step: Step, suite: &str) -> Response {
    let query = serde_urlencoded::to_string([("suite", LocalPath::or_home(suite).as_str())])
        .unwrap_or_default();
    Redirect::to(&format!("{}?{query}", step.path())).into_response()
}

pub async fn show_code(user: PendingUser, Query(query): Query<SuiteQuery>) -> Response {
    if user.pending.step != Step::Verify {
        return to_step(user.pending.step, &query.suite);
    }
    code_page(user.csrf, &query.suite, &FieldErrors::default())
}

pub async fn check_code(
    State(state): State<AppState>,
    user: PendingUser,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, WebError> {
    if user.pending.step != Step::Verify {
        return Ok(to_step(user.pending.step, &form.suite));
    }
    match second_factor::verify_login(&state.app, &user.pending, &form.code).await {
        Ok(verified) => {
            let response = match verified.recovery_codes_left {
                Some(_) => {
                    flash::redirect("/compte/securite", Message::RecoveryUsed).into_response()
                }
                None => LocalPath::or_home(&form.suite).redirect(),
            };
            Ok(with_session_cookie(&state, response, &verified.token))
        }
        Err(app::AppError::Invalid(errors)) => Ok(code_page(user.csrf, &form.suite, &errors)),
        // The pending session ended meanwhile: sign in again.
        Err(app::AppError::NotFound) => Ok(Redirect::to("/connexion").into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/second_factor_enrol.html")]
struct EnrolPage {
    layout: Layout,
    /// Asked at login because a territory requires it (else chosen from the account page).
    required: bool,
    action: String,
    qr_svg: String,
    secret: String,
    code: Field,
    next: String,
}

fn enrol_page(
    layout: Layout,
    required: bool,
    action: &str,
    enrolment: &second_factor::Enrolment,
    next: &str,
    errors: &FieldErrors,
) -> Response {
    (
        crate::forms::status_for(errors),
        EnrolPage {
            layout,
            required,
            action: action.to_string(),
            qr_svg: enrolment.qr_svg.clone(),
            secret: enrolment.secret.clone(),
            code: code_field("Code affiché par l'application", errors)
                .hint("6 chiffres, par exemple 123 456."),
            next: LocalPath::or_home(next).as_str().to_string(),
        },
    )
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/recovery_codes.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
    next: String,
}

/// The recovery codes, shown once, in the response that carries the session's new cookie
/// (the page has no form: the tokens of the previous session are worth nothing now).
fn codes_page(state: &AppState, token: Option<&str>, codes: Vec<String>, next: &str) -> Response {
    let page = RecoveryCodesPage {
        layout: Layout::public("Vos codes de secours", String::new()),
        codes,
        next: LocalPath::or_home(next).as_str().to_string(),
    }
    .into_response();
    match token {
        Some(token) => with_session_cookie(state, page, token),
        None => page,
    }
}

pub async fn show_login_enrolment(
    State(state): State<AppState>,
    user: PendingUser,
    Query(query): Query<SuiteQuery>,
) -> Result<Response, WebError> {
    if user.pending.step != Step::Enrol {
        return Ok(to_step(user.pending.step, &query.suite));
    }
    let p = &user.pending;
    let enrolment = second_factor::begin_enrolment(&state.app, p.user_id, &p.email).await?;
    Ok(enrol_page(
        Layout::public("Activer la double authentification", user.csrf),
        true,
        "/connexion/activation",
        &enrolment,
        &query.suite,
        &FieldErrors::default(),
    ))
}

pub async fn confirm_login_enrolment(
    State(state): State<AppState>,
    user: PendingUser,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, WebError> {
    if user.pending.step != Step::Enrol {
        return Ok(to_step(user.pending.step, &form.suite));
    }
    match second_factor::confirm_enrolment(&state.app, user.pending.holder(), &form.code).await {
        Ok(enrolled) => Ok(codes_page(
            &state,
            Some(&enrolled.token),
            enrolled.recovery_codes,
            &form.suite,
        )),
        Err(app::AppError::Invalid(errors)) => {
            let p = &user.pending;
            let enrolment = second_factor::begin_enrolment(&state.app, p.user_id, &p.email).await?;
            Ok(enrol_page(
                Layout::public("Activer la double authentification", user.csrf),
                true,
                "/connexion/activation",
                &enrolment,
                &form.suite,
                &errors,
            ))
        }
        Err(app::AppError::NotFound) => Ok(Redirect::to("/connexion").into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/security.html")]
struct SecurityPage {
    layout: Layout,
    standing: second_factor::Standing,
    renew_code: Field,
    disable_code: Field,
}

fn security_page(
    user: &CurrentUser,
    standing: second_factor::Standing,
    message: Option<&str>,
    invalid_form: &'static str,
    errors: &FieldErrors,
) -> Response {
    let none = FieldErrors::default();
    let errors_for = |form: &str| if form == invalid_form { errors } else { &none };
    (
        crate::forms::status_for(errors),
        SecurityPage {
            layout: Layout::for_user("Sécurité du compte", user, Nav::None)
                .crumbs(&[("Accueil", "/"), ("Sécurité du compte", "")])
                .with_message(message),
            standing,
            renew_code: code_field("Code de votre application", errors_for("codes"))
                .id("code-codes")
                .hint("6 chiffres"),
            disable_code: code_field(
                "Code de votre application ou code de secours",
                errors_for("desactivation"),
            )
            .id("code-desactivation"),
        },
    )
        .into_response()
}

pub async fn show_security(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<MessageQuery>,
) -> Result<Response, WebError> {
    let standing = second_factor::standing(&state.app, user.caller.user_id).await?;
    Ok(security_page(
        &user,
        standing,
        query.message.as_deref(),
        "",
        &FieldErrors::default(),
    ))
}

pub async fn show_enrolment(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    let c = &user.caller;
    if second_factor::standing(&state.app, c.user_id)
        .await?
        .enabled
    {
        return Ok(Redirect::to("/compte/securite").into_response());
    }
    let enrolment = second_factor::begin_enrolment(&state.app, c.user_id, &c.email).await?;
    Ok(enrol_page(
        enrolment_layout(&user),
        false,
        "/compte/securite/activation",
        &enrolment,
        "/compte/securite",
        &FieldErrors::default(),
    ))
}

fn enrolment_layout(user: &CurrentUser) -> Layout {
    Layout::for_user("Activer la double authentification", user, Nav::None).crumbs(&[
        ("Accueil", "/"),
        ("Sécurité du compte", "/compte/securite"),
        ("Activer la double authentification", ""),
    ])
}

pub async fn confirm_enrolment(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, WebError> {
    let c = &user.caller;
    match second_factor::confirm_enrolment(&state.app, c.holder(), &form.code).await {
        Ok(enrolled) => Ok(codes_page(
            &state,
            Some(&enrolled.token),
            enrolled.recovery_codes,
            "/compte/securite",
        )),
        Err(app::AppError::Invalid(errors)) => {
            let enrolment = second_factor::begin_enrolment(&state.app, c.user_id, &c.email).await?;
            Ok(enrol_page(
                enrolment_layout(&user),
                false,
                "/compte/securite/activation",
                &enrolment,
                "/compte/securite",
                &errors,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// The security page again, with the refused form's error at its field.
async fn security_refused(
    state: &AppState,
    user: &CurrentUser,
    form: &'static str,
    errors: &FieldErrors,
) -> Result<Response, WebError> {
    let standing = second_factor::standing(&state.app, user.caller.user_id).await?;
    Ok(security_page(user, standing, None, form, errors))
}

pub async fn renew_codes(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, WebError> {
    match second_factor::renew_recovery_codes(&state.app, &user.caller, &form.code).await {
        Ok(codes) => Ok(codes_page(&state, None, codes, "/compte/securite")),
        Err(app::AppError::Invalid(errors)) => {
            security_refused(&state, &user, "codes", &errors).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn disable(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, WebError> {
    match second_factor::disable(&state.app, &user.caller, &form.code).await {
        Ok(()) => Ok(flash::redirect("/compte/securite", Message::Disabled).into_response()),
        Err(app::AppError::Invalid(errors)) => {
            security_refused(&state, &user, "desactivation", &errors).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RequirementForm {
    second_factor_required: String,
}

pub async fn set_required(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<RequirementForm>,
) -> Result<Response, WebError> {
    let required = form.second_factor_required == "oui";
    match second_factor::set_required(&state.app, &user.caller, &slug, required).await {
        Ok(()) => {
            let message = if required {
                Message::Required
            } else {
                Message::Optional
            };
            Ok(flash::redirect(&format!("/territoires/{slug}#securite"), message).into_response())
        }
        Err(app::AppError::Invalid(errors)) => {
            crate::territories::invalid_requirement(&state, &user, &slug, &errors).await
        }
        Err(e) => Err(e.into()),
    }
}
