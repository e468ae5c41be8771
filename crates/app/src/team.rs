//! A territory's team: its partner organisations, the people working in it, and invitations.

use chrono::Duration;
use domain::{Email, Label, OrganisationId, Role, TerritoryId};
use store::memberships::{NewMembership, TeamMember};
use store::organisations::Organisation;
use store::territories::Territory;
use store::tokens::{Invitation, NewInvitation};

use crate::auth::INVITATION_DAYS;
use crate::secrets::{random_token, token_hash};
use crate::{App, AppError, Caller, FieldErrors};

/// What a territory's page shows to someone who may enter it.
pub struct TerritoryOverview {
    pub territory: Territory,
    pub communes: Vec<String>,
    pub partners: Vec<Organisation>,
    /// The QPVs of the current map in the territory's communes: (code, name).
    pub qpvs: Vec<(String, String)>,
    /// Filled for coordinators only: the team, organisations that could join, invitations.
    pub management: Option<Management>,
}

pub struct Management {
    pub team: Vec<TeamMember>,
    pub other_organisations: Vec<Organisation>,
    pub invitations: Vec<Invitation>,
}

pub async fn overview(
    app: &App,
    caller: &Caller,
    slug: &str,
) -> Result<TerritoryOverview, AppError> {
    let territory = caller.territory(slug)?.clone();
    let mut pooled = app.db.acquire().await?;
    let communes = store::territories::communes(&mut pooled.conn(), territory.id).await?;
    let partners = store::organisations::partners_of(&mut pooled.conn(), territory.id).await?;
    let qpvs =
        store::qpv::of_territory(&mut pooled.conn(), territory.id, domain::Millesime::CURRENT)
            .await?;
    let management = if caller.coordinates(territory.id) {
        Some(Management {
            team: store::memberships::team_of(&mut pooled.conn(), territory.id).await?,
            other_organisations: store::organisations::not_partners_of(
                &mut pooled.conn(),
                territory.id,
            )
            .await?,
            invitations: store::tokens::invitations_of_territory(&mut pooled.conn(), territory.id)
                .await?,
        })
    } else {
        None
    };
    Ok(TerritoryOverview {
        territory,
        communes,
        partners,
        qpvs,
        management,
    })
}

pub(crate) fn coordinated<'c>(caller: &'c Caller, slug: &str) -> Result<&'c Territory, AppError> {
    let territory = caller.territory(slug)?;
    if caller.coordinates(territory.id) {
        Ok(territory)
    } else {
        Err(AppError::Forbidden)
    }
}

