//! What national administrators consult: accounts, the mail outbox, the audit trail.

use domain::MailId;

use crate::{App, AppError, Caller};

pub async fn accounts(
    app: &App,
    caller: &Caller,
    search: &str,
) -> Result<Vec<store::users::User>, AppError> {
    caller.require_admin()?;
    let mut pooled = app.db.acquire().await?;
    Ok(store::users::list(&mut pooled.conn(), search, 500).await?)
}

pub async fn outbox(app: &App, caller: &Caller) -> Result<Vec<store::outbox::Mail>, AppError> {
    caller.require_admin()?;
    let mut pooled = app.db.acquire().await?;
    let mut mails = store::outbox::recent(&mut pooled.conn(), 200).await?;
    for m in &mut mails {
        m.body = crate::mail::masked(&m.body);
    }
    Ok(mails)
}

/// One message, its one-time links masked; reading it is audited.
pub async fn mail(app: &App, caller: &Caller, id: MailId) -> Result<store::outbox::Mail, AppError> {
    caller.require_admin()?;
    let mut tx = app.db.begin().await?;
    let mail = store::outbox::by_id(&mut tx.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    caller
        .audit(
            &mut tx.conn(),
            app.now(),
            "mail_read",
            ("mail", Some(id.0)),
            None,
            &mail.recipient,
        )
        .await?;
    tx.commit().await?;
    Ok(store::outbox::Mail {
        body: crate::mail::masked(&mail.body),
        ..mail
    })
}

/// Accounts that piled up refused attempts on person files in the last 24 hours, everywhere.
pub async fn suspicious_accounts(
    app: &App,
    caller: &Caller,
) -> Result<Vec<store::audit::Suspicious>, AppError> {
    caller.require_admin()?;
    let mut pooled = app.db.acquire().await?;
    Ok(store::audit::suspicious_accounts(
        &mut pooled.conn(),
        None,
        app.now() - chrono::Duration::hours(24),
        crate::persons::SUSPICIOUS_ATTEMPTS,
    )
    .await?)
}

pub async fn audit_trail(app: &App, caller: &Caller) -> Result<Vec<store::audit::Event>, AppError> {
    caller.require_admin()?;
    let mut pooled = app.db.acquire().await?;
    Ok(store::audit::recent(&mut pooled.conn(), None, 300).await?)
}
