//! Decisions on an orientation by an account: the receiver studies, accepts (joining the
//! follow-up group within the consent) or declines with typed reasons; the sender cancels;
//! either side records the entry, the no-show and the outcome. Each goes through the state
//! machine, under the person's write lock, guarded by the version the actor saw.

use chrono::NaiveDate;
use domain::orientation::{Actor, DeclineReason, Outcome, Status, Step};
use domain::person::{ConsentPurpose, FileEvent};
use domain::{OrganisationId, OrientationId, UserId};
use serde::Deserialize;
use store::Conn;
use store::orientations::{Change, OrientationRow};
use store::persons::NewMember;

use super::{load, notices, path, receiving};
use crate::persons::{FileWrite, Sight};
use crate::{App, AppError, Caller, FieldErrors};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DecisionInput {
    /// A `domain::orientation::Step` code.
    pub step: String,
    /// The version of the orientation the page showed (empty: whatever it is now).
    pub version: String,
    /// Decline reasons (codes), and the text of « autre ».
    pub reasons: Vec<String>,
    pub other_reason: String,
    /// The private comment for the sender (a refusal), or a note (other steps).
    pub comment: String,
    /// The date of the entry, of the no-show or of the end.
    pub on: String,
    pub outcome: String,
}

/// What a step carries once its input is checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checked {
    pub reasons: Vec<(DeclineReason, String)>,
    pub comment: String,
    pub on: Option<NaiveDate>,
    pub outcome: Option<Outcome>,
}

const COMMENT_MAX: usize = 2_000;

