//! Collective actions (docs/domain.md §11): a job dating, an information collective, a visit…
//! held on a day at a place by organisations of the territory, with employers. People are
//! invited (one by one or a whole cohort in one step, by mail or on paper), registered within
//! the capacity, and their attendance is taken on the day — on a phone — for those registered.

use chrono::NaiveDate;
use domain::cohort::{ActionKind, Attendance, Registration, check_attendance, check_capacity};
use domain::employer::Engagement;
use domain::person::FileEvent;
use domain::{
    CohortId, CollectiveActionId, EmployerId, Field, OrganisationId, PersonId, TerritoryId,
};
use serde::Deserialize;
use store::actions::{ActionRow, NewAction, RegistrationRow};

use crate::cohorts::{date, number};
use crate::{App, AppError, Caller, FieldErrors};

pub fn path(id: CollectiveActionId) -> String {
    format!("/actions-collectives/{}", id.0)
}

fn territory_of(caller: &Caller) -> Result<TerritoryId, AppError> {
    let t = caller
        .active_territory
        .as_ref()
        .ok_or(AppError::NotFound)?
        .id;
    if crate::persons::may_record(caller, t) {
        Ok(t)
    } else {
        Err(AppError::Forbidden)
    }
}

async fn load(app: &App, caller: &Caller, id: CollectiveActionId) -> Result<ActionRow, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    store::actions::get(&mut pooled.conn(), id)
        .await?
        .filter(|a| a.territory_id == t)
        .ok_or(AppError::NotFound)
}

/// Who runs an action's list and attendance: the territory's coordinators, its creator, and the
/// professionals of its organisers.
fn manages(caller: &Caller, a: &ActionRow) -> bool {
    if caller.is_coordinator_of(a.territory_id) || a.created_by == Some(caller.user_id.0) {
        return true;
    }
    let mine = caller.organisations_in(a.territory_id);
    a.organisations()
        .iter()
        .any(|(o, _, organiser)| *organiser && mine.contains(o))
}

