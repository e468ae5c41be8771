//! Exits (« sorties ») and the follow-up after them (docs/domain.md §11). An exit has a type
//! in one of four categories — what the State judges is the share of « emploi durable » —, a
//! date that cannot precede the entry into accompaniment, and, for a job, the employer. After
//! an exit the référent checks the person's situation at 3, 6 and 12 months; a return into
//! accompaniment cancels the checks still to come, the history is kept.

use chrono::{Months, NaiveDate};

use crate::Invalid;

crate::codes! {
    /// The four families of exits, as the programme's reporting counts them.
    ExitCategory {
        EmploiDurable => "emploi-durable", "Emploi durable";
        EmploiTransition => "emploi-transition", "Emploi de transition";
        SortiePositive => "sortie-positive", "Sortie positive";
        Autre => "autre", "Autre sortie";
    }
}

crate::codes! {
    /// What the person left for.
    ExitKind {
        Cdi => "cdi", "CDI";
        CddLong => "cdd-long", "CDD ou intérim de 6 mois ou plus";
        FonctionPublique => "fonction-publique", "Emploi dans la fonction publique";
        CreationEntreprise => "creation-entreprise", "Création ou reprise d'entreprise";
        CddCourt => "cdd-court", "CDD ou intérim de moins de 6 mois";
        ContratAide => "contrat-aide", "Contrat aidé (PEC, CDDI…)";
        FormationQualifiante => "formation-qualifiante", "Formation qualifiante";
        AutreSiae => "autre-siae", "Entrée dans une autre SIAE";
        Alternance => "alternance", "Alternance (apprentissage, professionnalisation)";
        Demenagement => "demenagement", "Déménagement";
        Abandon => "abandon", "Abandon du parcours";
        SansNouvelles => "sans-nouvelles", "Sans nouvelles";
        Sante => "sante", "Raisons de santé";
        AutreMotif => "autre-motif", "Autre motif";
    }
}

impl ExitKind {
    pub fn category(self) -> ExitCategory {
        use ExitKind::*;
        match self {
            Cdi | CddLong | FonctionPublique | CreationEntreprise => ExitCategory::EmploiDurable,
            CddCourt | ContratAide => ExitCategory::EmploiTransition,
            FormationQualifiante | AutreSiae | Alternance => ExitCategory::SortiePositive,
            Demenagement | Abandon | SansNouvelles | Sante | AutreMotif => ExitCategory::Autre,
        }
    }

    /// A job with an employer: the form asks which one (it may be left blank when unknown).
    pub fn has_employer(self) -> bool {
        use ExitKind::*;
        matches!(
            self,
            Cdi | CddLong | FonctionPublique | CddCourt | ContratAide | AutreSiae | Alternance
        )
    }

    /// The kinds of one category, for a grouped select.
    pub fn of(category: ExitCategory) -> Vec<ExitKind> {
        ExitKind::ALL
            .iter()
            .copied()
            .filter(|k| k.category() == category)
            .collect()
    }
}

crate::codes! {
    /// The situation the référent finds at a follow-up check.
    Situation {
        MemeEmploi => "meme-emploi", "Toujours dans le même emploi";
        AutreEmploi => "autre-emploi", "Dans un autre emploi";
        Formation => "formation", "En formation";
        RechercheEmploi => "recherche-emploi", "En recherche d'emploi";
        Inconnue => "inconnue", "Situation inconnue (personne injoignable)";
    }
}

crate::codes! {
    /// Where a follow-up check stands.
    CheckStatus {
        AFaire => "a-faire", "À faire";
        Fait => "fait", "Fait";
        Annule => "annule", "Annulé (retour en accompagnement)";
    }
}

/// The months after an exit at which the situation is checked.
pub const CHECK_MONTHS: [u32; 3] = [3, 6, 12];

/// The day a check falls due: the same day `months` later (the last day of the month when that
/// day does not exist: 30 November + 3 months is 28 or 29 February).
pub fn check_due(exited_on: NaiveDate, months: u32) -> NaiveDate {
    exited_on
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// The exit's date, against the entry into accompaniment (or the repérage) and today.
pub fn check_exit_date(
    exited_on: NaiveDate,
    entered_on: NaiveDate,
    today: NaiveDate,
) -> Result<(), Invalid> {
    if exited_on > today {
        return Err(Invalid(
            "La date de sortie ne peut pas être dans le futur.".into(),
        ));
    }
    if exited_on < entered_on {
        return Err(Invalid(format!(
            "La date de sortie ne peut pas précéder l'entrée dans le parcours ({}).",
            crate::french_date(entered_on)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::parse_date(s).expect("date")
    }

    #[test]
    fn every_kind_has_one_category_and_the_categories_cover_the_programme() {
        for c in ExitCategory::ALL {
            assert!(!ExitKind::of(*c).is_empty(), "{c:?} has kinds");
        }
        let total: usize = ExitCategory::ALL
            .iter()
            .map(|c| ExitKind::of(*c).len())
            .sum();
        assert_eq!(total, ExitKind::ALL.len());
        assert_eq!(ExitKind::CddLong.category(), ExitCategory::EmploiDurable);
        assert_eq!(
            ExitKind::CddCourt.category(),
            ExitCategory::EmploiTransition
        );
        assert_eq!(
            ExitKind::Alternance.category(),
            ExitCategory::SortiePositive
        );
        assert_eq!(ExitKind::SansNouvelles.category(), ExitCategory::Autre);
        assert!(ExitKind::Cdi.has_employer());
        assert!(!ExitKind::CreationEntreprise.has_employer());
        assert!(!ExitKind::Demenagement.has_employer());
    }

    #[test]
    fn checks_fall_on_the_same_day_or_the_end_of_a_shorter_month() {
        assert_eq!(check_due(d("2026-01-15"), 3), d("2026-04-15"));
        assert_eq!(check_due(d("2026-01-15"), 12), d("2027-01-15"));
        assert_eq!(check_due(d("2026-11-30"), 3), d("2027-02-28"));
        assert_eq!(check_due(d("2027-11-30"), 3), d("2028-02-29"));
        assert_eq!(check_due(d("2026-08-31"), 6), d("2027-02-28"));
    }

    #[test]
    fn an_exit_cannot_precede_the_entry_nor_be_in_the_future() {
        let today = d("2026-12-01");
        assert!(check_exit_date(d("2026-11-01"), d("2026-01-01"), today).is_ok());
        assert!(check_exit_date(d("2026-01-01"), d("2026-01-01"), today).is_ok());
        let e = check_exit_date(d("2025-12-31"), d("2026-01-01"), today).expect_err("before");
        assert!(e.0.contains("01/01/2026"), "{}", e.0);
        let e = check_exit_date(d("2026-12-02"), d("2026-01-01"), today).expect_err("future");
        assert!(e.0.contains("futur"), "{}", e.0);
    }
}