/// Checks the input of `step` on `row`, today being `today` (French errors per field).
pub(crate) fn check_input(
    row: &OrientationRow,
    step: Step,
    input: &DecisionInput,
    today: NaiveDate,
) -> Result<Checked, AppError> {
    let mut errors = FieldErrors::default();
    let mut out = Checked {
        comment: input.comment.trim().to_string(),
        ..Checked::default()
    };
    if out.comment.chars().count() > COMMENT_MAX {
        errors.add(
            "comment",
            format!("Ce commentaire est trop long ({COMMENT_MAX} caractères au plus)."),
        );
    }
    let sent_on = domain::calendar::france_date(row.sent_at);
    let date = |errors: &mut FieldErrors, required: bool| -> Option<NaiveDate> {
        let text = input.on.trim();
        if text.is_empty() {
            if required {
                errors.add("on", "Indiquez la date.");
            }
            return if required { None } else { Some(today) };
        }
        match domain::parse_date(text) {
            Ok(d) if d > today => {
                errors.add("on", "Cette date est dans le futur.");
                None
            }
            Ok(d) if d < sent_on => {
                errors.add(
                    "on",
                    format!(
                        "Cette date précède l'envoi de l'orientation ({}).",
                        domain::french_date(sent_on)
                    ),
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                errors.add("on", e.0);
                None
            }
        }
    };
    match step {
        Step::Decline => {
            for code in &input.reasons {
                match DeclineReason::parse(code) {
                    Ok(r) if !out.reasons.iter().any(|(x, _)| *x == r) => {
                        let detail = if r == DeclineReason::Autre {
                            input.other_reason.trim().to_string()
                        } else {
                            String::new()
                        };
                        out.reasons.push((r, detail));
                    }
                    Ok(_) => {}
                    Err(e) => errors.add("reasons", e.0),
                }
            }
            if out.reasons.is_empty() {
                errors.add("reasons", "Cochez au moins un motif de refus.");
            }
            if out
                .reasons
                .iter()
                .any(|(r, d)| *r == DeclineReason::Autre && d.is_empty())
            {
                errors.add("other_reason", "Précisez le motif « autre ».");
            }
        }
        Step::Enter => out.on = date(&mut errors, true),
        Step::NoShow => out.on = date(&mut errors, false),
        Step::Finish => {
            out.on = date(&mut errors, true);
            match Outcome::parse(&input.outcome) {
                Ok(o) => out.outcome = Some(o),
                Err(_) => errors.add("outcome", "Choisissez le résultat du parcours."),
            }
            let entered = row
                .entered_on
                .as_deref()
                .and_then(|d| domain::parse_date(d).ok());
            if let (Some(on), Some(entered)) = (out.on, entered)
                && on < entered
            {
                errors.add(
                    "on",
                    format!(
                        "La fin ne peut pas précéder l'entrée effective ({}).",
                        domain::french_date(entered)
                    ),
                );
            }
        }
        _ => {}
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// What the sender is told when someone else acted first.
pub(crate) async fn conflict(c: &mut Conn<'_>, id: OrientationId) -> Result<AppError, AppError> {
    let row = store::orientations::get(c, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let events = store::orientations::events(c, &[id]).await?;
    let last = events.last();
    let who = last
        .map(|e| {
            e.user_name.clone().unwrap_or_else(|| {
                if e.via_link {
                    "le service destinataire (lien reçu par courriel)".into()
                } else {
                    "Passerelle (délai dépassé)".into()
                }
            })
        })
        .unwrap_or_default();
    Ok(AppError::Conflict(format!(
        "Cette orientation a changé entre-temps : elle est maintenant « {} » ({who}). Votre décision n'a pas été enregistrée ; voici son état actuel.",
        row.status.label().to_lowercase()
    )))
}

/// The detail of the audit row and the log.
pub(crate) fn describe(row: &OrientationRow, step: Step, to: Status, checked: &Checked) -> String {
    let mut detail = format!(
        "orientation n° {} : {} → {}",
        row.id.0,
        row.status.label(),
        to.label()
    );
    if !checked.reasons.is_empty() {
        let reasons: Vec<&str> = checked.reasons.iter().map(|(r, _)| r.label()).collect();
        detail.push_str(&format!(" ({})", reasons.join(", ")));
    }
    if let Some(o) = checked.outcome {
        detail.push_str(&format!(" — {}", o.label()));
    }
    if step == Step::Enter
        && let Some(on) = checked.on
    {
        detail.push_str(&format!(" le {}", domain::french_date(on)));
    }
    detail
}

/// Who takes a step: an account, the holder of a magic link, or Passerelle (neither).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Author {
    pub user: Option<UserId>,
    pub via_link: bool,
}

impl Author {
    pub(crate) fn account(user: UserId) -> Author {
        Author {
            user: Some(user),
            via_link: false,
        }
    }
    pub(crate) const LINK: Author = Author {
        user: None,
        via_link: true,
    };
    pub(crate) const PASSERELLE: Author = Author {
        user: None,
        via_link: false,
    };
}

/// The change the store applies for `step`.
pub(crate) fn change<'a>(
    row: &OrientationRow,
    step: Step,
    to: Status,
    checked: &'a Checked,
    author: Author,
    today: NaiveDate,
    detail: &'a str,
) -> Change<'a> {
    let Author { user: by, via_link } = author;
    Change {
        id: row.id,
        from: row.status,
        version: row.version,
        to,
        step,
        by,
        via_link,
        on: checked.on.unwrap_or(today),
        detail,
        entered_on: (step == Step::Enter).then_some(checked.on).flatten(),
        ended_on: matches!(step, Step::Finish | Step::NoShow)
            .then_some(checked.on)
            .flatten(),
        outcome: checked.outcome,
        decline_comment: (step == Step::Decline).then_some(checked.comment.as_str()),
    }
}

/// The mail the other side gets for a step.
pub(crate) fn notice(app: &App, row: &OrientationRow, to: Status, by: &str) -> (String, String) {
    let subject = format!(
        "Orientation n° {} vers « {} » : {}",
        row.id.0,
        row.receiver_name,
        to.label().to_lowercase()
    );
    let body = format!(
        "L'orientation n° {} vers « {} » est maintenant « {} » ({by}).\n\nPour la consulter : {}{}",
        row.id.0,
        row.receiver_name,
        to.label().to_lowercase(),
        app.settings.base_url,
        path(row.id)
    );
    (subject, body)
}

/// An account takes a step.
pub async fn decide(
    app: &App,
    caller: &Caller,
    id: OrientationId,
    input: &DecisionInput,
) -> Result<Status, AppError> {
    let seen = load(app, id).await?;
    let page = path(id);
    let mut w = if receiving(caller, &seen) {
        FileWrite::open_receiving(app, caller, seen.person_id, FileEvent::Orientation, &page)
            .await?
    } else {
        FileWrite::open(app, caller, seen.person_id, FileEvent::Orientation, &page).await?
    };
    let caps = w.caps();
    let today = app.today_in(caps.zone());
    let step = Step::parse(&input.step).map_err(|e| AppError::field("step", e.0))?;
    // Under the lock: the orientation as it is now.
    let row = store::orientations::get(&mut w.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Ok(v) = input.version.trim().parse::<i32>()
        && v != row.version
    {
        let refused = conflict(&mut w.conn(), id).await?;
        return Err(refused);
    }
    let is_receiver = super::receives(caller, &row);
    let actor = if is_receiver && step.may_be_taken_by(Actor::Receiver) {
        Actor::Receiver
    } else if caps.sight() == Sight::Full && step.may_be_taken_by(Actor::Sender) {
        Actor::Sender
    } else {
        return Err(AppError::Forbidden);
    };
    let to = row
        .status
        .after(step)
        .map_err(|e| AppError::field("formulaire", e.0))?;
    let checked = check_input(&row, step, input, today)?;
    if step == Step::Accept && actor == Actor::Receiver {
        join_group(&mut w, caller, &row).await?;
    }
    let detail = describe(&row, step, to, &checked);
    let ch = change(
        &row,
        step,
        to,
        &checked,
        Author::account(caller.user_id),
        today,
        &detail,
    );
    let now = w.now();
    if !store::orientations::change(&mut w.conn(), &ch, now).await? {
        let refused = conflict(&mut w.conn(), id).await?;
        return Err(refused);
    }
    if step == Step::Decline {
        store::orientations::set_decline_reasons(&mut w.conn(), id, &checked.reasons).await?;
    }
    let by = match actor {
        Actor::Receiver => format!("par {} ({})", caller.display_name, row.receiver_name),
        _ => format!("par {}", caller.display_name),
    };
    let (subject, body) = notice(app, &row, to, &by);
    let to_whom = if actor == Actor::Sender && step == Step::Cancel {
        notices::receivers_of(
            &mut w.conn(),
            row.territory_id,
            row.receiver_org_id.map(OrganisationId),
        )
        .await?
    } else {
        notices::senders_of(&mut w.conn(), &row, Some(caller.user_id)).await?
    };
    notices::notify(&mut w.conn(), app, &to_whom, &subject, &body).await?;
    crate::faults::pause(crate::faults::ORIENTATION_DECISION).await;
    w.commit(&detail).await?;
    Ok(to)
}

/// On acceptance the receiving professional joins the group — only if the consent in force
/// still covers their organisation.
async fn join_group(
    w: &mut FileWrite<'_>,
    caller: &Caller,
    row: &OrientationRow,
) -> Result<(), AppError> {
    let Some(org) = row.receiver_org_id.map(OrganisationId) else {
        return Ok(());
    };
    let person = row.person_id;
    let consents = store::persons::consents(&mut w.conn(), person).await?;
    let covered = consents
        .iter()
        .find(|k| k.revoked_at.is_none())
        .is_some_and(|k| {
            k.purposes.contains(&ConsentPurpose::Partage) && k.organisations.contains(&org)
        });
    if !covered {
        return Err(AppError::field(
            "formulaire",
            "Le consentement de la personne ne couvre plus le partage avec votre structure : l'orientation ne peut pas être acceptée. Prévenez l'orienteur, qui reverra le consentement avec la personne.",
        ));
    }
    let members = store::persons::members(&mut w.conn(), person).await?;
    if members
        .iter()
        .any(|m| m.ended_at.is_none() && m.user_id == caller.user_id.0)
    {
        return Ok(());
    }
    let now = w.now();
    store::persons::add_member(
        &mut w.conn(),
        &NewMember {
            person,
            user: caller.user_id,
            organisation: Some(org),
            is_referent: false,
            health_access: false,
            added_by: caller.user_id,
        },
        now,
    )
    .await?;
    Ok(())
}

/// Cancels every open orientation of a person, in the caller's transaction, telling the
/// receivers why (`why`: « la personne a retiré son consentement »…); returns how many.
pub(crate) async fn cancel_open(
    c: &mut Conn<'_>,
    app: &App,
    person: domain::PersonId,
    by: UserId,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
    why: &str,
) -> Result<usize, AppError> {
    let mut cancelled = 0;
    for row in store::orientations::of_person(c, person).await? {
        if !row.status.is_open() {
            continue;
        }
        let Ok(to) = row.status.after(Step::Cancel) else {
            continue;
        };
        let checked = Checked::default();
        let detail = format!("{} ({why})", describe(&row, Step::Cancel, to, &checked));
        let ch = change(
            &row,
            Step::Cancel,
            to,
            &checked,
            Author::account(by),
            today,
            &detail,
        );
        if store::orientations::change(c, &ch, now).await? {
            cancelled += 1;
            let (subject, body) = notice(app, &row, to, why);
            let to_whom =
                notices::receivers_of(c, row.territory_id, row.receiver_org_id.map(OrganisationId))
                    .await?;
            notices::notify(c, app, &to_whom, &subject, &body).await?;
        }
    }
    Ok(cancelled)
}
