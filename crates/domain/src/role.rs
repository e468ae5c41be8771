//! The four roles a membership can carry.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// National administrator: territories, organisations, accounts.
    Admin,
    /// Coordinator of one territory: its partners, their staff, and every person file there.
    Coordinator,
    /// Staff of a partner organisation: sees only the people whose follow-up group they are in.
    Professional,
    /// State or funder steering one territory or the whole country: aggregates only.
    Pilot,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::Coordinator,
        Role::Professional,
        Role::Pilot,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Professional => "professional",
            Role::Pilot => "pilot",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administration nationale",
            Role::Coordinator => "Coordination du territoire",
            Role::Professional => "Professionnel partenaire",
            Role::Pilot => "Pilotage (chiffres agrégés)",
        }
    }
}
