//! Personal access tokens of the API (docs/security.md, « Jetons d'API »): made by a logged-in
//! user for their own account, with scopes and an expiry, shown once and stored hashed,
//! revocable at once; each request is counted per minute against a limit shared by every
//! instance.

use chrono::Duration;
use domain::Label;
use domain::api::{self, ApiScope};

use crate::caller::{Account, with_rights};
use crate::secrets::{random_token, token_hash};
use crate::{App, AppError, Caller, FieldErrors};

/// Requests per minute one token may make unless configured otherwise.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 120;
/// What stands for the session of a caller who came with a token: this, then the token's id.
pub const SESSION_PREFIX: &str = "api-token:";
/// Tokens start with this, so that a leaked one is recognised (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "passerelle_";

#[derive(Debug, Clone, Default)]
pub struct TokenInput {
    pub name: String,
    pub scopes: Vec<String>,
    pub days: String,
}

/// A token just made: shown once, never again.
#[derive(Debug)]
pub struct Created {
    pub id: i64,
    pub token: String,
}

pub async fn create(app: &App, caller: &Caller, input: &TokenInput) -> Result<Created, AppError> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", Label::parse(&input.name, "le nom du jeton", 100));
    let scopes = errors.check("scopes", ApiScope::parse_list(&input.scopes));
    let days = errors.check("days", api::parse_duration(&input.days));
    let (name, scopes, days) = errors.into_result(|| Some((name?, scopes?, days?)))?;
    let now = app.now();
    let token = format!("{TOKEN_PREFIX}{}", random_token());
    let stored = ApiScope::stored(&scopes);
    let mut tx = app.db.begin().await?;
    let new = store::api_tokens::NewToken {
        token_hash: &token_hash(&token),
        user: caller.user_id,
        name: name.as_str(),
        scopes: &stored,
        expires_at: now + Duration::days(i64::from(days)),
    };
    let id = store::api_tokens::create(&mut tx.conn(), &new, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "api_token_created",
            ("api_token", Some(id)),
            None,
            &stored,
        )
        .await?;
    tx.commit().await?;
    Ok(Created { id, token })
}

/// A token as its owner's list shows it.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub token: store::api_tokens::ApiToken,
    pub scopes: Vec<ApiScope>,
    /// « actif », « expiré » or « révoqué ».
    pub state: &'static str,
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<TokenView>, AppError> {
    let now = app.now();
    let mut pooled = app.db.acquire().await?;
    let tokens = store::api_tokens::of_user(&mut pooled.conn(), caller.user_id).await?;
    Ok(tokens
        .into_iter()
        .map(|token| TokenView {
            scopes: ApiScope::read_stored(&token.scopes),
            state: if token.revoked_at.is_some() {
                "révoqué"
            } else if token.expires_at <= now {
                "expiré"
            } else {
                "actif"
            },
            token,
        })
        .collect())
}

/// Revokes one of the caller's tokens: the next request with it is refused.
pub async fn revoke(app: &App, caller: &Caller, id: i64) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !store::api_tokens::revoke(&mut tx.conn(), caller.user_id, id, now).await? {
        return Err(AppError::NotFound);
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "api_token_revoked",
            ("api_token", Some(id)),
            None,
            "",
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Why a request's token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Unknown, revoked or expired (the three look the same from outside).
    #[error("Jeton d'API inconnu, expiré ou révoqué.")]
    Unknown,
    #[error(
        "Trop de requêtes avec ce jeton : {limit} par minute au plus. Réessayez dans {retry_after} secondes."
    )]
    RateLimited { limit: u32, retry_after: u32 },
    #[error(transparent)]
    Internal(#[from] AppError),
}

impl From<store::StoreError> for TokenError {
    fn from(e: store::StoreError) -> Self {
        TokenError::Internal(e.into())
    }
}

/// A request authenticated by a token: its owner's rights, within the token's scopes.
#[derive(Debug, Clone)]
pub struct TokenCaller {
    pub caller: Caller,
    pub scopes: Vec<ApiScope>,
}

/// The caller behind a bearer token, after counting the request against the token's limit.
pub async fn authenticate(app: &App, token: &str) -> Result<TokenCaller, TokenError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(TokenError::Unknown);
    }
    let now = app.now();
    let mut pooled = app.db.acquire().await?;
    let Some(live) = store::api_tokens::live(&mut pooled.conn(), &token_hash(token), now).await?
    else {
        return Err(TokenError::Unknown);
    };
    let count = store::api_tokens::count_request(&mut pooled.conn(), live.id, now).await?;
    let limit = app.settings.api_requests_per_minute;
    if count > i64::from(limit) {
        let second = u32::try_from(now.timestamp().rem_euclid(60)).unwrap_or(0);
        return Err(TokenError::RateLimited {
            limit,
            retry_after: 60 - second,
        });
    }
    let account = Account {
        user_id: live.user_id,
        email: live.email,
        display_name: live.display_name,
    };
    let caller = with_rights(
        &mut pooled.conn(),
        account,
        None,
        format!("{SESSION_PREFIX}{}", live.id),
    )
    .await?;
    Ok(TokenCaller {
        caller,
        scopes: ApiScope::read_stored(&live.scopes),
    })
}
