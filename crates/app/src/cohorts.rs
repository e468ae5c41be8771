//! Cohorts (docs/domain.md §11): a named group of people of a territory followed in a
//! reinforced way for a period. Its coordinators create it with a target public — criteria the
//! eligibility engine evaluates to suggest candidates among the people the caller may see — a
//! capacity and référents; the coordinators and the cohort's référents add and remove members
//! (each stay dated, with a reason), and the cohort page shows each member's progress to those
//! who may see the member, and aggregates to everyone else.

use chrono::NaiveDate;
use domain::cohort::{LeaveReason, Public, Stay, check_capacity, may_enter, may_leave};
use domain::eligibility::{Tri, evaluate_criterion};
use domain::exit::{ExitCategory, ExitKind};
use domain::person::{FileEvent, FunnelStatus, Sex};
use domain::{CohortId, PersonId, TerritoryId, UserId};
use serde::Deserialize;
use store::cohorts::{CohortRow, NewCohort, ProgressRow, StayRow};

use crate::{App, AppError, Caller, FieldErrors};

pub fn path(id: CohortId) -> String {
    format!("/cohortes/{}", id.0)
}

/// The territory the caller works in, if they may work with cohorts there: its coordinators
/// and partners' professionals (pilots see the figures of the indicators, not cohorts).
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

/// The cohort, if it belongs to the caller's territory.
async fn load(app: &App, caller: &Caller, id: CohortId) -> Result<CohortRow, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    store::cohorts::get(&mut pooled.conn(), id)
        .await?
        .filter(|k| k.territory_id == t)
        .ok_or(AppError::NotFound)
}

fn referents(row: &CohortRow) -> Vec<(UserId, String)> {
    store::actions::pairs(&row.referents)
        .into_iter()
        .map(|(i, n)| (UserId(i), n))
        .collect()
}

/// Coordinators of the territory and the cohort's référents manage its members.
fn manages(caller: &Caller, row: &CohortRow) -> bool {
    caller.is_coordinator_of(row.territory_id)
        || referents(row).iter().any(|(u, _)| *u == caller.user_id)
}

fn public_of(row: &CohortRow) -> Result<Public, AppError> {
    serde_json::from_str(&row.public)
        .map_err(|e| AppError::Internal(format!("cohorte {} : public illisible : {e}", row.id.0)))
}

/// The form of a new cohort (field names are the inputs').
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CohortInput {
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub capacity: String,
    pub wave: String,
    pub referents: Vec<String>,
    pub age_min: String,
    pub age_max: String,
    pub sex: String,
    pub statuses: Vec<String>,
    #[serde(deserialize_with = "crate::form::ticked")]
    pub qpv: bool,
    #[serde(deserialize_with = "crate::form::ticked")]
    pub brsa: bool,
    #[serde(deserialize_with = "crate::form::ticked")]
    pub deld: bool,
    #[serde(deserialize_with = "crate::form::ticked")]
    pub rqth: bool,
    pub description: String,
}

/// A whole number in a range, or a French message for the field.
pub(crate) fn number(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Option<i64> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.parse::<i64>() {
        Ok(n) if range.contains(&n) => Some(n),
        _ => {
            errors.add(
                field,
                format!(
                    "Indiquez un nombre entier entre {} et {}.",
                    range.start(),
                    range.end()
                ),
            );
            None
        }
    }
}

/// A date a form sent, if any.
pub(crate) fn date(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
) -> Option<NaiveDate> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match domain::parse_date(value) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.add(field, e.0);
            None
        }
    }
}

/// The team of the territory, for the référents' checkboxes.
pub async fn team(app: &App, caller: &Caller) -> Result<Vec<(UserId, String)>, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    crate::persons::team_choices(&mut pooled.conn(), t).await
}