pub async fn add_partner(
    app: &App,
    caller: &Caller,
    slug: &str,
    organisation: &str,
) -> Result<Organisation, AppError> {
    let territory = coordinated(caller, slug)?;
    let id = organisation
        .trim()
        .parse::<i64>()
        .map(OrganisationId)
        .map_err(|_| {
            AppError::field("organisation_id", "Choisissez une structure dans la liste.")
        })?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let org = store::organisations::by_id(&mut tx.conn(), id)
        .await?
        .ok_or_else(|| AppError::field("organisation_id", "Cette structure n'existe pas."))?;
    if store::territories::add_partner(&mut tx.conn(), territory.id, id, Some(caller.user_id), now)
        .await?
    {
        caller
            .audit(
                &mut tx.conn(),
                now,
                "partner_added",
                ("organisation", Some(id.0)),
                Some(territory.id),
                &org.name,
            )
            .await?;
    }
    tx.commit().await?;
    Ok(org)
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct InvitationInput {
    pub email: String,
    pub display_name: String,
    pub role: String,
    /// For a professional: the partner organisation they work for.
    pub organisation_id: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum InvitationOutcome {
    /// An invitation link was sent: a new account is created with it, or an existing account
    /// accepts it once logged in. Nobody is given access without their own act.
    Invited,
    /// The account already had this membership.
    AlreadyMember,
}

/// Invites someone into a territory (coordinators: professionals of partner organisations,
/// coordinators, pilots) or, with no territory, nationally (administrators: admins, national pilots).
pub async fn invite(
    app: &App,
    caller: &Caller,
    slug: Option<&str>,
    input: &InvitationInput,
) -> Result<InvitationOutcome, AppError> {
    let territory = match slug {
        Some(slug) => Some(coordinated(caller, slug)?.clone()),
        None => {
            caller.require_admin()?;
            None
        }
    };
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&input.email));
    let name = errors.check(
        "display_name",
        Label::parse(&input.display_name, "les prénom et nom", 100),
    );
    let allowed: &[Role] = if territory.is_some() {
        &[Role::Professional, Role::Coordinator, Role::Pilot]
    } else {
        &[Role::Admin, Role::Pilot]
    };
    let role = Role::from_code(input.role.trim()).filter(|r| allowed.contains(r));
    if role.is_none() {
        errors.add("role", "Choisissez un rôle dans la liste.");
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let organisation = match (role, &territory) {
        (Some(Role::Professional), Some(t)) => match input
            .organisation_id
            .trim()
            .parse::<i64>()
            .map(OrganisationId)
        {
            Ok(org) if store::territories::is_partner(&mut tx.conn(), t.id, org).await? => {
                Some(org)
            }
            _ => {
                errors.add(
                    "organisation_id",
                    "Choisissez la structure partenaire où travaille cette personne.",
                );
                None
            }
        },
        _ => None,
    };
    let (email, name, role) = errors.into_result(|| Some((email?, name?, role?)))?;
    // Nobody grants themself a right, not even a national administrator.
    if email.as_str().eq_ignore_ascii_case(&caller.email) {
        return Err(AppError::field(
            "email",
            "Vous ne pouvez pas vous inviter vous-même : demandez à une autre personne habilitée.",
        ));
    }
    let territory_id: Option<TerritoryId> = territory.as_ref().map(|t| t.id);
    let place = territory.as_ref().map_or("Passerelle".to_string(), |t| {
        format!("le territoire « {} »", t.name)
    });
    let existing = store::users::by_email(&mut tx.conn(), &email).await?;
    if let Some(user) = &existing {
        let membership = NewMembership {
            user: user.id,
            role,
            organisation,
            territory: territory_id,
            created_by: Some(caller.user_id),
        };
        if store::memberships::exists(&mut tx.conn(), &membership).await? {
            return Ok(InvitationOutcome::AlreadyMember);
        }
    }
    let token = random_token();
    let invitation = NewInvitation {
        email: email.to_string(),
        display_name: name.to_string(),
        role,
        organisation,
        territory: territory_id,
        invited_by: caller.user_id,
    };
    store::tokens::create_invitation(
        &mut tx.conn(),
        &token_hash(&token),
        &invitation,
        now,
        now + Duration::days(INVITATION_DAYS),
    )
    .await?;
    let how = if existing.is_some() {
        "Connectez-vous avec votre compte habituel, puis acceptez l'invitation depuis ce lien"
    } else {
        "Pour créer votre compte, ouvrez ce lien"
    };
    let body = format!(
        "Bonjour {name},\n\n{} vous invite à rejoindre {place} dans Passerelle, l'outil de coopération territoriale pour l'emploi, avec le rôle « {} ».\n\n\
         {how} (valable {INVITATION_DAYS} jours, utilisable une seule fois) :\n\n{}/invitation/{token}",
        caller.display_name,
        role.label(),
        app.settings.base_url
    );
    crate::mail::enqueue(
        &mut tx.conn(),
        app,
        email.as_str(),
        "Invitation à rejoindre Passerelle",
        &body,
    )
    .await?;
    let outcome = InvitationOutcome::Invited;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "invitation_sent",
            ("user", None),
            territory_id,
            &format!("{} ({})", email, role.as_str()),
        )
        .await?;
    tx.commit().await?;
    Ok(outcome)
}
