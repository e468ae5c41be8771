//! Collective actions: the action, its organisations and employers, and the persons invited,
//! registered and present (docs/domain.md §11).

use chrono::{DateTime, NaiveDate, Utc};
use domain::cohort::{ActionKind, Attendance, Registration};
use domain::{
    CohortId, CollectiveActionId, EmployerId, Field, OrganisationId, PersonId, TerritoryId, UserId,
};

use crate::sql::Sql;
use crate::{Conn, StoreError};

#[derive(Debug, Clone)]
pub struct NewAction<'a> {
    pub territory: TerritoryId,
    pub kind: ActionKind,
    pub title: &'a str,
    pub held_on: NaiveDate,
    pub starts_at: &'a str,
    pub ends_at: &'a str,
    pub place: &'a str,
    pub capacity: Option<i64>,
    pub field: Option<Field>,
    pub description: &'a str,
    pub cohort: Option<CohortId>,
    pub organisers: &'a [OrganisationId],
    pub partners: &'a [OrganisationId],
    pub employers: &'a [EmployerId],
    pub created_by: UserId,
}

pub async fn create(
    c: &mut Conn<'_>,
    a: &NewAction<'_>,
    now: DateTime<Utc>,
) -> Result<CollectiveActionId, StoreError> {
    let mut q = Sql::new(
        "INSERT INTO collective_actions (territory_id, kind, title, held_on, starts_at, ends_at, place, capacity, field,
           description, cohort_id, created_by, created_at, updated_at) VALUES (",
    );
    q.bind(a.territory)
        .push(", ")
        .bind(a.kind.as_str())
        .push(", ")
        .bind(a.title)
        .push(", ")
        .bind(a.held_on)
        .push(", ")
        .bind(a.starts_at)
        .push(", ")
        .bind(a.ends_at)
        .push(", ")
        .bind(a.place)
        .push(", ");
    q.bind_or_null(a.capacity, "INTEGER").push(", ");
    q.bind_or_null(a.field.map(Field::as_str), "TEXT")
        .push(", ")
        .bind(a.description)
        .push(", ");
    q.bind_or_null(a.cohort, "BIGINT")
        .push(", ")
        .bind(a.created_by)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(") RETURNING id");
    let id = CollectiveActionId(q.fetch_scalar::<i64>(c).await?);
    let orgs: Vec<(OrganisationId, bool)> = a
        .organisers
        .iter()
        .map(|o| (*o, true))
        .chain(
            a.partners
                .iter()
                .filter(|p| !a.organisers.contains(p))
                .map(|o| (*o, false)),
        )
        .collect();
    if !orgs.is_empty() {
        let mut q = Sql::new(
            "INSERT INTO action_organisations (action_id, organisation_id, organiser) VALUES ",
        );
        q.join(&orgs, ", ", |q, (o, organiser)| {
            q.push("(")
                .bind(id)
                .push(", ")
                .bind(*o)
                .push(", ")
                .bind(*organiser)
                .push(")");
        });
        q.execute(c).await?;
    }
    if !a.employers.is_empty() {
        let mut q = Sql::new("INSERT INTO action_employers (action_id, employer_id) VALUES ");
        q.join(a.employers, ", ", |q, e| {
            q.push("(").bind(id).push(", ").bind(*e).push(")");
        });
        q.execute(c).await?;
    }
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActionRow {
    #[sqlx(try_from = "i64")]
    pub id: CollectiveActionId,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    #[sqlx(try_from = "String")]
    pub kind: ActionKind,
    pub title: String,
    pub held_on: String,
    pub starts_at: String,
    pub ends_at: String,
    pub place: String,
    pub capacity: Option<i32>,
    pub field: Option<String>,
    pub description: String,
    pub cohort_id: Option<i64>,
    pub cohort_name: Option<String>,
    pub created_by: Option<i64>,
    pub registered: i64,
    pub invited: i64,
    pub present: i64,
    pub absent: i64,
    pub excused: i64,
    /// `id:name:1|id:name:0` — 1 for an organiser.
    pub organisations: String,
    /// `id:name|…`
    pub employers: String,
}

impl ActionRow {
    pub fn organisations(&self) -> Vec<(OrganisationId, String, bool)> {
        self.organisations
            .split('|')
            .filter_map(|x| {
                let (id, rest) = x.split_once(':')?;
                let (name, organiser) = rest.rsplit_once(':')?;
                Some((
                    OrganisationId(id.parse().ok()?),
                    name.to_string(),
                    organiser == "1",
                ))
            })
            .collect()
    }

    pub fn employers(&self) -> Vec<(EmployerId, String)> {
        pairs(&self.employers)
            .into_iter()
            .map(|(i, n)| (EmployerId(i), n))
            .collect()
    }

    pub fn held_on(&self) -> Option<NaiveDate> {
        domain::parse_date(&self.held_on).ok()
    }
}

/// `id:name|id:name` read back.
pub fn pairs(joined: &str) -> Vec<(i64, String)> {
    joined
        .split('|')
        .filter_map(|x| {
            let (id, name) = x.split_once(':')?;
            Some((id.parse().ok()?, name.to_string()))
        })
        .collect()
}

fn columns(c: &Conn<'_>) -> String {
    let agg = |e: &str| crate::persons::list_agg(c.backend(), e);
    format!(
        "a.id, a.territory_id, a.kind, a.title, a.held_on, a.starts_at, a.ends_at, a.place, a.capacity, a.field,
         a.description, a.cohort_id, k.name AS cohort_name, a.created_by,
         (SELECT COUNT(*) FROM action_registrations r WHERE r.action_id = a.id AND r.status = 'inscrite') AS registered,
         (SELECT COUNT(*) FROM action_registrations r WHERE r.action_id = a.id AND r.status = 'invitee') AS invited,
         (SELECT COUNT(*) FROM action_registrations r WHERE r.action_id = a.id AND r.attendance = 'present') AS present,
         (SELECT COUNT(*) FROM action_registrations r WHERE r.action_id = a.id AND r.attendance = 'absent') AS absent,
         (SELECT COUNT(*) FROM action_registrations r WHERE r.action_id = a.id AND r.attendance = 'excuse') AS excused,
         COALESCE((SELECT {} FROM action_organisations ao JOIN organisations o ON o.id = ao.organisation_id WHERE ao.action_id = a.id), '') AS organisations,
         COALESCE((SELECT {} FROM action_employers ae JOIN employers e ON e.id = ae.employer_id WHERE ae.action_id = a.id), '') AS employers
         FROM collective_actions a LEFT JOIN cohorts k ON k.id = a.cohort_id",
        agg("CAST(o.id AS TEXT) || ':' || o.name || ':' || CASE WHEN ao.organiser THEN '1' ELSE '0' END"),
        agg("CAST(e.id AS TEXT) || ':' || e.name"),
    )
}

/// A territory's actions, the coming ones first then the past ones, most recent first.
pub async fn list(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    cohort: Option<CohortId>,
    employer: Option<EmployerId>,
) -> Result<Vec<ActionRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(&columns(c))
        .push(" WHERE a.territory_id = ")
        .bind(territory);
    if let Some(k) = cohort {
        q.push(" AND a.cohort_id = ").bind(k);
    }
    if let Some(e) = employer {
        q.push(" AND EXISTS (SELECT 1 FROM action_employers x WHERE x.action_id = a.id AND x.employer_id = ")
            .bind(e)
            .push(")");
    }
    q.push(" ORDER BY a.held_on DESC, a.starts_at DESC, a.id DESC LIMIT 500");
    q.fetch_all(c).await
}

