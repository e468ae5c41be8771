//! SQL text built in pieces, with its binds. Each bound value gets its `$n` from the builder,
//! so no code numbers parameters by hand and no value is ever written into the SQL text: ids,
//! dates and words all travel as typed parameters (see `docs/design.md`).
//!
//! ```ignore
//! let mut q = Sql::new("SELECT id FROM persons p WHERE ");
//! q.push("p.territory_id = ").bind(territory).push(" AND p.status = ").bind("contacte");
//! let ids: Vec<i64> = q.fetch_scalars(&mut conn).await?;
//! ```

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::{Conn, StoreError, exec, run};

/// A value bound to a query, typed: what the two backends receive.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    /// A calendar date, stored as ISO text (`YYYY-MM-DD`) on both backends: it sorts and
    /// compares as the date does.
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Self {
        Value::Date(v)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::Instant(v)
    }
}

/// Ids of the domain bind as integers.
macro_rules! id_values {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(v.0)
            }
        }
    )*};
}
id_values!(
    domain::MeetingId,
    domain::MeetingActionId,
    domain::RoadmapActionId,
    domain::PersonId,
    domain::UserId,
    domain::TerritoryId,
    domain::OrganisationId,
    domain::GroupMemberId,
    domain::ConsentId,
    domain::JournalEntryId,
    domain::StructureId,
    domain::ServiceId,
    domain::DiagnosticId,
    domain::ObjectiveId,
    domain::PlanActionId,
    domain::SituationId,
    domain::RuleId,
    domain::OrientationId,
    domain::CohortId,
    domain::CollectiveActionId,
    domain::EmployerId,
    domain::OfferId,
    domain::ExitId,
    domain::CheckId
);

/// The ISO text a date is stored as.
pub fn iso(d: NaiveDate) -> String {
    domain::iso_date(d)
}

/// A query under construction: text and the values its `$n` placeholders stand for.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    text: String,
    binds: Vec<Value>,
}

/// Binds every value of a [`Sql`] to a sqlx query of either backend.
macro_rules! bind_values {
    ($query:expr, $binds:expr) => {{
        let mut q = $query;
        for v in $binds {
            q = match v {
                Value::Int(i) => q.bind(*i),
                Value::Float(f) => q.bind(*f),
                Value::Bool(b) => q.bind(*b),
                Value::Text(s) => q.bind(s.as_str()),
                Value::Date(d) => q.bind(iso(*d)),
                Value::Instant(t) => q.bind(*t),
            };
        }
        q
    }};
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            binds: Vec::new(),
        }
    }

    /// Appends SQL text written in the code (never a value: values go through [`Sql::bind`]).
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.binds.push(value.into());
        let _ = write!(self.text, "${}", self.binds.len());
        self
    }

    /// Appends a placeholder for `value`, or a NULL of the given SQL type (PostgreSQL needs
    /// one where it cannot infer it).
    pub fn bind_or_null<V: Into<Value>>(&mut self, value: Option<V>, sql_type: &str) -> &mut Sql {
        match value {
            Some(v) => self.bind(v),
            None => self.push("CAST(NULL AS ").push(sql_type).push(")"),
        }
    }

    /// Appends `(…)` with one placeholder per value — `(NULL)` for none, which matches nothing
    /// in `x IN (NULL)`.
    pub fn bind_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Sql {
        self.text.push('(');
        let mut first = true;
        for v in values {
            if !first {
                self.text.push_str(", ");
            }
            first = false;
            self.bind(v);
        }
        if first {
            self.text.push_str("NULL");
        }
        self.text.push(')');
        self
    }

    /// Appends the pieces written by `each`, separated by `separator`.
    pub fn join<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        separator: &str,
        mut each: impl FnMut(&mut Sql, T),
    ) -> &mut Sql {
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(separator);
            }
            each(self, item);
        }
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn binds(&self) -> &[Value] {
        &self.binds
    }

    pub async fn fetch_all<O>(&self, c: &mut Conn<'_>) -> Result<Vec<O>, StoreError>
    where
        O: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        Ok(run!(c, |c| bind_values!(
            sqlx::query_as(&self.text),
            &self.binds
        )
        .fetch_all(&mut **c)
        .await)?)
    }

    pub async fn fetch_scalar<T>(&self, c: &mut Conn<'_>) -> Result<T, StoreError>
    where
        T: Send + Unpin,
        (T,): for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>,
    {
        let (v,): (T,) = run!(c, |c| bind_values!(sqlx::query_as(&self.text), &self.binds)
            .fetch_one(&mut **c)
            .await)?;
        Ok(v)
    }

    /// Runs a statement that returns no rows; the number of rows it touched.
    pub async fn execute(&self, c: &mut Conn<'_>) -> Result<u64, StoreError> {
        Ok(exec!(c, |c| bind_values!(
            sqlx::query(&self.text),
            &self.binds
        ))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    #[test]
    fn placeholders_are_numbered_in_order_and_values_never_enter_the_text() {
        let mut q = Sql::new("SELECT 1 WHERE a = ");
        q.bind(7_i64)
            .push(" AND b IN ")
            .bind_list(["x'; DROP TABLE persons; --", "y"])
            .push(" AND c IN ")
            .bind_list(Vec::<i64>::new())
            .push(" AND d = ")
            .bind(NaiveDate::from_ymd_opt(2026, 3, 1).expect("date"));
        assert_eq!(
            q.text(),
            "SELECT 1 WHERE a = $1 AND b IN ($2, $3) AND c IN (NULL) AND d = $4"
        );
        assert_eq!(q.binds().len(), 4);
        assert!(!q.text().contains("DROP"));
    }

    #[tokio::test]
    async fn typed_binds_reach_both_backends() {
        for db in [TestDb::sqlite().await, TestDb::postgres().await] {
            let mut pooled = db.db.acquire().await.expect("connection");
            let mut q = Sql::new("SELECT CASE WHEN ");
            q.bind(2_i64)
                .push(" + 1 = 3 AND ")
                .bind("été")
                .push(" = 'été' AND ")
                .bind(NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"))
                .push(" = '2026-12-01' AND ")
                .bind(true)
                .push(" THEN 1 ELSE 0 END");
            let ok: i32 = q.fetch_scalar(&mut pooled.conn()).await.expect("query");
            assert_eq!(ok, 1, "{:?}", db.db.backend());
        }
    }
}
