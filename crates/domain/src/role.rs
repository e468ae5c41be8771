//! The four roles a membership can carry.

crate::codes! {
    /// What a membership lets its holder do.
    Role {
        /// National administrator: territories, organisations, accounts.
        Admin => "admin", "Administration nationale";
        /// Coordinator of one territory: its partners, their staff, and every person file there.
        Coordinator => "coordinator", "Coordination du territoire";
        /// Staff of a partner organisation: sees only the people whose follow-up group they are in.
        Professional => "professional", "Professionnel partenaire";
        /// State or funder steering one territory or the whole country: aggregates only.
        Pilot => "pilot", "Pilotage (chiffres agrégés)";
    }
}
