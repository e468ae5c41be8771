//! A territorial programme (a « cité de l'emploi », a contrat de ville's employment pillar…).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TerritoryStatus {
    Preparation,
    Active,
    Closed,
}

impl TerritoryStatus {
    pub const ALL: [TerritoryStatus; 3] = [
        TerritoryStatus::Preparation,
        TerritoryStatus::Active,
        TerritoryStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TerritoryStatus::Preparation => "preparation",
            TerritoryStatus::Active => "active",
            TerritoryStatus::Closed => "closed",
        }
    }

    pub fn parse(code: &str) -> Option<TerritoryStatus> {
        TerritoryStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            TerritoryStatus::Preparation => "En préparation",
            TerritoryStatus::Active => "Actif",
            TerritoryStatus::Closed => "Clôturé",
        }
    }
}
