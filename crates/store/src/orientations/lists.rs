//! Lists of orientations: received by an organisation, sent for the persons a caller follows,
//! and the delays receivers answer in. Each is one query for the page (and one for its counts).

use chrono::{DateTime, Utc};
use domain::orientation::Status;
use domain::{OrganisationId, OrientationId, ServiceId, TerritoryId, UserId};

use crate::persons::Scope;
use crate::sql::Sql;
use crate::{Conn, StoreError};

/// What a list is narrowed to (every criterion optional).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    /// The organisation on the other side: the sender's for a received list, the receiver's
    /// for a sent one.
    pub organisation: Option<OrganisationId>,
    pub service: Option<ServiceId>,
    pub sent_from: Option<DateTime<Utc>>,
    pub sent_before: Option<DateTime<Utc>>,
    /// Only those this user sent (a sent list).
    pub sent_by: Option<UserId>,
    pub limit: i64,
    pub offset: i64,
}

/// One line of a list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListRow {
    #[sqlx(try_from = "i64")]
    pub id: OrientationId,
    pub person_id: i64,
    /// `None` where the receiver may no longer see who it was (closed without acceptance).
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub status_on: String,
    pub sent_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub entered_on: Option<String>,
    pub service_name: String,
    pub receiver_name: String,
    pub sender_name: Option<String>,
    pub sender_org_name: Option<String>,
    pub previous_id: Option<i64>,
}

/// The statuses after which the receiving organisation keeps knowing who the person is: it
/// accepted them, within the consent's scope. Declined, expired or cancelled, it does not.
const RECEIVER_KEEPS_NAME: &str =
    "('envoyee', 'a-l-etude', 'acceptee', 'entree', 'absente', 'terminee')";

fn select(names_for_receiver: bool) -> String {
    let name = |column: &str| {
        if names_for_receiver {
            format!("CASE WHEN o.status IN {RECEIVER_KEEPS_NAME} THEN p.{column} END AS {column}")
        } else {
            format!("p.{column}")
        }
    };
    format!(
        "SELECT o.id, o.person_id, {}, {}, o.status, o.status_on, o.sent_at, o.answered_at,
           o.entered_on, o.service_name, o.receiver_name, su.display_name AS sender_name,
           so.name AS sender_org_name, o.previous_id
         FROM orientations o JOIN persons p ON p.id = o.person_id
           LEFT JOIN users su ON su.id = o.sender_id LEFT JOIN organisations so ON so.id = o.sender_org_id
         WHERE o.id IN (SELECT o.id FROM orientations o {} WHERE ",
        name("first_name"),
        name("last_name"),
        if names_for_receiver { "" } else { "JOIN persons p ON p.id = o.person_id" },
    )
}

fn narrowed(q: &mut Sql, f: &ListFilter, other_side: &str) {
    if let Some(status) = f.status {
        q.push(" AND o.status = ").bind(status.as_str());
    }
    if let Some(org) = f.organisation {
        q.push(" AND o.").push(other_side).push(" = ").bind(org);
    }
    if let Some(service) = f.service {
        q.push(" AND o.service_id = ").bind(service);
    }
    if let Some(from) = f.sent_from {
        q.push(" AND o.sent_at >= ").bind(from);
    }
    if let Some(before) = f.sent_before {
        q.push(" AND o.sent_at < ").bind(before);
    }
    if let Some(user) = f.sent_by {
        q.push(" AND o.sender_id = ").bind(user);
    }
}

fn received_where(q: &mut Sql, territory: TerritoryId, orgs: &[OrganisationId]) {
    q.push("o.territory_id = ")
        .bind(territory)
        .push(" AND o.receiver_org_id IN ")
        .bind_list(orgs.iter().copied());
}

/// The most recent first: the page's ids are chosen from the indexes alone, then only those
/// lines are joined to their names (so the cost does not grow with the matching rows).
fn page(q: &mut Sql, f: &ListFilter) {
    q.push(" ORDER BY o.sent_at DESC, o.id DESC LIMIT ")
        .bind(f.limit.clamp(1, 500))
        .push(" OFFSET ")
        .bind(f.offset.max(0))
        .push(") ORDER BY o.sent_at DESC, o.id DESC");
}

/// What organisations `orgs` received in a territory (their professionals' inbox).
pub async fn received(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    orgs: &[OrganisationId],
    f: &ListFilter,
) -> Result<Vec<ListRow>, StoreError> {
    let mut q = Sql::new(&select(true));
    received_where(&mut q, territory, orgs);
    narrowed(&mut q, f, "sender_org_id");
    page(&mut q, f);
    q.fetch_all(c).await
}

/// How many of those each status holds (the filter's other criteria applied).
pub async fn received_counts(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    orgs: &[OrganisationId],
    f: &ListFilter,
) -> Result<Vec<(Status, i64)>, StoreError> {
    let mut q = Sql::new("SELECT o.status, COUNT(*) FROM orientations o WHERE ");
    received_where(&mut q, territory, orgs);
    let f = ListFilter {
        status: None,
        ..f.clone()
    };
    narrowed(&mut q, &f, "sender_org_id");
    q.push(" GROUP BY o.status");
    counts(c, q).await
}

async fn counts(c: &mut Conn<'_>, q: Sql) -> Result<Vec<(Status, i64)>, StoreError> {
    let rows: Vec<(String, i64)> = q.fetch_all(c).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, n)| Status::from_code(&s).map(|s| (s, n)))
        .collect())
}

