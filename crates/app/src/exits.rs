//! Exits and the follow-up after them (docs/domain.md §11). An exit is recorded from the file
//! (type, date, employer); it ends the group's work but the référent's, ends the person's cohort
//! stays, and schedules the checks at 3, 6 and 12 months. The job queue tells the référent when
//! a check falls due; the home page lists those unanswered. A return into accompaniment closes
//! the exit and cancels the checks still to do, the history kept.

use chrono::{Duration, NaiveDate};
use domain::cohort::LeaveReason;
use domain::exit::{CheckStatus, ExitKind, Situation, check_exit_date};
use domain::person::{FileEvent, FunnelStatus, MemberEndReason};
use domain::{CheckId, EmployerId, PersonId, TerritoryId};
use serde::Deserialize;
use store::exits::{CheckAnswer, CheckRow, ExitRow, NewExit};
use store::persons::{EndWhich, Person};

use crate::persons::FileWrite;
use crate::{App, AppError, Caller, FieldErrors};

/// The exit part of the status form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ExitInput {
    pub exit_kind: String,
    pub employer: String,
    pub detail: String,
}

/// An employer of the territory named by a form (`""`: none).
pub(crate) async fn employer_of(
    c: &mut store::Conn<'_>,
    errors: &mut FieldErrors,
    field: &'static str,
    territory: TerritoryId,
    value: &str,
) -> Result<Option<EmployerId>, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let found = match value.parse::<i64>() {
        Ok(n) => store::employers::get(c, EmployerId(n))
            .await?
            .filter(|e| e.territory_id == territory),
        Err(_) => None,
    };
    if found.is_none() {
        errors.add(field, "Choisissez un employeur connu du territoire.");
    }
    Ok(found.map(|e| e.id))
}

/// Records an exit inside the file's write: checked against the entry date, scheduled checks,
/// the group's work ended (the référent stays for the follow-up), cohort stays closed.
pub(crate) async fn record(
    w: &mut FileWrite<'_>,
    caller: &Caller,
    person: &Person,
    on: NaiveDate,
    input: &ExitInput,
    today: NaiveDate,
) -> Result<String, AppError> {
    let caps = w.caps();
    let mut errors = FieldErrors::default();
    let kind = errors.check("exit_kind", ExitKind::parse(&input.exit_kind));
    let employer = employer_of(
        &mut w.conn(),
        &mut errors,
        "employer",
        caps.territory(),
        &input.employer,
    )
    .await?;
    if employer.is_some() && kind.is_some_and(|k| !k.has_employer()) {
        errors.add(
            "employer",
            "Ce type de sortie n'a pas d'employeur : laissez ce champ vide.",
        );
    }
    let entered = person
        .accompanied_on
        .as_deref()
        .unwrap_or(&person.met_on)
        .to_string();
    if let Ok(entered) = domain::parse_date(&entered)
        && let Err(e) = check_exit_date(on, entered, today)
    {
        errors.add("on", e.0);
    }
    let detail = input.detail.trim();
    if detail.chars().count() > 2_000 {
        errors.add(
            "detail",
            "Ce texte est trop long (2 000 caractères au plus).",
        );
    }
    let Some(kind) = kind else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = w.now();
    store::exits::create(
        &mut w.conn(),
        &NewExit {
            person: person.id,
            territory: caps.territory(),
            exited_on: on,
            kind,
            employer,
            detail,
            recorded_by: caller.user_id,
        },
        now,
    )
    .await?;
    store::persons::set_status(&mut w.conn(), person.id, FunnelStatus::Sorti, on, now).await?;
    store::persons::end_members(
        &mut w.conn(),
        person.id,
        EndWhich::AllButReferent,
        MemberEndReason::Sortie,
        now,
    )
    .await?;
    store::cohorts::leave_all(&mut w.conn(), person.id, on, LeaveReason::Sortie).await?;
    Ok(format!(
        "sortie : {} ({}), suivi à 3, 6 et 12 mois programmé",
        kind.label(),
        kind.category().label()
    ))
}

