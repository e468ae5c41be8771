//! Magic links: a receiving service without an account answers from the mail it got. A link
//! is a random token stored only as its hash, one per mail, for one orientation and one
//! recipient, valid 7 days; each step can be taken once with it. An expired link offers a new
//! one, sent to the service's contact address only — never to an address the visitor types.

use chrono::Duration;
use domain::orientation::{Actor, Status, Step};
use domain::person::{ConsentPurpose, FileEvent};
use domain::{Field, OrientationId};
use store::Conn;

use super::decide::{Author, DecisionInput, change, check_input, conflict, describe, notice};
use super::view::{PersonHead, requirements};
use super::{notices, path};
use crate::{App, AppError};

/// The path of a link (the token is appended).
fn link_path(id: OrientationId) -> String {
    format!("/orientations/{}/lien/", id.0)
}

/// Creates a link for `recipient` and mails it, in the caller's transaction.
pub(crate) async fn mail_link(
    c: &mut Conn<'_>,
    app: &App,
    id: OrientationId,
    recipient: &str,
    subject: &str,
    intro: &str,
) -> Result<(), AppError> {
    let token = crate::secrets::random_token();
    let now = app.now();
    let expires = now + notices::LINK_VALID;
    store::orientations::create_link(
        c,
        id,
        recipient,
        &crate::secrets::token_hash(&token),
        now,
        expires,
    )
    .await?;
    let body = format!(
        "{intro}\n\nVotre structure n'a pas de compte dans Passerelle : ce lien personnel vous permet de prendre connaissance de l'orientation et d'y répondre, sans mot de passe. Il est valable 7 jours et ne sert qu'une fois pour chaque décision ; ne le transférez pas.\n\n{}{}{token}\n\nS'il a expiré, la page propose de vous en envoyer un nouveau, à cette même adresse.",
        app.settings.base_url,
        link_path(id)
    );
    crate::mail::enqueue(c, app, recipient, subject, &body).await?;
    Ok(())
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Valid,
    Expired,
    /// Unknown, tampered with, or for another orientation: the page says only that.
    Invalid,
}

