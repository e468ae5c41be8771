//! The journal of a file.

use chrono::{DateTime, NaiveDate, Utc};
use domain::person::{ContactChannel, ContactOutcome, JournalKind, Visibility};
use domain::{JournalEntryId, PersonId, UserId};

use crate::sql::{Sql, iso};
use crate::{Conn, StoreError, run};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    #[sqlx(try_from = "i64")]
    pub id: JournalEntryId,
    pub at: DateTime<Utc>,
    pub occurred_on: String,
    pub author_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub kind: JournalKind,
    pub channel: Option<String>,
    pub outcome: Option<String>,
    pub body: String,
    #[sqlx(try_from = "String")]
    pub visibility: Visibility,
}

/// The entries of the given visibilities only (the caller decides which it may read).
pub async fn journal(
    c: &mut Conn<'_>,
    person: PersonId,
    visibilities: &[Visibility],
) -> Result<Vec<Entry>, StoreError> {
    let mut q = Sql::new(
        "SELECT j.id, j.at, j.occurred_on, u.display_name AS author_name, j.kind, j.channel, j.outcome, j.body, j.visibility
         FROM person_journal j LEFT JOIN users u ON u.id = j.author_id
         WHERE j.person_id = ",
    );
    q.bind(person)
        .push(" AND j.visibility IN ")
        .bind_list(visibilities.iter().map(|v| v.as_str()))
        .push(" ORDER BY j.occurred_on DESC, j.at DESC, j.id DESC");
    q.fetch_all(c).await
}

pub struct NewEntry<'a> {
    pub person: PersonId,
    pub occurred_on: NaiveDate,
    pub author: UserId,
    pub kind: JournalKind,
    pub channel: Option<ContactChannel>,
    pub outcome: Option<ContactOutcome>,
    pub body: &'a str,
    pub visibility: Visibility,
}

pub async fn add_entry(
    c: &mut Conn<'_>,
    e: &NewEntry<'_>,
    now: DateTime<Utc>,
) -> Result<JournalEntryId, StoreError> {
    let id: i64 = run!(c, |c| {
        sqlx::query_scalar(
        "INSERT INTO person_journal (person_id, at, occurred_on, author_id, kind, channel, outcome, body, visibility)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
    )
    .bind(e.person.0)
    .bind(now)
    .bind(iso(e.occurred_on))
    .bind(e.author.0)
    .bind(e.kind.as_str())
    .bind(e.channel.map(ContactChannel::as_str))
    .bind(e.outcome.map(ContactOutcome::as_str))
    .bind(e.body)
    .bind(e.visibility.as_str())
    .fetch_one(&mut **c)
    .await
    })?;
    Ok(JournalEntryId(id))
}
