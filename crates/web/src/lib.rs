//! Passerelle's HTTP surface: the axum router, DSFR pages rendered on the server (askama),
//! sessions and CSRF, health and metrics, static assets. No SQL here: handlers call `app`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

mod admin;
mod api;
mod api_tokens;
mod assets;
mod auth;
mod chart;
mod cohorts;
mod diagnostic;
mod directory;
mod error;
mod flash;
mod forms;
mod governance;
mod health;
mod home;
mod indicators;
mod knowledge;
mod layout;
mod legal;
pub mod metrics;
mod orientations;
mod persons;
mod proconnect;
mod qpv;
mod redirect;
mod second_factor;
mod session;
mod territories;
mod uploads;
mod webhooks;

pub use api::document as openapi_document;
pub use error::WebError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: app::App,
    pub metrics: Arc<metrics::Metrics>,
    /// Cookies get `Secure` when the service is reached over HTTPS.
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_forwarded_for: bool,
}

impl AppState {
    pub fn new(app: app::App, trust_forwarded_for: bool) -> AppState {
        let secure_cookies = app.settings.base_url.starts_with("https://");
        AppState {
            app,
            metrics: Arc::new(metrics::Metrics::default()),
            secure_cookies,
            trust_forwarded_for,
        }
    }
}

/// The largest file an upload page takes.
pub(crate) const UPLOAD_LIMIT: usize = 32 * 1024 * 1024;

/// Over HTTPS, browsers are told to come back over HTTPS only, for a year.
async fn hsts(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if state.secure_cookies {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// The pages' content security policy. Forms post to this service only; a logout of a
/// ProConnect session is a form whose answer sends the browser on to the provider, which the
/// browser allows only if the provider's origin is named here too.
fn content_security_policy(state: &AppState) -> HeaderValue {
    let provider = state
        .app
        .proconnect
        .as_ref()
        .map(|p| format!(" {}", p.origin()))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'{provider}; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
    })
}

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/", get(home::show_home))
        .route("/connexion", get(auth::show_login).post(auth::login))
        .route("/deconnexion", post(auth::logout))
        .route("/connexion/proconnect", get(proconnect::start))
        .route(app::proconnect::RETURN_PATH, get(proconnect::back))
        .route(
            app::proconnect::LOGGED_OUT_PATH,
            get(proconnect::logged_out),
        )
        .route(
            "/mot-de-passe-oublie",
            get(auth::show_forgotten_password).post(auth::request_password_reset),
        )
        .route(
            "/mot-de-passe/{token}",
            get(auth::show_password_reset).post(auth::reset_password),
        )
        .route(
            "/invitation/{token}",
            get(auth::show_invitation).post(auth::accept_invitation),
        )
        .route(
            "/invitation/{token}/accepter",
            post(auth::accept_invitation_as),
        )
        .route("/territoire-actif", post(territories::switch_territory))
        .route("/territoires/{slug}", get(territories::show_territory))
        .route(
            "/territoires/{slug}/partenaires",
            post(territories::add_partner),
        )
        .route(
            "/territoires/{slug}/structures",
            post(territories::create_organisation),
        )
        .route("/territoires/{slug}/invitations", post(territories::invite))
        .route("/admin", get(admin::show_admin))
        .route(
            "/admin/territoires",
            get(admin::list_territories).post(admin::create_territory),
        )
        .route("/admin/territoires/nouveau", get(admin::new_territory))
        .route(
            "/admin/territoires/{id}",
            get(admin::edit_territory).post(admin::update_territory),
        )
        .route(
            "/admin/structures",
            get(admin::list_organisations).post(admin::create_organisation),
        )
        .route("/admin/structures/nouvelle", get(admin::new_organisation))
        .route(
            "/admin/structures/{id}",
            get(admin::edit_organisation).post(admin::update_organisation),
        )
        .route(
            "/admin/comptes",
            get(admin::show_accounts).post(admin::invite_nationally),
        )
        .route("/admin/courriels", get(admin::list_mail))
        .route("/admin/courriels/{id}", get(admin::show_mail))
        .route("/admin/journal", get(admin::show_audit))
        .route("/admin/taches", get(admin::show_jobs))
        .route("/admin/taches/{id}/relancer", post(admin::retry_job))
        .route("/accessibilite", get(legal::show_accessibility))
        .route("/donnees-personnelles", get(legal::show_privacy))
        .route("/mentions-legales", get(legal::show_legal_notice))
        .route("/qpv/verifier", get(qpv::check_address))
        .route(
            "/qpv/verification-en-masse",
            get(qpv::show_batch)
                .post(qpv::check_batch.layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    uploads::one_turn_each,
                )))
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .merge(second_factor::routes())
        .merge(api_tokens::routes())
        .merge(webhooks::routes())
        .merge(persons::routes(&state))
        .merge(diagnostic::routes())
        .merge(orientations::routes())
        .merge(cohorts::routes())
        .merge(indicators::routes())
        .merge(governance::routes())
        .route("/annuaire", get(directory::search))
        .route(
            "/annuaire/services/nouveau",
            get(directory::new_service).post(directory::create_service),
        )
        .route("/annuaire/services/{id}", get(directory::show_service))
        .route(
            "/annuaire/services/{id}/modifier",
            get(directory::edit_service).post(directory::update_service),
        )
        .route(
            "/annuaire/services/{id}/historique",
            get(directory::show_history),
        )
        .route(
            "/annuaire/import",
            get(directory::show_import)
                .post(
                    directory::import.layer(axum::middleware::from_fn_with_state(
                        state.clone(),
                        uploads::one_turn_each,
                    )),
                )
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/annuaire/export.json", get(directory::export))
        .route(
            "/annuaire/correspondances",
            get(directory::show_mapping).post(directory::update_mapping),
        )
        .route("/champs-d-action", get(knowledge::index))
        .route("/champs-d-action/actions", post(knowledge::create_action))
        .route(
            "/champs-d-action/actions/nouvelle",
            get(knowledge::new_action),
        )
        .route("/champs-d-action/actions/{id}", get(knowledge::show_action))
        .route(
            "/champs-d-action/actions/{id}/modifier",
            get(knowledge::edit_action).post(knowledge::update_action),
        )
        .route("/champs-d-action/{slug}", get(knowledge::show_field))
        .route(
            "/champs-d-action/{slug}/constat",
            post(knowledge::update_constat),
        )
        .merge(api::routes())
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/static/{*path}", get(assets::serve))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::csrf_cookie,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            content_security_policy(&state),
        ))
        .layer(DefaultBodyLimit::max(2 * 1024 * 1024))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(axum::middleware::from_fn(error::french_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), hsts))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
