//! Instance-wide settings kept in the database, shared by every server instance.

use crate::{Conn, OptionalExt, StoreError, exec, run};

pub async fn get(c: &mut Conn<'_>, key: &str) -> Result<Option<String>, StoreError> {
    let sql = "SELECT value FROM settings WHERE key = $1";
    run!(c, |c| sqlx::query_scalar(sql)
        .bind(key)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Stores `value` unless the key already has one, and returns the value that holds: the first
/// instance to start wins, the others read it.
pub async fn get_or_insert(c: &mut Conn<'_>, key: &str, value: &str) -> Result<String, StoreError> {
    let sql = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
    exec!(c, |c| sqlx::query(sql).bind(key).bind(value))?;
    Ok(get(c, key).await?.unwrap_or_else(|| value.to_string()))
}

/// Sets a value, replacing any previous one.
pub async fn put(c: &mut Conn<'_>, key: &str, value: &str) -> Result<(), StoreError> {
    let sql = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    crate::exec!(c, |c| sqlx::query(sql).bind(key).bind(value))?;
    Ok(())
}
