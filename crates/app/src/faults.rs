//! Pause points for the crash tests (docs/design.md, « Pannes de la base »): when the
//! `PASSERELLE_PAUSE_AT` variable names a point, the process announces it on its standard output
//! (« Passerelle en pause : … ») and waits there forever, in the middle of what it was doing, so
//! that a test kills it at a known moment and checks what the database holds after. Without the
//! variable — always, outside those tests — a pause point does nothing.

use std::sync::OnceLock;

/// The environment variable naming the point to stop at.
pub const VARIABLE: &str = "PASSERELLE_PAUSE_AT";
/// What the process prints when it stops.
pub const ANNOUNCE: &str = "Passerelle en pause : ";

/// Before an orientation's decision commits: its change, log row, notices and audit written.
pub const ORIENTATION_DECISION: &str = "orientation.decision";
/// Before a directory import commits: every record of the file written in its transaction.
pub const DIRECTORY_IMPORT: &str = "directory.import";

static AT: OnceLock<Option<String>> = OnceLock::new();

/// Stops here for good if the variable names this point.
pub async fn pause(point: &str) {
    let at = AT.get_or_init(|| std::env::var(VARIABLE).ok().filter(|v| !v.is_empty()));
    if at.as_deref() == Some(point) {
        println!("{ANNOUNCE}{point}");
        tracing::warn!(point, "paused for a crash test");
        std::future::pending::<()>().await;
    }
}
