//! Sign-in with ProConnect, the State's identity federation for professionals
//! (docs/security.md, « ProConnect »): OpenID Connect's authorization code flow with PKCE,
//! `state` and `nonce`, the ID token and the signed userinfo verified against the provider's
//! published keys, and the logout sent back to the provider.
//!
//! ProConnect says who the person is (e-mail) and for which establishment they work (SIRET);
//! Passerelle decides what they may do. A sign-in opens an account only when the e-mail has one
//! whose memberships include an organisation of that SIRET, or a pending invitation to such an
//! organisation (then accepted): it never creates an account, nor a right, by itself.

use chrono::{DateTime, Duration, Utc};
use domain::{Email, Label, Siret, UserId};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreGenderClaim, CoreIdToken,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    SubjectIdentifier, TokenResponse, UserInfoClaims, UserInfoError,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::auth::{Login, Opening};
use crate::secrets::{random_token, token_hash};
use crate::{App, AppError};

/// Minutes a sign-in may spend at the provider before its return is refused.
pub const LOGIN_MINUTES: i64 = 10;
/// The provider's metadata and keys are fetched again after this long (a key rotation is
/// also noticed at once: an unknown key makes them fetched again).
const METADATA_MINUTES: i64 = 15;
/// The claims asked for, beside `openid`: who the person is and the establishment they work for.
pub const SCOPES: &[&str] = &["email", "given_name", "usual_name", "siret", "uid"];
/// Where the provider sends the browser back, under the service's address.
pub const RETURN_PATH: &str = "/connexion/proconnect/retour";
/// Where the provider sends the browser once its own session has ended.
pub const LOGGED_OUT_PATH: &str = "/connexion/proconnect/deconnecte";

/// The service's registration with ProConnect.
#[derive(Clone)]
pub struct ProConnectSettings {
    /// The provider's issuer: its metadata is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for ProConnectSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProConnectSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"…")
            .finish()
    }
}

/// The claims ProConnect adds to the standard ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProConnectClaims {
    /// The establishment the person works for, as the identity provider knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siret: Option<String>,
    /// The family name in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usual_name: Option<String>,
    /// The identifier of the person at their identity provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

impl AdditionalClaims for ProConnectClaims {}

/// The client, once the provider's metadata is known.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct Cached {
    fetched_at: DateTime<Utc>,
    metadata: ProviderMetadataWithLogout,
}

/// The provider, as this instance knows it: its settings and, fetched when first needed, its
/// metadata and keys.
pub struct ProConnect {
    settings: ProConnectSettings,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    logged_out: PostLogoutRedirectUrl,
    http: reqwest::Client,
    metadata: tokio::sync::RwLock<Option<Cached>>,
}

impl std::fmt::Debug for ProConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProConnect")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Why a sign-in with ProConnect did not open a session; each says so in French.
#[derive(Debug, thiserror::Error)]
pub enum ProConnectError {
    #[error("La connexion avec ProConnect n'est pas proposée par ce service.")]
    NotConfigured,
    #[error(
        "ProConnect ne répond pas pour le moment. Réessayez dans quelques minutes, ou connectez-vous avec votre mot de passe."
    )]
    Unavailable,
    /// Refused, with what the person should know (and may do).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Internal(#[from] AppError),
}

impl From<store::StoreError> for ProConnectError {
    fn from(e: store::StoreError) -> Self {
        ProConnectError::Internal(e.into())
    }
}

const EXPIRED: &str = "Cette connexion avec ProConnect a expiré ou a déjà servi. Recommencez depuis la page de connexion.";
const UNVERIFIED: &str = "La réponse de ProConnect n'a pas pu être vérifiée (jeton d'identité ou informations mal signés, ou destinés à une autre connexion) : par sécurité, la connexion est refusée. Recommencez depuis la page de connexion.";
const CODE_REFUSED: &str = "ProConnect a refusé le code de connexion : il a expiré ou a déjà servi. Recommencez depuis la page de connexion.";

