//! Who is asking: the account behind a session, its memberships, and the territories it may
//! enter. Authorization questions are answered here and nowhere else.

use domain::{OrganisationId, Role, TerritoryId, UserId};
use store::memberships::Membership;
use store::territories::Territory;

use crate::{App, AppError};

#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub memberships: Vec<Membership>,
    /// Territories this caller may enter, by name.
    pub territories: Vec<Territory>,
    /// The territory the interface is working in (always one of `territories`).
    pub active_territory: Option<Territory>,
    /// Hash of the session token, to act on this session (switch territory, log out).
    pub session: String,
    /// The client's address, for the audit trail (set by the web layer).
    pub client_ip: Option<String>,
}

impl Caller {
    fn has(&self, predicate: impl Fn(&Membership) -> bool) -> bool {
        self.memberships.iter().any(predicate)
    }

    /// The API token this caller came with (its requests are audited as made through it).
    pub fn api_token(&self) -> Option<i64> {
        self.session
            .strip_prefix(crate::api_tokens::SESSION_PREFIX)
            .and_then(|id| id.parse().ok())
    }

    pub fn is_admin(&self) -> bool {
        self.has(|m| m.role() == Some(Role::Admin))
    }

    /// Coordinates this territory (administrators may act as coordinators everywhere).
    pub fn coordinates(&self, territory: TerritoryId) -> bool {
        self.is_admin() || self.is_coordinator_of(territory)
    }

    /// Holds a coordinator membership of this territory. Unlike [`Caller::coordinates`], national
    /// administration does not count: person files are need-to-know, never national.
    pub fn is_coordinator_of(&self, territory: TerritoryId) -> bool {
        self.has(|m| m.role() == Some(Role::Coordinator) && m.territory() == Some(territory))
    }

    /// The time zone of the territory the caller works in (metropolitan France without one):
    /// dates and times are shown there.
    pub fn zone(&self) -> domain::TimeZone {
        self.active_territory
            .as_ref()
            .map(|t| t.zone())
            .unwrap_or_default()
    }

    pub fn may_enter(&self, territory: TerritoryId) -> bool {
        self.territories.iter().any(|t| t.id == territory)
    }

    /// Organisations this caller works for as a professional, in any territory.
    pub fn organisations(&self) -> Vec<OrganisationId> {
        self.memberships
            .iter()
            .filter(|m| m.role() == Some(Role::Professional))
            .filter_map(Membership::organisation)
            .collect()
    }

    /// Organisations this caller works for in one territory. A professional membership given by
    /// a territory's coordinator names that territory and opens it only, even when the
    /// organisation is a partner elsewhere too; one without a territory follows every
    /// partnership of the organisation.
    pub fn organisations_in(&self, territory: TerritoryId) -> Vec<OrganisationId> {
        if !self.may_enter(territory) {
            return Vec::new();
        }
        self.memberships
            .iter()
            .filter(|m| m.role() == Some(Role::Professional))
            .filter(|m| m.territory().is_none_or(|t| t == territory))
            .filter_map(Membership::organisation)
            .collect()
    }

    /// The roles this caller holds in a territory, most powerful first, for display.
    pub fn roles_in(&self, territory: TerritoryId) -> Vec<Role> {
        let mut roles = Vec::new();
        if self.is_admin() {
            roles.push(Role::Admin);
        }
        if self.is_coordinator_of(territory) {
            roles.push(Role::Coordinator);
        }
        if !self.organisations_in(territory).is_empty() {
            roles.push(Role::Professional);
        }
        if self.has(|m| {
            m.role() == Some(Role::Pilot)
                && (m.territory().is_none() || m.territory() == Some(territory))
        }) {
            roles.push(Role::Pilot);
        }
        roles
    }

