//! Cookies, sessions and CSRF. The session cookie carries a random token whose hash finds the
//! session in the database. Every visitor gets a random CSRF cookie; forms carry the HMAC of
//! that cookie *and of the session*, so a token is worth nothing in another session, and a
//! new CSRF cookie is set at login. [`CsrfForm`] refuses a state-changing request whose token
//! does not match. Over HTTPS both cookies take the `__Host-` prefix (the browser then refuses
//! them from a sub-domain or without `Secure`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

use crate::{AppState, WebError};

/// A cookie of this service: its name, and the name it takes over HTTPS, with the `__Host-`
/// prefix (bound to this exact host, path `/`, `Secure`).
#[derive(Debug, Clone, Copy)]
pub struct CookieName {
    pub plain: &'static str,
    pub secure: &'static str,
}

impl CookieName {
    pub fn of(self, state: &AppState) -> &'static str {
        if state.secure_cookies {
            self.secure
        } else {
            self.plain
        }
    }
}

const SESSION_COOKIE: CookieName = CookieName {
    plain: "passerelle_session",
    secure: "__Host-passerelle_session",
};
const CSRF_COOKIE: CookieName = CookieName {
    plain: "passerelle_csrf",
    secure: "__Host-passerelle_csrf",
};

fn session_cookie(state: &AppState) -> &'static str {
    SESSION_COOKIE.of(state)
}

fn csrf_cookie_name(state: &AppState) -> &'static str {
    CSRF_COOKIE.of(state)
}

/// The value of a cookie in the request, if present.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) -> Option<HeaderValue> {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    if state.secure_cookies {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).ok()
}

/// Adds the session cookie for a fresh login to a response, with a new CSRF cookie: tokens
/// of the pages seen before logging in stop working.
pub fn with_session_cookie(state: &AppState, mut response: Response, token: &str) -> Response {
    if let Some(value) = cookie_header(state, session_cookie(state), token, None) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    let seed = app::secrets::random_token();
    if let Some(value) = cookie_header(state, csrf_cookie_name(state), &seed, None) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Sets (with an age of 0, removes) a short-lived cookie of the same kind
/// as the session's: HTTP only, `SameSite=Lax`, `Secure` over HTTPS.
pub fn with_cookie(
    state: &AppState,
    mut response: Response,
    name: &str,
    value: &str,
    max_age_seconds: i64,
) -> Response {
    if let Some(value) = cookie_header(state, name, value, Some(max_age_seconds)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Removes the session cookie.
pub fn without_session_cookie(state: &AppState, mut response: Response) -> Response {
    if let Some(value) = cookie_header(state, session_cookie(state), "", Some(0)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// What a form's token signs: the visitor's CSRF cookie and the session it was shown in.
#[derive(Clone)]
struct CsrfSeed(String);

fn csrf_message(seed: &str, session: Option<&str>) -> String {
    format!("csrf:{seed}:{}", session.unwrap_or(""))
}

/// The CSRF token to put in this page's forms.
#[derive(Clone)]
pub struct CsrfToken(pub String);

fn is_token_shaped(value: &str) -> bool {
    value.len() == 43
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Gives every visitor a CSRF cookie and every handler the matching form token.
pub async fn csrf_cookie(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path.starts_with("/static/") || path == "/healthz" || path == "/metrics" {
        return next.run(request).await;
    }
    let name = csrf_cookie_name(&state);
    let existing = cookie(request.headers(), name).filter(|v| is_token_shaped(v));
    let fresh = existing.is_none();
    let seed = existing.unwrap_or_else(app::secrets::random_token);
    let session = cookie(request.headers(), session_cookie(&state)).filter(|t| is_token_shaped(t));
    let message = csrf_message(&seed, session.as_deref());
    request
        .extensions_mut()
        .insert(CsrfToken(state.app.secret.sign(&message)));
    request.extensions_mut().insert(CsrfSeed(message));
    let mut response = next.run(request).await;
    // A login sets its own new cookie; this one must not come after it.
    let set_by_handler = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(format!("{name}=").as_bytes()));
    if fresh
        && !set_by_handler
        && let Some(value) = cookie_header(&state, name, &seed, None)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn csrf_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<CsrfToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default()
}

/// The client's address: the socket's peer, or the first `X-Forwarded-For` hop when the
/// server is configured to trust its reverse proxy.
pub fn client_ip(parts: &Parts, state: &AppState) -> String {
    if state.trust_forwarded_for
        && let Some(first) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return first.trim().to_string();
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "inconnue".to_string(), |c| c.0.ip().to_string())
}

/// A logged-in caller; anyone else is sent to the login page, then back here.
pub struct CurrentUser {
    pub caller: app::Caller,
    pub csrf: String,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match MaybeUser::from_request_parts(parts, state).await? {
            MaybeUser {
                caller: Some(caller),
                csrf,
                ..
            } => Ok(CurrentUser { caller, csrf }),
            MaybeUser {
                caller: None,
                pending,
                ..
            } => {
                let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let next = serde_urlencoded::to_string([("suite", target)]).unwrap_or_default();
                // A session that waits for its second factor goes to the page that asks for it.
                let page = pending.map_or("/connexion", |p| p.step.path());
                Err(Redirect::to(&format!("{page}?{next}")).into_response())
            }
        }
    }
}

/// A session opened by a password that waits for its second factor; anyone else goes to the
/// login page (or, logged in already, to the home page).
pub struct PendingUser {
    pub pending: app::second_factor::Pending,
    pub csrf: String,
}

impl FromRequestParts<AppState> for PendingUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match MaybeUser::from_request_parts(parts, state).await? {
            MaybeUser {
                pending: Some(pending),
                csrf,
                ..
            } => Ok(PendingUser { pending, csrf }),
            MaybeUser {
                caller: Some(_), ..
            } => Err(Redirect::to("/").into_response()),
            MaybeUser { .. } => Err(Redirect::to("/connexion").into_response()),
        }
    }
}

/// The caller if logged in, for pages open to everyone.
pub struct MaybeUser {
    pub caller: Option<app::Caller>,
    /// A session that waits for its second factor (then `caller` is `None`).
    pub pending: Option<app::second_factor::Pending>,
    pub csrf: String,
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let csrf = csrf_of(parts);
        let Some(token) =
            cookie(&parts.headers, session_cookie(state)).filter(|t| is_token_shaped(t))
        else {
            return Ok(MaybeUser {
                caller: None,
                pending: None,
                csrf,
            });
        };
        let session = app::caller::load_session(&state.app, &token)
            .await
            .map_err(|e| WebError::from(e).into_response())?;
        let ip = Some(client_ip(parts, state));
        Ok(match session {
            Some(app::caller::Session::Ready(mut caller)) => {
                caller.client_ip = ip;
                MaybeUser {
                    caller: Some(*caller),
                    pending: None,
                    csrf,
                }
            }
            Some(app::caller::Session::Pending(mut pending)) => {
                pending.client_ip = ip;
                MaybeUser {
                    caller: None,
                    pending: Some(pending),
                    csrf,
                }
            }
            None => MaybeUser {
                caller: None,
                pending: None,
                csrf,
            },
        })
    }
}