pub async fn create(app: &App, caller: &Caller, input: &CohortInput) -> Result<CohortId, AppError> {
    let t = territory_of(caller)?;
    if !caller.is_coordinator_of(t) {
        return Err(AppError::Forbidden);
    }
    let mut errors = FieldErrors::default();
    let name = input.name.trim();
    if name.is_empty() {
        errors.add(
            "name",
            "Donnez un nom à la cohorte, par exemple « Femmes 26-55 ans, vague 1 ».",
        );
    } else if name.chars().count() > 200 {
        errors.add("name", "Le nom est trop long (200 caractères au plus).");
    }
    let starts_on = date(&mut errors, "starts_on", &input.starts_on);
    if starts_on.is_none() && errors.get("starts_on").is_none() {
        errors.add("starts_on", "Indiquez la date de début de la cohorte.");
    }
    let ends_on = date(&mut errors, "ends_on", &input.ends_on);
    if let (Some(a), Some(b)) = (starts_on, ends_on)
        && b < a
    {
        errors.add(
            "ends_on",
            "La fin de la cohorte ne peut pas précéder son début.",
        );
    }
    let capacity = number(&mut errors, "capacity", &input.capacity, 1..=10_000);
    let age_min = number(&mut errors, "age_min", &input.age_min, 16..=70);
    let age_max = number(&mut errors, "age_max", &input.age_max, 16..=70);
    let sex = match input.sex.trim() {
        "" => None,
        s => errors.check("sex", Sex::parse(s)),
    };
    let mut statuses = Vec::new();
    for s in &input.statuses {
        if let Some(s) = errors.check("statuses", FunnelStatus::parse(s))
            && !statuses.contains(&s)
        {
            statuses.push(s);
        }
    }
    let public = Public {
        age_min: age_min.and_then(|a| u8::try_from(a).ok()),
        age_max: age_max.and_then(|a| u8::try_from(a).ok()),
        sex,
        statuses,
        qpv: input.qpv,
        brsa: input.brsa,
        deld: input.deld,
        rqth: input.rqth,
        description: input.description.trim().to_string(),
    };
    if let Err(e) = public.check() {
        errors.add("age_min", e.0);
    }
    if public.description.chars().count() > 2_000 {
        errors.add(
            "description",
            "Ce texte est trop long (2 000 caractères au plus).",
        );
    }
    let wave = input.wave.trim();
    if wave.chars().count() > 100 {
        errors.add("wave", "La vague s'écrit en 100 caractères au plus.");
    }
    let mut pooled = app.db.acquire().await?;
    let team = crate::persons::team_in(&mut pooled.conn(), t).await?;
    drop(pooled);
    let mut chosen = Vec::new();
    for r in &input.referents {
        match team
            .iter()
            .find(|m| Some(m.user_id.0) == r.trim().parse().ok())
        {
            Some(m) if !chosen.contains(&m.user_id) => chosen.push(m.user_id),
            Some(_) => {}
            None => errors.add(
                "referents",
                "Choisissez les référents parmi l'équipe du territoire.",
            ),
        }
    }
    if chosen.is_empty() && errors.get("referents").is_none() {
        errors.add(
            "referents",
            "Choisissez au moins un référent de la cohorte.",
        );
    }
    let Some(starts_on) = starts_on else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let json =
        serde_json::to_string(&public).map_err(|e| AppError::Internal(format!("public : {e}")))?;
    let mut tx = app.db.begin_write().await?;
    let now = app.now();
    let id = store::cohorts::create(
        &mut tx.conn(),
        &NewCohort {
            territory: t,
            name,
            public: &json,
            starts_on,
            ends_on,
            capacity,
            wave,
            referents: &chosen,
            created_by: caller.user_id,
        },
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "cohort_created",
            ("cohort", Some(id.0)),
            Some(t),
            &format!("cohorte « {name} » créée"),
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub struct CohortList {
    pub cohorts: Vec<(CohortRow, Public)>,
    pub may_create: bool,
}

pub async fn list(app: &App, caller: &Caller) -> Result<CohortList, AppError> {
    let t = territory_of(caller)?;
    let mut pooled = app.db.acquire().await?;
    let rows = store::cohorts::list(&mut pooled.conn(), t).await?;
    let mut cohorts = Vec::with_capacity(rows.len());
    for r in rows {
        let p = public_of(&r)?;
        cohorts.push((r, p));
    }
    Ok(CohortList {
        cohorts,
        may_create: caller.is_coordinator_of(t),
    })
}

/// One member as the page shows them: named only to those who may see the person.
#[derive(Debug, Clone)]
pub struct MemberLine {
    pub person: PersonId,
    pub name: String,
    pub status: Option<FunnelStatus>,
    pub stay: StayRow,
    pub progress: ProgressRow,
}

impl MemberLine {
    pub fn exit(&self) -> Option<ExitKind> {
        self.progress
            .exit_kind
            .as_deref()
            .and_then(ExitKind::from_code)
    }
}

/// What the whole cohort adds up to, whoever may see whom.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub current: usize,
    pub ever: usize,
    pub stays: usize,
    pub barriers: i64,
    pub lifted: i64,
    pub orientations: i64,
    pub entered: i64,
    pub invited: i64,
    pub attended: i64,
    pub exits: Vec<(ExitCategory, usize)>,
}

/// A person the public suggests, with what is still to check.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub person: PersonId,
    pub name: String,
    pub status: FunnelStatus,
    /// In accompaniment (or met) since that day.
    pub since: String,
    pub sure: bool,
    pub missing: Vec<String>,
}

