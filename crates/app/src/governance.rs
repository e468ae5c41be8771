//! Steering the territory (docs/domain.md §12): meetings (COPIL, COTECH, cellule
//! opérationnelle, comité local pour l'emploi) with their attendees, agenda, notes, decisions,
//! action items (on their owner's home page) and the situations reviewed — linked to person
//! files, named only to those who may open the file (the others see how many), each showing
//! audited —; and the roadmap on the three axes with each action's indicator and progress.
//!
//! Everyone working in the territory reads; its coordinators write; an action item's owner
//! marks it done.

use chrono::{Datelike, NaiveDate};
use domain::governance::{Axis, MeetingKind, RoadmapStatus};
use domain::indicators::Step;
use domain::{
    MeetingActionId, MeetingId, OrganisationId, PersonId, RoadmapActionId, TerritoryId, UserId,
};
use serde::Deserialize;
use store::governance::{
    ActionItemRow, DecisionRow, MeetingRow, NewActionItem, NewMeeting, RoadmapRow, RoadmapWrite,
};

use crate::{App, AppError, Caller, FieldErrors};

pub fn meeting_path(id: MeetingId) -> String {
    format!("/gouvernance/reunions/{}", id.0)
}

/// Who reads the territory's steering: its coordinators and pilots, its partners' staff,
/// administrators.
pub fn may_read(caller: &Caller, t: TerritoryId) -> bool {
    caller.is_admin()
        || caller.is_coordinator_of(t)
        || caller.roles_in(t).contains(&domain::Role::Pilot)
        || crate::persons::may_record(caller, t)
}

/// Who writes it: the territory's coordinators.
pub fn may_steer(caller: &Caller, t: TerritoryId) -> bool {
    caller.is_coordinator_of(t)
}

fn territory_of(caller: &Caller) -> Result<TerritoryId, AppError> {
    let t = caller
        .active_territory
        .as_ref()
        .ok_or(AppError::NotFound)?
        .id;
    if may_read(caller, t) {
        Ok(t)
    } else {
        Err(AppError::Forbidden)
    }
}

fn steering(caller: &Caller) -> Result<TerritoryId, AppError> {
    let t = territory_of(caller)?;
    if may_steer(caller, t) {
        Ok(t)
    } else {
        Err(AppError::Forbidden)
    }
}

fn text(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    max: usize,
    required: Option<&str>,
) -> String {
    let value = value.trim();
    if value.chars().count() > max {
        errors.add(
            field,
            format!("Ce texte est trop long ({max} caractères au plus)."),
        );
    }
    if value.is_empty()
        && let Some(message) = required
    {
        errors.add(field, message);
    }
    value.to_string()
}

fn date(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    required: bool,
) -> Option<NaiveDate> {
    if value.trim().is_empty() {
        if required {
            errors.add(field, "Indiquez la date.");
        }
        return None;
    }
    crate::cohorts::date(errors, field, value)
}

/// A stored ISO date in French.
fn french(iso: &str) -> String {
    domain::parse_date(iso).map_or_else(|_| iso.to_string(), domain::french_date)
}

/// The meetings of the caller's territory.
pub async fn meetings(app: &App, caller: &Caller) -> Result<Vec<MeetingRow>, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    Ok(store::governance::meetings(&mut pooled.conn(), t).await?)
}

/// The territory's partner organisations (the attendees' checkboxes) and team (the owners of
/// action items).
pub async fn choices(
    app: &App,
    caller: &Caller,
) -> Result<(Vec<(OrganisationId, String)>, Vec<(UserId, String)>), AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let orgs = store::organisations::partners_of(c, t)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let team = crate::persons::team_choices(c, t).await?;
    Ok((orgs, team))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MeetingInput {
    pub kind: String,
    pub held_on: String,
    pub title: String,
    pub agenda: String,
    pub notes: String,
    pub attendees: Vec<String>,
}