/// The client address, for handlers that act before a session exists (login).
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, state)))
    }
}

/// An urlencoded form whose `csrf_token` matched this visitor's CSRF cookie.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let seed = request.extensions().get::<CsrfSeed>().cloned();
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                WebError::TooLarge.into_response()
            } else {
                WebError::BadRequest("Le formulaire envoyé est illisible.".into()).into_response()
            }
        })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            WebError::BadRequest("Le formulaire envoyé est illisible.".into()).into_response()
        })?;
        let token = pairs
            .iter()
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.as_str());
        let valid = match (seed, token) {
            (Some(CsrfSeed(message)), Some(token)) => state.app.secret.verify(&message, token),
            _ => false,
        };
        if !valid {
            return Err(WebError::Csrf.into_response());
        }
        serde_html_form::from_bytes::<T>(&bytes)
            .map(CsrfForm)
            .map_err(|e| {
                tracing::info!(error = %e, "form not decoded");
                WebError::BadRequest(
                    "Le formulaire envoyé est incomplet ou mal rempli : revenez à la page précédente, rechargez-la, puis envoyez-le de nouveau.".into(),
                )
                .into_response()
            })
    }
}

/// A multipart form (with one uploaded file) whose `csrf_token` matched this visitor's cookie.
pub struct CsrfMultipart {
    pub fields: std::collections::HashMap<String, String>,
    /// The uploaded file's name and content, if one was sent.
    pub file: Option<(String, Bytes)>,
}

impl FromRequest<AppState> for CsrfMultipart {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let seed = request.extensions().get::<CsrfSeed>().cloned();
        // The framework's reasons are English: the user gets a French one, the log the cause.
        let unreadable = |status: axum::http::StatusCode, cause: String| {
            if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                return WebError::TooLarge.into_response();
            }
            tracing::info!(%cause, "multipart form not read");
            WebError::BadRequest(
                "Le formulaire envoyé est illisible : revenez à la page précédente et envoyez de nouveau le fichier.".into(),
            )
            .into_response()
        };
        let mut multipart = axum::extract::Multipart::from_request(request, state)
            .await
            .map_err(|e| unreadable(e.status(), e.body_text()))?;
        let mut fields = std::collections::HashMap::new();
        let mut file = None;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| unreadable(e.status(), e.body_text()))?
        {
            let name = field.name().unwrap_or("").to_string();
            match field.file_name().map(str::to_string) {
                Some(file_name) => {
                    let bytes = field
                        .bytes()
                        .await
                        .map_err(|e| unreadable(e.status(), e.body_text()))?;
                    if !file_name.is_empty() || !bytes.is_empty() {
                        file = Some((file_name, bytes));
                    }
                }
                None => {
                    fields.insert(
                        name,
                        field
                            .text()
                            .await
                            .map_err(|e| unreadable(e.status(), e.body_text()))?,
                    );
                }
            }
        }
        let valid = match (seed, fields.get("csrf_token")) {
            (Some(CsrfSeed(message)), Some(token)) => state.app.secret.verify(&message, token),
            _ => false,
        };
        if !valid {
            return Err(WebError::Csrf.into_response());
        }
        Ok(CsrfMultipart { fields, file })
    }
}
