//! Persistence for Passerelle on SQLite (embedded default) and PostgreSQL (deployments).
//! One SQL text serves both backends through the native drivers: the `run!` macro compiles the
//! same query once per backend. Where a backend needs its own SQL, the function holds both
//! variants side by side. This is the only crate that writes SQL.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool};

pub mod actions;
pub mod api_tokens;
pub mod audit;
pub mod ban;
pub mod cohorts;
pub mod diagnostic;
pub mod directory;
pub mod employers;
pub mod exits;
pub mod governance;
pub mod home;
pub mod indicators;
pub mod jobs;
pub mod knowledge;
pub mod memberships;
pub mod organisations;
pub mod orientations;
pub mod outbox;
pub mod person_imports;
pub mod persons;
pub mod postgis;
pub mod proconnect;
pub mod qpv;
pub mod rights;
pub mod scale;
pub mod scratch;
pub mod second_factors;
pub mod sessions;
pub mod settings;
pub mod sql;
pub mod territories;
pub mod tokens;
pub mod users;
pub mod webhooks;

#[cfg(feature = "test-support")]
pub mod testing;

/// Runs the same SQL on whichever backend a connection belongs to. Inside the body, `$c` is a
/// `&mut &mut SqliteConnection` or a `&mut &mut PgConnection`: pass `&mut **$c` to sqlx.
#[macro_export]
macro_rules! run {
    ($conn:expr, |$c:ident| $body:expr) => {{
        $crate::queries::tick();
        match $conn {
            $crate::Conn::Sqlite($c) => $body,
            $crate::Conn::Postgres($c) => $body,
        }
    }};
}

/// Like [`run!`] for statements that return no rows: `$query` is the query before
/// `.execute`, and the result is the number of rows affected.
#[macro_export]
macro_rules! exec {
    ($conn:expr, |$c:ident| $query:expr) => {{
        $crate::queries::tick();
        match $conn {
            $crate::Conn::Sqlite($c) => $query.execute(&mut **$c).await.map(|r| r.rows_affected()),
            $crate::Conn::Postgres($c) => {
                $query.execute(&mut **$c).await.map(|r| r.rows_affected())
            }
        }
    }};
}

/// Counts the statements a piece of work sends, to prove a page's query count does not grow
/// with what it shows (N+1). Only work run inside [`queries::counted`] is counted.
pub mod queries {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    tokio::task_local! {
        static COUNTER: Arc<AtomicUsize>;
    }

    pub fn tick() {
        let _ = COUNTER.try_with(|c| c.fetch_add(1, Ordering::Relaxed));
    }

    /// Runs `work` and returns its output with the number of statements it sent.
    pub async fn counted<F: std::future::Future>(work: F) -> (F::Output, usize) {
        let counter = Arc::new(AtomicUsize::new(0));
        let out = COUNTER.scope(counter.clone(), work).await;
        (out, counter.load(Ordering::Relaxed))
    }
}

/// A connection pool to one of the two supported backends.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One connection, borrowed from a pool or a transaction; every repository function takes one.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }
}

/// A connection held from the pool for several statements outside a transaction.
pub enum Pooled {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

impl Pooled {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(c),
            Pooled::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// A database transaction: everything written through it lands together or not at all.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint refused the write; the caller knows which one from context.
    #[error("conflit d'unicité")]
    Conflict,
    /// The database cannot serve the request now; the transaction wrote nothing.
    #[error("{0}")]
    Unavailable(Outage),
    #[error(transparent)]
    Database(sqlx::Error),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value that no longer reads as what was written (a JSON definition).
    #[error("donnée enregistrée illisible : {0}")]
    Corrupt(String),
}

/// Why the database cannot serve a request (docs/design.md, « Pannes de la base »).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Unreachable: stopped, restarting, the network cut, or no connection free in time.
    Unreachable,
    /// It refuses writes (a read-only file or database, a standby, maintenance).
    ReadOnly,
    /// Its disk is full.
    Full,
}

impl std::fmt::Display for Outage {
    /// What the person who asked is told, in French (no final period: pages add what to do).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outage::Unreachable => {
                "La base de données ne répond pas pour le moment : rien n'a été enregistré"
            }
            Outage::ReadOnly => {
                "La base de données n'accepte plus d'écritures pour le moment (maintenance ou incident) : rien n'a été enregistré, et ce qui l'était reste intact"
            }
            Outage::Full => {
                "L'espace de stockage de la base de données est plein : rien n'a été enregistré, et ce qui l'était reste intact ; prévenez l'exploitant du service"
            }
        })
    }
}

