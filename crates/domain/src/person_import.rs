//! What a partner's list of persons may hold, column by column, and how the columns of a
//! spreadsheet are recognised from their heading (docs/imports.md). Health data is never one
//! of them: it is recorded in the file, behind its own permission.

use crate::text::fold;

crate::codes! {
    /// A column of a bulk import of persons (the code is the form field and the mapping key).
    ImportColumn {
        Identifiant => "identifiant", "Identifiant chez le partenaire";
        Prenom => "prenom", "Prénom";
        Nom => "nom", "Nom";
        DateNaissance => "date-naissance", "Date de naissance";
        Telephone => "telephone", "Téléphone";
        Courriel => "courriel", "Courriel";
        Adresse => "adresse", "Adresse";
        CodePostal => "code-postal", "Code postal";
        Commune => "commune", "Commune";
        DateReperage => "date-reperage", "Date du repérage";
        Canal => "canal", "Canal de repérage";
        Besoins => "besoins", "Besoins exprimés";
        Champs => "champs", "Champs d'action";
        Recontact => "recontact", "Accepte d'être recontacté(e)";
    }
}

crate::codes! {
    /// How the rows are written: all of them or none, or each valid one.
    ImportMode {
        ToutOuRien => "tout-ou-rien", "Tout ou rien : si une ligne est refusée, rien n'est importé";
        LigneParLigne => "ligne-par-ligne", "Ligne par ligne : les lignes valides sont importées, les autres restent dans le rapport";
    }
}

crate::codes! {
    /// Where an import stands.
    ImportState {
        Depose => "depose", "Fichier déposé";
        EnSimulation => "en-simulation", "Simulation en cours";
        Simule => "simule", "Simulation faite";
        EnAttente => "en-attente", "Import en attente";
        EnCours => "en-cours", "Import en cours";
        Termine => "termine", "Import terminé";
        Refuse => "refuse", "Import refusé : rien n'a été enregistré";
        Abandonne => "abandonne", "Abandonné";
    }
}

impl ImportState {
    /// The file is still kept and its mapping may change.
    pub fn may_simulate(self) -> bool {
        matches!(self, ImportState::Depose | ImportState::Simule)
    }

    /// The user may still give it up (its file is then deleted).
    pub fn may_abandon(self) -> bool {
        matches!(
            self,
            ImportState::Depose | ImportState::EnSimulation | ImportState::Simule
        )
    }

    /// A worker has it or will take it.
    pub fn is_running(self) -> bool {
        matches!(self, ImportState::EnAttente | ImportState::EnCours)
    }
}

impl ImportColumn {
    /// Headings partners write for this column, folded (see [`heading_key`]).
    fn headings(self) -> &'static [&'static str] {
        match self {
            ImportColumn::Identifiant => &[
                "identifiant",
                "identifiant chez le partenaire",
                "id",
                "identifiant partenaire",
                "numero de dossier",
                "n dossier",
                "reference",
                "ref",
                "matricule",
            ],
            ImportColumn::Prenom => &["prenom", "prenoms", "first name", "firstname"],
            ImportColumn::Nom => &[
                "nom",
                "nom de famille",
                "nom d usage",
                "nom de naissance",
                "last name",
                "lastname",
            ],
            ImportColumn::DateNaissance => &[
                "date de naissance",
                "date naissance",
                "naissance",
                "ne e le",
                "ne le",
                "ddn",
            ],
            ImportColumn::Telephone => &[
                "telephone",
                "tel",
                "portable",
                "mobile",
                "telephone portable",
                "numero de telephone",
            ],
            ImportColumn::Courriel => &[
                "courriel",
                "email",
                "e mail",
                "mail",
                "adresse mail",
                "adresse electronique",
                "adresse e mail",
            ],
            ImportColumn::Adresse => &["adresse", "adresse postale", "rue", "voie", "domicile"],
            ImportColumn::CodePostal => &["code postal", "cp", "code post"],
            ImportColumn::Commune => &["commune", "ville", "localite", "commune de residence"],
            ImportColumn::DateReperage => &[
                "date du reperage",
                "date de reperage",
                "date reperage",
                "date de rencontre",
                "rencontre le",
                "date d orientation",
            ],
            ImportColumn::Canal => &["canal", "canal de reperage", "origine", "source"],
            ImportColumn::Besoins => &[
                "besoins",
                "besoins exprimes",
                "observations",
                "commentaire",
                "commentaires",
                "remarques",
            ],
            ImportColumn::Champs => &[
                "champs",
                "champs d action",
                "freins",
                "freins peripheriques",
            ],
            ImportColumn::Recontact => &[
                "recontact",
                "accepte d etre recontacte",
                "accepte d etre recontacte e",
                "accord recontact",
                "accord pour etre recontacte",
            ],
        }
    }

    /// The column a heading names, if it is one of the known headings.
    pub fn recognise(heading: &str) -> Option<ImportColumn> {
        let key = heading_key(heading);
        if key.is_empty() {
            return None;
        }
        ImportColumn::ALL
            .iter()
            .copied()
            .find(|c| c.headings().contains(&key.as_str()))
    }
}

/// A heading folded for comparison: no accents nor case, every run of other characters one
/// space (« Date de naissance », « DATE_DE_NAISSANCE » and « date-de-naissance » agree).
pub fn heading_key(heading: &str) -> String {
    fold(heading)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_recognised_whatever_their_case_accents_and_punctuation() {
        for (heading, column) in [
            ("Prénom", ImportColumn::Prenom),
            ("NOM", ImportColumn::Nom),
            ("Date_de_naissance", ImportColumn::DateNaissance),
            ("Né(e) le", ImportColumn::DateNaissance),
            ("E-mail", ImportColumn::Courriel),
            ("Tél.", ImportColumn::Telephone),
            ("  Code postal ", ImportColumn::CodePostal),
            ("N° dossier", ImportColumn::Identifiant),
        ] {
            assert_eq!(ImportColumn::recognise(heading), Some(column), "{heading}");
        }
        assert_eq!(ImportColumn::recognise("Situation familiale"), None);
        assert_eq!(ImportColumn::recognise("  "), None);
    }

    #[test]
    fn every_columns_own_label_is_recognised() {
        for c in ImportColumn::ALL {
            assert_eq!(
                ImportColumn::recognise(c.label()),
                Some(*c),
                "{}",
                c.label()
            );
        }
    }

    #[test]
    fn no_heading_names_two_columns() {
        let mut seen = std::collections::HashSet::new();
        for c in ImportColumn::ALL {
            for h in c.headings() {
                assert!(seen.insert(*h), "« {h} » named twice");
                assert_eq!(heading_key(h), *h, "« {h} » is not folded");
            }
        }
    }
}