fn refused(message: impl Into<String>) -> ProConnectError {
    ProConnectError::Refused(message.into())
}

impl ProConnect {
    /// Checks the settings; `base_url` is the service's public address (no trailing slash).
    pub fn new(settings: ProConnectSettings, base_url: &str) -> Result<ProConnect, String> {
        let issuer = IssuerUrl::new(settings.issuer.trim_end_matches('/').to_string())
            .map_err(|e| format!("adresse de l'émetteur ProConnect invalide : {e}"))?;
        let redirect = RedirectUrl::new(format!("{base_url}{RETURN_PATH}"))
            .map_err(|e| format!("adresse de retour ProConnect invalide : {e}"))?;
        let logged_out = PostLogoutRedirectUrl::new(format!("{base_url}{LOGGED_OUT_PATH}"))
            .map_err(|e| format!("adresse de fin de session ProConnect invalide : {e}"))?;
        if settings.client_id.trim().is_empty() || settings.client_secret.trim().is_empty() {
            return Err("l'identifiant et le secret du client ProConnect sont requis".into());
        }
        let http = reqwest::Client::builder()
            // Never follow a redirection: every address comes from the provider's metadata.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(ProConnect {
            settings,
            issuer,
            redirect,
            logged_out,
            http,
            metadata: tokio::sync::RwLock::new(None),
        })
    }

    /// The provider's origin (`https://host[:port]`), which the browser is sent to.
    pub fn origin(&self) -> String {
        self.issuer.url().origin().ascii_serialization()
    }

    async fn metadata(
        &self,
        now: DateTime<Utc>,
        refresh: bool,
    ) -> Result<ProviderMetadataWithLogout, ProConnectError> {
        if !refresh {
            let cached = self.metadata.read().await;
            if let Some(c) = cached.as_ref()
                && now - c.fetched_at < Duration::minutes(METADATA_MINUTES)
            {
                return Ok(c.metadata.clone());
            }
        }
        let metadata = ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "ProConnect discovery failed");
                ProConnectError::Unavailable
            })?;
        *self.metadata.write().await = Some(Cached {
            fetched_at: now,
            metadata: metadata.clone(),
        });
        Ok(metadata)
    }

    fn client(&self, metadata: ProviderMetadataWithLogout) -> Client {
        // The secret goes in the request body where the provider accepts it (ProConnect
        // does), else in the Basic authorization header, the OAuth 2.0 default.
        let in_body = metadata
            .token_endpoint_auth_methods_supported()
            .is_some_and(|m| m.contains(&CoreClientAuthMethod::ClientSecretPost));
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone())
        .set_auth_type(if in_body {
            AuthType::RequestBody
        } else {
            AuthType::BasicAuth
        })
    }
}

fn provider(app: &App) -> Result<&ProConnect, ProConnectError> {
    app.proconnect
        .as_deref()
        .ok_or(ProConnectError::NotConfigured)
}

/// A sign-in leaving for the provider.
#[derive(Debug)]
pub struct Departure {
    /// Where to send the browser.
    pub url: String,
    /// The state, which the browser keeps (a cookie) to prove at the return that it left from here.
    pub state: String,
}