pub async fn get(
    c: &mut Conn<'_>,
    id: CollectiveActionId,
) -> Result<Option<ActionRow>, StoreError> {
    let mut q = Sql::new("SELECT ");
    q.push(&columns(c)).push(" WHERE a.id = ").bind(id);
    Ok(q.fetch_all(c).await?.into_iter().next())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistrationRow {
    #[sqlx(try_from = "i64")]
    pub person_id: PersonId,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: Registration,
    pub invitation_mailed_at: Option<DateTime<Utc>>,
    pub attendance: Option<String>,
    pub visible: bool,
}

impl RegistrationRow {
    pub fn attendance(&self) -> Option<Attendance> {
        self.attendance.as_deref().and_then(Attendance::from_code)
    }
}

/// Everyone invited or registered; `visible` says whom the scope may name (the caller blanks
/// the others' names and counts them).
pub async fn registrations(
    c: &mut Conn<'_>,
    action: CollectiveActionId,
    scope: &crate::persons::Scope,
) -> Result<Vec<RegistrationRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT r.person_id, p.first_name, p.last_name, p.email, r.status, r.invitation_mailed_at, r.attendance,
           CASE WHEN ",
    );
    scope.rows(&mut q);
    q.push(
        " THEN TRUE ELSE FALSE END AS visible
         FROM action_registrations r JOIN persons p ON p.id = r.person_id WHERE r.action_id = ",
    );
    q.bind(action)
        .push(" ORDER BY p.last_name, p.first_name, p.id");
    q.fetch_all(c).await
}