impl Outage {
    /// The outage an error of the driver stands for, if it is one.
    fn of(e: &sqlx::Error) -> Option<Outage> {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Some(Outage::Unreachable)
            }
            sqlx::Error::Database(db) => {
                let code = db.code()?;
                match code.as_ref() {
                    // PostgreSQL's SQLSTATE: read-only transaction, disk full or out of
                    // resources, shutting down or starting, connection lost.
                    "25006" => Some(Outage::ReadOnly),
                    c if c.starts_with("53") => Some(Outage::Full),
                    "57P01" | "57P02" | "57P03" => Some(Outage::Unreachable),
                    c if c.starts_with("08") => Some(Outage::Unreachable),
                    // SQLite's extended result codes: the primary code is the low byte.
                    c => match c.parse::<i32>().ok().map(|n| n & 0xff) {
                        Some(8) => Some(Outage::ReadOnly),
                        Some(13) => Some(Outage::Full),
                        _ => None,
                    },
                }
            }
            _ => None,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.kind() == sqlx::error::ErrorKind::UniqueViolation
        {
            return StoreError::Conflict;
        }
        match Outage::of(&e) {
            Some(outage) => {
                tracing::warn!(error = %e, "database unavailable");
                StoreError::Unavailable(outage)
            }
            None => StoreError::Database(e),
        }
    }
}

/// Why the database could not be opened, in one French line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "adresse de base de données non reconnue « {0} » : attendu sqlite://chemin.db?mode=rwc ou postgres://utilisateur@hôte:port/base"
    )]
    UnknownScheme(String),
    #[error("adresse de base de données invalide : {0}")]
    InvalidUrl(String),
    #[error("impossible de joindre la base de données ({target}) : {cause}")]
    Unreachable { target: String, cause: String },
}

/// Options for opening the pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

impl Db {
    /// Opens a pool for `sqlite://…` or `postgres://…` (also `postgresql://…`).
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Db, ConnectError> {
        let target = redact(url);
        let unreachable = |e: sqlx::Error| ConnectError::Unreachable {
            target: target.clone(),
            cause: e.to_string(),
        };
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| ConnectError::InvalidUrl(e.to_string()))?
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(options)
                .await
                .map_err(unreachable)?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| ConnectError::InvalidUrl(e.to_string()))?
                .application_name("passerelle");
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(options)
                .await
                .map_err(unreachable)?;
            Ok(Db::Postgres(pool))
        } else {
            Err(ConnectError::UnknownScheme(target))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Brings the schema up to date with this binary's migrations (one folder per backend).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.migrate_to(i64::MAX).await
    }

    /// Applies the migrations up to `version` only: tests put data in an older schema, then
    /// migrate the rest and check what the data became.
    pub async fn migrate_to(&self, version: i64) -> Result<(), StoreError> {
        let keep = |mut m: sqlx::migrate::Migrator| {
            m.migrations = m
                .migrations
                .iter()
                .filter(|x| x.version <= version)
                .cloned()
                .collect::<Vec<_>>()
                .into();
            m
        };
        match self {
            Db::Sqlite(pool) => {
                keep(sqlx::migrate!("./migrations/sqlite"))
                    .run(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                keep(sqlx::migrate!("./migrations/postgres"))
                    .run(pool)
                    .await?
            }
        }
        Ok(())
    }

    pub async fn acquire(&self) -> Result<Pooled, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => Pooled::Sqlite(pool.acquire().await?),
            Db::Postgres(pool) => Pooled::Postgres(pool.acquire().await?),
        })
    }

    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A transaction that will write: on SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so that a check read inside it cannot be overtaken by another writer and
    /// two concurrent writers queue (within the busy timeout) instead of one failing at commit.
    /// On PostgreSQL a plain transaction; checks that must hold lock their rows.
    pub async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// True when the database answers a trivial query (for `/healthz`).
    pub async fn ping(&self) -> bool {
        let result = match self {
            Db::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
            Db::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
        };
        result.is_ok()
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }

    /// Tables and their columns, sorted, as the database reports them: the two backends'
    /// migrations must produce the same list.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(String, String)> = match self {
            Db::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'
                     ORDER BY m.name, p.name",
                )
                .fetch_all(pool)
                .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'
                     ORDER BY table_name, column_name",
                )
                .fetch_all(pool)
                .await?
            }
        };
        Ok(rows)
    }
}

