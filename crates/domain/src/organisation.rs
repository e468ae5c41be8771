//! Kinds of organisation taking part in a territory (docs/domain.md §2).

crate::codes! {
    /// The kind of a partner organisation.
    OrganisationKind {
        FranceTravail => "france_travail", "France Travail";
        MissionLocale => "mission_locale", "Mission locale";
        CapEmploi => "cap_emploi", "Cap emploi";
        Plie => "plie", "PLIE";
        ConseilDepartemental => "conseil_departemental", "Conseil départemental";
        Ccas => "ccas", "CCAS / CIAS";
        Caf => "caf", "CAF";
        Collectivite => "collectivite", "Commune ou EPCI";
        CentreSocial => "centre_social", "Centre social";
        Association => "association", "Association";
        BailleurSocial => "bailleur_social", "Bailleur social";
        Siae => "siae", "Structure d'insertion par l'activité économique (SIAE)";
        Geiq => "geiq", "GEIQ";
        E2c => "e2c", "École de la 2e chance (E2C)";
        Epide => "epide", "EPIDE";
        OrganismeFormation => "organisme_formation", "Organisme de formation";
        Employeur => "employeur", "Employeur ou club d'entreprises";
        Etat => "etat", "Préfecture, DDETS ou autre service de l'État";
        Anct => "anct", "ANCT";
        Autre => "autre", "Autre";
    }
}