/// Invites or registers persons not yet there (those already there keep their place), in one
/// statement; how many were added.
pub async fn add(
    c: &mut Conn<'_>,
    action: CollectiveActionId,
    persons: &[PersonId],
    status: Registration,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if persons.is_empty() {
        return Ok(0);
    }
    let mut q = Sql::new(
        "INSERT INTO action_registrations (action_id, person_id, status, invited_at, invited_by, registered_at) VALUES ",
    );
    q.join(persons, ", ", |q, p| {
        q.push("(")
            .bind(action)
            .push(", ")
            .bind(*p)
            .push(", ")
            .bind(status.as_str())
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(by)
            .push(", ");
        q.bind_or_null(
            (status == Registration::Inscrite).then_some(now),
            "TIMESTAMPTZ",
        )
        .push(")");
    });
    q.push(" ON CONFLICT (action_id, person_id) DO NOTHING");
    q.execute(c).await
}

/// An invited person accepts: registered. `false` when they were not invited.
pub async fn register(
    c: &mut Conn<'_>,
    action: CollectiveActionId,
    person: PersonId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Sql::new("UPDATE action_registrations SET status = 'inscrite', registered_at = ");
    q.bind(now)
        .push(" WHERE action_id = ")
        .bind(action)
        .push(" AND person_id = ")
        .bind(person)
        .push(" AND status = 'invitee'");
    Ok(q.execute(c).await? == 1)
}

pub async fn mark_mailed(
    c: &mut Conn<'_>,
    action: CollectiveActionId,
    person: PersonId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut q = Sql::new("UPDATE action_registrations SET invitation_mailed_at = ");
    q.bind(now)
        .push(" WHERE action_id = ")
        .bind(action)
        .push(" AND person_id = ")
        .bind(person);
    q.execute(c).await?;
    Ok(())
}

/// Records attendance for registered persons (the caller checked each one), in one statement.
pub async fn set_attendance(
    c: &mut Conn<'_>,
    action: CollectiveActionId,
    marks: &[(PersonId, Attendance)],
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if marks.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new("UPDATE action_registrations SET attendance = CASE person_id");
    for (person, mark) in marks {
        q.push(" WHEN ")
            .bind(*person)
            .push(" THEN ")
            .bind(mark.as_str());
    }
    q.push(" END, attendance_at = ")
        .bind(now)
        .push(", attendance_by = ")
        .bind(by)
        .push(" WHERE action_id = ")
        .bind(action)
        .push(" AND status = 'inscrite' AND person_id IN ")
        .bind_list(marks.iter().map(|(p, _)| *p));
    q.execute(c).await?;
    Ok(())
}

/// A person's actions, most recent first (their file).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonActionRow {
    #[sqlx(try_from = "i64")]
    pub id: CollectiveActionId,
    #[sqlx(try_from = "String")]
    pub kind: ActionKind,
    pub title: String,
    pub held_on: String,
    #[sqlx(try_from = "String")]
    pub status: Registration,
    pub attendance: Option<String>,
}

pub async fn of_person(
    c: &mut Conn<'_>,
    person: PersonId,
) -> Result<Vec<PersonActionRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT a.id, a.kind, a.title, a.held_on, r.status, r.attendance
         FROM action_registrations r JOIN collective_actions a ON a.id = r.action_id WHERE r.person_id = ",
    );
    q.bind(person).push(" ORDER BY a.held_on DESC, a.id DESC");
    q.fetch_all(c).await
}

/// Locks an action until the transaction ends (its capacity), as [`crate::cohorts::lock`].
pub async fn lock(c: &mut Conn<'_>, action: CollectiveActionId) -> Result<(), StoreError> {
    if let Conn::Postgres(_) = c {
        let mut q = Sql::new("SELECT id FROM collective_actions WHERE id = ");
        q.bind(action).push(" FOR UPDATE");
        let _: Vec<(i64,)> = q.fetch_all(c).await?;
    }
    Ok(())
}
