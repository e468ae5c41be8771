//! The indicators the State steers by (docs/domain.md §5): the steps of the funnel counted over a
//! period, each with its written definition, and the breakdowns they are published by. Every
//! table is published through `crate::secrecy::table::protect`.

crate::codes! {
    /// A step of the funnel, counted over a period: how many distinct persons reached it then.
    Step {
        Reperes => "reperes", "Repérés";
        Contactes => "contactes", "Contactés";
        Accompagnes => "accompagnes", "Entrés en accompagnement";
        Diagnostiques => "diagnostiques", "Diagnostiqués";
        Orientes => "orientes", "Orientés";
        Entrees => "entrees", "Entrées effectives";
        SortiesDurable => "sorties-emploi-durable", "Sorties en emploi durable";
        SortiesTransition => "sorties-transition", "Sorties en emploi de transition";
        SortiesPositives => "sorties-positives", "Sorties positives";
        SortiesAutres => "sorties-autres", "Autres sorties";
    }
}

impl Step {
    /// What the figure counts, in French, as shown one click away from it.
    pub fn definition(self) -> &'static str {
        match self {
            Step::Reperes => {
                "Personnes dont le repérage (première rencontre) a eu lieu pendant la période."
            }
            Step::Contactes => "Personnes dont le premier contact abouti date de la période.",
            Step::Accompagnes => {
                "Personnes entrées en accompagnement (consentement recueilli) pendant la période, retours en accompagnement compris."
            }
            Step::Diagnostiques => {
                "Personnes ayant au moins un diagnostic signé daté de la période."
            }
            Step::Orientes => {
                "Personnes ayant fait l'objet d'au moins une orientation envoyée pendant la période."
            }
            Step::Entrees => {
                "Personnes dont au moins une orientation a donné lieu à une entrée effective datée de la période."
            }
            Step::SortiesDurable => {
                "Personnes sorties pendant la période en CDI, CDD ou intérim de 6 mois ou plus, dans la fonction publique ou par une création d'entreprise."
            }
            Step::SortiesTransition => {
                "Personnes sorties pendant la période en CDD ou intérim de moins de 6 mois, ou en contrat aidé."
            }
            Step::SortiesPositives => {
                "Personnes sorties pendant la période vers une formation qualifiante, une autre SIAE ou l'alternance."
            }
            Step::SortiesAutres => {
                "Personnes sorties pendant la période pour une autre raison (déménagement, abandon, sans nouvelles, santé, autre)."
            }
        }
    }

    /// The exit category a step counts, if it is an exit.
    pub fn exit_category(self) -> Option<crate::exit::ExitCategory> {
        use crate::exit::ExitCategory::*;
        match self {
            Step::SortiesDurable => Some(EmploiDurable),
            Step::SortiesTransition => Some(EmploiTransition),
            Step::SortiesPositives => Some(SortiePositive),
            Step::SortiesAutres => Some(Autre),
            _ => None,
        }
    }
}

crate::codes! {
    /// What a table of the funnel is broken down by.
    Breakdown {
        Qpv => "qpv", "Résidence en quartier prioritaire";
        Sexe => "sexe", "Sexe";
        Age => "age", "Tranche d'âge";
        Brsa => "brsa", "Bénéficiaire du RSA";
        Canal => "canal", "Canal de repérage";
    }
}

impl Breakdown {
    /// The values of the breakdown (code, label), in their order of publication.
    pub fn values(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Breakdown::Qpv => vec![
                ("qpv", "En QPV"),
                ("hors-qpv", "Hors QPV"),
                ("inconnu", "Adresse non vérifiée"),
            ],
            Breakdown::Sexe => vec![
                ("femme", "Femmes"),
                ("homme", "Hommes"),
                ("non-precise", "Non précisé"),
                ("inconnu", "Non renseigné"),
            ],
            Breakdown::Age => vec![
                ("moins-26", "Moins de 26 ans"),
                ("26-49", "26 à 49 ans"),
                ("50-plus", "50 ans ou plus"),
                ("inconnu", "Âge inconnu"),
            ],
            Breakdown::Brsa => vec![
                ("oui", "Au RSA"),
                ("non", "Pas au RSA"),
                ("inconnu", "Non renseigné"),
            ],
            Breakdown::Canal => crate::person::OutreachChannel::ALL
                .iter()
                .map(|c| (c.as_str(), c.label()))
                .collect(),
        }
    }

    /// What the breakdown means, as shown beside its table.
    pub fn definition(self) -> &'static str {
        match self {
            Breakdown::Qpv => {
                "Selon la dernière vérification de l'adresse de la personne (géographie prioritaire en vigueur)."
            }
            Breakdown::Sexe => "Tel que renseigné à l'entrée en accompagnement.",
            Breakdown::Age => {
                "Âge révolu au dernier jour de la période (à défaut de date de naissance, l'année de naissance)."
            }
            Breakdown::Brsa => "Tel que renseigné dans la situation de la personne.",
            Breakdown::Canal => "Le canal par lequel la personne a été repérée.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_and_breakdown_is_defined() {
        for s in Step::ALL {
            assert!(s.definition().ends_with('.'), "{s:?}");
        }
        let exits: Vec<_> = Step::ALL.iter().filter_map(|s| s.exit_category()).collect();
        assert_eq!(
            exits,
            crate::exit::ExitCategory::ALL.to_vec(),
            "one step per exit category"
        );
        for b in Breakdown::ALL {
            assert!(
                !b.values().is_empty() && b.definition().ends_with('.'),
                "{b:?}"
            );
        }
    }
}