pub struct CohortPage {
    pub cohort: CohortRow,
    pub public: Public,
    pub referents: Vec<(UserId, String)>,
    pub members: Vec<MemberLine>,
    /// Members (stays) the caller may not see: counted, not shown.
    pub hidden: usize,
    pub totals: Totals,
    pub may_manage: bool,
    /// Only when asked for (it reads every person of the caller's scope).
    pub candidates: Option<Vec<Candidate>>,
    pub actions: Vec<store::actions::ActionRow>,
    pub today: NaiveDate,
}

pub async fn page(
    app: &App,
    caller: &Caller,
    id: CohortId,
    with_candidates: bool,
) -> Result<CohortPage, AppError> {
    let cohort = load(app, caller, id).await?;
    let public = public_of(&cohort)?;
    let scope = crate::persons::scope(caller)?;
    let today = app.today_in(caller.zone());
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let stays = store::cohorts::stays(c, id).await?;
    let mut ids: Vec<PersonId> = stays.iter().map(|s| s.person_id).collect();
    ids.sort();
    ids.dedup();
    let persons = store::persons::names_in_scope(c, &scope, &ids).await?;
    let visible: Vec<PersonId> = persons.iter().map(|(p, _, _)| *p).collect();
    let progress = store::cohorts::progress(c, &ids).await?;
    let mut totals = Totals {
        current: stays.iter().filter(|s| s.left_on.is_none()).count(),
        ever: ids.len(),
        stays: stays.len(),
        ..Totals::default()
    };
    for p in &progress {
        totals.barriers += p.barriers;
        totals.lifted += p.lifted;
        totals.orientations += p.orientations;
        totals.entered += p.entered;
        totals.invited += p.invited;
        totals.attended += p.attended;
        if let Some(k) = p.exit_kind.as_deref().and_then(ExitKind::from_code) {
            match totals.exits.iter_mut().find(|(c, _)| *c == k.category()) {
                Some((_, n)) => *n += 1,
                None => totals.exits.push((k.category(), 1)),
            }
        }
    }
    totals.exits.sort();
    let mut members = Vec::new();
    let mut hidden = 0;
    for s in &stays {
        if !visible.contains(&s.person_id) {
            hidden += 1;
            continue;
        }
        let (name, status) = persons
            .iter()
            .find(|(p, _, _)| *p == s.person_id)
            .map(|(_, n, st)| (n.clone(), Some(*st)))
            .unwrap_or_default();
        members.push(MemberLine {
            person: s.person_id,
            name,
            status,
            stay: s.clone(),
            progress: progress
                .iter()
                .find(|p| p.person_id == s.person_id.0)
                .cloned()
                .unwrap_or_default(),
        });
    }
    let actions = store::actions::list(c, cohort.territory_id, Some(id), None).await?;
    let may_manage = manages(caller, &cohort);
    let candidates = if with_candidates && may_manage {
        Some(candidates(c, &scope, &public, &stays, today).await?)
    } else {
        None
    };
    let mut shown: Vec<i64> = members.iter().map(|m| m.person.0).collect();
    if let Some(cs) = &candidates {
        shown.extend(cs.iter().map(|c| c.person.0));
    }
    shown.sort_unstable();
    shown.dedup();
    crate::persons::shown_in_list(
        app,
        caller,
        &scope,
        &shown,
        &format!("cohorte n° {}", id.0),
        c,
    )
    .await?;
    drop(pooled);
    Ok(CohortPage {
        referents: referents(&cohort),
        cohort,
        public,
        members,
        hidden,
        totals,
        may_manage,
        candidates,
        actions,
        today,
    })
}

