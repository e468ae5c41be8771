//! The follow-up group.

use chrono::{DateTime, Utc};
use domain::person::MemberEndReason;
use domain::{GroupMemberId, OrganisationId, PersonId, UserId};

use crate::sql::Sql;
use crate::{Conn, StoreError, exec, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    #[sqlx(try_from = "i64")]
    pub id: GroupMemberId,
    pub user_id: i64,
    pub user_name: String,
    pub organisation_id: Option<i64>,
    pub organisation_name: Option<String>,
    pub is_referent: bool,
    pub health_access: bool,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
}

pub async fn members(c: &mut Conn<'_>, person: PersonId) -> Result<Vec<Member>, StoreError> {
    Ok(run!(c, |c| {
        sqlx::query_as(
        "SELECT m.id, m.user_id, u.display_name AS user_name, m.organisation_id, o.name AS organisation_name, m.is_referent,
           m.health_access, m.started_at, m.ended_at, m.end_reason
         FROM person_members m JOIN users u ON u.id = m.user_id LEFT JOIN organisations o ON o.id = m.organisation_id
         WHERE m.person_id = $1 ORDER BY m.ended_at IS NOT NULL, m.is_referent DESC, m.started_at, m.id"
    )
    .bind(person.0)
    .fetch_all(&mut **c)
    .await
    })?)
}

pub struct NewMember {
    pub person: PersonId,
    pub user: UserId,
    pub organisation: Option<OrganisationId>,
    pub is_referent: bool,
    pub health_access: bool,
    pub added_by: UserId,
}

pub async fn add_member(
    c: &mut Conn<'_>,
    m: &NewMember,
    now: DateTime<Utc>,
) -> Result<GroupMemberId, StoreError> {
    let id: i64 = run!(c, |c| {
        sqlx::query_scalar(
        "INSERT INTO person_members (person_id, user_id, organisation_id, is_referent, health_access, started_at, added_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
    )
    .bind(m.person.0)
    .bind(m.user.0)
    .bind(m.organisation.map(|o| o.0))
    .bind(m.is_referent)
    .bind(m.health_access)
    .bind(now)
    .bind(m.added_by.0)
    .fetch_one(&mut **c)
    .await
    })?;
    Ok(GroupMemberId(id))
}

/// Several members at once, in one statement (the files of an import).
pub async fn add_members(
    c: &mut Conn<'_>,
    members: &[NewMember],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for part in members.chunks(super::MAX_BINDS / 6) {
        let mut q = Sql::new(
            "INSERT INTO person_members (person_id, user_id, organisation_id, is_referent, health_access, started_at, added_by) VALUES ",
        );
        q.join(part, ", ", |q, m| {
            q.push("(")
                .bind(m.person)
                .push(", ")
                .bind(m.user)
                .push(", ")
                .bind_or_null(m.organisation, "BIGINT")
                .push(", ")
                .bind(m.is_referent)
                .push(", ")
                .bind(m.health_access)
                .push(", ")
                .bind(now)
                .push(", ")
                .bind(m.added_by)
                .push(")");
        });
        q.execute(c).await?;
    }
    Ok(())
}

/// A current member becomes the référent (with the référent's access to health data).
pub async fn promote_to_referent(
    c: &mut Conn<'_>,
    member: GroupMemberId,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "UPDATE person_members SET is_referent = TRUE, health_access = TRUE WHERE id = $1 AND ended_at IS NULL"
    )
    .bind(member.0)
    })?;
    Ok(())
}

/// Ends current memberships of a person (see [`EndWhich`]). Returns how many ended. The SQL
/// never depends on a list being non-empty: who stays is decided by the référent's own row.
pub async fn end_members(
    c: &mut Conn<'_>,
    person: PersonId,
    which: EndWhich,
    reason: MemberEndReason,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let condition = match which {
        EndWhich::One(_) => "id = $4",
        EndWhich::Referent => "is_referent",
        EndWhich::All => "1 = 1",
        EndWhich::AllButReferent => "NOT is_referent",
        // Members of the référent's organisation stay; when the référent has no organisation
        // (a coordinator) or there is no référent, every other member leaves.
        EndWhich::OutsideReferentOrganisation => {
            "NOT is_referent AND NOT EXISTS (SELECT 1 FROM person_members r
               WHERE r.person_id = person_members.person_id AND r.is_referent AND r.ended_at IS NULL
                 AND r.organisation_id IS NOT NULL AND r.organisation_id = person_members.organisation_id)"
        }
    };
    let sql = format!(
        "UPDATE person_members SET ended_at = $2, end_reason = $3 WHERE person_id = $1 AND ended_at IS NULL AND {condition}"
    );
    Ok(match which {
        EndWhich::One(id) => exec!(c, |c| sqlx::query(&sql)
            .bind(person.0)
            .bind(now)
            .bind(reason.as_str())
            .bind(id.0))?,
        _ => exec!(c, |c| sqlx::query(&sql)
            .bind(person.0)
            .bind(now)
            .bind(reason.as_str()))?,
    })
}

/// Which current members of a group [`end_members`] ends.
#[derive(Debug, Clone, Copy)]
pub enum EndWhich {
    One(GroupMemberId),
    Referent,
    All,
    /// Everyone but the référent, who keeps the file for the follow-up after an exit.
    AllButReferent,
    /// Everyone but the référent and the members of the référent's organisation.
    OutsideReferentOrganisation,
}
