//! Sending an orientation: to a service of the directory or to a partner organisation, within
//! the person's consent. Nothing is sent when the consent does not cover the receiver.

use domain::person::{ConsentPurpose, FileEvent};
use domain::{Field, OrganisationId, OrientationId, PersonId, ServiceId};
use serde::Deserialize;
use store::orientations::NewOrientation;

use super::{load, notices, path};
use crate::persons::FileWrite;
use crate::{App, AppError, Caller, FieldErrors};

/// The form, as sent (field names are the inputs' names).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SendInput {
    /// `service:12` or `organisation:3`.
    pub receiver: String,
    pub fields: Vec<String>,
    pub reason: String,
    pub message: String,
    pub documents: String,
    pub contact_preference: String,
    pub availability: String,
    /// The orientation this one follows (a re-orientation).
    pub previous: String,
    /// For a structure that is not a partner organisation: the sender confirms the person
    /// agreed to its receiving their information.
    #[serde(deserialize_with = "crate::form::ticked")]
    pub structure_consent: bool,
    /// Sent again with the same key (a retry after a lost answer, a double click: each form
    /// carries a fresh one), the request finds the orientation of the first one instead of
    /// making another.
    pub idempotency_key: String,
}

/// The longest idempotency key accepted.
pub const IDEMPOTENCY_KEY_MAX: usize = 255;

/// The key, if one was given; an error if it is not 1 to 255 visible ASCII characters.
fn idempotency_key(text: &str) -> Result<Option<&str>, AppError> {
    let key = text.trim();
    if key.is_empty() {
        return Ok(None);
    }
    if key.len() > IDEMPOTENCY_KEY_MAX || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::field(
            "idempotency_key",
            "La clé d'idempotence doit faire de 1 à 255 caractères ASCII visibles, sans espace (un UUID, par exemple).",
        ));
    }
    Ok(Some(key))
}

/// What a repetition must send again, as one SHA-256.
fn fingerprint(person: PersonId, input: &SendInput) -> String {
    let mut fields = input.fields.clone();
    fields.sort();
    let parts = [
        person.0.to_string(),
        input.receiver.trim().to_string(),
        fields.join(","),
        input.reason.clone(),
        input.message.clone(),
        input.documents.clone(),
        input.contact_preference.clone(),
        input.availability.clone(),
        input.previous.trim().to_string(),
        input.structure_consent.to_string(),
    ];
    // Lengths first: no two different requests give the same text.
    let text: String = parts.iter().map(|p| format!("{}:{p};", p.len())).collect();
    crate::secrets::sha256_hex(text.as_bytes())
}

/// Who an orientation can go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiver {
    /// The form's value: `service:12` or `organisation:3`.
    pub code: String,
    pub label: String,
    /// « répond en général sous N jours ».
    pub answers_within: Option<i64>,
}

/// What the form needs.
#[derive(Debug, Clone)]
pub struct SendForm {
    pub person: PersonId,
    pub person_name: String,
    /// The chosen service first (from a suggestion or a service page), then the partners.
    pub receivers: Vec<Receiver>,
    /// The fields the caller may name (santé-handicap only with health access).
    pub fields: Vec<Field>,
    /// The consent in force covers sharing (else the page says what to do first).
    pub consent_to_share: bool,
    /// Organisations the consent covers, by name.
    pub shared_with: Vec<String>,
    pub previous: Option<(OrientationId, String)>,
    pub input: SendInput,
}

fn page(person: PersonId) -> String {
    format!("/orientations/nouvelle?personne={}", person.0)
}