/// What the holder of a link sees: the referral view and the steps still open to them.
#[derive(Debug, Clone)]
pub struct LinkPage {
    pub state: LinkState,
    pub id: OrientationId,
    pub status: Option<Status>,
    pub version: i32,
    pub receiver_name: String,
    pub service_name: String,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub sender: String,
    pub person: Option<PersonHead>,
    pub reason: String,
    pub message: String,
    pub documents: String,
    pub contact_preference: String,
    pub availability: String,
    pub fields: Vec<Field>,
    pub requirements: Vec<(&'static str, String)>,
    pub steps: Vec<Step>,
    /// Steps this link already served for.
    pub used: Vec<Step>,
}

impl LinkPage {
    fn empty(state: LinkState, id: OrientationId) -> LinkPage {
        LinkPage {
            state,
            id,
            status: None,
            version: 0,
            receiver_name: String::new(),
            service_name: String::new(),
            sent_at: None,
            sender: String::new(),
            person: None,
            reason: String::new(),
            message: String::new(),
            documents: String::new(),
            contact_preference: String::new(),
            availability: String::new(),
            fields: Vec::new(),
            requirements: Vec::new(),
            steps: Vec::new(),
            used: Vec::new(),
        }
    }
}

/// The link a token names for this orientation, with its state.
async fn find(
    c: &mut Conn<'_>,
    app: &App,
    id: OrientationId,
    token: &str,
) -> Result<(LinkState, Option<store::orientations::Link>), AppError> {
    if token.len() > 200 {
        return Ok((LinkState::Invalid, None));
    }
    let link = store::orientations::link(c, &crate::secrets::token_hash(token)).await?;
    Ok(match link {
        Some(l) if l.orientation_id != id => (LinkState::Invalid, None),
        Some(l) if l.expires_at <= app.now() => (LinkState::Expired, Some(l)),
        Some(l) => (LinkState::Valid, Some(l)),
        None => (LinkState::Invalid, None),
    })
}

/// The audit row of something done with a link (no account: the recipient is named).
async fn audit(
    c: &mut Conn<'_>,
    app: &App,
    event: FileEvent,
    row: &store::orientations::OrientationRow,
    detail: &str,
    client_ip: Option<&str>,
) -> Result<(), AppError> {
    let event = store::audit::NewEvent {
        user: None,
        action: event.as_str(),
        target_kind: "person",
        target_id: Some(row.person_id.0),
        territory: Some(row.territory_id),
        detail,
        client_ip,
        api_token: None,
    };
    store::audit::record(c, &event, app.now()).await?;
    Ok(())
}

/// The page of a link (its read audited on the person's file).
pub async fn link_page(
    app: &App,
    id: OrientationId,
    token: &str,
    client_ip: Option<&str>,
) -> Result<LinkPage, AppError> {
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let (state, link) = find(c, app, id, token).await?;
    let (LinkState::Valid, Some(link)) = (state, link) else {
        return Ok(LinkPage::empty(state, id));
    };
    let Some(row) = store::orientations::get(c, id).await? else {
        return Ok(LinkPage::empty(LinkState::Invalid, id));
    };
    let used: Vec<Step> = store::orientations::link_uses(c, link.id)
        .await?
        .iter()
        .filter_map(|s| Step::from_code(s))
        .collect();
    let mut page = LinkPage::empty(LinkState::Valid, id);
    page.status = Some(row.status);
    page.version = row.version;
    page.steps = row
        .status
        .steps_for(Actor::Receiver)
        .into_iter()
        .filter(|s| !used.contains(s))
        .collect();
    page.used = used;
    page.receiver_name = row.receiver_name.clone();
    page.service_name = row.service_name.clone();
    page.sent_at = Some(row.sent_at);
    page.sender = [row.sender_name.clone(), row.sender_org_name.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    // What is needed to decide, while the orientation is not over; nothing of the person after.
    if !row.status.is_final() {
        let person = store::persons::get(c, row.person_id)
            .await?
            .ok_or(AppError::NotFound)?;
        page.person = Some(PersonHead {
            first_name: person.first_name,
            last_name: person.last_name,
            phone: person.phone,
            email: person.email,
            postal_code: person.postal_code,
            commune_insee: person.commune_insee,
        });
        page.reason = row.reason.clone();
        page.message = row.message.clone();
        page.documents = row.documents.clone();
        page.contact_preference = row.contact_preference.clone();
        page.availability = row.availability.clone();
        page.fields = row
            .fields()
            .into_iter()
            .filter(|f| *f != Field::SanteHandicap)
            .collect();
        if let Some(s) = row.service_id
            && let Some(stored) = store::directory::service(c, domain::ServiceId(s)).await?
        {
            page.requirements = serde_json::from_str::<domain::inclusion::Service>(&stored.record)
                .map(|s| requirements(&s))
                .unwrap_or_default();
        }
        let detail = format!("{} (lien reçu par {})", path(id), link.recipient);
        audit(c, app, FileEvent::Read, &row, &detail, client_ip).await?;
    }
    Ok(page)
}

/// Takes a step with a link. Refused when the link is invalid or expired, when it already
/// served for this step, or when the state machine refuses.
pub async fn link_decide(
    app: &App,
    id: OrientationId,
    token: &str,
    input: &DecisionInput,
    client_ip: Option<&str>,
) -> Result<Status, AppError> {
    let step = Step::parse(&input.step).map_err(|e| AppError::field("step", e.0))?;
    if !step.may_be_taken_by(Actor::Receiver) {
        return Err(AppError::Forbidden);
    }
    let mut tx = app.db.begin_write().await?;
    let (state, link) = find(&mut tx.conn(), app, id, token).await?;
    let link = match (state, link) {
        (LinkState::Valid, Some(l)) => l,
        (LinkState::Expired, _) => {
            return Err(AppError::field(
                "formulaire",
                "Ce lien a expiré. Demandez-en un nouveau : il sera envoyé à l'adresse de contact du service.",
            ));
        }
        _ => return Err(AppError::NotFound),
    };
    let row = store::orientations::get(&mut tx.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Ok(v) = input.version.trim().parse::<i32>()
        && v != row.version
    {
        let refused = conflict(&mut tx.conn(), id).await?;
        return Err(refused);
    }
    // Recorded first, so that a reuse is named as such (a refusal below rolls it back).
    if !store::orientations::use_link(&mut tx.conn(), link.id, step, app.now()).await? {
        return Err(AppError::field(
            "formulaire",
            format!(
                "Ce lien a déjà servi pour « {} » : chaque décision ne se prend qu'une fois par lien.",
                step.label().to_lowercase()
            ),
        ));
    }
    let to = row
        .status
        .after(step)
        .map_err(|e| AppError::field("formulaire", e.0))?;
    let zone = store::territories::by_id(&mut tx.conn(), row.territory_id)
        .await?
        .map(|t| t.zone())
        .unwrap_or_default();
    let today = app.today_in(zone);
    let checked = check_input(&row, step, input, today)?;
    if step == Step::Accept {
        let consents = store::persons::consents(&mut tx.conn(), row.person_id).await?;
        let shares = consents
            .iter()
            .find(|k| k.revoked_at.is_none())
            .is_some_and(|k| k.purposes.contains(&ConsentPurpose::Partage));
        if !shares {
            return Err(AppError::field(
                "formulaire",
                "La personne a retiré son accord au partage de ses informations : l'orientation ne peut pas être acceptée. L'orienteur en est informé par Passerelle.",
            ));
        }
    }
    let detail = format!(
        "{} (par lien, {})",
        describe(&row, step, to, &checked),
        link.recipient
    );
    let ch = change(&row, step, to, &checked, Author::LINK, today, &detail);
    if !store::orientations::change(&mut tx.conn(), &ch, app.now()).await? {
        let refused = conflict(&mut tx.conn(), id).await?;
        return Err(refused);
    }
    if step == Step::Decline {
        store::orientations::set_decline_reasons(&mut tx.conn(), id, &checked.reasons).await?;
    }
    let (subject, body) = notice(
        app,
        &row,
        to,
        &format!(
            "réponse de {} par le lien reçu par courriel",
            row.receiver_name
        ),
    );
    let to_whom = notices::senders_of(&mut tx.conn(), &row, None).await?;
    notices::notify(&mut tx.conn(), app, &to_whom, &subject, &body).await?;
    audit(
        &mut tx.conn(),
        app,
        FileEvent::Orientation,
        &row,
        &detail,
        client_ip,
    )
    .await?;
    tx.commit().await?;
    Ok(to)
}

/// Sends a new link to the orientation's contact address (never elsewhere), unless the
/// orientation is over or a link went out in the last hour. The visitor is told the same in
/// every case, so that the page reveals nothing.
pub async fn renew_link(app: &App, id: OrientationId, token: &str) -> Result<(), AppError> {
    let mut tx = app.db.begin_write().await?;
    let (state, _) = find(&mut tx.conn(), app, id, token).await?;
    if state == LinkState::Invalid {
        return Ok(());
    }
    let Some(row) = store::orientations::get(&mut tx.conn(), id).await? else {
        return Ok(());
    };
    let Some(email) = row.receiver_email.clone() else {
        return Ok(());
    };
    if row.status.is_final() {
        return Ok(());
    }
    let latest = store::orientations::latest_link(&mut tx.conn(), id).await?;
    if latest.is_some_and(|at| app.now() - at < Duration::hours(1)) {
        return Ok(());
    }
    mail_link(
        &mut tx.conn(),
        app,
        id,
        &email,
        &format!("Nouveau lien pour l'orientation n° {}", id.0),
        "Voici le nouveau lien demandé pour répondre à une orientation.",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
