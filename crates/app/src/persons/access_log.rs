//! Who opened or changed a file: per person (référent, coordinators) and per territory
//! (coordinators, with the refused attempts and the accounts that piled them up).

use chrono::Duration;
use domain::{PersonId, UserId};
use store::persons::Person;

use super::access::{read, scope};
use crate::{App, AppError, Caller, FieldErrors};

/// Who opened or changed a person's file, and when (coordinators and the référent).
pub async fn access_log(
    app: &App,
    caller: &Caller,
    id: PersonId,
) -> Result<(Person, Vec<store::audit::Event>), AppError> {
    let access = read(app, caller, id, &format!("/personnes/{}/acces", id.0)).await?;
    if !access.manages_group() {
        return Err(AppError::Forbidden);
    }
    let mut pooled = app.db.acquire().await?;
    let person = store::persons::get(&mut pooled.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let events = store::audit::for_target(&mut pooled.conn(), "person", id.0, 1000).await?;
    Ok((person, events))
}

/// How many refused attempts within a day make an account worth a warning.
pub const SUSPICIOUS_ATTEMPTS: i64 = 5;

/// Events per page of the coordinators' access log.
pub const ACCESS_PAGE: i64 = 50;

/// The coordinators' access log, as asked: person, user, dates (JJ/MM/AAAA), refusals only.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct AccessLogInput {
    pub personne: String,
    pub utilisateur: String,
    pub du: String,
    pub au: String,
    pub refus: String,
    pub page: String,
}

pub struct AccessLog {
    pub events: Vec<store::audit::Event>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    /// Accounts that piled up refused attempts in the last 24 hours.
    pub suspicious: Vec<store::audit::Suspicious>,
    pub team: Vec<store::memberships::TeamMember>,
}

/// The territory's person-file events, newest first, filtered and paged: coordinators watch
/// who opens which file, and who tried to open a file they may not see.
pub async fn territory_access_log(
    app: &App,
    caller: &Caller,
    input: &AccessLogInput,
) -> Result<AccessLog, AppError> {
    let scope = scope(caller)?;
    let zone = caller.zone();
    if !scope.whole_territory() {
        return Err(AppError::Forbidden);
    }
    let mut errors = FieldErrors::default();
    let number = |errors: &mut FieldErrors, field: &'static str, text: &str| -> Option<i64> {
        match text.trim().trim_start_matches("n°").trim() {
            "" => None,
            t => match t.parse::<i64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    errors.add(field, "Indiquez un numéro (chiffres seulement).");
                    None
                }
            },
        }
    };
    let person = number(&mut errors, "personne", &input.personne);
    let user = number(&mut errors, "utilisateur", &input.utilisateur).map(UserId);
    let mut day = |field: &'static str, text: &str| match text.trim() {
        "" => None,
        t => errors.check(field, domain::parse_date(t)),
    };
    let from = day("du", &input.du);
    let until = day("au", &input.au);
    if let (Some(f), Some(u)) = (from, until)
        && u < f
    {
        errors.add("au", "La date de fin est avant la date de début.");
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let page = input.page.trim().parse::<i64>().unwrap_or(1).max(1);
    let filter = store::audit::AccessFilter {
        person,
        user,
        from: from.map(|d| zone.midnight(d)),
        until: until.and_then(|d| d.succ_opt()).map(|d| zone.midnight(d)),
        denied_only: input.refus == "1",
    };
    let mut pooled = app.db.acquire().await?;
    let (events, total) = store::audit::person_events(
        &mut pooled.conn(),
        scope.territory(),
        &filter,
        domain::page_offset(page, ACCESS_PAGE),
        ACCESS_PAGE,
    )
    .await?;
    let suspicious = store::audit::suspicious_accounts(
        &mut pooled.conn(),
        Some(scope.territory()),
        app.now() - Duration::hours(24),
        SUSPICIOUS_ATTEMPTS,
    )
    .await?;
    let team = store::memberships::team_of(&mut pooled.conn(), scope.territory()).await?;
    Ok(AccessLog {
        events,
        total,
        page,
        pages: ((total + ACCESS_PAGE - 1) / ACCESS_PAGE).max(1),
        suspicious,
        team,
    })
}

/// What an audit row says, and — when a request came through the API — with which token.
pub fn detail(e: &store::audit::Event) -> String {
    match (&e.api_token_id, &e.api_token_name) {
        (Some(_), Some(name)) => format!("{} — par l'API, jeton « {name} »", e.detail),
        (Some(id), None) => format!("{} — par l'API, jeton n° {id}", e.detail),
        _ => e.detail.clone(),
    }
}
