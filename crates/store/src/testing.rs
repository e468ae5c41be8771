//! Test support: each test owns a fresh, migrated database on the backend it asks for.
//! PostgreSQL tests create a database named after a random id on the server given by
//! `PASSERELLE_TEST_POSTGRES_URL` (default: the local trust-auth server) and drop it afterwards.
//! A PostgreSQL that cannot be reached fails the test: it is never skipped.

use crate::{Db, PoolSettings};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn postgres_admin_url() -> String {
    std::env::var("PASSERELLE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        let db = Db::connect(&url, &PoolSettings::default())
            .await
            .expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        TestDb {
            db,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    pub async fn postgres() -> TestDb {
        let (url, admin_url, name) = create_postgres_database().await;
        let db = Db::connect(&url, &PoolSettings::default())
            .await
            .expect("open PostgreSQL test database");
        db.migrate().await.expect("migrate PostgreSQL");
        TestDb {
            db,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// A database migrated up to `version` only (to test what later migrations do to data).
    pub async fn at_version(backend: crate::Backend, version: i64) -> TestDb {
        let (url, cleanup) = match backend {
            crate::Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                (url, Cleanup::Sqlite(dir))
            }
            crate::Backend::Postgres => {
                let (url, admin_url, name) = create_postgres_database().await;
                (url, Cleanup::Postgres { admin_url, name })
            }
        };
        let db = Db::connect(&url, &PoolSettings::default())
            .await
            .expect("open the test database");
        db.migrate_to(version).await.expect("migrate");
        TestDb { db, url, cleanup }
    }

    /// Another pool on the same database that refuses every write, as a read-only file or a
    /// database in maintenance does.
    pub async fn read_only(&self) -> Db {
        let url = if self.url.starts_with("sqlite:") {
            self.url.replace("mode=rwc", "mode=ro")
        } else {
            let separator = if self.url.contains('?') { '&' } else { '?' };
            format!(
                "{}{separator}options=-c%20default_transaction_read_only%3Don",
                self.url
            )
        };
        Db::connect(&url, &PoolSettings::default())
            .await
            .expect("open the database read-only")
    }

    pub async fn new(backend: crate::Backend) -> TestDb {
        match backend {
            crate::Backend::Sqlite => TestDb::sqlite().await,
            crate::Backend::Postgres => TestDb::postgres().await,
        }
    }
}

pub use crate::scratch::{create_postgres_database_at, drop_postgres_database};

/// Creates an empty PostgreSQL database on the test server; returns its URL, the admin URL
/// and its name.
pub async fn create_postgres_database() -> (String, String, String) {
    let admin_url = postgres_admin_url();
    match create_postgres_database_at(&admin_url).await {
        Ok((url, name)) => (url, admin_url, name),
        Err(e) => panic!(
            "PostgreSQL is required for the tests and is not reachable: {e}. Start it with scripts/setup --test."
        ),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            drop_postgres_database(admin_url, name);
        }
    }
}

/// Declares each test twice, once per backend: `mod name { fn sqlite(); fn postgres(); }`.
///
/// ```ignore
/// store::both_backends! {
///     async fn a_user_is_found_by_email(db) { … }
/// }
/// ```
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($db:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let test_db = $crate::testing::TestDb::sqlite().await;
                let $db = test_db.db.clone();
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let test_db = $crate::testing::TestDb::postgres().await;
                let $db = test_db.db.clone();
                $body
                $db.close().await;
            }
        }
    )*};
}
