//! Bulk imports of persons (docs/imports.md): the uploaded file while it waits, the column
//! mapping chosen on screen, the state of the import and its report. The persons themselves
//! are written through `persons` (`persons::mark_imported` ties a file to its row).

use chrono::{DateTime, Utc};
use domain::{OrganisationId, TerritoryId, UserId};

use crate::{Conn, OptionalExt, StoreError, exec, run};

/// An import as listed and shown (without the file's content).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonImport {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    pub organisation_id: Option<i64>,
    #[sqlx(try_from = "i64")]
    pub user_id: UserId,
    pub file_name: String,
    pub file_sha256: String,
    pub header: String,
    pub row_count: i64,
    pub mapping: Option<String>,
    pub mode: Option<String>,
    pub create_duplicates: bool,
    pub state: String,
    pub counts: Option<String>,
    pub rows_done: i64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Whether the file is still kept.
    pub has_content: bool,
}

const COLUMNS: &str = "id, territory_id, organisation_id, user_id, file_name, file_sha256, header, row_count,
    mapping, mode, create_duplicates, state, counts, rows_done, error, created_at, updated_at, finished_at,
    content IS NOT NULL AS has_content";

/// A file just uploaded, already read once (its header and row count are known).
#[derive(Debug, Clone, Copy)]
pub struct NewImport<'a> {
    pub territory: TerritoryId,
    pub organisation: Option<OrganisationId>,
    pub user: UserId,
    pub file_name: &'a str,
    pub file_sha256: &'a str,
    pub content: &'a [u8],
    pub header: &'a str,
    pub row_count: i64,
    pub mapping: &'a str,
}

pub async fn create(
    c: &mut Conn<'_>,
    i: &NewImport<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sql = "INSERT INTO person_imports (territory_id, organisation_id, user_id, file_name, file_sha256, content,
                 header, row_count, mapping, state, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'depose', $10, $10) RETURNING id";
    Ok(run!(c, |c| sqlx::query_scalar(sql)
        .bind(i.territory.0)
        .bind(i.organisation.map(|o| o.0))
        .bind(i.user.0)
        .bind(i.file_name)
        .bind(i.file_sha256)
        .bind(i.content)
        .bind(i.header)
        .bind(i.row_count)
        .bind(i.mapping)
        .bind(now)
        .fetch_one(&mut **c)
        .await)?)
}

pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<PersonImport>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM person_imports WHERE id = $1");
    run!(c, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// The file of an import, while it is kept.
pub async fn content(c: &mut Conn<'_>, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    let sql = "SELECT content FROM person_imports WHERE id = $1";
    let found: Option<Option<Vec<u8>>> = run!(c, |c| sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&mut **c)
        .await)
    .optional()?;
    Ok(found.flatten())
}

/// The report of the last dry run or of the import, as CSV.
pub async fn report(c: &mut Conn<'_>, id: i64) -> Result<Option<String>, StoreError> {
    let sql = "SELECT report FROM person_imports WHERE id = $1";
    let found: Option<Option<String>> = run!(c, |c| sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&mut **c)
        .await)
    .optional()?;
    Ok(found.flatten())
}

/// An account's imports, the most recent first.
pub async fn of_user(
    c: &mut Conn<'_>,
    user: UserId,
    territory: TerritoryId,
    limit: i64,
) -> Result<Vec<PersonImport>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM person_imports WHERE user_id = $1 AND territory_id = $2
         ORDER BY created_at DESC, id DESC LIMIT $3"
    );
    Ok(run!(c, |c| sqlx::query_as(&sql)
        .bind(user.0)
        .bind(territory.0)
        .bind(limit)
        .fetch_all(&mut **c)
        .await)?)
}

/// The user asks for a dry run with this mapping (its job is queued in the same transaction).
/// Only while the import has not been launched and its file is kept; false otherwise.
pub async fn request_simulation(
    c: &mut Conn<'_>,
    id: i64,
    mapping: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = exec!(c, |c| sqlx::query(
        "UPDATE person_imports SET mapping = $2, state = 'en-simulation', updated_at = $3
         WHERE id = $1 AND state IN ('depose', 'simule') AND content IS NOT NULL"
    )
    .bind(id)
    .bind(mapping)
    .bind(now))?;
    Ok(n == 1)
}

/// A dry run's outcome: its counts and report. Only while that dry run is asked for; false
/// otherwise (the import was abandoned meanwhile).
pub async fn simulated(
    c: &mut Conn<'_>,
    id: i64,
    counts: &str,
    report: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = exec!(c, |c| sqlx::query(
        "UPDATE person_imports SET counts = $2, report = $3, state = 'simule', updated_at = $4
         WHERE id = $1 AND state = 'en-simulation'"
    )
    .bind(id)
    .bind(counts)
    .bind(report)
    .bind(now))?;
    Ok(n == 1)
}

/// The user asks for the import itself (its job is queued in the same transaction). Only
/// after a dry run with this mapping; false otherwise.
pub async fn request(
    c: &mut Conn<'_>,
    id: i64,
    mode: &str,
    create_duplicates: bool,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = exec!(c, |c| {
        sqlx::query(
        "UPDATE person_imports SET mode = $2, create_duplicates = $3, state = 'en-attente', rows_done = 0,
           updated_at = $4
         WHERE id = $1 AND state = 'simule' AND content IS NOT NULL"
    )
    .bind(id)
    .bind(mode)
    .bind(create_duplicates)
    .bind(now)
    })?;
    Ok(n == 1)
}

/// The job started (or started again, after a worker died): the rows done are counted anew.
pub async fn start(c: &mut Conn<'_>, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = exec!(c, |c| sqlx::query(
        "UPDATE person_imports SET state = 'en-cours', rows_done = 0, updated_at = $2
         WHERE id = $1 AND state IN ('en-attente', 'en-cours') AND content IS NOT NULL"
    )
    .bind(id)
    .bind(now))?;
    Ok(n == 1)
}

pub async fn progress(
    c: &mut Conn<'_>,
    id: i64,
    rows_done: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec!(c, |c| sqlx::query(
        "UPDATE person_imports SET rows_done = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(rows_done)
    .bind(now))?;
    Ok(())
}

/// The end of an import: `termine`, `refuse` (nothing written) or `abandonne`. The file is
/// dropped; the counts and report stay.
pub async fn finish(
    c: &mut Conn<'_>,
    id: i64,
    state: &str,
    counts: Option<&str>,
    report: Option<&str>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = exec!(c, |c| {
        sqlx::query(
        "UPDATE person_imports SET state = $2, counts = COALESCE($3, counts), report = COALESCE($4, report),
           error = $5, content = NULL, updated_at = $6, finished_at = $6
         WHERE id = $1 AND state NOT IN ('termine', 'refuse', 'abandonne')"
    )
    .bind(id)
    .bind(state)
    .bind(counts)
    .bind(report)
    .bind(error)
    .bind(now)
    })?;
    Ok(n == 1)
}

/// Files of imports left waiting since `before` are dropped (the import is abandoned).
pub async fn abandon_stale(
    c: &mut Conn<'_>,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(exec!(c, |c| {
        sqlx::query(
        "UPDATE person_imports SET state = 'abandonne', content = NULL, updated_at = $2, finished_at = $2
         WHERE state IN ('depose', 'en-simulation', 'simule') AND updated_at < $1"
    )
    .bind(before)
    .bind(now)
    })?)
}