/// The people of the caller's scope the public suggests: every criterion met (« sûr ») or
/// none failed but some unknown (« à vérifier »); not in the cohort now. Health criteria are
/// known only where the caller may read health data, else « à vérifier ».
async fn candidates(
    c: &mut store::Conn<'_>,
    scope: &store::persons::Scope,
    public: &Public,
    stays: &[StayRow],
    today: NaiveDate,
) -> Result<Vec<Candidate>, AppError> {
    let statuses: Vec<FunnelStatus> = FunnelStatus::ALL
        .iter()
        .copied()
        .filter(|s| public.takes(*s))
        .collect();
    let persons = store::persons::facts_in_scope(c, scope, &statuses).await?;
    let health = if public.rqth {
        store::persons::health_in_scope(c, scope).await?
    } else {
        Vec::new()
    };
    let criteria = public.criteria();
    let inside: std::collections::HashSet<PersonId> = stays
        .iter()
        .filter(|s| s.left_on.is_none())
        .map(|s| s.person_id)
        .collect();
    let mut out = Vec::new();
    for p in &persons {
        if inside.contains(&p.id) {
            continue;
        }
        let h = health.iter().find(|(id, _)| *id == p.id).map(|(_, h)| h);
        let facts = crate::diagnostic::facts_of_person(p, h, &[]);
        let lines: Vec<_> = criteria
            .iter()
            .map(|k| evaluate_criterion(k, &facts, today))
            .collect();
        if lines.iter().any(|l| l.outcome == Tri::No) {
            continue;
        }
        let missing: Vec<String> = lines
            .iter()
            .filter(|l| l.outcome == Tri::Unknown)
            .filter_map(|l| l.missing.clone().or_else(|| Some(l.criterion.clone())))
            .collect();
        out.push(Candidate {
            person: p.id,
            name: format!("{} {}", p.first_name, p.last_name)
                .trim()
                .to_string(),
            status: p.status,
            since: p.accompanied_on.clone().unwrap_or_else(|| p.met_on.clone()),
            sure: missing.is_empty(),
            missing,
        });
    }
    out.sort_by(|a, b| b.sure.cmp(&a.sure).then(a.name.cmp(&b.name)));
    out.truncate(500);
    Ok(out)
}

/// Who to add, and from when.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AddInput {
    pub persons: Vec<String>,
    pub entered_on: String,
}

