//! Webhooks of orientation events (docs/api.md, « Webhooks »). A territory's coordinators give a
//! partner organisation's information system an HTTPS address; every change of an orientation
//! that organisation receives or sends in the territory — sent, studied, accepted, declined,
//! expired, cancelled, entry, no-show, end — is posted there as a small JSON document naming no
//! one (the orientation's number, its new status, when), signed with HMAC-SHA256 over a
//! timestamp and the body. The receiving system reads the orientation through the API with its
//! own token: its rights apply, and the read is audited on the person's file.
//!
//! Deliveries are made in the transaction that logs the event (`store::webhooks::fan_out`), each
//! posted by a job of the queue, retried with its backoff when the address does not answer 2xx;
//! the delivery log keeps each attempt's status and error for a month.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use domain::OrganisationId;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use store::webhooks::{DeliveryRow, WebhookRow};

use crate::{App, AppError, Caller, FieldErrors};

/// The header of the signature: `t=<seconds since 1970>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "Passerelle-Signature";
/// The header naming the event (`orientation.acceptee`…), and the one naming the delivery.
pub const EVENT_HEADER: &str = "Passerelle-Evenement";
pub const DELIVERY_HEADER: &str = "Passerelle-Livraison";
/// How long an address has to answer.
const TIMEOUT: StdDuration = StdDuration::from_secs(10);
/// Deliveries shown in a webhook's log.
pub const LOG_LINES: i64 = 100;
const URL_MAX: usize = 500;

/// The secret shared with the receiving system: derived from the instance key and the
/// webhook's nonce, never stored.
fn secret(app: &App, nonce: &str) -> String {
    let bytes = app.secret.derive(&format!("webhook:{nonce}"));
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("whsec_{hex}")
}

/// `v1`: the hex HMAC-SHA256, keyed by the secret, of `<timestamp>.<body>`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether an address may receive deliveries: HTTPS, no credentials, no address of this machine
/// or of a private network written as such — unless the settings allow private addresses (an
/// intranet), which also allows plain HTTP.
fn check_url(text: &str, allow_local: bool) -> Result<url::Url, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Saisissez l'adresse qui recevra les événements (https://…).".into());
    }
    if text.chars().count() > URL_MAX {
        return Err(format!(
            "Une adresse comporte {URL_MAX} caractères au plus."
        ));
    }
    let url = url::Url::parse(text)
        .map_err(|_| "Cette adresse n'est pas valide : elle commence par https://.".to_string())?;
    match url.scheme() {
        "https" => {}
        "http" if allow_local => {}
        _ => {
            return Err(
                "L'adresse doit être en https:// : les événements voyagent chiffrés.".into(),
            );
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("L'adresse ne doit pas contenir d'identifiant ni de mot de passe : chaque envoi est signé.".into());
    }
    let Some(host) = url.host_str() else {
        return Err("Cette adresse n'a pas de nom de serveur.".into());
    };
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>();
    if let Ok(ip) = literal
        && !allow_local
        && !is_public(ip)
    {
        return Err("Cette adresse désigne ce serveur ou un réseau privé : donnez l'adresse publique du système qui recevra les événements.".into());
    }
    if host == "localhost" && !allow_local {
        return Err("Cette adresse désigne ce serveur : donnez l'adresse publique du système qui recevra les événements.".into());
    }
    Ok(url)
}

/// Not this machine, a private, link-local, shared or unspecified network, nor multicast.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// The form: which partner, which address.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct WebhookInput {
    pub organisation: String,
    pub url: String,
}

/// A webhook just made, with its secret: shown once.
#[derive(Debug)]
pub struct Created {
    pub id: i64,
    pub secret: String,
}

/// The coordinator's territory (the active one).
fn territory_of(caller: &Caller) -> Result<domain::TerritoryId, AppError> {
    let t = caller.active_territory.as_ref().ok_or(AppError::NotFound)?;
    if caller.coordinates(t.id) {
        Ok(t.id)
    } else {
        Err(AppError::Forbidden)
    }
}

/// What the page shows: the territory's webhooks and the partners one may be given to.
#[derive(Debug, Clone)]
pub struct WebhooksPage {
    pub webhooks: Vec<WebhookRow>,
    pub partners: Vec<(OrganisationId, String)>,
}