    /// Writes an audit row for something this caller did.
    pub async fn audit(
        &self,
        c: &mut store::Conn<'_>,
        now: chrono::DateTime<chrono::Utc>,
        action: &str,
        target: (&str, Option<i64>),
        territory: Option<TerritoryId>,
        detail: &str,
    ) -> Result<(), AppError> {
        let event = store::audit::NewEvent {
            user: Some(self.user_id),
            action,
            target_kind: target.0,
            target_id: target.1,
            territory,
            detail,
            client_ip: self.client_ip.as_deref(),
            api_token: self.api_token(),
        };
        store::audit::record(c, &event, now).await?;
        Ok(())
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// A territory the caller may enter, or `NotFound` (an outsider learns nothing of it).
    pub fn territory(&self, slug: &str) -> Result<&Territory, AppError> {
        self.territories
            .iter()
            .find(|t| t.slug == slug)
            .ok_or(AppError::NotFound)
    }
}

/// Loads the caller behind a session token; `None` when the session is unknown or expired.
/// Three queries: session with account, memberships, territories.
/// A session: ready, or waiting for its second factor (crate::second_factor).
#[derive(Debug, Clone)]
pub enum Session {
    Ready(Box<Caller>),
    Pending(crate::second_factor::Pending),
}

/// The caller of a ready session; `None` for no session, an expired one or one that waits for
/// its second factor.
pub async fn load(app: &App, token: &str) -> Result<Option<Caller>, AppError> {
    Ok(match load_session(app, token).await? {
        Some(Session::Ready(caller)) => Some(*caller),
        Some(Session::Pending(_)) | None => None,
    })
}

/// The session of a token, ready or pending. One query finds the session, its account and
/// where its second factor stands; a ready one adds the account's memberships and territories.
pub async fn load_session(app: &App, token: &str) -> Result<Option<Session>, AppError> {
    let now = app.now();
    let session_hash = crate::secrets::token_hash(token);
    let mut pooled = app.db.acquire().await?;
    let lifetime =
        chrono::Duration::from_std(app.settings.session_max).unwrap_or(chrono::Duration::hours(12));
    let Some(session) =
        store::sessions::find(&mut pooled.conn(), &session_hash, now, now - lifetime).await?
    else {
        return Ok(None);
    };
    if let Some(step) = crate::second_factor::Step::of(
        session.second_factor_at.is_some(),
        session.second_factor_enabled,
        session.second_factor_required,
    ) {
        // A pending session does not slide: it ends PENDING_MINUTES after the password.
        return Ok(Some(Session::Pending(crate::second_factor::Pending {
            user_id: session.user_id,
            email: session.email,
            session: session_hash,
            step,
            client_ip: None,
        })));
    }
    let idle =
        chrono::Duration::from_std(app.settings.session_idle).unwrap_or(chrono::Duration::hours(2));
    // Sliding expiry, written at most once a minute to spare the database.
    if now - session.last_seen_at > chrono::Duration::minutes(1) {
        store::sessions::touch(&mut pooled.conn(), &session_hash, now, now + idle).await?;
    }
    let caller = with_rights(
        &mut pooled.conn(),
        Account {
            user_id: session.user_id,
            email: session.email,
            display_name: session.display_name,
        },
        session.active_territory_id,
        session_hash,
    )
    .await?;
    Ok(Some(Session::Ready(Box::new(caller))))
}

/// Who an account is, before its rights are read.
pub(crate) struct Account {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
}

/// The caller of an account with its memberships and territories (two queries), working in
/// `active` when it may enter it, else in its first territory. `session` names what it acts
/// through (a session's hash, or an API token).
pub(crate) async fn with_rights(
    c: &mut store::Conn<'_>,
    account: Account,
    active: Option<i64>,
    session: String,
) -> Result<Caller, AppError> {
    let memberships = store::memberships::of_user(c, account.user_id).await?;
    let territories = store::territories::accessible_to(c, account.user_id).await?;
    let active_territory = active
        .and_then(|id| territories.iter().find(|t| t.id.0 == id))
        .or_else(|| territories.first())
        .cloned();
    Ok(Caller {
        user_id: account.user_id,
        email: account.email,
        display_name: account.display_name,
        memberships,
        territories,
        active_territory,
        session,
        client_ip: None,
    })
}

/// Makes another of the caller's territories the active one.
pub async fn switch_territory(
    app: &App,
    caller: &Caller,
    slug: &str,
) -> Result<Territory, AppError> {
    let territory = caller.territory(slug)?.clone();
    let mut pooled = app.db.acquire().await?;
    store::sessions::set_territory(&mut pooled.conn(), &caller.session, Some(territory.id)).await?;
    Ok(territory)
}
