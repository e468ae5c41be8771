//! Steering the territory (docs/domain.md §12): its meetings — COPIL, COTECH, cellule
//! opérationnelle, comité local pour l'emploi — with their attendees, agenda, decisions, action
//! items and the situations reviewed, and its roadmap (« feuille de route ») on the programme's
//! three axes, each action with its indicator and progress.

crate::codes! {
    /// The bodies that steer a territory's cooperation.
    MeetingKind {
        Copil => "copil", "Comité de pilotage (COPIL)";
        Cotech => "cotech", "Comité technique (COTECH)";
        Cellule => "cellule-operationnelle", "Cellule opérationnelle";
        ComiteLocal => "comite-local-emploi", "Comité local pour l'emploi";
    }
}

impl MeetingKind {
    /// Whether persons' situations are reviewed there (the operational cell only: the steering
    /// committees see figures, never a person).
    pub fn reviews_cases(self) -> bool {
        self == MeetingKind::Cellule
    }
}

crate::codes! {
    /// The three axes of a territory's roadmap.
    Axis {
        Cooperation => "cooperation", "Coopération entre les acteurs";
        DroitCommun => "droit-commun", "Recours au droit commun";
        OffreSpecifique => "offre-specifique", "Offre spécifique du territoire";
    }
}

impl Axis {
    /// What the axis is about, shown under its title.
    pub fn definition(self) -> &'static str {
        match self {
            Axis::Cooperation => {
                "Faire travailler ensemble les partenaires : instances, circuits d'orientation, outils et informations partagés."
            }
            Axis::DroitCommun => {
                "Amener vers les dispositifs qui existent (France Travail, Mission locale, Cap emploi, formation, IAE) les habitants qui n'y recourent pas."
            }
            Axis::OffreSpecifique => {
                "Ce que le territoire construit lui-même là où le droit commun ne suffit pas : actions, cohortes, ateliers, parrainages."
            }
        }
    }
}

crate::codes! {
    /// Where a roadmap action stands.
    RoadmapStatus {
        ALancer => "a-lancer", "À lancer";
        EnCours => "en-cours", "En cours";
        Realisee => "realisee", "Réalisée";
        Abandonnee => "abandonnee", "Abandonnée";
    }
}

/// How far a roadmap action is, in percent: from its indicator when it has a target, else as
/// the coordinator set it; a done action is at 100.
pub fn progress(status: RoadmapStatus, set: i64, value: Option<i64>, target: Option<i64>) -> i64 {
    if status == RoadmapStatus::Realisee {
        return 100;
    }
    match (value, target) {
        (Some(v), Some(t)) if t > 0 => (100 * v / t).clamp(0, 100),
        _ => set.clamp(0, 100),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_follows_the_indicator_when_there_is_a_target() {
        assert_eq!(progress(RoadmapStatus::EnCours, 10, Some(30), Some(40)), 75);
        assert_eq!(
            progress(RoadmapStatus::EnCours, 10, Some(90), Some(40)),
            100
        );
        assert_eq!(progress(RoadmapStatus::EnCours, 10, None, Some(40)), 10);
        assert_eq!(progress(RoadmapStatus::EnCours, 10, Some(3), Some(0)), 10);
        assert_eq!(
            progress(RoadmapStatus::Realisee, 10, Some(3), Some(40)),
            100
        );
        assert!(MeetingKind::Cellule.reviews_cases() && !MeetingKind::Copil.reviews_cases());
    }
}