pub async fn page(app: &App, caller: &Caller) -> Result<WebhooksPage, AppError> {
    let territory = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    Ok(WebhooksPage {
        webhooks: store::webhooks::of_territory(c, territory).await?,
        partners: store::organisations::partners_of(c, territory)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect(),
    })
}

/// A territory's coordinator gives a partner a webhook; its secret is shown once.
pub async fn create(app: &App, caller: &Caller, input: &WebhookInput) -> Result<Created, AppError> {
    let territory = territory_of(caller)?;
    let mut errors = FieldErrors::default();
    let url = match check_url(&input.url, app.settings.webhooks_private_addresses) {
        Ok(u) => Some(u),
        Err(m) => {
            errors.add("url", m);
            None
        }
    };
    let mut tx = app.db.begin().await?;
    let partners = store::organisations::partners_of(&mut tx.conn(), territory).await?;
    let organisation = input
        .organisation
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|id| partners.iter().find(|p| p.id.0 == id));
    if organisation.is_none() {
        errors.add(
            "organisation",
            "Choisissez une structure partenaire du territoire.",
        );
    }
    let (Some(url), Some(organisation)) = (url, organisation) else {
        return Err(AppError::Invalid(errors));
    };
    let nonce = crate::secrets::random_token();
    let now = app.now();
    let id = store::webhooks::create(
        &mut tx.conn(),
        &store::webhooks::NewWebhook {
            territory,
            organisation: organisation.id,
            url: url.as_str(),
            nonce: &nonce,
            created_by: caller.user_id,
        },
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "webhook_created",
            ("webhook", Some(id)),
            Some(territory),
            &format!("{} → {}", organisation.name, url.as_str()),
        )
        .await?;
    tx.commit().await?;
    Ok(Created {
        id,
        secret: secret(app, &nonce),
    })
}

/// The webhook of the caller's territory, or `NotFound`.
async fn own(
    c: &mut store::Conn<'_>,
    caller: &Caller,
    id: i64,
) -> Result<store::webhooks::Webhook, AppError> {
    let territory = territory_of(caller)?;
    store::webhooks::get(c, id)
        .await?
        .filter(|w| w.territory_id == territory)
        .ok_or(AppError::NotFound)
}

