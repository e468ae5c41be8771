//! Passerelle's domain: identifiers, validated values and the rules that need no I/O.
//! Everything past a handler speaks these types, never bare strings.

pub mod api;
pub mod calendar;
pub mod code;
pub mod cohort;
pub mod diagnostic;
pub mod eligibility;
pub mod employer;
pub mod exit;
pub mod field;
pub mod governance;
pub mod ids;
pub mod inclusion;
pub mod indicators;
pub mod organisation;
pub mod orientation;
pub mod person;
pub mod person_import;
pub mod qpv;
pub mod role;
pub mod second_factor;
pub mod secrecy;
pub mod territory;
pub mod values;

pub use calendar::TimeZone;
pub use code::Code;
pub use field::Field;
pub use ids::*;
pub use organisation::OrganisationKind;
pub use qpv::{Millesime, QpvCode};
pub use role::Role;
pub use territory::TerritoryStatus;
pub use values::*;
