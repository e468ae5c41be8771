//! A territorial programme (a « cité de l'emploi », a contrat de ville's employment pillar…).

crate::codes! {
    /// Where a territory stands.
    TerritoryStatus {
        Preparation => "preparation", "En préparation";
        Active => "active", "Actif";
        Closed => "closed", "Clôturé";
    }
}