/// Starts a sign-in: `next` is the local page to open afterwards.
pub async fn begin(app: &App, next: &str) -> Result<Departure, ProConnectError> {
    let pc = provider(app)?;
    let now = app.now();
    let client = pc.client(pc.metadata(now, false).await?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = random_token();
    let nonce = random_token();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            {
                let state = state.clone();
                move || CsrfToken::new(state)
            },
            {
                let nonce = nonce.clone();
                move || Nonce::new(nonce)
            },
        )
        .set_pkce_challenge(challenge)
        // How the person authenticated (`amr`): « mfa » stands for Passerelle's second factor.
        .add_extra_param("claims", r#"{"id_token":{"amr":{"essential":true}}}"#);
    for scope in SCOPES {
        request = request.add_scope(Scope::new((*scope).to_string()));
    }
    let (url, _, _) = request.url();
    let pending = store::proconnect::PendingLogin {
        nonce,
        pkce_verifier: verifier.secret().clone(),
        next_path: next.to_string(),
    };
    let mut pooled = app.db.acquire().await.map_err(AppError::from)?;
    store::proconnect::create(
        &mut pooled.conn(),
        &token_hash(&state),
        &pending,
        now,
        now + Duration::minutes(LOGIN_MINUTES),
    )
    .await?;
    Ok(Departure {
        url: url.to_string(),
        state,
    })
}

/// The provider's answer, as the browser brings it back.
#[derive(Debug, Default, Clone, Copy)]
pub struct Return<'a> {
    pub state: &'a str,
    /// The state the browser kept when it left (its cookie).
    pub browser_state: Option<&'a str>,
    pub code: Option<&'a str>,
    pub error: Option<&'a str>,
    pub error_description: Option<&'a str>,
    pub client_ip: &'a str,
}

/// A sign-in come back with a session.
#[derive(Debug)]
pub struct Arrival {
    pub login: Login,
    /// The local page asked for when the sign-in began.
    pub next: String,
}

/// What the provider vouched for.
struct Identity {
    email: Email,
    siret: Siret,
    name: Option<String>,
    /// The person authenticated with several factors at their provider.
    multi_factor: bool,
    id_token: String,
}

/// Ends a sign-in: checks the provider's answer and opens a session for the account it matches.
pub async fn finish(app: &App, back: Return<'_>) -> Result<Arrival, ProConnectError> {
    let pc = provider(app)?;
    let now = app.now();
    // The state is spent whatever happens next: a replayed address finds nothing.
    let pending = {
        let mut pooled = app.db.acquire().await.map_err(AppError::from)?;
        store::proconnect::take(&mut pooled.conn(), &token_hash(back.state), now).await?
    };
    let same_browser = back
        .browser_state
        .is_some_and(|kept| bool::from(kept.as_bytes().ct_eq(back.state.as_bytes())));
    let Some(pending) = pending.filter(|_| same_browser) else {
        return Err(refused(EXPIRED));
    };
    if let Some(error) = back.error {
        return Err(refused(provider_error(error, back.error_description)));
    }
    let Some(code) = back.code.filter(|c| !c.is_empty()) else {
        return Err(refused(UNVERIFIED));
    };
    let identity = identify(pc, now, code, &pending).await?;
    let login = open(app, &identity, back.client_ip).await?;
    Ok(Arrival {
        login,
        next: pending.next_path,
    })
}

fn provider_error(error: &str, description: Option<&str>) -> String {
    match error {
        "access_denied" => "Vous avez interrompu la connexion avec ProConnect : vous n'êtes pas connecté.".into(),
        "login_required" | "consent_required" | "interaction_required" => {
            "ProConnect demande que vous vous identifiiez à nouveau. Recommencez depuis la page de connexion.".into()
        }
        _ => {
            let said = description
                .filter(|d| !d.trim().is_empty())
                .map(|d| format!(" : « {} »", d.chars().take(200).collect::<String>()))
                .unwrap_or_default();
            format!(
                "ProConnect n'a pas pu confirmer votre identité ({error}){said}. Recommencez depuis la page de connexion, ou connectez-vous avec votre mot de passe."
            )
        }
    }
}

