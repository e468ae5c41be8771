//! Mail: every message goes to the outbox in the transaction that causes it, then is delivered
//! by SMTP when configured. Without SMTP it stays in the outbox, which administrators read in
//! the interface.

use std::time::Duration;

use domain::MailId;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{App, AppError};

#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtp://user:password@host:587?tls=required`, `smtps://host:465`…
    pub smtp_url: Option<String>,
    pub from: String,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            smtp_url: None,
            from: "Passerelle <ne-pas-repondre@passerelle.localhost>".into(),
        }
    }
}

/// Checks the mail settings at start-up, so a typo is reported before any mail is due.
pub fn check_settings(settings: &MailSettings) -> Result<(), String> {
    settings
        .from
        .parse::<Mailbox>()
        .map_err(|e| format!("adresse d'expédition « {} » invalide : {e}", settings.from))?;
    if let Some(url) = &settings.smtp_url {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("adresse du serveur SMTP invalide : {e}"))?;
    }
    Ok(())
}

/// Queues a message and the job that delivers it; call inside the transaction of the change it
/// reports, so that a rolled-back change sends nothing.
pub async fn enqueue(
    c: &mut store::Conn<'_>,
    app: &App,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<MailId, AppError> {
    let footer = format!(
        "\n\n--\nPasserelle — coopération territoriale pour l'emploi\n{}\nCe message est automatique : merci de ne pas y répondre.",
        app.settings.base_url
    );
    let id = store::outbox::push(c, to, subject, &format!("{body}{footer}"), app.now()).await?;
    crate::jobs::enqueue(c, app, &crate::jobs::Work::SendMail(id), None, app.now()).await?;
    Ok(id)
}

/// A message as administrators may read it: the one-time links of password resets and
/// invitations are masked, so that nobody can use a link addressed to someone else.
pub fn masked(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = ["/mot-de-passe/", "/invitation/", "/lien/"]
        .iter()
        .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
        .min()
    {
        let (start, len) = at;
        out.push_str(&rest[..start + len]);
        rest = &rest[start + len..];
        let token_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        if token_len > 0 {
            out.push_str("[lien masqué]");
        }
        rest = &rest[token_len..];
    }
    out.push_str(rest);
    out
}

/// Delivers one queued message by SMTP (the job `courriel`). Without SMTP the message stays in
/// the outbox, which administrators read; a message already sent is not sent again. A failure
/// is recorded on the message and returned, so that the job is retried later.
pub async fn deliver_one(app: &App, id: MailId) -> Result<(), String> {
    let Some(url) = &app.settings.mail.smtp_url else {
        return Ok(());
    };
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| format!("réglages SMTP inutilisables : {e}"))?
        .timeout(Some(Duration::from_secs(15)))
        .build();
    let mut pooled = app.db.acquire().await.map_err(|e| e.to_string())?;
    let Some(mail) = store::outbox::by_id(&mut pooled.conn(), id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    if mail.sent_at.is_some() {
        return Ok(());
    }
    let outcome = match build(
        &app.settings.mail.from,
        &mail.recipient,
        &mail.subject,
        &mail.body,
    ) {
        Ok(message) => transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    match outcome {
        // Once sent, the stored copy keeps no live link.
        Ok(()) => store::outbox::mark_sent(&mut pooled.conn(), id, app.now(), &masked(&mail.body))
            .await
            .map_err(|e| e.to_string()),
        Err(e) => {
            store::outbox::mark_failed(&mut pooled.conn(), id, &e)
                .await
                .map_err(|e| e.to_string())?;
            Err(e)
        }
    }
}

fn build(from: &str, to: &str, subject: &str, body: &str) -> Result<Message, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("expéditeur invalide : {e}"))?;
    let to: Mailbox = to
        .parse()
        .map_err(|e| format!("destinataire invalide : {e}"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_string())
        .map_err(|e| e.to_string())
}