async fn validated(
    app: &App,
    caller: &Caller,
    input: &MeetingInput,
) -> Result<
    (
        TerritoryId,
        MeetingKind,
        NaiveDate,
        String,
        String,
        String,
        Vec<OrganisationId>,
    ),
    AppError,
> {
    let t = steering(caller)?;
    let (orgs, _) = choices(app, caller).await?;
    let known: Vec<OrganisationId> = orgs.iter().map(|(id, _)| *id).collect();
    let mut errors = FieldErrors::default();
    let kind = errors.check("kind", MeetingKind::parse(&input.kind));
    let held_on = date(&mut errors, "held_on", &input.held_on, true);
    let title = text(
        &mut errors,
        "title",
        &input.title,
        200,
        Some("Donnez un intitulé à la réunion."),
    );
    let agenda = text(&mut errors, "agenda", &input.agenda, 8_000, None);
    let notes = text(&mut errors, "notes", &input.notes, 20_000, None);
    let attendees = crate::actions::ids(
        &mut errors,
        "attendees",
        &input.attendees,
        &known,
        "Choisissez les participants parmi les partenaires du territoire.",
    );
    match (kind, held_on) {
        (Some(kind), Some(held_on)) if errors.is_empty() => {
            Ok((t, kind, held_on, title, agenda, notes, attendees))
        }
        _ => Err(AppError::Invalid(errors)),
    }
}