/// Exchanges the code, verifies the ID token and reads the signed userinfo.
async fn identify(
    pc: &ProConnect,
    now: DateTime<Utc>,
    code: &str,
    pending: &store::proconnect::PendingLogin,
) -> Result<Identity, ProConnectError> {
    let client = pc.client(pc.metadata(now, false).await?);
    let exchange = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| ProConnectError::Internal(AppError::Internal(e.to_string())))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
    let tokens = exchange.request_async(&pc.http).await.map_err(|e| {
        tracing::warn!(error = %e, "ProConnect token exchange refused");
        match e {
            RequestTokenError::Request(_) => ProConnectError::Unavailable,
            RequestTokenError::ServerResponse(_) => refused(CODE_REFUSED),
            _ => refused(UNVERIFIED),
        }
    })?;
    let id_token = tokens.id_token().ok_or_else(|| refused(UNVERIFIED))?;
    let nonce = Nonce::new(pending.nonce.clone());
    let (client, claims) = match verified(&client, id_token, &nonce, now) {
        Ok(claims) => (client, claims),
        // A key the provider has just published: its keys are fetched again, once.
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            let client = pc.client(pc.metadata(now, true).await?);
            let claims = verified(&client, id_token, &nonce, now).map_err(unverified)?;
            (client, claims)
        }
        Err(e) => return Err(unverified(e)),
    };
    let info: UserInfoClaims<ProConnectClaims, CoreGenderClaim> = client
        .user_info(tokens.access_token().clone(), Some(claims.subject.clone()))
        .map_err(|e| ProConnectError::Internal(AppError::Internal(e.to_string())))?
        .request_async(&pc.http)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "ProConnect userinfo refused");
            match e {
                UserInfoError::Request(_) => ProConnectError::Unavailable,
                _ => refused(UNVERIFIED),
            }
        })?;
    let email = info.email().map(|e| e.as_str().to_string());
    let siret = info.additional_claims().siret.clone();
    let (Some(email), Some(siret)) = (email, siret) else {
        return Err(refused(
            "ProConnect n'a pas transmis votre adresse électronique et le SIRET de votre structure : la connexion ne peut pas aboutir. Connectez-vous avec votre mot de passe.",
        ));
    };
    let email = Email::parse(&email).map_err(|_| {
        refused(format!(
            "L'adresse électronique transmise par ProConnect (« {email} ») n'est pas valide : la connexion ne peut pas aboutir."
        ))
    })?;
    let siret = Siret::parse(&siret).map_err(|_| {
        refused(format!(
            "Le SIRET transmis par ProConnect (« {siret} ») n'est pas valide : la connexion ne peut pas aboutir."
        ))
    })?;
    let given = info
        .given_name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_string());
    let family = info.additional_claims().usual_name.clone();
    let name = [given, family]
        .into_iter()
        .flatten()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Identity {
        email,
        siret,
        name: (!name.is_empty()).then_some(name),
        multi_factor: claims.multi_factor,
        id_token: id_token.to_string(),
    })
}

/// What the ID token says, once verified.
struct Verified {
    subject: SubjectIdentifier,
    multi_factor: bool,
}

fn verified(
    client: &Client,
    id_token: &CoreIdToken,
    nonce: &Nonce,
    now: DateTime<Utc>,
) -> Result<Verified, ClaimsVerificationError> {
    let verifier = client.id_token_verifier().set_time_fn(move || now);
    let claims = id_token.claims(&verifier, nonce)?;
    let multi_factor = claims
        .auth_method_refs()
        .is_some_and(|amr| amr.iter().any(|m| m.as_str() == "mfa"));
    Ok(Verified {
        subject: claims.subject().clone(),
        multi_factor,
    })
}

fn unverified(e: ClaimsVerificationError) -> ProConnectError {
    tracing::warn!(error = %e, "ProConnect ID token refused");
    refused(UNVERIFIED)
}

