//! Meetings, their decisions, action items and reviewed situations, and the roadmap
//! (docs/domain.md §12). Lists are one statement each, their counts as subqueries.

use chrono::{DateTime, NaiveDate, Utc};
use domain::governance::{Axis, MeetingKind, RoadmapStatus};
use domain::indicators::Step;
use domain::{
    MeetingActionId, MeetingId, OrganisationId, PersonId, RoadmapActionId, TerritoryId, UserId,
};

use crate::sql::Sql;
use crate::{Conn, StoreError};

#[derive(Debug, Clone)]
pub struct NewMeeting<'a> {
    pub territory: TerritoryId,
    pub kind: MeetingKind,
    pub held_on: NaiveDate,
    pub title: &'a str,
    pub agenda: &'a str,
    pub notes: &'a str,
    pub attendees: &'a [OrganisationId],
    pub by: UserId,
}

async fn set_attendees(
    c: &mut Conn<'_>,
    id: MeetingId,
    attendees: &[OrganisationId],
) -> Result<(), StoreError> {
    let mut q = Sql::new("DELETE FROM meeting_attendees WHERE meeting_id = ");
    q.bind(id);
    q.execute(c).await?;
    if attendees.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new("INSERT INTO meeting_attendees (meeting_id, organisation_id) VALUES ");
    q.join(attendees, ", ", |q, o| {
        q.push("(").bind(id).push(", ").bind(*o).push(")");
    });
    q.execute(c).await?;
    Ok(())
}

pub async fn create_meeting(
    c: &mut Conn<'_>,
    m: &NewMeeting<'_>,
    now: DateTime<Utc>,
) -> Result<MeetingId, StoreError> {
    let mut q = Sql::new(
        "INSERT INTO meetings (territory_id, kind, held_on, title, agenda, notes, created_by, created_at, updated_at) VALUES (",
    );
    q.bind(m.territory)
        .push(", ")
        .bind(m.kind.as_str())
        .push(", ")
        .bind(m.held_on)
        .push(", ")
        .bind(m.title)
        .push(", ")
        .bind(m.agenda)
        .push(", ")
        .bind(m.notes)
        .push(", ")
        .bind(m.by)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(") RETURNING id");
    let id = MeetingId(q.fetch_scalar::<i64>(c).await?);
    set_attendees(c, id, m.attendees).await?;
    Ok(id)
}

/// Rewrites a meeting's date, title, agenda, notes and attendees (its kind stays).
pub async fn update_meeting(
    c: &mut Conn<'_>,
    id: MeetingId,
    m: &NewMeeting<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut q = Sql::new("UPDATE meetings SET held_on = ");
    q.bind(m.held_on)
        .push(", title = ")
        .bind(m.title)
        .push(", agenda = ")
        .bind(m.agenda)
        .push(", notes = ")
        .bind(m.notes)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id);
    q.execute(c).await?;
    set_attendees(c, id, m.attendees).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MeetingRow {
    #[sqlx(try_from = "i64")]
    pub id: MeetingId,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    #[sqlx(try_from = "String")]
    pub kind: MeetingKind,
    pub held_on: String,
    pub title: String,
    pub agenda: String,
    pub notes: String,
    pub attendees: i64,
    pub decisions: i64,
    pub open_actions: i64,
    pub cases: i64,
}

const MEETING: &str = "SELECT m.id, m.territory_id, m.kind, m.held_on, m.title, m.agenda, m.notes,
    (SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = m.id) AS attendees,
    (SELECT COUNT(*) FROM meeting_decisions d WHERE d.meeting_id = m.id) AS decisions,
    (SELECT COUNT(*) FROM meeting_actions x WHERE x.meeting_id = m.id AND x.done_on IS NULL) AS open_actions,
    (SELECT COUNT(*) FROM meeting_cases k WHERE k.meeting_id = m.id) AS cases
    FROM meetings m";