/// Stops a webhook at once: nothing more is delivered, not even what waits.
pub async fn disable(app: &App, caller: &Caller, id: i64) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    let webhook = own(&mut tx.conn(), caller, id).await?;
    let now = app.now();
    if store::webhooks::disable(&mut tx.conn(), id, now).await? {
        caller
            .audit(
                &mut tx.conn(),
                now,
                "webhook_disabled",
                ("webhook", Some(id)),
                Some(webhook.territory_id),
                &webhook.url,
            )
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A webhook's delivery log.
#[derive(Debug, Clone)]
pub struct DeliveryLog {
    pub webhook: WebhookRow,
    pub deliveries: Vec<DeliveryRow>,
}

pub async fn log(app: &App, caller: &Caller, id: i64) -> Result<DeliveryLog, AppError> {
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    own(c, caller, id).await?;
    let row = store::webhooks::row(c, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(DeliveryLog {
        webhook: row,
        deliveries: store::webhooks::deliveries(c, id, LOG_LINES).await?,
    })
}

/// The event's name: `orientation.` and the status it reached.
pub fn event_name(to_status: &str) -> String {
    format!("orientation.{to_status}")
}

/// The body posted: names no one.
fn body(app: &App, d: &store::webhooks::Outgoing) -> String {
    serde_json::json!({
        "livraison": d.id,
        "evenement": event_name(&d.to_status),
        "le": d.at,
        "territoire": d.territory_slug,
        "role": if d.receives { "destinataire" } else { "orienteur" },
        "orientation": {
            "id": d.orientation_id,
            "statut": d.to_status,
            "adresse": format!("{}/api/v1/orientations/{}", app.settings.base_url.trim_end_matches('/'), d.orientation_id),
        },
    })
    .to_string()
}

/// Where to connect: the address's host resolved once and checked, so that a name cannot point
/// to this machine or a private network (unless the settings allow this machine).
async fn resolve(
    url: &url::Url,
    allow_local: bool,
) -> Result<Option<(String, SocketAddr)>, String> {
    let Some(host) = url.host_str() else {
        return Err("adresse sans nom de serveur".into());
    };
    if host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok()
    {
        return Ok(None);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("nom de serveur introuvable ({e})"))?
        .collect();
    let Some(first) = addresses.first().copied() else {
        return Err("nom de serveur introuvable".into());
    };
    if !allow_local && addresses.iter().any(|a| !is_public(a.ip())) {
        return Err(
            "le nom de serveur désigne ce serveur ou un réseau privé : envoi refusé".into(),
        );
    }
    Ok(Some((host.to_string(), first)))
}

/// The job of one delivery: posts it, records the attempt, and fails (to be retried) unless the
/// address answered 2xx. A delivery already made, or of a stopped webhook, is not posted.
pub async fn deliver(app: &App, delivery: i64) -> Result<(), String> {
    let fail = |e: AppError| e.to_string();
    let outgoing = {
        let mut pooled = app.db.acquire().await.map_err(|e| fail(e.into()))?;
        store::webhooks::outgoing(&mut pooled.conn(), delivery)
            .await
            .map_err(|e| fail(e.into()))?
    };
    let Some(d) = outgoing else {
        return Ok(()); // Purged, or its orientation erased.
    };
    if d.delivered || d.disabled {
        return Ok(());
    }
    let allow_local = app.settings.webhooks_private_addresses;
    let now = app.now();
    let (status, error) = match post(app, &d, allow_local, now).await {
        Ok(status) if (200..300).contains(&status) => (Some(i32::from(status)), String::new()),
        Ok(status) => (
            Some(i32::from(status)),
            format!("l'adresse a répondu {status}"),
        ),
        Err(e) => (None, e),
    };
    let mut pooled = app.db.acquire().await.map_err(|e| fail(e.into()))?;
    store::webhooks::record_attempt(&mut pooled.conn(), delivery, app.now(), status, &error)
        .await
        .map_err(|e| fail(e.into()))?;
    if error.is_empty() {
        Ok(())
    } else {
        Err(format!("livraison n° {delivery} : {error}"))
    }
}

async fn post(
    app: &App,
    d: &store::webhooks::Outgoing,
    allow_local: bool,
    now: DateTime<Utc>,
) -> Result<u16, String> {
    let url = check_url(&d.url, allow_local)?;
    let mut client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        // A proxy from the environment (HTTP_PROXY…) would resolve the name itself, past the
        // address checked and pinned below: webhooks go straight to their address.
        .no_proxy()
        .user_agent("Passerelle (webhooks)");
    if let Some((host, address)) = resolve(&url, allow_local).await? {
        client = client.resolve(&host, address);
    }
    let client = client
        .build()
        .map_err(|e| format!("client HTTP indisponible ({e})"))?;
    let body = body(app, d);
    let timestamp = now.timestamp();
    let signature = sign(&secret(app, &d.nonce), timestamp, &body);
    let response = client
        .post(url)
        .header("Content-Type", "application/json")
        .header(SIGNATURE_HEADER, format!("t={timestamp},v1={signature}"))
        .header(EVENT_HEADER, event_name(&d.to_status))
        .header(DELIVERY_HEADER, d.id.to_string())
        .body(body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("pas de réponse en {} s", TIMEOUT.as_secs())
            } else {
                "l'adresse n'a pas pu être jointe".to_string()
            }
        })?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_addresses_receive_events() {
        assert!(check_url("https://si.mission-locale.fr/passerelle", false).is_ok());
        for refused in [
            "",
            "http://si.mission-locale.fr/",
            "ftp://si.mission-locale.fr/",
            "https://jean:secret@si.mission-locale.fr/",
            "https://127.0.0.1/",
            "https://localhost:8443/",
            "https://10.1.2.3/",
            "https://192.168.0.10/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://100.64.0.1/",
            "pas une adresse",
        ] {
            assert!(check_url(refused, false).is_err(), "{refused}");
        }
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(
            check_url("http://192.168.0.10/hook", true).is_ok(),
            "an intranet, when allowed"
        );
        assert!(check_url("ftp://192.168.0.10/hook", true).is_err());
    }

    #[test]
    fn the_signature_is_the_hmac_of_the_timestamp_and_the_body() {
        // RFC 4231-style check against a value computed independently (Python's hmac module).
        assert_eq!(
            sign("whsec_test", 1_700_000_000, "{\"a\":1}"),
            "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }
}