/// The return into accompaniment of a person who had exited: the exit is closed, the checks
/// still to do are cancelled. Called inside the entry's write.
pub(crate) async fn returned(
    w: &mut FileWrite<'_>,
    person: &Person,
    on: NaiveDate,
) -> Result<u64, AppError> {
    if let Some(exited) = person
        .exited_on
        .as_deref()
        .and_then(|d| domain::parse_date(d).ok())
        && on < exited
    {
        return Err(AppError::field(
            "given_on",
            format!(
                "Le retour en accompagnement ne peut pas précéder la sortie ({}).",
                domain::french_date(exited)
            ),
        ));
    }
    Ok(store::exits::returned(&mut w.conn(), person.id, on).await?)
}

/// A check's answer, as the form sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CheckInput {
    pub situation: String,
    pub employer: String,
    pub note: String,
    pub done_on: String,
}

/// How early a check may be answered before it falls due.
const EARLY_DAYS: i64 = 15;

/// Records what the référent (or a coordinator) found at a check. The 12-month check closes the
/// follow-up: the référent leaves the group then, the file staying with the coordinators.
pub async fn answer(
    app: &App,
    caller: &Caller,
    person: PersonId,
    check: CheckId,
    input: &CheckInput,
) -> Result<(), AppError> {
    let mut w = FileWrite::open(
        app,
        caller,
        person,
        FileEvent::Update,
        &format!("/personnes/{}/suivi/{}", person.0, check.0),
    )
    .await?;
    let caps = w.caps();
    if !caps.manages_group() {
        return Err(AppError::Forbidden);
    }
    let row = store::exits::check(&mut w.conn(), check)
        .await?
        .filter(|k| k.person_id == person)
        .ok_or(AppError::NotFound)?;
    let today = app.today_in(caps.zone());
    let mut errors = FieldErrors::default();
    let situation = errors.check("situation", Situation::parse(&input.situation));
    let employer = employer_of(
        &mut w.conn(),
        &mut errors,
        "employer",
        caps.territory(),
        &input.employer,
    )
    .await?;
    let done_on = crate::persons::past_date(&mut errors, "done_on", &input.done_on, today);
    let due = domain::parse_date(&row.due_on).ok();
    if let (Some(done), Some(due)) = (done_on, due)
        && done < due - Duration::days(EARLY_DAYS)
    {
        errors.add(
            "done_on",
            format!(
                "La vérification à {} mois se fait à partir du {} (quinze jours avant l'échéance du {}).",
                row.months,
                domain::french_date(due - Duration::days(EARLY_DAYS)),
                domain::french_date(due)
            ),
        );
    }
    let note = input.note.trim();
    if note.chars().count() > 2_000 {
        errors.add("note", "Ce texte est trop long (2 000 caractères au plus).");
    }
    let (Some(situation), Some(done_on)) = (situation, done_on) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if row.status != CheckStatus::AFaire {
        return Err(AppError::field(
            "situation",
            format!(
                "Cette vérification est « {} » : elle ne peut plus être renseignée.",
                row.status.label().to_lowercase()
            ),
        ));
    }
    let now = w.now();
    let answered = store::exits::answer(
        &mut w.conn(),
        &CheckAnswer {
            id: check,
            situation,
            employer,
            note,
            done_on,
            by: caller.user_id,
        },
        now,
    )
    .await?;
    if !answered {
        return Err(AppError::field(
            "situation",
            "Cette vérification a été renseignée ou annulée entre-temps : rechargez le dossier.",
        ));
    }
    if row.months == 12 {
        store::persons::end_members(
            &mut w.conn(),
            person,
            EndWhich::All,
            MemberEndReason::Sortie,
            now,
        )
        .await?;
    }
    w.commit(&format!(
        "suivi à {} mois : {}",
        row.months,
        situation.label()
    ))
    .await?;
    Ok(())
}