/// A territory's meetings, the latest first.
pub async fn meetings(
    c: &mut Conn<'_>,
    territory: TerritoryId,
) -> Result<Vec<MeetingRow>, StoreError> {
    let mut q = Sql::new(MEETING);
    q.push(" WHERE m.territory_id = ")
        .bind(territory)
        .push(" ORDER BY m.held_on DESC, m.id DESC");
    q.fetch_all(c).await
}

pub async fn meeting(c: &mut Conn<'_>, id: MeetingId) -> Result<Option<MeetingRow>, StoreError> {
    let mut q = Sql::new(MEETING);
    q.push(" WHERE m.id = ").bind(id);
    Ok(q.fetch_all(c).await?.into_iter().next())
}

/// The organisations that attended, by name.
pub async fn attendees(c: &mut Conn<'_>, id: MeetingId) -> Result<Vec<(i64, String)>, StoreError> {
    let mut q = Sql::new(
        "SELECT o.id, o.name FROM meeting_attendees a JOIN organisations o ON o.id = a.organisation_id WHERE a.meeting_id = ",
    );
    q.bind(id).push(" ORDER BY o.name, o.id");
    q.fetch_all(c).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DecisionRow {
    pub id: i64,
    pub text: String,
    pub recorded_at: DateTime<Utc>,
}

pub async fn decisions(c: &mut Conn<'_>, id: MeetingId) -> Result<Vec<DecisionRow>, StoreError> {
    let mut q = Sql::new("SELECT id, text, recorded_at FROM meeting_decisions WHERE meeting_id = ");
    q.bind(id).push(" ORDER BY id");
    q.fetch_all(c).await
}

pub async fn add_decision(
    c: &mut Conn<'_>,
    id: MeetingId,
    text: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut q = Sql::new(
        "INSERT INTO meeting_decisions (meeting_id, text, recorded_by, recorded_at) VALUES (",
    );
    q.bind(id)
        .push(", ")
        .bind(text)
        .push(", ")
        .bind(by)
        .push(", ")
        .bind(now)
        .push(")");
    q.execute(c).await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct NewActionItem<'a> {
    pub meeting: MeetingId,
    pub territory: TerritoryId,
    pub title: &'a str,
    pub owner: UserId,
    pub due_on: NaiveDate,
    pub by: UserId,
}

pub async fn add_action(
    c: &mut Conn<'_>,
    a: &NewActionItem<'_>,
    now: DateTime<Utc>,
) -> Result<MeetingActionId, StoreError> {
    let mut q = Sql::new(
        "INSERT INTO meeting_actions (meeting_id, territory_id, title, owner_id, due_on, created_by, created_at) VALUES (",
    );
    q.bind(a.meeting)
        .push(", ")
        .bind(a.territory)
        .push(", ")
        .bind(a.title)
        .push(", ")
        .bind(a.owner)
        .push(", ")
        .bind(a.due_on)
        .push(", ")
        .bind(a.by)
        .push(", ")
        .bind(now)
        .push(") RETURNING id");
    Ok(MeetingActionId(q.fetch_scalar::<i64>(c).await?))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActionItemRow {
    #[sqlx(try_from = "i64")]
    pub id: MeetingActionId,
    #[sqlx(try_from = "i64")]
    pub meeting_id: MeetingId,
    pub meeting_title: String,
    #[sqlx(try_from = "String")]
    pub meeting_kind: MeetingKind,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    pub title: String,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub due_on: String,
    pub done_on: Option<String>,
}

const ACTION_ITEM: &str = "SELECT x.id, x.meeting_id, m.title AS meeting_title, m.kind AS meeting_kind, x.territory_id,
    x.title, x.owner_id, u.display_name AS owner_name, x.due_on, x.done_on
    FROM meeting_actions x JOIN meetings m ON m.id = x.meeting_id LEFT JOIN users u ON u.id = x.owner_id";

pub async fn actions_of_meeting(
    c: &mut Conn<'_>,
    id: MeetingId,
) -> Result<Vec<ActionItemRow>, StoreError> {
    let mut q = Sql::new(ACTION_ITEM);
    q.push(" WHERE x.meeting_id = ")
        .bind(id)
        .push(" ORDER BY x.done_on IS NOT NULL, x.due_on, x.id");
    q.fetch_all(c).await
}

pub async fn action(
    c: &mut Conn<'_>,
    id: MeetingActionId,
) -> Result<Option<ActionItemRow>, StoreError> {
    let mut q = Sql::new(ACTION_ITEM);
    q.push(" WHERE x.id = ").bind(id);
    Ok(q.fetch_all(c).await?.into_iter().next())
}

/// The action items a user owns in a territory and has not done yet, the soonest due first.
pub async fn open_actions_of(
    c: &mut Conn<'_>,
    user: UserId,
    territory: TerritoryId,
    limit: i64,
) -> Result<Vec<ActionItemRow>, StoreError> {
    let mut q = Sql::new(ACTION_ITEM);
    q.push(" WHERE x.owner_id = ")
        .bind(user)
        .push(" AND x.territory_id = ")
        .bind(territory)
        .push(" AND x.done_on IS NULL ORDER BY x.due_on, x.id LIMIT ")
        .bind(limit);
    q.fetch_all(c).await
}

/// Marks an action item done; `false` if it already was.
pub async fn complete_action(
    c: &mut Conn<'_>,
    id: MeetingActionId,
    on: NaiveDate,
    by: UserId,
) -> Result<bool, StoreError> {
    let mut q = Sql::new("UPDATE meeting_actions SET done_on = ");
    q.bind(on)
        .push(", done_by = ")
        .bind(by)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND done_on IS NULL");
    Ok(q.execute(c).await? == 1)
}

/// The situations reviewed in a meeting: (person, note).
pub async fn cases(c: &mut Conn<'_>, id: MeetingId) -> Result<Vec<(i64, String)>, StoreError> {
    let mut q = Sql::new("SELECT person_id, note FROM meeting_cases WHERE meeting_id = ");
    q.bind(id).push(" ORDER BY added_at, person_id");
    q.fetch_all(c).await
}

/// Links a person's file to a meeting; `false` if it already was.
pub async fn add_case(
    c: &mut Conn<'_>,
    id: MeetingId,
    person: PersonId,
    note: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Sql::new(
        "INSERT INTO meeting_cases (meeting_id, person_id, note, added_by, added_at) VALUES (",
    );
    q.bind(id)
        .push(", ")
        .bind(person)
        .push(", ")
        .bind(note)
        .push(", ")
        .bind(by)
        .push(", ")
        .bind(now)
        .push(") ON CONFLICT (meeting_id, person_id) DO NOTHING");
    Ok(q.execute(c).await? == 1)
}

/// The meetings where a person's situation was reviewed (for their file), the latest first.
pub async fn meetings_of_person(
    c: &mut Conn<'_>,
    person: PersonId,
) -> Result<Vec<(i64, String, String, String)>, StoreError> {
    let mut q = Sql::new(
        "SELECT m.id, m.held_on, m.title, k.note FROM meeting_cases k JOIN meetings m ON m.id = k.meeting_id WHERE k.person_id = ",
    );
    q.bind(person).push(" ORDER BY m.held_on DESC, m.id DESC");
    q.fetch_all(c).await
}

#[derive(Debug, Clone)]
pub struct RoadmapWrite<'a> {
    pub axis: Axis,
    pub title: &'a str,
    pub description: &'a str,
    pub lead: Option<OrganisationId>,
    pub due_on: Option<NaiveDate>,
    pub indicator: &'a str,
    pub measure: Option<Step>,
    pub value: Option<i64>,
    pub target: Option<i64>,
    pub status: RoadmapStatus,
    pub progress: i64,
    pub by: UserId,
}

pub async fn create_roadmap_action(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    year: i32,
    r: &RoadmapWrite<'_>,
    now: DateTime<Utc>,
) -> Result<RoadmapActionId, StoreError> {
    let mut q = Sql::new(
        "INSERT INTO roadmap_actions (territory_id, year, axis, title, description, lead_org_id, due_on, indicator, measure,
           value, target, status, progress, created_by, created_at, updated_by, updated_at) VALUES (",
    );
    q.bind(territory)
        .push(", ")
        .bind(i64::from(year))
        .push(", ");
    roadmap_values(&mut q, r);
    q.push(", ")
        .bind(r.by)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(r.by)
        .push(", ")
        .bind(now)
        .push(") RETURNING id");
    Ok(RoadmapActionId(q.fetch_scalar::<i64>(c).await?))
}

/// axis … progress, in the columns' order.
fn roadmap_values(q: &mut Sql, r: &RoadmapWrite<'_>) {
    q.bind(r.axis.as_str())
        .push(", ")
        .bind(r.title)
        .push(", ")
        .bind(r.description)
        .push(", ");
    q.bind_or_null(r.lead, "BIGINT").push(", ");
    q.bind_or_null(r.due_on, "TEXT")
        .push(", ")
        .bind(r.indicator)
        .push(", ");
    q.bind_or_null(r.measure.map(Step::as_str), "TEXT")
        .push(", ");
    q.bind_or_null(r.value, "BIGINT").push(", ");
    q.bind_or_null(r.target, "BIGINT")
        .push(", ")
        .bind(r.status.as_str())
        .push(", ")
        .bind(r.progress);
}

pub async fn update_roadmap_action(
    c: &mut Conn<'_>,
    id: RoadmapActionId,
    r: &RoadmapWrite<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut q = Sql::new(
        "UPDATE roadmap_actions SET (axis, title, description, lead_org_id, due_on, indicator, measure, value, target, status, progress, updated_by, updated_at) = (",
    );
    roadmap_values(&mut q, r);
    q.push(", ")
        .bind(r.by)
        .push(", ")
        .bind(now)
        .push(") WHERE id = ")
        .bind(id);
    q.execute(c).await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoadmapRow {
    #[sqlx(try_from = "i64")]
    pub id: RoadmapActionId,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    pub year: i32,
    #[sqlx(try_from = "String")]
    pub axis: Axis,
    pub title: String,
    pub description: String,
    pub lead_org_id: Option<i64>,
    pub lead_name: Option<String>,
    pub due_on: Option<String>,
    pub indicator: String,
    pub measure: Option<String>,
    pub value: Option<i64>,
    pub target: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: RoadmapStatus,
    pub progress: i32,
    pub updated_at: DateTime<Utc>,
}

const ROADMAP: &str = "SELECT r.id, r.territory_id, r.year, r.axis, r.title, r.description, r.lead_org_id, o.name AS lead_name,
    r.due_on, r.indicator, r.measure, r.value, r.target, r.status, r.progress, r.updated_at
    FROM roadmap_actions r LEFT JOIN organisations o ON o.id = r.lead_org_id";

/// A territory's roadmap for a year, axis by axis.
pub async fn roadmap(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    year: i32,
) -> Result<Vec<RoadmapRow>, StoreError> {
    let mut q = Sql::new(ROADMAP);
    q.push(" WHERE r.territory_id = ")
        .bind(territory)
        .push(" AND r.year = ")
        .bind(i64::from(year))
        .push(" ORDER BY r.axis, r.id");
    q.fetch_all(c).await
}

pub async fn roadmap_action(
    c: &mut Conn<'_>,
    id: RoadmapActionId,
) -> Result<Option<RoadmapRow>, StoreError> {
    let mut q = Sql::new(ROADMAP);
    q.push(" WHERE r.id = ").bind(id);
    Ok(q.fetch_all(c).await?.into_iter().next())
}
