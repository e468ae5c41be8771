//! Whose persons a query may return.

use domain::{TerritoryId, UserId};

use crate::sql::Sql;

/// Whose persons a query may return. Ids are bound as parameters by [`Sql`], never written
/// into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The people of one territory whose follow-up group the user belongs to now.
    Group {
        user: UserId,
        territory: TerritoryId,
    },
    /// Every person of the territory: its coordinators.
    Territory {
        user: UserId,
        territory: TerritoryId,
    },
    /// Counts only (pilots): list queries return no row, counts cover the territory.
    Aggregate { territory: TerritoryId },
}

impl Scope {
    pub fn territory(&self) -> TerritoryId {
        match *self {
            Scope::Group { territory, .. }
            | Scope::Territory { territory, .. }
            | Scope::Aggregate { territory } => territory,
        }
    }

    /// The user whose group and health permissions matter (none for aggregates).
    pub fn user(&self) -> Option<UserId> {
        match *self {
            Scope::Group { user, .. } | Scope::Territory { user, .. } => Some(user),
            Scope::Aggregate { .. } => None,
        }
    }

    pub fn whole_territory(&self) -> bool {
        matches!(self, Scope::Territory { .. })
    }

    /// The files of the territory that are live (not merged away, not archived).
    fn live(&self, q: &mut Sql) {
        q.push("p.territory_id = ")
            .bind(self.territory())
            .push(" AND p.merged_into IS NULL AND p.archived_on IS NULL");
    }

    /// The predicate over `persons p` for queries that return persons: an aggregate scope
    /// matches nothing, by construction.
    pub(crate) fn rows(&self, q: &mut Sql) {
        match self {
            Scope::Aggregate { .. } => {
                q.push("1 = 0");
            }
            Scope::Territory { .. } => self.live(q),
            Scope::Group { .. } => {
                self.live(q);
                q.push(" AND ");
                self.member(q);
            }
        }
    }

    /// The predicate for counts: aggregates cover the territory.
    pub(crate) fn counted(&self, q: &mut Sql) {
        match self {
            Scope::Group { .. } => self.rows(q),
            Scope::Territory { .. } | Scope::Aggregate { .. } => self.live(q),
        }
    }

    /// The person has a health need that this user may know of: referent, or a member
    /// explicitly allowed to see health data (coordinators are not, by their role alone).
    pub(super) fn health_need(&self, q: &mut Sql) {
        let Some(user) = self.user() else {
            q.push("1 = 0");
            return;
        };
        q.push(
            "(EXISTS (SELECT 1 FROM person_health hh WHERE hh.person_id = p.id AND hh.need)
              AND EXISTS (SELECT 1 FROM person_members hm WHERE hm.person_id = p.id AND hm.user_id = ",
        )
        .bind(user)
        .push(" AND hm.ended_at IS NULL AND (hm.is_referent OR hm.health_access)))");
    }

    /// The user belongs to the person's follow-up group now.
    pub(super) fn member(&self, q: &mut Sql) {
        let Some(user) = self.user() else {
            q.push("1 = 0");
            return;
        };
        q.push(
            "EXISTS (SELECT 1 FROM person_members sm WHERE sm.person_id = p.id AND sm.user_id = ",
        )
        .bind(user)
        .push(" AND sm.ended_at IS NULL)");
    }
}
