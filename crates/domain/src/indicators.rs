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
        Deld => "deld", "Demande d'emploi de longue durée";
        Rqth => "rqth", "Reconnaissance de handicap (RQTH)";
        Canal => "canal", "Canal de repérage";
        Organisation => "organisation", "Organisation du référent";
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
            Breakdown::Deld => vec![
                ("oui", "Inscrits depuis un an ou plus"),
                ("non", "Inscrits depuis moins d'un an"),
                ("non-inscrit", "Non inscrits à France Travail"),
                ("inconnu", "Non renseigné"),
            ],
            Breakdown::Rqth => vec![
                ("oui", "Avec RQTH"),
                ("non", "Sans RQTH"),
                ("inconnu", "Non renseigné"),
            ],
            Breakdown::Canal => crate::person::OutreachChannel::ALL
                .iter()
                .map(|c| (c.as_str(), c.label()))
                .collect(),
            Breakdown::Organisation => {
                let mut v: Vec<_> = crate::organisation::OrganisationKind::ALL
                    .iter()
                    .map(|k| (k.as_str(), k.label()))
                    .collect();
                v.push(("sans-referent", "Sans référent"));
                v
            }
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
            Breakdown::Deld => {
                "Inscription à France Travail depuis au moins un an au dernier jour de la période, selon la situation renseignée."
            }
            Breakdown::Rqth => {
                "Reconnaissance de la qualité de travailleur handicapé, selon les données de santé du dossier (comptées ici sans jamais être montrées par personne)."
            }
            Breakdown::Organisation => "Le type d'organisation du référent actuel de la personne.",
        }
    }
}

crate::codes! {
    /// The parts of the dashboard, in their order on the page.
    Section {
        Parcours => "parcours", "Le parcours";
        Freins => "freins", "Les freins périphériques";
        Orientations => "orientations", "Les orientations";
        Actions => "actions", "Les actions collectives";
        Employeurs => "employeurs", "Les employeurs";
        Partenaires => "partenaires", "Les partenaires";
        Suivi => "suivi", "La situation après la sortie";
    }
}

/// A column of counts: its label and what it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub label: &'static str,
    pub definition: &'static str,
}

const fn col(label: &'static str, definition: &'static str) -> Column {
    Column { label, definition }
}

/// The barriers table, per field: the persons whose first signed diagnostic was held in the
/// period, split three ways (each row sums to all of them).
pub const BARRIER_COLUMNS: [Column; 3] = [
    col(
        "Frein levé depuis",
        "Frein important (2) ou bloquant (3) au premier diagnostic, coté 0 ou 1 au dernier diagnostic signé jusqu'à la fin de la période.",
    ),
    col(
        "Frein toujours présent",
        "Frein important ou bloquant au premier diagnostic, et encore au dernier — ou pas de nouveau diagnostic depuis.",
    ),
    col(
        "Pas de frein au premier diagnostic",
        "Domaine coté 0 (aucun frein) ou 1 (frein léger) au premier diagnostic.",
    ),
];

/// The total of a barriers row.
pub const FIRST_DIAGNOSED: Column = col(
    "Premiers diagnostics",
    "Personnes dont le premier diagnostic signé a été tenu pendant la période.",
);

/// What became of an orientation sent in the period, by its status today: the columns of the
/// orientations tables (each orientation in exactly one).
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub column: Column,
    pub statuses: &'static [crate::orientation::Status],
}