/// The engagement an action means for the employers taking part.
fn engagement_of(kind: ActionKind) -> Engagement {
    match kind {
        ActionKind::JobDating | ActionKind::Forum => Engagement::JobDating,
        ActionKind::VisiteEntreprise => Engagement::Visite,
        ActionKind::Immersion => Engagement::Immersion,
        ActionKind::InformationCollective | ActionKind::Atelier | ActionKind::Autre => {
            Engagement::Parrainage
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ActionInput {
    pub kind: String,
    pub title: String,
    pub held_on: String,
    pub starts_at: String,
    pub ends_at: String,
    pub place: String,
    pub capacity: String,
    pub field: String,
    pub description: String,
    pub cohort: String,
    pub organisers: Vec<String>,
    pub partners: Vec<String>,
    pub employers: Vec<String>,
}

/// `HH:MM`, or a French message.
fn time(errors: &mut FieldErrors, field: &'static str, value: &str, required: bool) -> String {
    let value = value.trim();
    if value.is_empty() {
        if required {
            errors.add(field, "Indiquez l'heure, par exemple 09:30.");
        }
        return String::new();
    }
    match chrono::NaiveTime::parse_from_str(value, "%H:%M") {
        Ok(t) => t.format("%H:%M").to_string(),
        Err(_) => {
            errors.add(
                field,
                format!("« {value} » n'est pas une heure : écrivez-la HH:MM, par exemple 14:00."),
            );
            String::new()
        }
    }
}

/// What the form offers: organisations, employers and cohorts of the territory.
pub struct ActionChoices {
    pub organisations: Vec<(OrganisationId, String)>,
    pub employers: Vec<(EmployerId, String)>,
    pub cohorts: Vec<(CohortId, String)>,
    pub mine: Option<OrganisationId>,
}

pub async fn choices(app: &App, caller: &Caller) -> Result<ActionChoices, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let organisations = store::organisations::partners_of(c, t)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let employers = store::employers::list(c, t, None)
        .await?
        .into_iter()
        .map(|e| (e.id, e.name))
        .collect();
    let cohorts = store::cohorts::list(c, t)
        .await?
        .into_iter()
        .map(|k| (k.id, k.name))
        .collect();
    let mine = crate::persons::organisation_in(c, caller, t).await?;
    Ok(ActionChoices {
        organisations,
        employers,
        cohorts,
        mine,
    })
}

/// The ids a form sent, each once, all among `known`; any other is refused with `message`.
pub(crate) fn ids<T: From<i64> + PartialEq + Copy>(
    errors: &mut FieldErrors,
    field: &'static str,
    values: &[String],
    known: &[T],
    message: &str,
) -> Vec<T> {
    let mut out = Vec::new();
    for v in values {
        match v.trim().parse::<i64>().map(T::from) {
            Ok(id) if known.contains(&id) => {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            _ => errors.add(field, message.to_string()),
        }
    }
    out
}

pub async fn create(
    app: &App,
    caller: &Caller,
    input: &ActionInput,
) -> Result<CollectiveActionId, AppError> {
    let t = territory_of(caller)?;
    let known = choices(app, caller).await?;
    let mut errors = FieldErrors::default();
    let kind = errors.check("kind", ActionKind::parse(&input.kind));
    let title = input.title.trim();
    if title.is_empty() {
        errors.add(
            "title",
            "Donnez un intitulé à l'action, par exemple « Job dating logistique ».",
        );
    } else if title.chars().count() > 200 {
        errors.add(
            "title",
            "L'intitulé est trop long (200 caractères au plus).",
        );
    }
    let held_on = date(&mut errors, "held_on", &input.held_on);
    if held_on.is_none() && errors.get("held_on").is_none() {
        errors.add("held_on", "Indiquez le jour de l'action.");
    }
    let starts_at = time(&mut errors, "starts_at", &input.starts_at, true);
    let ends_at = time(&mut errors, "ends_at", &input.ends_at, false);
    if !ends_at.is_empty() && !starts_at.is_empty() && ends_at <= starts_at {
        errors.add("ends_at", "L'action doit finir après avoir commencé.");
    }
    let place = input.place.trim();
    if place.is_empty() {
        errors.add("place", "Indiquez le lieu (adresse, salle).");
    }
    let capacity = number(&mut errors, "capacity", &input.capacity, 1..=5_000);
    let field = match input.field.trim() {
        "" => None,
        f => errors.check("field", Field::parse(f)),
    };
    let cohorts: Vec<CohortId> = known.cohorts.iter().map(|(k, _)| *k).collect();
    let cohort = match input.cohort.trim() {
        "" => None,
        k => ids(
            &mut errors,
            "cohort",
            &[k.to_string()],
            &cohorts,
            "Choisissez une cohorte du territoire.",
        )
        .first()
        .copied(),
    };
    let orgs: Vec<OrganisationId> = known.organisations.iter().map(|(o, _)| *o).collect();
    let msg = "Choisissez parmi les structures partenaires du territoire.";
    let mut organisers = ids(&mut errors, "organisers", &input.organisers, &orgs, msg);
    if organisers.is_empty() {
        match known.mine {
            Some(o) => organisers.push(o),
            None if errors.get("organisers").is_none() => {
                errors.add(
                    "organisers",
                    "Choisissez la structure qui organise l'action.",
                );
            }
            None => {}
        }
    }
    let partners = ids(&mut errors, "partners", &input.partners, &orgs, msg);
    let emps: Vec<EmployerId> = known.employers.iter().map(|(e, _)| *e).collect();
    let employers = ids(
        &mut errors,
        "employers",
        &input.employers,
        &emps,
        "Choisissez parmi les employeurs connus du territoire.",
    );
    let description = input.description.trim();
    if description.chars().count() > 4_000 {
        errors.add(
            "description",
            "Ce texte est trop long (4 000 caractères au plus).",
        );
    }
    let (Some(kind), Some(held_on)) = (kind, held_on) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let id = store::actions::create(
        &mut tx.conn(),
        &NewAction {
            territory: t,
            kind,
            title,
            held_on,
            starts_at: &starts_at,
            ends_at: &ends_at,
            place,
            capacity,
            field,
            description,
            cohort,
            organisers: &organisers,
            partners: &partners,
            employers: &employers,
            created_by: caller.user_id,
        },
        now,
    )
    .await?;
    for e in &employers {
        store::employers::engage(
            &mut tx.conn(),
            &store::employers::NewEngagement {
                employer: *e,
                kind: engagement_of(kind),
                on: held_on,
                action: Some(id),
                person: None,
                note: title,
                by: caller.user_id,
            },
            now,
        )
        .await?;
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "collective_action_created",
            ("collective_action", Some(id.0)),
            Some(t),
            &format!(
                "{} « {title} » du {}",
                kind.label(),
                domain::french_date(held_on)
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<ActionRow>, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    Ok(store::actions::list(&mut pooled.conn(), t, None, None).await?)
}

pub struct ActionPage {
    pub action: ActionRow,
    /// Those the caller may name.
    pub registrations: Vec<RegistrationRow>,
    /// Invited or registered persons the caller may not see.
    pub hidden: usize,
    pub may_manage: bool,
    pub cohorts: Vec<(CohortId, String)>,
    pub today: NaiveDate,
    /// Attendance can be taken (the day has come).
    pub attendance_open: bool,
}

impl ActionPage {
    /// Registered persons who did not come (« absent », not « excusé »), over those registered
    /// whose attendance was taken — in percent.
    pub fn no_show_rate(&self) -> Option<i64> {
        let taken = self.action.present + self.action.absent + self.action.excused;
        (taken > 0).then(|| (self.action.absent * 100 + taken / 2) / taken)
    }
}

pub async fn page(
    app: &App,
    caller: &Caller,
    id: CollectiveActionId,
) -> Result<ActionPage, AppError> {
    let action = load(app, caller, id).await?;
    let scope = crate::persons::scope(caller)?;
    let today = app.today_in(caller.zone());
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let all = store::actions::registrations(c, id, &scope).await?;
    let hidden = all.iter().filter(|r| !r.visible).count();
    let registrations: Vec<RegistrationRow> = all.into_iter().filter(|r| r.visible).collect();
    let shown: Vec<i64> = registrations.iter().map(|r| r.person_id.0).collect();
    crate::persons::shown_in_list(
        app,
        caller,
        &scope,
        &shown,
        &format!("action collective n° {}", id.0),
        c,
    )
    .await?;
    let cohorts = store::cohorts::list(c, action.territory_id)
        .await?
        .into_iter()
        .map(|k| (k.id, k.name))
        .collect();
    let attendance_open = action.held_on().is_some_and(|d| d <= today);
    Ok(ActionPage {
        may_manage: manages(caller, &action),
        action,
        registrations,
        hidden,
        cohorts,
        today,
        attendance_open,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InviteInput {
    /// Person ids, one by one.
    pub persons: Vec<String>,
    /// A cohort whose current members (those the caller may see) are all invited.
    pub cohort: String,
    /// `invitee` or `inscrite`.
    pub status: String,
    /// Send each one who has an address an invitation by mail.
    #[serde(deserialize_with = "crate::form::ticked")]
    pub mail: bool,
}

/// What an invitation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Invited {
    pub added: u64,
    pub already: usize,
    pub mailed: usize,
    /// Invited by mail but without an address (to invite on paper).
    pub without_address: usize,
}

/// Invites or registers persons — one by one or a cohort's current members — all or none:
/// every one must be someone the caller may see, and registrations fit the capacity.
pub async fn invite(
    app: &App,
    caller: &Caller,
    id: CollectiveActionId,
    input: &InviteInput,
) -> Result<Invited, AppError> {
    let action = load(app, caller, id).await?;
    if !manages(caller, &action) {
        return Err(AppError::Forbidden);
    }
    let mut errors = FieldErrors::default();
    let status = match input.status.trim() {
        "" => Some(Registration::Invitee),
        s => errors.check("status", Registration::parse(s)),
    };
    let scope = crate::persons::scope(caller)?;
    let mut tx = app.db.begin_write().await?;
    store::actions::lock(&mut tx.conn(), id).await?;
    let mut wanted: Vec<PersonId> = Vec::new();
    for p in input.persons.iter().filter(|p| !p.trim().is_empty()) {
        match p.trim().parse::<i64>() {
            Ok(n) if !wanted.contains(&PersonId(n)) => wanted.push(PersonId(n)),
            Ok(_) => {}
            Err(_) => errors.add("persons", "Choisissez les personnes dans la liste."),
        }
    }
    if let Some(k) = input.cohort.trim().parse::<i64>().ok().map(CohortId) {
        let cohort = store::cohorts::get(&mut tx.conn(), k)
            .await?
            .filter(|c| c.territory_id == action.territory_id);
        match cohort {
            Some(_) => {
                let members = store::cohorts::open_stays_of(&mut tx.conn(), k).await?;
                // Only the members the caller may see: the others are theirs to invite.
                for p in store::persons::visible(&mut tx.conn(), &scope, &members).await? {
                    if !wanted.contains(&p) {
                        wanted.push(p);
                    }
                }
            }
            None => errors.add("cohort", "Choisissez une cohorte du territoire."),
        }
    }
    if wanted.is_empty() && errors.is_empty() {
        errors.add(
            "persons",
            "Choisissez au moins une personne, ou une cohorte dont vous suivez des membres.",
        );
    }
    let Some(status) = status else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let names = store::persons::names_in_scope(&mut tx.conn(), &scope, &wanted).await?;
    if names.len() != wanted.len() {
        return Err(AppError::field(
            "persons",
            "Une des personnes choisies est introuvable ou ne fait pas partie de vos dossiers : rechargez la page.",
        ));
    }
    let present = store::actions::registrations(&mut tx.conn(), id, &scope).await?;
    let new: Vec<PersonId> = wanted
        .iter()
        .copied()
        .filter(|p| !present.iter().any(|r| r.person_id == *p))
        .collect();
    if status == Registration::Inscrite {
        let registered = present
            .iter()
            .filter(|r| r.status == Registration::Inscrite)
            .count();
        if let Err(e) = check_capacity(
            action.capacity.and_then(|c| u32::try_from(c).ok()),
            u32::try_from(registered).unwrap_or(u32::MAX),
            u32::try_from(new.len()).unwrap_or(u32::MAX),
        ) {
            return Err(AppError::field("persons", e.0));
        }
    }
    let now = app.now();
    let added = store::actions::add(&mut tx.conn(), id, &new, status, caller.user_id, now).await?;
    let mut done = Invited {
        added,
        already: wanted.len() - new.len(),
        ..Invited::default()
    };
    if input.mail {
        let rows = store::actions::registrations(&mut tx.conn(), id, &scope).await?;
        for r in rows.iter().filter(|r| new.contains(&r.person_id)) {
            match r.email.as_deref().filter(|e| !e.trim().is_empty()) {
                Some(email) => {
                    crate::mail::enqueue(
                        &mut tx.conn(),
                        app,
                        email,
                        &format!("Invitation : {}", action.title),
                        &invitation_text(&action, &format!("{} {}", r.first_name, r.last_name)),
                    )
                    .await?;
                    store::actions::mark_mailed(&mut tx.conn(), id, r.person_id, now).await?;
                    done.mailed += 1;
                }
                None => done.without_address += 1,
            }
        }
    }
    let ids: Vec<i64> = new.iter().map(|p| p.0).collect();
    store::audit::record_each(
        &mut tx.conn(),
        &store::audit::NewEvent {
            user: Some(caller.user_id),
            action: FileEvent::CollectiveAction.as_str(),
            target_kind: "person",
            target_id: None,
            territory: Some(action.territory_id),
            detail: &format!(
                "{} à l'action « {} » du {}{}",
                status.label().to_lowercase(),
                action.title,
                domain::french_date(action.held_on().unwrap_or(now.date_naive())),
                if input.mail {
                    ", invitation envoyée par courriel"
                } else {
                    ""
                }
            ),
            client_ip: caller.client_ip.as_deref(),
            api_token: caller.api_token(),
        },
        &ids,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}

/// The invitation's words, for the mail and the printed page.
pub fn invitation_text(action: &ActionRow, name: &str) -> String {
    let when = match action.held_on() {
        Some(d) => domain::french_date(d),
        None => action.held_on.clone(),
    };
    let hours = if action.ends_at.is_empty() {
        format!("à {}", action.starts_at.replace(':', " h "))
    } else {
        format!(
            "de {} à {}",
            action.starts_at.replace(':', " h "),
            action.ends_at.replace(':', " h ")
        )
    };
    let organisers: Vec<String> = action
        .organisations()
        .into_iter()
        .filter(|(_, _, o)| *o)
        .map(|(_, n, _)| n)
        .collect();
    format!(
        "Bonjour {},\n\nVous êtes invité·e à « {} » ({}), le {when} {hours}, à l'adresse suivante : {}.\n\n{}{}Pour toute question, contactez la personne qui vous accompagne.",
        name.trim(),
        action.title,
        action.kind.label().to_lowercase(),
        action.place,
        if action.description.is_empty() {
            String::new()
        } else {
            format!("{}\n\n", action.description)
        },
        if organisers.is_empty() {
            String::new()
        } else {
            format!("Organisé par : {}.\n\n", organisers.join(", "))
        },
    )
}

/// An invited person's registration (they said yes).
pub async fn register(
    app: &App,
    caller: &Caller,
    id: CollectiveActionId,
    person: PersonId,
) -> Result<(), AppError> {
    let action = load(app, caller, id).await?;
    if !manages(caller, &action) {
        return Err(AppError::Forbidden);
    }
    let scope = crate::persons::scope(caller)?;
    let mut tx = app.db.begin_write().await?;
    store::actions::lock(&mut tx.conn(), id).await?;
    let rows = store::actions::registrations(&mut tx.conn(), id, &scope).await?;
    let Some(row) = rows.iter().find(|r| r.person_id == person && r.visible) else {
        return Err(AppError::NotFound);
    };
    if row.status == Registration::Inscrite {
        return Ok(());
    }
    let registered = rows
        .iter()
        .filter(|r| r.status == Registration::Inscrite)
        .count();
    if let Err(e) = check_capacity(
        action.capacity.and_then(|c| u32::try_from(c).ok()),
        u32::try_from(registered).unwrap_or(u32::MAX),
        1,
    ) {
        return Err(AppError::field("persons", e.0));
    }
    let now = app.now();
    store::actions::register(&mut tx.conn(), id, person, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            FileEvent::CollectiveAction.as_str(),
            ("person", Some(person.0)),
            Some(action.territory_id),
            &format!("inscrite à l'action « {} »", action.title),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Attendance as the form sends it: one `presence_<person>` per line.
pub async fn take_attendance(
    app: &App,
    caller: &Caller,
    id: CollectiveActionId,
    marks: &[(String, String)],
) -> Result<usize, AppError> {
    let action = load(app, caller, id).await?;
    if !manages(caller, &action) {
        return Err(AppError::Forbidden);
    }
    let today = app.today_in(caller.zone());
    let day = action
        .held_on()
        .ok_or_else(|| AppError::Internal(format!("action {} : date illisible", id.0)))?;
    let scope = crate::persons::scope(caller)?;
    let mut tx = app.db.begin_write().await?;
    let rows = store::actions::registrations(&mut tx.conn(), id, &scope).await?;
    let mut errors = FieldErrors::default();
    let mut out = Vec::new();
    for (person, mark) in marks {
        if mark.trim().is_empty() {
            continue;
        }
        let Ok(person) = person.trim().parse::<i64>().map(PersonId) else {
            errors.add(
                "attendance",
                "Une ligne de la liste est illisible : rechargez la page.",
            );
            continue;
        };
        let Some(mark) = errors.check("attendance", Attendance::parse(mark)) else {
            continue;
        };
        let row = rows.iter().find(|r| r.person_id == person && r.visible);
        let name = row.map_or_else(
            || "Cette personne".to_string(),
            |r| format!("{} {}", r.first_name, r.last_name),
        );
        if let Err(e) = check_attendance(row.map(|r| r.status), day, today) {
            errors.add("attendance", format!("{} : {}", name.trim(), e.0));
            continue;
        }
        out.push((person, mark));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if out.is_empty() {
        return Err(AppError::field(
            "attendance",
            "Indiquez la présence d'au moins une personne inscrite.",
        ));
    }
    let now = app.now();
    store::actions::set_attendance(&mut tx.conn(), id, &out, caller.user_id, now).await?;
    let ids: Vec<i64> = out.iter().map(|(p, _)| p.0).collect();
    store::audit::record_each(
        &mut tx.conn(),
        &store::audit::NewEvent {
            user: Some(caller.user_id),
            action: FileEvent::CollectiveAction.as_str(),
            target_kind: "person",
            target_id: None,
            territory: Some(action.territory_id),
            detail: &format!("présence relevée à l'action « {} »", action.title),
            client_ip: caller.client_ip.as_deref(),
            api_token: caller.api_token(),
        },
        &ids,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(out.len())
}

/// A printable invitation for one person (read on their file: audited).
pub struct Invitation {
    pub action: ActionRow,
    pub name: String,
    pub text: String,
}

pub async fn invitation(
    app: &App,
    caller: &Caller,
    id: CollectiveActionId,
    person: PersonId,
) -> Result<Invitation, AppError> {
    let action = load(app, caller, id).await?;
    let scope = crate::persons::scope(caller)?;
    let mut pooled = app.db.acquire().await?;
    let rows = store::actions::registrations(&mut pooled.conn(), id, &scope).await?;
    let row = rows
        .into_iter()
        .find(|r| r.person_id == person && r.visible)
        .ok_or(AppError::NotFound)?;
    let name = format!("{} {}", row.first_name, row.last_name)
        .trim()
        .to_string();
    caller
        .audit(
            &mut pooled.conn(),
            app.now(),
            FileEvent::Read.as_str(),
            ("person", Some(person.0)),
            Some(action.territory_id),
            &format!("invitation imprimée pour l'action « {} »", action.title),
        )
        .await?;
    Ok(Invitation {
        text: invitation_text(&action, &name),
        action,
        name,
    })
}
