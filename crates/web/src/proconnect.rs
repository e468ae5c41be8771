//! Sign-in with ProConnect (docs/security.md, « ProConnect »): the button leaves for the
//! provider, the provider sends the browser back here, and the logout comes back here too.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use app::proconnect::{LOGIN_MINUTES, ProConnectError, Return};

use crate::redirect::LocalPath;
use crate::session::{ClientIp, CookieName, MaybeUser, cookie, with_cookie, with_session_cookie};
use crate::{AppState, WebError};

/// The browser keeps the sign-in's state here while it is at the provider.
const STATE_COOKIE: CookieName = CookieName {
    plain: "passerelle_proconnect",
    secure: "__Host-passerelle_proconnect",
};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Start {
    suite: String,
}

/// « S'identifier avec ProConnect »: off to the provider.
pub async fn start(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(query): Query<Start>,
) -> Result<Response, WebError> {
    let next = LocalPath::or_home(&query.suite);
    if user.caller.is_some() {
        return Ok(next.redirect());
    }
    match app::proconnect::begin(&state.app, next.as_str()).await {
        Ok(departure) => Ok(with_cookie(
            &state,
            Redirect::to(&departure.url).into_response(),
            STATE_COOKIE.of(&state),
            &departure.state,
            LOGIN_MINUTES * 60,
        )),
        Err(e) => refused(&state, user, next.as_str(), e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Back {
    state: String,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider's return: a session, or the login page saying why not.
pub async fn back(
    State(state): State<AppState>,
    user: MaybeUser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(query): Query<Back>,
) -> Result<Response, WebError> {
    let name = STATE_COOKIE.of(&state);
    let kept = cookie(&headers, name);
    let back = Return {
        state: &query.state,
        browser_state: kept.as_deref(),
        code: query.code.as_deref(),
        error: query.error.as_deref(),
        error_description: query.error_description.as_deref(),
        client_ip: &ip,
    };
    let response = match app::proconnect::finish(&state.app, back).await {
        Ok(arrival) => {
            let next = crate::auth::after_login(arrival.login.pending, &arrival.next);
            with_session_cookie(&state, next, &arrival.login.token)
        }
        Err(e) => refused(&state, user, "/", e)?,
    };
    // The state has served (or failed): the browser forgets it.
    Ok(with_cookie(&state, response, name, "", 0))
}

/// Where the provider sends the browser once its session has ended too.
pub async fn logged_out() -> Response {
    Redirect::to("/connexion?message=deconnecte").into_response()
}

fn refused(
    state: &AppState,
    user: MaybeUser,
    next: &str,
    e: ProConnectError,
) -> Result<Response, WebError> {
    let message = e.to_string();
    let status = match e {
        ProConnectError::NotConfigured => return Ok(crate::error::not_found_page()),
        ProConnectError::Internal(e) => return Err(e.into()),
        ProConnectError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ProConnectError::Refused(_) => StatusCode::FORBIDDEN,
    };
    let page = crate::auth::login_page(state, user.csrf, "", Some(message), next, None);
    Ok((status, page).into_response())
}