pub async fn create_meeting(
    app: &App,
    caller: &Caller,
    input: &MeetingInput,
) -> Result<MeetingId, AppError> {
    let (t, kind, held_on, title, agenda, notes, attendees) = validated(app, caller, input).await?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let m = NewMeeting {
        territory: t,
        kind,
        held_on,
        title: &title,
        agenda: &agenda,
        notes: &notes,
        attendees: &attendees,
        by: caller.user_id,
    };
    let id = store::governance::create_meeting(&mut tx.conn(), &m, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "meeting_created",
            ("meeting", Some(id.0)),
            Some(t),
            &format!(
                "{} du {} : « {title} »",
                kind.label(),
                domain::french_date(held_on)
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

async fn load(app: &App, caller: &Caller, id: MeetingId) -> Result<MeetingRow, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    store::governance::meeting(&mut pooled.conn(), id)
        .await?
        .filter(|m| m.territory_id == t)
        .ok_or(AppError::NotFound)
}

pub async fn update_meeting(
    app: &App,
    caller: &Caller,
    id: MeetingId,
    input: &MeetingInput,
) -> Result<(), AppError> {
    let meeting = load(app, caller, id).await?;
    let input = MeetingInput {
        kind: meeting.kind.as_str().to_string(),
        ..input.clone()
    };
    let (t, _, held_on, title, agenda, notes, attendees) = validated(app, caller, &input).await?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let m = NewMeeting {
        territory: t,
        kind: meeting.kind,
        held_on,
        title: &title,
        agenda: &agenda,
        notes: &notes,
        attendees: &attendees,
        by: caller.user_id,
    };
    store::governance::update_meeting(&mut tx.conn(), id, &m, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "meeting_updated",
            ("meeting", Some(id.0)),
            Some(t),
            &format!("réunion « {title} »"),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A situation reviewed in a meeting, as the caller may see it.
#[derive(Debug, Clone)]
pub struct Case {
    pub person: PersonId,
    pub name: String,
    pub note: String,
}

#[derive(Debug, Clone)]
pub struct MeetingPage {
    pub meeting: MeetingRow,
    pub attendees: Vec<(i64, String)>,
    pub decisions: Vec<DecisionRow>,
    pub actions: Vec<ActionItemRow>,
    /// The situations reviewed the caller may open (named, audited as shown).
    pub cases: Vec<Case>,
    /// How many other situations were reviewed (counted, never named).
    pub hidden_cases: usize,
    pub steers: bool,
}

pub async fn page(app: &App, caller: &Caller, id: MeetingId) -> Result<MeetingPage, AppError> {
    let meeting = load(app, caller, id).await?;
    let t = meeting.territory_id;
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let attendees = store::governance::attendees(c, id).await?;
    let decisions = store::governance::decisions(c, id).await?;
    let actions = store::governance::actions_of_meeting(c, id).await?;
    let reviewed = store::governance::cases(c, id).await?;
    let (cases, hidden_cases) = if reviewed.is_empty() {
        (Vec::new(), 0)
    } else {
        let scope = crate::persons::scope(caller)?;
        let ids: Vec<PersonId> = reviewed.iter().map(|(p, _)| PersonId(*p)).collect();
        let names = match scope {
            store::persons::Scope::Aggregate { .. } => Vec::new(),
            _ => store::persons::names_in_scope(c, &scope, &ids).await?,
        };
        let cases: Vec<Case> = names
            .iter()
            .map(|(p, name, _)| Case {
                person: *p,
                name: name.clone(),
                note: reviewed
                    .iter()
                    .find(|(q, _)| *q == p.0)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default(),
            })
            .collect();
        let shown: Vec<i64> = cases.iter().map(|k| k.person.0).collect();
        crate::persons::shown_in_list(
            app,
            caller,
            &scope,
            &shown,
            &format!("réunion n° {}", id.0),
            c,
        )
        .await?;
        let hidden = reviewed.len() - cases.len();
        (cases, hidden)
    };
    Ok(MeetingPage {
        steers: may_steer(caller, t),
        meeting,
        attendees,
        decisions,
        actions,
        cases,
        hidden_cases,
    })
}

pub async fn add_decision(
    app: &App,
    caller: &Caller,
    id: MeetingId,
    decision: &str,
) -> Result<(), AppError> {
    let t = steering(caller)?;
    let meeting = load(app, caller, id).await?;
    let mut errors = FieldErrors::default();
    let decision = text(
        &mut errors,
        "decision",
        decision,
        4_000,
        Some("Écrivez la décision prise."),
    );
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    store::governance::add_decision(&mut tx.conn(), id, &decision, caller.user_id, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "meeting_decision",
            ("meeting", Some(id.0)),
            Some(t),
            &format!("décision ajoutée à « {} »", meeting.title),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ActionItemInput {
    pub title: String,
    pub owner: String,
    pub due_on: String,
}

pub async fn add_action(
    app: &App,
    caller: &Caller,
    id: MeetingId,
    input: &ActionItemInput,
) -> Result<MeetingActionId, AppError> {
    let t = steering(caller)?;
    let meeting = load(app, caller, id).await?;
    let (_, team) = choices(app, caller).await?;
    let mut errors = FieldErrors::default();
    let title = text(
        &mut errors,
        "title",
        &input.title,
        500,
        Some("Écrivez l'action à mener."),
    );
    let owner = input
        .owner
        .trim()
        .parse::<i64>()
        .ok()
        .map(UserId)
        .filter(|u| team.iter().any(|(id, _)| id == u));
    if owner.is_none() {
        errors.add(
            "owner",
            "Choisissez qui porte l'action parmi l'équipe du territoire.",
        );
    }
    let due_on = date(&mut errors, "due_on", &input.due_on, true);
    let (Some(owner), Some(due_on)) = (owner, due_on) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let a = NewActionItem {
        meeting: id,
        territory: t,
        title: &title,
        owner,
        due_on,
        by: caller.user_id,
    };
    let action = store::governance::add_action(&mut tx.conn(), &a, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "meeting_action",
            ("meeting", Some(id.0)),
            Some(t),
            &format!(
                "action « {title} » (réunion « {} »), échéance {}",
                meeting.title,
                domain::french_date(due_on)
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(action)
}

/// Marks an action item done: its owner or a coordinator of its territory.
pub async fn complete_action(
    app: &App,
    caller: &Caller,
    id: MeetingActionId,
) -> Result<MeetingId, AppError> {
    let mut tx = app.db.begin_write().await?;
    let action = store::governance::action(&mut tx.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let t = action.territory_id;
    let owner = action.owner_id == Some(caller.user_id.0);
    if !(owner || may_steer(caller, t)) {
        return Err(if may_read(caller, t) {
            AppError::Forbidden
        } else {
            AppError::NotFound
        });
    }
    let today = app.today_in(caller.zone());
    let now = app.now();
    if store::governance::complete_action(&mut tx.conn(), id, today, caller.user_id).await? {
        caller
            .audit(
                &mut tx.conn(),
                now,
                "meeting_action_done",
                ("meeting", Some(action.meeting_id.0)),
                Some(t),
                &format!("action « {} » faite", action.title),
            )
            .await?;
    }
    tx.commit().await?;
    Ok(action.meeting_id)
}

/// The action items the caller owns in the territory and has not done.
pub async fn my_actions(app: &App, caller: &Caller) -> Result<Vec<ActionItemRow>, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    Ok(store::governance::open_actions_of(&mut pooled.conn(), caller.user_id, t, 50).await?)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CaseInput {
    /// The file's number, or its address (`…/personnes/123`).
    pub person: String,
    pub note: String,
}

/// Links a person's file to an operational cell's meeting (the coordinator, who sees every file
/// of the territory).
pub async fn add_case(
    app: &App,
    caller: &Caller,
    id: MeetingId,
    input: &CaseInput,
) -> Result<(), AppError> {
    let t = steering(caller)?;
    let meeting = load(app, caller, id).await?;
    let mut errors = FieldErrors::default();
    if !meeting.kind.reviews_cases() {
        errors.add("person", "Seule une cellule opérationnelle examine des situations individuelles : les comités de pilotage voient des chiffres, jamais une personne.");
        return Err(AppError::Invalid(errors));
    }
    let number = input
        .person
        .trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .trim();
    let note = text(&mut errors, "note", &input.note, 2_000, None);
    let scope = crate::persons::scope(caller)?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let wanted: Vec<PersonId> = number
        .parse::<i64>()
        .ok()
        .map(PersonId)
        .into_iter()
        .collect();
    let visible = store::persons::visible(&mut tx.conn(), &scope, &wanted).await?;
    let Some(person) = visible.first().copied() else {
        errors.add(
            "person",
            if number.is_empty() {
                "Indiquez le numéro du dossier (ou collez son adresse).".to_string()
            } else {
                format!("Aucun dossier n° « {number} » dans ce territoire.")
            },
        );
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if store::governance::add_case(&mut tx.conn(), id, person, &note, caller.user_id, now).await? {
        let event = store::audit::NewEvent {
            user: Some(caller.user_id),
            action: "meeting_case",
            target_kind: "person",
            target_id: Some(person.0),
            territory: Some(t),
            detail: &format!(
                "situation examinée en réunion « {} » du {}",
                meeting.title,
                french(&meeting.held_on)
            ),
            client_ip: caller.client_ip.as_deref(),
            api_token: caller.api_token(),
        };
        store::audit::record(&mut tx.conn(), &event, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A roadmap action with its measured value as the caller may see it.
#[derive(Debug, Clone)]
pub struct RoadmapLine {
    pub row: RoadmapRow,
    /// The indicator's value: measured from the funnel, or entered; `None` when masked.
    pub value: Option<i64>,
    pub measured: bool,
    pub progress: i64,
}

#[derive(Debug, Clone)]
pub struct Roadmap {
    pub year: i32,
    pub axes: Vec<(Axis, Vec<RoadmapLine>)>,
    pub steers: bool,
}

/// The roadmap of a year (this year by default), axis by axis; measured indicators count the
/// funnel step over the year in the territory, masked from 1 to 4 for those who may not open
/// the files.
pub async fn roadmap(app: &App, caller: &Caller, year: Option<i32>) -> Result<Roadmap, AppError> {
    let t = territory_of(caller)?;
    let today = app.today_in(caller.zone());
    let year = year
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or(today.year());
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let rows = store::governance::roadmap(c, t, year).await?;
    let mut totals = Vec::new();
    if rows.iter().any(|r| r.measure.is_some()) {
        let from = NaiveDate::from_ymd_opt(year, 1, 1).ok_or(AppError::NotFound)?;
        let to = NaiveDate::from_ymd_opt(year, 12, 31)
            .ok_or(AppError::NotFound)?
            .min(today);
        let p = store::indicators::Period::days(from, to);
        let cube = store::indicators::funnel_cube(c, Some(&[t]), &p).await?;
        totals = (0..Step::ALL.len())
            .map(|j| cube.iter().map(|r| r.counts[j]).sum::<i64>())
            .collect();
    }
    let sees_files = caller.is_coordinator_of(t);
    let threshold = app.settings.secrecy_threshold;
    let axes = Axis::ALL
        .iter()
        .map(|axis| {
            let lines = rows
                .iter()
                .filter(|r| r.axis == *axis)
                .map(|r| {
                    let measure = r.measure.as_deref().and_then(Step::from_code);
                    let raw = match measure {
                        Some(s) => Step::ALL
                            .iter()
                            .position(|x| *x == s)
                            .and_then(|j| totals.get(j).copied()),
                        None => r.value,
                    };
                    let value = match (raw, measure) {
                        (Some(v), Some(_)) if !sees_files && v > 0 && v < threshold => None,
                        (v, _) => v,
                    };
                    RoadmapLine {
                        progress: domain::governance::progress(
                            r.status,
                            i64::from(r.progress),
                            raw,
                            r.target,
                        ),
                        value,
                        measured: measure.is_some(),
                        row: r.clone(),
                    }
                })
                .collect();
            (*axis, lines)
        })
        .collect();
    Ok(Roadmap {
        year,
        axes,
        steers: may_steer(caller, t),
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoadmapInput {
    pub year: String,
    pub axis: String,
    pub title: String,
    pub description: String,
    pub lead: String,
    pub due_on: String,
    pub indicator: String,
    /// A funnel step's code, or empty for a value entered by hand.
    pub measure: String,
    pub value: String,
    pub target: String,
    pub status: String,
    pub progress: String,
}

fn number(errors: &mut FieldErrors, field: &'static str, value: &str, max: i64) -> Option<i64> {
    let value = value.trim().replace([' ', '\u{a0}', '\u{202f}'], "");
    if value.is_empty() {
        return None;
    }
    match value.parse::<i64>() {
        Ok(n) if (0..=max).contains(&n) => Some(n),
        _ => {
            errors.add(
                field,
                format!("Indiquez un nombre entier entre 0 et {max}."),
            );
            None
        }
    }
}

async fn roadmap_write(
    app: &App,
    caller: &Caller,
    input: &RoadmapInput,
) -> Result<(TerritoryId, i32, RoadmapWriteOwned), AppError> {
    let t = steering(caller)?;
    let (orgs, _) = choices(app, caller).await?;
    let mut errors = FieldErrors::default();
    let today = app.today_in(caller.zone());
    let year = match input.year.trim() {
        "" => Some(today.year()),
        y => match y.parse::<i32>() {
            Ok(y) if (today.year() - 5..=today.year() + 5).contains(&y) => Some(y),
            _ => {
                errors.add(
                    "year",
                    "Indiquez l'année de la feuille de route (par exemple 2026).",
                );
                None
            }
        },
    };
    let axis = errors.check("axis", Axis::parse(&input.axis));
    let title = text(
        &mut errors,
        "title",
        &input.title,
        300,
        Some("Donnez un intitulé à l'action."),
    );
    let description = text(&mut errors, "description", &input.description, 8_000, None);
    let lead = match input.lead.trim() {
        "" => None,
        l => {
            let found = l
                .parse::<i64>()
                .ok()
                .map(OrganisationId)
                .filter(|o| orgs.iter().any(|(id, _)| id == o));
            if found.is_none() {
                errors.add(
                    "lead",
                    "Choisissez le pilote de l'action parmi les partenaires du territoire.",
                );
            }
            found
        }
    };
    let due_on = date(&mut errors, "due_on", &input.due_on, false);
    let indicator = text(&mut errors, "indicator", &input.indicator, 500, None);
    let measure = match input.measure.trim() {
        "" => None,
        m => errors.check("measure", Step::parse(m)),
    };
    let value = number(&mut errors, "value", &input.value, 1_000_000_000);
    let target = number(&mut errors, "target", &input.target, 1_000_000_000);
    let status = errors.check("status", RoadmapStatus::parse(&input.status));
    let progress = number(&mut errors, "progress", &input.progress, 100).unwrap_or(0);
    match (year, axis, status) {
        (Some(year), Some(axis), Some(status)) if errors.is_empty() => Ok((
            t,
            year,
            RoadmapWriteOwned {
                axis,
                title,
                description,
                lead,
                due_on,
                indicator,
                measure,
                value: if measure.is_some() { None } else { value },
                target,
                status,
                progress,
            },
        )),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// A validated roadmap form, owning its texts.
struct RoadmapWriteOwned {
    axis: Axis,
    title: String,
    description: String,
    lead: Option<OrganisationId>,
    due_on: Option<NaiveDate>,
    indicator: String,
    measure: Option<Step>,
    value: Option<i64>,
    target: Option<i64>,
    status: RoadmapStatus,
    progress: i64,
}

impl RoadmapWriteOwned {
    fn write(&self, by: UserId) -> RoadmapWrite<'_> {
        RoadmapWrite {
            axis: self.axis,
            title: &self.title,
            description: &self.description,
            lead: self.lead,
            due_on: self.due_on,
            indicator: &self.indicator,
            measure: self.measure,
            value: self.value,
            target: self.target,
            status: self.status,
            progress: self.progress,
            by,
        }
    }
}

pub async fn create_roadmap_action(
    app: &App,
    caller: &Caller,
    input: &RoadmapInput,
) -> Result<i32, AppError> {
    let (t, year, w) = roadmap_write(app, caller, input).await?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let id = store::governance::create_roadmap_action(
        &mut tx.conn(),
        t,
        year,
        &w.write(caller.user_id),
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "roadmap_action_created",
            ("roadmap_action", Some(id.0)),
            Some(t),
            &format!(
                "feuille de route {year}, {} : « {} »",
                w.axis.label(),
                w.title
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(year)
}

pub async fn roadmap_action(
    app: &App,
    caller: &Caller,
    id: RoadmapActionId,
) -> Result<RoadmapRow, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    store::governance::roadmap_action(&mut pooled.conn(), id)
        .await?
        .filter(|r| r.territory_id == t)
        .ok_or(AppError::NotFound)
}

pub async fn update_roadmap_action(
    app: &App,
    caller: &Caller,
    id: RoadmapActionId,
    input: &RoadmapInput,
) -> Result<i32, AppError> {
    let current = roadmap_action(app, caller, id).await?;
    let input = RoadmapInput {
        year: current.year.to_string(),
        ..input.clone()
    };
    let (t, year, w) = roadmap_write(app, caller, &input).await?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    store::governance::update_roadmap_action(&mut tx.conn(), id, &w.write(caller.user_id), now)
        .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "roadmap_action_updated",
            ("roadmap_action", Some(id.0)),
            Some(t),
            &format!("« {} » : {}", w.title, w.status.label()),
        )
        .await?;
    tx.commit().await?;
    Ok(year)
}
