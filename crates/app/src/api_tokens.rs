//! Access tokens of the API (docs/security.md, « Jetons d'API »): personal ones, made by a
//! logged-in user for their own account, and an organisation's, made by a territory's
//! coordinator for one of its partners. Scoped, expiring, shown once and stored hashed,
//! revocable at once; each request is counted per minute against a limit shared by every
//! instance.

use chrono::Duration;
use domain::api::{self, ApiScope};
use domain::{Label, OrganisationId};
use store::api_tokens::Holder;

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

/// A personal token of the caller's account.
pub async fn create(app: &App, caller: &Caller, input: &TokenInput) -> Result<Created, AppError> {
    let mut errors = FieldErrors::default();
    let checked = checked(&mut errors, input);
    let (name, scopes, days) = errors.into_result(|| checked)?;
    make(app, caller, (name, scopes, days), None).await
}

/// The name, scopes and duration of a token, or the errors of each field.
fn checked(errors: &mut FieldErrors, input: &TokenInput) -> Option<(Label, Vec<ApiScope>, u32)> {
    let name = errors.check("name", Label::parse(&input.name, "le nom du jeton", 100));
    let scopes = errors.check("scopes", ApiScope::parse_list(&input.scopes));
    let days = errors.check("days", api::parse_duration(&input.days));
    Some((name?, scopes?, days?))
}

async fn make(
    app: &App,
    caller: &Caller,
    (name, scopes, days): (Label, Vec<ApiScope>, u32),
    organisation: Option<(OrganisationId, domain::TerritoryId)>,
) -> Result<Created, AppError> {
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
        organisation,
    };
    let id = store::api_tokens::create(&mut tx.conn(), &new, now).await?;
    let detail = match organisation {
        Some((org, _)) => format!("{stored} ; structure {}", org.0),
        None => stored,
    };
    caller
        .audit(
            &mut tx.conn(),
            now,
            "api_token_created",
            ("api_token", Some(id)),
            organisation.map(|(_, t)| t),
            &detail,
        )
        .await?;
    tx.commit().await?;
    Ok(Created { id, token })
}

/// A token of a partner organisation of a territory, made by one of its coordinators.
#[derive(Debug, Clone, Default)]
pub struct OrganisationTokenInput {
    pub organisation_id: String,
    pub token: TokenInput,
}

/// Makes a token for a partner organisation of the territory: it acts for that organisation in
/// that territory only, with scopes that read or write no person.
pub async fn create_for_organisation(
    app: &App,
    caller: &Caller,
    slug: &str,
    input: &OrganisationTokenInput,
) -> Result<Created, AppError> {
    let territory = coordinated(caller, slug)?;
    let mut errors = FieldErrors::default();
    let checked = checked(&mut errors, &input.token);
    if let Some((_, scopes, _)) = &checked
        && scopes.iter().any(|s| !api::ORGANISATION_SCOPES.contains(s))
    {
        errors.add("scopes", api::ORGANISATION_SCOPES_RULE);
    }
    let organisation = input
        .organisation_id
        .trim()
        .parse::<i64>()
        .ok()
        .map(OrganisationId);
    let partner = match organisation {
        Some(org) => {
            let mut pooled = app.db.acquire().await?;
            store::territories::is_partner(&mut pooled.conn(), territory, org).await?
        }
        None => false,
    };
    if !partner {
        errors.add(
            "organisation_id",
            "Choisissez une structure partenaire du territoire.",
        );
    }
    let checked = errors.into_result(|| checked)?;
    let organisation = organisation.ok_or(AppError::NotFound)?;
    make(app, caller, checked, Some((organisation, territory))).await
}

fn coordinated(caller: &Caller, slug: &str) -> Result<domain::TerritoryId, AppError> {
    Ok(crate::team::coordinated(caller, slug)?.id)
}

/// A token as its owner's list shows it.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub token: store::api_tokens::ApiToken,
    pub scopes: Vec<ApiScope>,
    /// « actif », « expiré » or « révoqué ».
    pub state: &'static str,
}

/// The caller's personal tokens.
pub async fn list(app: &App, caller: &Caller) -> Result<Vec<TokenView>, AppError> {
    let tokens = {
        let mut pooled = app.db.acquire().await?;
        store::api_tokens::of_user(&mut pooled.conn(), caller.user_id).await?
    };
    Ok(views(app, tokens))
}

/// The tokens of a territory's partner organisations, and the partners that may get one.
#[derive(Debug)]
pub struct OrganisationTokens {
    pub tokens: Vec<TokenView>,
    pub partners: Vec<store::organisations::Organisation>,
}

/// The tokens of the territory's partner organisations (its coordinators).
pub async fn organisation_tokens(
    app: &App,
    caller: &Caller,
    slug: &str,
) -> Result<OrganisationTokens, AppError> {
    let territory = coordinated(caller, slug)?;
    let mut pooled = app.db.acquire().await?;
    let tokens = store::api_tokens::of_territory(&mut pooled.conn(), territory).await?;
    let partners = store::organisations::partners_of(&mut pooled.conn(), territory).await?;
    Ok(OrganisationTokens {
        tokens: views(app, tokens),
        partners,
    })
}

fn views(app: &App, tokens: Vec<store::api_tokens::ApiToken>) -> Vec<TokenView> {
    let now = app.now();
    tokens
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
        .collect()
}

/// Revokes one of the caller's tokens: the next request with it is refused.
pub async fn revoke(app: &App, caller: &Caller, id: i64) -> Result<(), AppError> {
    revoke_of(app, caller, Holder::User(caller.user_id), id, None).await
}

/// Revokes a token of one of the territory's partner organisations (its coordinators).
pub async fn revoke_organisation_token(
    app: &App,
    caller: &Caller,
    slug: &str,
    id: i64,
) -> Result<(), AppError> {
    let territory = coordinated(caller, slug)?;
    revoke_of(
        app,
        caller,
        Holder::Territory(territory),
        id,
        Some(territory),
    )
    .await
}

async fn revoke_of(
    app: &App,
    caller: &Caller,
    holder: Holder,
    id: i64,
    territory: Option<domain::TerritoryId>,
) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !store::api_tokens::revoke(&mut tx.conn(), holder, id, now).await? {
        return Err(AppError::NotFound);
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "api_token_revoked",
            ("api_token", Some(id)),
            territory,
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

/// A request authenticated by a token: its owner's rights (an organisation's token: entering
/// its territory only, with no membership), within the token's scopes.
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
    let session = format!("{SESSION_PREFIX}{}", live.id);
    let caller = match (live.organisation_name, live.territory_id) {
        (Some(organisation), Some(territory)) => {
            let territory =
                store::territories::by_id(&mut pooled.conn(), domain::TerritoryId(territory))
                    .await?
                    .ok_or(TokenError::Unknown)?;
            // Acting for the organisation: its territory to enter, and no membership, so no
            // person is within reach whatever the handler (the scopes say so first).
            Caller {
                user_id: live.user_id,
                email: live.email,
                display_name: format!("{organisation} (jeton de structure)"),
                memberships: Vec::new(),
                territories: vec![territory.clone()],
                active_territory: Some(territory),
                session,
                client_ip: None,
            }
        }
        _ => {
            let account = Account {
                user_id: live.user_id,
                email: live.email,
                display_name: live.display_name,
            };
            with_rights(&mut pooled.conn(), account, None, session).await?
        }
    };
    Ok(TokenCaller {
        caller,
        scopes: ApiScope::read_stored(&live.scopes),
    })
}
