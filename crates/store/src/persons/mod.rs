//! Person files, one module per part: the file itself, health data, the scoped lists, the
//! follow-up group, consent, the journal, merges and retention. Every list, search and count
//! takes a [`Scope`]: the need-to-know predicate is written once, in `scope`, and no query over
//! persons exists without it — except [`access`], which answers for one person what the caller
//! is to them, and [`imported`], which finds the files a partner's rows were imported into
//! (ids only: what may be shown of them goes through [`visible`]).

mod consent;
mod file;
mod group;
mod health;
mod imports;
mod journal;
mod lists;
mod merge;
mod retention;
mod scope;

pub use consent::*;
pub use file::*;
pub use group::*;
pub use health::*;
pub use imports::*;
pub use journal::*;
pub use lists::*;
pub use merge::*;
pub use retention::*;
pub use scope::Scope;

use domain::{Field, PersonId, TerritoryId, UserId};

use crate::{Backend, Conn, OptionalExt, StoreError, run};

/// Fields of action read from `person_needs` (aggregated as `a|b` in one column), in the
/// vademecum's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs(pub Vec<Field>);

impl From<String> for Needs {
    fn from(list: String) -> Needs {
        let mut fields: Vec<Field> = list.split('|').filter_map(Field::from_code).collect();
        fields.sort();
        fields.dedup();
        Needs(fields)
    }
}

impl Needs {
    pub fn contains(&self, f: Field) -> bool {
        self.0.contains(&f)
    }
}

/// `expr` aggregated as `a|b` over the rows of a subquery (each backend has its own function).
pub(crate) fn list_agg(backend: Backend, expr: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({expr}, '|')"),
        Backend::Postgres => format!("string_agg({expr}, '|')"),
    }
}

/// The needs the whole group sees, as one column over `persons p`.
pub(crate) fn needs_column(backend: Backend) -> String {
    format!(
        "COALESCE((SELECT {} FROM person_needs n WHERE n.person_id = p.id), '') AS need_fields",
        list_agg(backend, "n.field")
    )
}

/// What a user is to one person: enough to decide every access, in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessRow {
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    /// The territory's zone (for the dates typed on the file).
    pub time_zone: String,
    pub merged_into: Option<i64>,
    pub archived_on: Option<String>,
    /// Present when the user is a current member of the person's follow-up group.
    pub member_id: Option<i64>,
    pub is_referent: Option<bool>,
    pub health_access: Option<bool>,
}

pub async fn access(
    c: &mut Conn<'_>,
    person: PersonId,
    user: UserId,
) -> Result<Option<AccessRow>, StoreError> {
    access_row(c, person, user, "").await
}

/// [`access`] inside a write transaction: on PostgreSQL the person's row is locked until the
/// transaction ends, so the check holds for the write it guards (SQLite's `BEGIN IMMEDIATE`
/// already holds the single write lock).
pub async fn access_for_write(
    c: &mut Conn<'_>,
    person: PersonId,
    user: UserId,
) -> Result<Option<AccessRow>, StoreError> {
    let lock = match c {
        Conn::Sqlite(_) => "",
        Conn::Postgres(_) => " FOR UPDATE OF p",
    };
    access_row(c, person, user, lock).await
}

async fn access_row(
    c: &mut Conn<'_>,
    person: PersonId,
    user: UserId,
    lock: &str,
) -> Result<Option<AccessRow>, StoreError> {
    let sql = format!(
        "SELECT p.territory_id, t.time_zone, p.merged_into, p.archived_on, m.id AS member_id, m.is_referent, m.health_access
         FROM persons p JOIN territories t ON t.id = p.territory_id
           LEFT JOIN person_members m ON m.person_id = p.id AND m.user_id = $2 AND m.ended_at IS NULL
         WHERE p.id = $1
         ORDER BY m.is_referent DESC LIMIT 1{lock}"
    );
    run!(c, |c| sqlx::query_as(&sql)
        .bind(person.0)
        .bind(user.0)
        .fetch_one(&mut **c)
        .await)
    .optional()
}