pub const ORIENTATION_OUTCOMES: [Outcome; 7] = {
    use crate::orientation::Status::*;
    [
        Outcome {
            column: col(
                "Entrées effectives",
                "Acceptées, et l'entrée de la personne dans l'action est confirmée (parcours en cours ou terminé).",
            ),
            statuses: &[Entree, Terminee],
        },
        Outcome {
            column: col(
                "Acceptées, entrée à venir",
                "Acceptées par la structure, l'entrée n'est pas encore confirmée.",
            ),
            statuses: &[Acceptee],
        },
        Outcome {
            column: col(
                "Absences au démarrage",
                "Acceptées, mais la personne ne s'est pas présentée au démarrage.",
            ),
            statuses: &[Absente],
        },
        Outcome {
            column: col(
                "Déclinées",
                "Déclinées par la structure, avec un ou plusieurs motifs.",
            ),
            statuses: &[Declinee],
        },
        Outcome {
            column: col(
                "En attente de réponse",
                "Envoyées ou à l'étude, sans réponse à ce jour.",
            ),
            statuses: &[Envoyee, AEtude],
        },
        Outcome {
            column: col("Expirées", "Restées sans réponse jusqu'à leur expiration."),
            statuses: &[Expiree],
        },
        Outcome {
            column: col(
                "Annulées",
                "Annulées par la personne qui les avait envoyées.",
            ),
            statuses: &[Annulee],
        },
    ]
};

/// The total of an orientations row.
pub const ORIENTATIONS_SENT: Column = col("Envoyées", "Orientations envoyées pendant la période.");

/// The decline reasons table (an orientation may give several reasons).
pub const DECLINE_COLUMNS: [Column; 1] = [col(
    "Orientations déclinées pour ce motif",
    "Orientations envoyées pendant la période et déclinées, comptées une fois par motif donné.",
)];

/// The collective actions table, per kind of action held in the period: the registrations,
/// split by attendance (each row sums to the registrations).
pub const ACTION_COLUMNS: [Column; 4] = [
    col("Présents", "Inscrits présents, d'après l'émargement."),
    col(
        "Absents",
        "Inscrits absents sans excuse, d'après l'émargement.",
    ),
    col("Excusés", "Inscrits absents excusés."),
    col(
        "Émargement non saisi",
        "Inscrits dont la présence n'a pas été relevée.",
    ),
];

/// The total of an actions row.
pub const ACTION_REGISTRATIONS: Column = col(
    "Inscrits",
    "Inscriptions confirmées aux actions tenues pendant la période (une personne inscrite à deux actions compte deux fois).",
);

/// The employers table: engagements in the period.
pub const EMPLOYER_COLUMNS: [Column; 2] = [
    col(
        "Employeurs engagés",
        "Employeurs distincts ayant au moins un engagement de ce type pendant la période.",
    ),
    col("Engagements", "Engagements de ce type pendant la période."),
];

/// The partners table: each organisation's activity in the period.
pub const PARTNER_COLUMNS: [Column; 3] = [
    col(
        "Personnes suivies",
        "Personnes dont un professionnel de l'organisation a fait partie du groupe de suivi pendant la période.",
    ),
    col(
        "Orientations envoyées",
        "Orientations envoyées par l'organisation pendant la période.",
    ),
    col(
        "Orientations reçues",
        "Orientations reçues par l'organisation pendant la période.",
    ),
];

/// The follow-up table: per months after the exit, the checks due in the period, by the
/// situation found (each row sums to the checks due; cancelled ones are not counted).
pub fn follow_up_columns() -> Vec<Column> {
    let mut v: Vec<Column> = crate::exit::Situation::ALL
        .iter()
        .map(|s| {
            col(
                s.label(),
                "Contrôles faits où la situation relevée est celle-ci.",
            )
        })
        .collect();
    v.push(col(
        "Contrôle non fait",
        "Contrôles arrivés à échéance et pas encore faits.",
    ));
    v
}

/// The total of a follow-up row.
pub const CHECKS_DUE: Column = col(
    "Contrôles échus",
    "Contrôles de la situation arrivés à échéance pendant la période (hors contrôles annulés par un retour en accompagnement).",
);

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
        for status in crate::orientation::Status::ALL {
            let n = ORIENTATION_OUTCOMES
                .iter()
                .filter(|o| o.statuses.contains(status))
                .count();
            assert_eq!(n, 1, "{status:?} in exactly one outcome");
        }
        for b in Breakdown::ALL {
            assert!(
                !b.values().is_empty() && b.definition().ends_with('.'),
                "{b:?}"
            );
        }
    }
}