/// The current instant at the precision both backends keep (microseconds), so that what is
/// written reads back equal.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A database URL without its password, fit for logs and error messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// Maps "no row" to `None`, keeping other errors.
/// A `LIKE … ESCAPE '\'` pattern matching text that contains `value` literally.
pub(crate) fn like_contains(value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub(crate) trait OptionalExt<T> {
    fn optional(self) -> Result<Option<T>, StoreError>;
}

impl<T> OptionalExt<T> for Result<T, sqlx::Error> {
    fn optional(self) -> Result<Option<T>, StoreError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(sqlx::Error::RowNotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod migration_tests;

#[cfg(test)]
mod tests {
    use crate::testing::TestDb;
    use crate::{Outage, StoreError};

    /// Refused writes are said to be refused, and what was stored stays readable.
    async fn a_read_only_database_refuses_writes_and_keeps_its_data(test: TestDb) {
        let now = crate::now();
        let kept = domain::Email::parse("garde@exemple.fr").expect("email");
        {
            let mut pooled = test.db.acquire().await.expect("connection");
            crate::users::create(&mut pooled.conn(), &kept, "Gardé", None, now)
                .await
                .expect("stored");
        }
        let read_only = test.read_only().await;
        let mut pooled = read_only.acquire().await.expect("a read-only connection");
        let other = domain::Email::parse("refuse@exemple.fr").expect("email");
        let err = crate::users::create(&mut pooled.conn(), &other, "Refusé", None, now)
            .await
            .expect_err("refused");
        assert!(
            matches!(err, StoreError::Unavailable(Outage::ReadOnly)),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("n'accepte plus d'écritures"),
            "{err}"
        );
        assert!(
            crate::users::by_email(&mut pooled.conn(), &kept)
                .await
                .expect("read")
                .is_some()
        );
    }

    #[tokio::test]
    async fn a_read_only_sqlite_database_refuses_writes_and_keeps_its_data() {
        a_read_only_database_refuses_writes_and_keeps_its_data(TestDb::sqlite().await).await;
    }

    #[tokio::test]
    async fn a_read_only_postgres_database_refuses_writes_and_keeps_its_data() {
        a_read_only_database_refuses_writes_and_keeps_its_data(TestDb::postgres().await).await;
    }

    #[tokio::test]
    async fn a_full_sqlite_database_says_so_and_rolls_the_write_back() {
        let test = TestDb::sqlite().await;
        let crate::Db::Sqlite(pool) = &test.db else {
            panic!("SQLite")
        };
        let mut conn = pool.acquire().await.expect("connection");
        // The file may not grow by one page more: as a full disk, for this connection.
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&mut *conn)
            .await
            .expect("pages");
        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
            .execute(&mut *conn)
            .await
            .expect("bounded");
        let big = "x".repeat(64 * 1024);
        let err: StoreError = sqlx::query("INSERT INTO settings (key, value) VALUES ('plein', $1)")
            .bind(&big)
            .execute(&mut *conn)
            .await
            .expect_err("full")
            .into();
        assert!(
            matches!(err, StoreError::Unavailable(Outage::Full)),
            "{err:?}"
        );
        assert!(err.to_string().contains("plein"), "{err}");
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM settings WHERE key = 'plein'")
            .fetch_one(&mut *conn)
            .await
            .expect("count");
        assert_eq!(stored, 0, "nothing half-written");
    }

    #[tokio::test]
    async fn both_backends_migrations_produce_the_same_tables_and_columns() {
        let sqlite = TestDb::sqlite().await;
        let postgres = TestDb::postgres().await;
        let a = sqlite.db.schema_columns().await.expect("SQLite schema");
        let b = postgres
            .db
            .schema_columns()
            .await
            .expect("PostgreSQL schema");
        assert!(a.iter().any(|(t, c)| t == "users" && c == "email"), "{a:?}");
        assert_eq!(a, b, "the two migration folders have drifted apart");
    }

    #[tokio::test]
    async fn an_unknown_database_url_gets_a_french_message_without_the_password() {
        let err = crate::Db::connect("mysql://u:secret@h/db", &crate::PoolSettings::default())
            .await
            .expect_err("refused");
        let message = err.to_string();
        assert!(message.contains("non reconnue"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }

    #[tokio::test]
    async fn an_unreachable_postgres_is_reported_in_one_line() {
        let settings = crate::PoolSettings {
            max_connections: 1,
            acquire_timeout: std::time::Duration::from_secs(2),
        };
        let err = crate::Db::connect("postgres://u:secret@127.0.0.1:1/db", &settings)
            .await
            .expect_err("nothing listens on port 1");
        let message = err.to_string();
        assert!(
            message.starts_with("impossible de joindre la base de données"),
            "{message}"
        );
        assert!(
            !message.contains("secret") && !message.contains('\n'),
            "{message}"
        );
    }
}