/// Adds members, all or none: each must be someone the caller may see, not in the cohort now,
/// after their last stay, within the cohort's period and its capacity. One audit row per file.
pub async fn add_members(
    app: &App,
    caller: &Caller,
    id: CohortId,
    input: &AddInput,
) -> Result<usize, AppError> {
    let cohort = load(app, caller, id).await?;
    if !manages(caller, &cohort) {
        return Err(AppError::Forbidden);
    }
    let today = app.today_in(caller.zone());
    let mut errors = FieldErrors::default();
    let on = crate::persons::past_date(&mut errors, "entered_on", &input.entered_on, today);
    let mut wanted: Vec<PersonId> = Vec::new();
    for p in input.persons.iter().filter(|p| !p.trim().is_empty()) {
        match p.trim().parse::<i64>() {
            Ok(n) if !wanted.contains(&PersonId(n)) => wanted.push(PersonId(n)),
            Ok(_) => {}
            Err(_) => errors.add("persons", "Choisissez les personnes dans la liste."),
        }
    }
    if wanted.is_empty() && errors.get("persons").is_none() {
        errors.add(
            "persons",
            "Cochez au moins une personne à faire entrer dans la cohorte.",
        );
    }
    let Some(on) = on else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let period = period_of(&cohort)?;
    let scope = crate::persons::scope(caller)?;
    let mut tx = app.db.begin_write().await?;
    store::cohorts::lock(&mut tx.conn(), id).await?;
    let names = store::persons::names_in_scope(&mut tx.conn(), &scope, &wanted).await?;
    if names.len() != wanted.len() {
        return Err(AppError::field(
            "persons",
            "Une des personnes choisies est introuvable ou ne fait pas partie de vos dossiers : rechargez la page.",
        ));
    }
    let stays = store::cohorts::stays(&mut tx.conn(), id).await?;
    for p in &wanted {
        let theirs: Vec<Stay> = stays
            .iter()
            .filter(|s| s.person_id == *p)
            .filter_map(stay_of)
            .collect();
        if let Err(e) = may_enter(&theirs, on, period) {
            let name = names
                .iter()
                .find(|(id, _, _)| id == p)
                .map_or_else(String::new, |(_, n, _)| n.clone());
            errors.add("persons", format!("{name} : {}", e.0));
        }
        if names
            .iter()
            .any(|(id, _, st)| id == p && *st == FunnelStatus::Sorti)
        {
            errors.add(
                "persons",
                "Une personne sortie de l'accompagnement n'entre dans une cohorte qu'après son retour en accompagnement.",
            );
        }
    }
    let current = stays.iter().filter(|s| s.left_on.is_none()).count();
    if let Err(e) = check_capacity(
        cohort.capacity.and_then(|c| u32::try_from(c).ok()),
        u32::try_from(current).unwrap_or(u32::MAX),
        u32::try_from(wanted.len()).unwrap_or(u32::MAX),
    ) {
        errors.add("persons", e.0);
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    match store::cohorts::enter(&mut tx.conn(), id, &wanted, on, caller.user_id, now).await {
        Err(store::StoreError::Conflict) => {
            return Err(AppError::field(
                "persons",
                "Une des personnes vient d'être ajoutée par quelqu'un d'autre : rechargez la page.",
            ));
        }
        other => other?,
    }
    let ids: Vec<i64> = wanted.iter().map(|p| p.0).collect();
    store::audit::record_each(
        &mut tx.conn(),
        &store::audit::NewEvent {
            user: Some(caller.user_id),
            action: FileEvent::Cohort.as_str(),
            target_kind: "person",
            target_id: None,
            territory: Some(cohort.territory_id),
            detail: &format!(
                "entrée dans la cohorte « {} » le {}",
                cohort.name,
                domain::french_date(on)
            ),
            client_ip: caller.client_ip.as_deref(),
            api_token: caller.api_token(),
        },
        &ids,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(wanted.len())
}

fn stay_of(s: &StayRow) -> Option<Stay> {
    Some(Stay {
        entered_on: domain::parse_date(&s.entered_on).ok()?,
        left_on: s
            .left_on
            .as_deref()
            .and_then(|d| domain::parse_date(d).ok()),
    })
}

fn period_of(cohort: &CohortRow) -> Result<(NaiveDate, Option<NaiveDate>), AppError> {
    let starts = domain::parse_date(&cohort.starts_on)
        .map_err(|e| AppError::Internal(format!("cohorte {} : {}", cohort.id.0, e.0)))?;
    Ok((
        starts,
        cohort
            .ends_on
            .as_deref()
            .and_then(|d| domain::parse_date(d).ok()),
    ))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LeaveInput {
    pub left_on: String,
    pub reason: String,
    pub note: String,
}

/// Ends a member's stay (date, reason).
pub async fn remove_member(
    app: &App,
    caller: &Caller,
    id: CohortId,
    person: PersonId,
    input: &LeaveInput,
) -> Result<(), AppError> {
    let cohort = load(app, caller, id).await?;
    if !manages(caller, &cohort) {
        return Err(AppError::Forbidden);
    }
    let today = app.today_in(caller.zone());
    let mut errors = FieldErrors::default();
    let on = crate::persons::past_date(&mut errors, "left_on", &input.left_on, today);
    let reason = errors.check("reason", LeaveReason::parse(&input.reason));
    let note = input.note.trim();
    if note.chars().count() > 1_000 {
        errors.add("note", "Ce texte est trop long (1 000 caractères au plus).");
    }
    let (Some(on), Some(reason)) = (on, reason) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let scope = crate::persons::scope(caller)?;
    let mut tx = app.db.begin_write().await?;
    if store::persons::visible(&mut tx.conn(), &scope, &[person])
        .await?
        .is_empty()
    {
        return Err(AppError::NotFound);
    }
    let stays = store::cohorts::stays(&mut tx.conn(), id).await?;
    let Some(open) = stays
        .iter()
        .find(|s| s.person_id == person && s.left_on.is_none())
    else {
        return Err(AppError::field(
            "left_on",
            "Cette personne n'est plus dans la cohorte.",
        ));
    };
    let stay = stay_of(open).ok_or_else(|| AppError::Internal("séjour illisible".into()))?;
    if let Err(e) = may_leave(stay, on, period_of(&cohort)?) {
        return Err(AppError::field("left_on", e.0));
    }
    if !store::cohorts::leave(&mut tx.conn(), id, person, on, reason, note).await? {
        return Err(AppError::field(
            "left_on",
            "Cette personne n'est plus dans la cohorte.",
        ));
    }
    caller
        .audit(
            &mut tx.conn(),
            app.now(),
            FileEvent::Cohort.as_str(),
            ("person", Some(person.0)),
            Some(cohort.territory_id),
            &format!(
                "sortie de la cohorte « {} » le {} : {}",
                cohort.name,
                domain::french_date(on),
                reason.label()
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