/// The form for a person, with a receiver or a field chosen in advance.
pub async fn send_form(
    app: &App,
    caller: &Caller,
    person: PersonId,
    service: Option<ServiceId>,
    field: Option<Field>,
    previous: Option<OrientationId>,
) -> Result<SendForm, AppError> {
    let caps = crate::persons::read(app, caller, person, &page(person)).await?;
    if caps.sight() != crate::persons::Sight::Full {
        return Err(AppError::NotFound);
    }
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let stored = store::persons::get(c, person)
        .await?
        .ok_or(AppError::NotFound)?;
    let consents = store::persons::consents(c, person).await?;
    let in_force = consents.iter().find(|k| k.revoked_at.is_none());
    let consent_to_share = in_force.is_some_and(|k| k.purposes.contains(&ConsentPurpose::Partage));
    let partners = store::organisations::partners_of(c, caps.territory()).await?;
    let shared_with = in_force
        .map(|k| {
            partners
                .iter()
                .filter(|o| k.organisations.contains(&o.id))
                .map(|o| o.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut receivers = Vec::new();
    let mut input = SendInput::default();
    if let Some(s) = service {
        let stored = store::directory::service(c, s)
            .await?
            .filter(|x| x.territory_id == caps.territory())
            .ok_or(AppError::NotFound)?;
        let record: domain::inclusion::Service = serde_json::from_str(&stored.record)
            .map_err(|e| AppError::Internal(format!("service {} illisible : {e}", s.0)))?;
        let delays = super::lists::answers_within_in(
            c,
            store::orientations::Answering::Service(s),
            app.now(),
        )
        .await?;
        input.receiver = format!("service:{}", s.0);
        receivers.push(Receiver {
            code: input.receiver.clone(),
            label: format!("{} — {}", record.nom, stored.structure_nom),
            answers_within: delays,
        });
    }
    let ids: Vec<OrganisationId> = partners.iter().map(|o| o.id).collect();
    let delays = super::lists::answers_within_each(c, &ids, app.now()).await?;
    for (o, within) in partners.iter().zip(delays) {
        receivers.push(Receiver {
            code: format!("organisation:{}", o.id.0),
            label: o.name.clone(),
            answers_within: within,
        });
    }
    let fields: Vec<Field> = Field::ALL
        .iter()
        .copied()
        .filter(|f| *f != Field::SanteHandicap || caps.health())
        .collect();
    if let Some(f) = field.filter(|f| fields.contains(f)) {
        input.fields = vec![f.as_str().to_string()];
    }
    drop(pooled);
    let previous = match previous {
        Some(p) => {
            let row = load(app, p).await?;
            if row.person_id != person {
                return Err(AppError::NotFound);
            }
            input.previous = p.0.to_string();
            input.reason = row.reason.clone();
            if input.fields.is_empty() {
                input.fields = row
                    .fields()
                    .into_iter()
                    .filter(|f| fields.contains(f))
                    .map(|f| f.as_str().to_string())
                    .collect();
            }
            Some((
                p,
                format!(
                    "n° {} vers « {} » ({})",
                    p.0,
                    row.receiver_name,
                    row.status.label()
                ),
            ))
        }
        None => None,
    };
    Ok(SendForm {
        person,
        person_name: format!("{} {}", stored.first_name, stored.last_name)
            .trim()
            .to_string(),
        receivers,
        fields,
        consent_to_share,
        shared_with,
        previous,
        input,
    })
}

/// The longest texts a form accepts.
const REASON_MAX: usize = 2_000;
const TEXT_MAX: usize = 4_000;

fn text(errors: &mut FieldErrors, field: &'static str, value: &str, max: usize) -> String {
    let value = value.trim();
    if value.chars().count() > max {
        errors.add(
            field,
            format!("Ce texte est trop long ({max} caractères au plus)."),
        );
    }
    value.to_string()
}

/// Whom the form names, resolved in the person's territory.
struct Resolved {
    service: Option<ServiceId>,
    service_name: String,
    org: Option<OrganisationId>,
    name: String,
    email: Option<String>,
}

async fn resolve(
    c: &mut store::Conn<'_>,
    territory: domain::TerritoryId,
    code: &str,
) -> Result<Option<Resolved>, AppError> {
    let Some((kind, id)) = code.trim().split_once(':') else {
        return Ok(None);
    };
    let Ok(id) = id.parse::<i64>() else {
        return Ok(None);
    };
    let partners = store::organisations::partners_of(c, territory).await?;
    match kind {
        "organisation" => Ok(partners.iter().find(|o| o.id.0 == id).map(|o| Resolved {
            service: None,
            service_name: String::new(),
            org: Some(o.id),
            name: o.name.clone(),
            email: None,
        })),
        "service" => {
            let Some(stored) = store::directory::service(c, ServiceId(id))
                .await?
                .filter(|s| s.territory_id == territory)
            else {
                return Ok(None);
            };
            let service: domain::inclusion::Service = serde_json::from_str(&stored.record)
                .map_err(|e| AppError::Internal(format!("service {id} illisible : {e}")))?;
            let structure: domain::inclusion::Structure =
                serde_json::from_str(&stored.structure_record)
                    .map_err(|e| AppError::Internal(format!("structure illisible : {e}")))?;
            // The structure's organisation receives it when it takes part in the territory.
            let org = stored
                .organisation_id
                .map(OrganisationId)
                .filter(|o| partners.iter().any(|p| p.id == *o));
            let name = org
                .and_then(|o| partners.iter().find(|p| p.id == o))
                .map_or_else(|| stored.structure_nom.clone(), |p| p.name.clone());
            Ok(Some(Resolved {
                service: Some(stored.id),
                service_name: service.nom.clone(),
                org,
                name,
                email: service.courriel.or(structure.courriel),
            }))
        }
        _ => Ok(None),
    }
}

/// Sends an orientation. The consent in force must cover sharing with the receiver; a receiver
/// nobody could read (no account, no address) is refused; the receiver hears of it by mail
/// after commit (a magic link when it has no account).
pub async fn send(
    app: &App,
    caller: &Caller,
    person: PersonId,
    input: &SendInput,
) -> Result<OrientationId, AppError> {
    let mut w = FileWrite::open(
        app,
        caller,
        person,
        FileEvent::Orientation,
        &format!("/personnes/{}/orientations", person.0),
    )
    .await?;
    let caps = w.caps();
    if caps.sight() != crate::persons::Sight::Full {
        return Err(AppError::NotFound);
    }
    // Under the file's write lock: two requests with one key cannot both get past this.
    let key = idempotency_key(&input.idempotency_key)?;
    let fingerprint = fingerprint(person, input);
    if let Some(key) = key
        && let Some((sent, seen)) =
            store::orientations::by_idempotency_key(&mut w.conn(), caller.user_id, key).await?
    {
        return if seen == fingerprint {
            Ok(sent)
        } else {
            Err(AppError::field(
                "idempotency_key",
                format!(
                    "Cette demande d'envoi a déjà servi, pour l'orientation n° {} : pour en envoyer une autre, repartez d'un nouveau formulaire (par l'API, d'une nouvelle clé d'idempotence).",
                    sent.0
                ),
            ))
        };
    }
    let today = app.today_in(caps.zone());
    let mut errors = FieldErrors::default();
    let mut fields = Vec::new();
    for f in &input.fields {
        match Field::parse(f) {
            Ok(Field::SanteHandicap) if !caps.health() => {
                errors.add("fields", "Vous ne pouvez pas nommer ce champ : il relève des données de santé, que seuls le référent et les membres autorisés connaissent.");
            }
            Ok(f) if !fields.contains(&f) => fields.push(f),
            Ok(_) => {}
            Err(e) => errors.add("fields", e.0),
        }
    }
    if fields.is_empty() && errors.get("fields").is_none() {
        errors.add(
            "fields",
            "Cochez au moins un frein que cette orientation doit aider à lever.",
        );
    }
    let reason = text(&mut errors, "reason", &input.reason, REASON_MAX);
    if reason.is_empty() {
        errors.add(
            "reason",
            "Dites en quelques mots pourquoi vous orientez la personne vers ce service.",
        );
    }
    let message = text(&mut errors, "message", &input.message, TEXT_MAX);
    let documents = text(&mut errors, "documents", &input.documents, TEXT_MAX);
    let contact = text(
        &mut errors,
        "contact_preference",
        &input.contact_preference,
        REASON_MAX,
    );
    let availability = text(&mut errors, "availability", &input.availability, REASON_MAX);
    let resolved = resolve(&mut w.conn(), caps.territory(), &input.receiver).await?;
    if resolved.is_none() {
        errors.add(
            "receiver",
            "Choisissez un service de l'annuaire ou une structure partenaire du territoire.",
        );
    }
    let previous = match input.previous.trim() {
        "" => None,
        p => {
            let row = match p.parse::<i64>() {
                Ok(n) => store::orientations::get(&mut w.conn(), OrientationId(n)).await?,
                Err(_) => None,
            };
            match row {
                Some(r) if r.person_id == person && r.status.may_reorient() => Some(r.id),
                Some(r) if r.person_id == person => {
                    errors.add("previous", format!("L'orientation n° {} est « {} » : on ne réoriente qu'après un refus, une expiration, une absence ou un résultat.", r.id.0, r.status.label().to_lowercase()));
                    None
                }
                _ => {
                    errors.add("previous", "Cette orientation précédente est introuvable.");
                    None
                }
            }
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let Some(to) = resolved else {
        return Err(AppError::Internal("receiver checked above".into()));
    };
    // The consent: what the person agreed to share, and with whom.
    let consents = store::persons::consents(&mut w.conn(), person).await?;
    let in_force = consents.iter().find(|k| k.revoked_at.is_none());
    let shares = in_force.filter(|k| k.purposes.contains(&ConsentPurpose::Partage));
    let covered = match (shares, to.org) {
        (None, _) => false,
        (Some(k), Some(org)) => k.organisations.contains(&org),
        (Some(_), None) => input.structure_consent,
    };
    if !covered {
        let what = match (in_force, shares, to.org) {
            (None, _, _) => "La personne n'a pas encore donné son consentement : recueillez-le dans la rubrique « Consentement » de son dossier (finalité « partage » et structures choisies), puis envoyez l'orientation.".to_string(),
            (Some(_), None, _) => "Le consentement en vigueur ne prévoit pas le partage d'informations avec d'autres structures : recueillez un nouveau consentement avec la finalité « partage » avant d'orienter.".to_string(),
            (Some(_), Some(_), Some(_)) => format!("La personne n'a pas accepté que ses informations soient partagées avec « {} ». Recueillez son accord (rubrique « Consentement » du dossier, en cochant cette structure), puis envoyez l'orientation.", to.name),
            (Some(_), Some(_), None) => format!("« {} » n'est pas une structure partenaire : cochez la case qui confirme que la personne a accepté que ses informations lui soient transmises, après le lui avoir demandé.", to.name),
        };
        return Err(AppError::field(
            if to.org.is_none() && shares.is_some() {
                "structure_consent"
            } else {
                "receiver"
            },
            what,
        ));
    }
    let receivers = notices::receivers_of(&mut w.conn(), caps.territory(), to.org).await?;
    if receivers.is_empty() && to.email.is_none() {
        return Err(AppError::field(
            "receiver",
            format!(
                "« {} » n'a ni compte actif dans Passerelle ni adresse de contact dans l'annuaire : personne ne recevrait l'orientation. Complétez la fiche du service ou choisissez un autre destinataire.",
                to.name
            ),
        ));
    }
    let now = w.now();
    let sender_org =
        crate::persons::organisation_in(&mut w.conn(), caller, caps.territory()).await?;
    let id = store::orientations::create(
        &mut w.conn(),
        &NewOrientation {
            territory: caps.territory(),
            person,
            previous,
            service: to.service,
            service_name: &to.service_name,
            receiver_org: to.org,
            receiver_name: &to.name,
            receiver_email: to.email.as_deref(),
            sender: caller.user_id,
            sender_org,
            consent: in_force.map(|k| k.id),
            fields: &fields,
            reason: &reason,
            message: &message,
            documents: &documents,
            contact_preference: &contact,
            availability: &availability,
            sent_on: today,
        },
        now,
    )
    .await?;
    if let Some(key) = key {
        store::orientations::set_idempotency(&mut w.conn(), id, key, &fingerprint).await?;
    }
    let what = if to.service_name.is_empty() {
        format!("« {} »", to.name)
    } else {
        format!("« {} » ({})", to.service_name, to.name)
    };
    let subject = format!("Nouvelle orientation n° {} vers {what}", id.0);
    let body = format!(
        "Une orientation vers {what} vient d'être envoyée par {}{}.\n\nPour l'étudier et y répondre : {}{}",
        caller.display_name,
        if previous.is_some() {
            " (réorientation)"
        } else {
            ""
        },
        app.settings.base_url,
        path(id)
    );
    if receivers.is_empty() {
        if let Some(email) = &to.email {
            super::links::mail_link(
                &mut w.conn(),
                app,
                id,
                email,
                &subject,
                "Une orientation vient de vous être adressée par un membre d'une Cité de l'emploi.",
            )
            .await?;
        }
    } else {
        notices::notify(&mut w.conn(), app, &receivers, &subject, &body).await?;
    }
    let detail = format!(
        "orientation n° {} envoyée à {}{}",
        id.0,
        to.name,
        if to.org.is_none() {
            " (structure non partenaire : accord de la personne confirmé par l'orienteur)"
        } else {
            ""
        }
    );
    w.commit(&detail).await?;
    Ok(id)
}
