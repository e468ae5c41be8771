//! The diagnostic of the eight fields (drafts and signed ones, never overwritten), the
//! situations referential, the action plan, and the eligibility rules a territory writes.
//! The santé-handicap field is health data: every read takes `health` and leaves it out
//! unless the caller's gate opened it.

mod diagnostics;
mod plan;
mod rules;
mod situations;

pub use diagnostics::*;
pub use plan::*;
pub use rules::*;
pub use situations::*;

/// The field whose answers are health data.
pub(crate) const HEALTH_FIELD: &str = "sante-handicap";