/// The orientations of the persons within `scope` (a sent list: the group's, or the whole
/// territory's for its coordinators).
pub async fn sent(
    c: &mut Conn<'_>,
    scope: &Scope,
    f: &ListFilter,
) -> Result<Vec<ListRow>, StoreError> {
    if matches!(scope, Scope::Aggregate { .. }) {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(&select(false));
    q.push("o.territory_id = ")
        .bind(scope.territory())
        .push(" AND ");
    scope.rows(&mut q);
    followed(&mut q, scope);
    narrowed(&mut q, f, "receiver_org_id");
    page(&mut q, f);
    q.fetch_all(c).await
}

pub async fn sent_counts(
    c: &mut Conn<'_>,
    scope: &Scope,
    f: &ListFilter,
) -> Result<Vec<(Status, i64)>, StoreError> {
    // The coordinators' counts cover the territory's orientations (no person is shown); a
    // group's go through its persons; pilots read indicators, not this list.
    let mut q = match scope {
        Scope::Aggregate { .. } => return Ok(Vec::new()),
        Scope::Territory { .. } => Sql::new("SELECT o.status, COUNT(*) FROM orientations o WHERE "),
        Scope::Group { .. } => {
            let mut q = Sql::new(
                "SELECT o.status, COUNT(*) FROM orientations o JOIN persons p ON p.id = o.person_id WHERE ",
            );
            scope.rows(&mut q);
            followed(&mut q, scope);
            q.push(" AND ");
            q
        }
    };
    q.push("o.territory_id = ").bind(scope.territory());
    let f = ListFilter {
        status: None,
        ..f.clone()
    };
    narrowed(&mut q, &f, "receiver_org_id");
    q.push(" GROUP BY o.status");
    counts(c, q).await
}

/// For a group's scope, the persons the user follows, spelled out so that the planner starts
/// from their few hundred files rather than from every orientation of the territory (the
/// scope's own predicate stays: this only narrows it).
fn followed(q: &mut Sql, scope: &Scope) {
    if let (Scope::Group { .. }, Some(user)) = (scope, scope.user()) {
        q.push(
            " AND o.person_id IN (SELECT fm.person_id FROM person_members fm WHERE fm.user_id = ",
        )
        .bind(user)
        .push(" AND fm.ended_at IS NULL)");
    }
}

/// Who answers: a service of the directory, or an organisation.
#[derive(Debug, Clone, Copy)]
pub enum Answering {
    Service(ServiceId),
    Organisation(OrganisationId),
}

/// The (sent, answered) instants of the last answers of a service or an organisation since
/// `since` (at most 500, the most recent).
pub async fn answer_delays(
    c: &mut Conn<'_>,
    who: Answering,
    since: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, StoreError> {
    let mut q = Sql::new("SELECT sent_at, answered_at FROM orientations WHERE ");
    match who {
        Answering::Service(s) => q.push("service_id = ").bind(s),
        Answering::Organisation(o) => q.push("receiver_org_id = ").bind(o),
    };
    q.push(" AND answered_at IS NOT NULL AND answered_at >= ")
        .bind(since)
        .push(" ORDER BY answered_at DESC LIMIT 500");
    q.fetch_all(c).await
}

/// The answers of several organisations since `since` (organisation, sent, answered), the most
/// recent 5 000 at most, in one query (the send form shows each partner's delay).
pub async fn answer_delays_of(
    c: &mut Conn<'_>,
    orgs: &[OrganisationId],
    since: DateTime<Utc>,
) -> Result<Vec<(i64, DateTime<Utc>, DateTime<Utc>)>, StoreError> {
    if orgs.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(
        "SELECT receiver_org_id, sent_at, answered_at FROM orientations WHERE receiver_org_id IN ",
    );
    q.bind_list(orgs.iter().copied())
        .push(" AND answered_at IS NOT NULL AND answered_at >= ")
        .bind(since)
        .push(" ORDER BY answered_at DESC LIMIT 5000");
    q.fetch_all(c).await
}

/// Open orientations waiting for an answer: received by `orgs` in the territory, and sent by
/// `user` (the home page).
pub async fn waiting(
    c: &mut Conn<'_>,
    territory: TerritoryId,
    orgs: &[OrganisationId],
    user: UserId,
) -> Result<(i64, i64), StoreError> {
    let mut q = Sql::new("SELECT (SELECT COUNT(*) FROM orientations o WHERE ");
    received_where(&mut q, territory, orgs);
    q.push(" AND o.status IN ('envoyee', 'a-l-etude')), (SELECT COUNT(*) FROM orientations o WHERE o.territory_id = ")
        .bind(territory)
        .push(" AND o.sender_id = ")
        .bind(user)
        .push(" AND o.status IN ('envoyee', 'a-l-etude'))");
    let rows: Vec<(i64, i64)> = q.fetch_all(c).await?;
    Ok(rows.first().copied().unwrap_or((0, 0)))
}
