//! The eight fields of action (« freins périphériques ») of the programme, and the mapping
//! shipped with Passerelle from data·inclusion thematiques to fields (administrators may
//! override it thematique by thematique).

crate::codes! {
    /// The eight fields of action, in the vademecum's order.
    Field {
        ReseauProfessionnel => "reseau-professionnel", "Réseau professionnel";
        SavoirsDeBase => "savoirs-de-base", "Savoirs de base";
        CompetencesNumeriques => "competences-numeriques", "Compétences numériques";
        ContraintesFamiliales => "contraintes-familiales", "Contraintes familiales";
        Mobilite => "mobilite", "Mobilité";
        Logement => "logement", "Logement";
        PrecariteFinanciere => "precarite-financiere", "Précarité financière";
        SanteHandicap => "sante-handicap", "Santé et handicap";
    }
}

impl Field {
    /// Its code in URLs and storage.
    pub fn slug(self) -> &'static str {
        self.as_str()
    }

    /// Its number in the vademecum (1 to 8).
    pub fn number(self) -> u8 {
        match self {
            Field::ReseauProfessionnel => 1,
            Field::SavoirsDeBase => 2,
            Field::CompetencesNumeriques => 3,
            Field::ContraintesFamiliales => 4,
            Field::Mobilite => 5,
            Field::Logement => 6,
            Field::PrecariteFinanciere => 7,
            Field::SanteHandicap => 8,
        }
    }

    /// The fields a data·inclusion thematique (`<categorie>--<sujet>`) belongs to, as shipped.
    pub fn defaults_for(thematique: &str) -> Vec<Field> {
        let categorie = thematique.split("--").next().unwrap_or_default();
        match (categorie, thematique) {
            (_, "preparer-sa-candidature--developper-son-reseau") => {
                vec![Field::ReseauProfessionnel]
            }
            ("choisir-un-metier" | "trouver-un-emploi", _) => vec![Field::ReseauProfessionnel],
            ("lecture-ecriture-calcul", _) => vec![Field::SavoirsDeBase],
            ("numerique", _) => vec![Field::CompetencesNumeriques],
            ("famille", _) => vec![Field::ContraintesFamiliales],
            ("mobilite", _) => vec![Field::Mobilite],
            ("logement-hebergement", _) => vec![Field::Logement],
            ("difficultes-financieres" | "equipement-et-alimentation", _) => {
                vec![Field::PrecariteFinanciere]
            }
            ("sante", _) => vec![Field::SanteHandicap],
            _ => Vec::new(),
        }
    }

    /// The « constat » Passerelle ships for this field, until a coordinator rewrites it.
    pub fn default_constat(self) -> &'static str {
        match self {
            Field::ReseauProfessionnel => {
                "Dans les quartiers prioritaires, beaucoup d'habitants n'ont autour d'eux personne qui travaille dans le métier visé ni personne pour les recommander. Or une grande part des recrutements passe par le réseau. Faire découvrir des métiers en entreprise, mettre en relation avec des employeurs et des parrains compense cette absence de réseau."
            }
            Field::SavoirsDeBase => {
                "Une maîtrise insuffisante du français écrit et oral ou du calcul ferme l'accès à la formation qualifiante et à de nombreux emplois, et rend les démarches difficiles. Ces besoins sont souvent tus : il faut les repérer avec tact et proposer des ateliers de proximité compatibles avec les contraintes des personnes."
            }
            Field::CompetencesNumeriques => {
                "Les démarches d'emploi, d'inscription et d'accès aux droits sont désormais en ligne. Sans équipement, sans connexion ou sans savoir-faire numérique, une personne peut perdre ses droits ou manquer des offres. L'accompagnement numérique est un préalable à la recherche d'emploi."
            }
            Field::ContraintesFamiliales => {
                "La garde des enfants est le premier frein déclaré par les parents isolés, souvent des femmes, pour reprendre une formation ou un emploi, en particulier aux horaires décalés. Des solutions existent (crèches à vocation d'insertion professionnelle, aides à la garde) mais sont mal connues."
            }
            Field::Mobilite => {
                "Sans permis ni véhicule, avec des transports en commun peu adaptés aux horaires de travail, le périmètre de recherche d'emploi se réduit au quartier. Le bilan de mobilité, l'aide au permis, la location solidaire de véhicules et l'apprentissage des transports élargissent ce périmètre."
            }
            Field::Logement => {
                "Un logement instable, suroccupé ou menacé par des impayés empêche de se projeter dans un parcours vers l'emploi. Stabiliser la situation de logement ou d'hébergement est souvent la condition d'un accompagnement durable."
            }
            Field::PrecariteFinanciere => {
                "Dettes, impayés, absence de compte ou de budget maîtrisé : la précarité financière absorbe l'énergie des personnes et fait craindre la perte de droits à la reprise d'emploi. Un accompagnement budgétaire gratuit et confidentiel et les aides d'urgence permettent de lever ce frein."
            }
            Field::SanteHandicap => {
                "Problèmes de santé non soignés, renoncement aux soins, handicap non reconnu : ces freins sont fréquents et rarement exprimés spontanément. La reconnaissance de la qualité de travailleur handicapé, un bilan de santé et l'accès aux soins ouvrent des aides et des accompagnements adaptés. Ces informations sont sensibles et ne se partagent qu'avec l'accord de la personne."
            }
        }
    }

    /// Typical droit-commun relays for this field (docs/domain.md §3), shown in the knowledge base.
    pub fn typical_relays(self) -> &'static [&'static str] {
        match self {
            Field::ReseauProfessionnel => &[
                "Périodes de mise en situation en milieu professionnel (PMSMP), prescrites par France Travail, la Mission locale, Cap emploi ou une SIAE",
                "Parrainage et mentorat",
                "Clubs d'entreprises",
                "Job datings",
            ],
            Field::SavoirsDeBase => &[
                "Ateliers sociolinguistiques (ASL)",
                "Français langue étrangère (FLE)",
                "Formation linguistique de l'OFII",
                "Certification CléA",
                "Compétences clés",
            ],
            Field::CompetencesNumeriques => &[
                "Conseillers numériques France Services",
                "Pass numérique (APTIC)",
                "Aidants Connect",
                "Médiation numérique",
            ],
            Field::ContraintesFamiliales => &[
                "Crèches à vocation d'insertion professionnelle (AVIP)",
                "Aide à la garde d'enfants (AGE, France Travail, enfants de moins de 12 ans ; l'AGEPI des parents isolés jusqu'en avril 2024)",
                "Caisse d'allocations familiales (CAF)",
                "Soutien à la parentalité",
            ],
            Field::Mobilite => &[
                "Plateformes de mobilité",
                "Bilan de compétences mobilité",
                "Aide au permis de conduire",
                "Garages solidaires et auto-écoles sociales",
                "Aides à la mobilité de France Travail",
            ],
            Field::Logement => &[
                "Service intégré d'accueil et d'orientation (SIAO)",
                "Logement social",
                "Foyers de jeunes travailleurs (18-25 ans)",
                "Action Logement",
                "Droit au logement opposable (DALO)",
            ],
            Field::PrecariteFinanciere => &[
                "Points conseil budget (gratuits et confidentiels)",
                "Commission de surendettement",
                "Microcrédit personnel",
                "Aides d'urgence (CCAS)",
            ],
            Field::SanteHandicap => &[
                "Reconnaissance de la qualité de travailleur handicapé (RQTH) auprès de la MDPH",
                "Cap emploi",
                "Aides de l'Agefiph",
                "Examen de prévention en santé de la CPAM",
                "Permanences d'accès aux soins de santé (PASS) des hôpitaux",
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_parse_back_and_numbers_run_from_one_to_eight() {
        for (i, f) in Field::ALL.iter().copied().enumerate() {
            assert_eq!(Field::parse(f.slug()), Ok(f));
            assert_eq!(usize::from(f.number()), i + 1);
        }
        assert!(Field::parse("inconnu").is_err());
    }

    #[test]
    fn shipped_mapping_follows_the_vademecum() {
        assert_eq!(
            Field::defaults_for("preparer-sa-candidature--developper-son-reseau"),
            vec![Field::ReseauProfessionnel]
        );
        assert!(
            Field::defaults_for(
                "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"
            )
            .is_empty()
        );
        assert_eq!(
            Field::defaults_for("sante--constituer-un-dossier-mdph-invalidite"),
            vec![Field::SanteHandicap]
        );
        assert_eq!(
            Field::defaults_for("equipement-et-alimentation--alimentation"),
            vec![Field::PrecariteFinanciere]
        );
        assert_eq!(
            Field::defaults_for("mobilite--preparer-un-permis"),
            vec![Field::Mobilite]
        );
    }
}