/// The path of a person after the diagnostic, on their file: exits and checks, cohort stays,
/// collective actions.
#[derive(Debug, Clone, Default)]
pub struct Journey {
    pub exits: Vec<ExitRow>,
    pub checks: Vec<CheckRow>,
    pub stays: Vec<store::cohorts::StayRow>,
    pub actions: Vec<store::actions::PersonActionRow>,
    /// The meetings where the situation was reviewed: (meeting, date, title, note).
    pub meetings: Vec<(i64, String, String, String)>,
}

impl Journey {
    pub(crate) async fn load(
        c: &mut store::Conn<'_>,
        person: PersonId,
    ) -> Result<Journey, AppError> {
        Ok(Journey {
            exits: store::exits::of_person(c, person).await?,
            checks: store::exits::checks_of_person(c, person).await?,
            stays: store::cohorts::stays_of_person(c, person).await?,
            actions: store::actions::of_person(c, person).await?,
            meetings: store::governance::meetings_of_person(c, person).await?,
        })
    }

    /// The checks of one exit.
    pub fn checks_of(&self, exit: domain::ExitId) -> Vec<&CheckRow> {
        self.checks.iter().filter(|k| k.exit_id == exit).collect()
    }
}

/// The checks due on the caller's home page: theirs as référent, and for a coordinator how
/// many are unanswered in the territory.
#[derive(Debug, Clone, Default)]
pub struct DueChecks {
    pub mine: Vec<store::exits::DueRow>,
    pub territory: Option<i64>,
}

pub async fn due_checks(app: &App, caller: &Caller) -> Result<DueChecks, AppError> {
    let Some(t) = caller.active_territory.as_ref() else {
        return Ok(DueChecks::default());
    };
    let today = app.today_in(t.zone());
    let mut pooled = app.db.acquire().await?;
    let mine = store::exits::due_for(&mut pooled.conn(), caller.user_id, t.id, today, 20).await?;
    let territory = if caller.is_coordinator_of(t.id) {
        Some(store::exits::due_in_territory(&mut pooled.conn(), t.id, today).await?)
    } else {
        None
    };
    if !mine.is_empty() {
        let ids: Vec<i64> = mine.iter().map(|d| d.person_id.0).collect();
        let scope = crate::persons::scope(caller)?;
        crate::persons::shown_in_list(
            app,
            caller,
            &scope,
            &ids,
            "accueil : vérifications de suivi à faire",
            &mut pooled.conn(),
        )
        .await?;
    }
    Ok(DueChecks { mine, territory })
}

/// The job queue's part: each check that fell due is announced once to the person's référent
/// (the marker is set in the same transaction as the mail is queued).
pub async fn sweep(app: &App) -> Result<usize, AppError> {
    let mut told = 0;
    loop {
        let mut tx = app.db.begin_write().await?;
        // The day in metropolitan France: overseas, a check may be announced a few hours
        // before or after its local day.
        let today = app.today_in(domain::TimeZone::default());
        let rows = store::exits::untold(&mut tx.conn(), today, 200).await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            if !store::exits::mark_told(&mut tx.conn(), r.id, app.now()).await? {
                continue;
            }
            if let Some(email) = &r.referent_email {
                crate::mail::enqueue(
                    &mut tx.conn(),
                    app,
                    email,
                    &format!("Vérification de situation à {} mois à faire", r.months),
                    &format!(
                        "Une personne dont vous êtes le référent est sortie de l'accompagnement il y a {} mois : notez sa situation (toujours en emploi, autre emploi, formation…) dans son dossier.\n\n{}/personnes/{}#suivi",
                        r.months, app.settings.base_url, r.person_id.0
                    ),
                )
                .await?;
            }
            told += 1;
        }
        tx.commit().await?;
    }
    Ok(told)
}