/// Matches the identity to an account, accepting the invitations it answers, and opens the
/// session. Nothing is written unless a session opens.
async fn open(app: &App, identity: &Identity, client_ip: &str) -> Result<Login, ProConnectError> {
    let now = app.now();
    let siret = identity.siret.as_str();
    let email = &identity.email;
    let mut tx = app.db.begin().await.map_err(AppError::from)?;
    let account = store::users::by_email(&mut tx.conn(), email).await?;
    if account.as_ref().is_some_and(|u| !u.is_active) {
        return Err(refused(
            "Votre compte Passerelle est désactivé : adressez-vous à la coordination de votre territoire.",
        ));
    }
    let invitations: Vec<_> =
        store::tokens::pending_invitations_for(&mut tx.conn(), email.as_str(), now)
            .await?
            .into_iter()
            .filter(|i| i.organisation_siret.as_deref() == Some(siret))
            .collect();
    let user: UserId = match &account {
        Some(u) => u.id,
        None => {
            let Some(first) = invitations.first() else {
                return Err(refused(format!(
                    "Aucun compte Passerelle ni aucune invitation en cours ne correspond à l'adresse {email} pour la structure de SIRET {siret}. Demandez à la coordination de votre territoire de vous inviter à cette adresse.",
                    email = email.as_str(),
                )));
            };
            let name = identity
                .name
                .as_deref()
                .and_then(|n| Label::parse(n, "vos prénom et nom", 100).ok())
                .map(|l| l.as_str().to_string())
                .unwrap_or_else(|| first.display_name.clone());
            // No password: the account signs in with ProConnect (or a reset link sets one).
            store::users::create(&mut tx.conn(), email, &name, None, now).await?
        }
    };
    for invitation in &invitations {
        if !store::tokens::accept_invitation(&mut tx.conn(), invitation.id, now).await? {
            continue;
        }
        let membership = crate::auth::membership_of(invitation, user)?;
        if !store::memberships::exists(&mut tx.conn(), &membership).await? {
            store::memberships::create(&mut tx.conn(), &membership, now).await?;
        }
        let event = store::audit::NewEvent {
            user: Some(user),
            action: "invitation_accepted",
            target_kind: "invitation",
            target_id: Some(invitation.id),
            territory: membership.territory,
            detail: membership.role.as_str(),
            client_ip: Some(client_ip),
            api_token: None,
        };
        store::audit::record(&mut tx.conn(), &event, now).await?;
    }
    let memberships = store::memberships::of_user(&mut tx.conn(), user).await?;
    if !memberships
        .iter()
        .any(|m| m.organisation_siret.as_deref() == Some(siret))
    {
        return Err(refused(format!(
            "Votre compte Passerelle n'est rattaché à aucune structure de SIRET {siret}, celui que ProConnect transmet. Connectez-vous avec votre mot de passe, ou demandez à la coordination de votre territoire de renseigner ce SIRET sur la fiche de votre structure."
        )));
    }
    store::users::clear_login_failures(&mut tx.conn(), email.as_str()).await?;
    store::users::set_last_login(&mut tx.conn(), user, now).await?;
    let standing = store::second_factors::standing(&mut tx.conn(), user).await?;
    let pending =
        crate::second_factor::Step::of(identity.multi_factor, standing.enabled, standing.required);
    let opening = Opening {
        pending: pending.is_some(),
        second_factor_checked: identity.multi_factor,
        proconnect_id_token: Some(&identity.id_token),
    };
    let token = crate::auth::open_session(app, &mut tx.conn(), user, opening).await?;
    let event = store::audit::NewEvent {
        user: Some(user),
        action: "login",
        target_kind: "user",
        target_id: Some(user.0),
        territory: None,
        detail: "proconnect",
        client_ip: Some(client_ip),
        api_token: None,
    };
    store::audit::record(&mut tx.conn(), &event, now).await?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Login {
        token,
        user,
        pending,
    })
}

/// The provider's end-of-session address for a session opened with this ID token, if the
/// provider has one. Without it (or while the provider is unreachable) the logout stays local.
pub async fn logout_redirect(app: &App, id_token: Option<&str>) -> Option<String> {
    let (pc, id_token) = (app.proconnect.as_deref()?, id_token?);
    let id_token: CoreIdToken = id_token.parse().ok()?;
    let metadata = pc.metadata(app.now(), false).await.ok()?;
    let end = metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()?;
    let url = LogoutRequest::from(end)
        .set_id_token_hint(&id_token)
        .set_client_id(ClientId::new(pc.settings.client_id.clone()))
        .set_post_logout_redirect_uri(pc.logged_out.clone())
        .set_state(CsrfToken::new(random_token()))
        .http_get_url();
    Some(url.to_string())
}
