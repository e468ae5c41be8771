//! Which column of the file holds what: recognised from the headings, then corrected on
//! screen. Stored with the import as a JSON object (column code → index in the file).

use std::collections::{BTreeMap, HashMap};

use domain::person_import::ImportColumn;

use crate::{AppError, FieldErrors};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping(BTreeMap<ImportColumn, usize>);

/// The form field of a column's choice (`col-prenom`…).
pub fn field_name(column: ImportColumn) -> String {
    format!("col-{}", column.as_str())
}

impl Mapping {
    /// The columns recognised by their heading (the first heading of a column wins).
    pub fn recognised(header: &[String]) -> Mapping {
        let mut found = BTreeMap::new();
        for (i, heading) in header.iter().enumerate() {
            if let Some(c) = ImportColumn::recognise(heading) {
                found.entry(c).or_insert(i);
            }
        }
        Mapping(found)
    }

    /// The mapping chosen on screen: each `col-<code>` field holds a column's index or is
    /// empty. The first name is required; a column of the file serves one purpose only.
    pub fn from_form(
        header: &[String],
        fields: &HashMap<String, String>,
    ) -> Result<Mapping, AppError> {
        let mut errors = FieldErrors::default();
        let mut chosen = BTreeMap::new();
        let mut used: HashMap<usize, ImportColumn> = HashMap::new();
        for column in ImportColumn::ALL.iter().copied() {
            let value = fields
                .get(&field_name(column))
                .map(|v| v.trim())
                .unwrap_or("");
            if value.is_empty() {
                continue;
            }
            let Some(index) = value.parse::<usize>().ok().filter(|i| *i < header.len()) else {
                errors.add(column_field(column), "Choisissez une colonne du fichier.");
                continue;
            };
            if let Some(other) = used.get(&index) {
                errors.add(
                    column_field(column),
                    format!(
                        "La colonne « {} » est déjà choisie pour « {} ».",
                        header[index].trim(),
                        other.label()
                    ),
                );
                continue;
            }
            used.insert(index, column);
            chosen.insert(column, index);
        }
        if !chosen.contains_key(&ImportColumn::Prenom)
            && errors.get(column_field(ImportColumn::Prenom)).is_none()
        {
            errors.add(
                column_field(ImportColumn::Prenom),
                "Choisissez la colonne du prénom : chaque dossier en a un.",
            );
        }
        if errors.is_empty() {
            Ok(Mapping(chosen))
        } else {
            Err(AppError::Invalid(errors))
        }
    }

    pub fn get(&self, column: ImportColumn) -> Option<usize> {
        self.0.get(&column).copied()
    }

    pub fn has(&self, column: ImportColumn) -> bool {
        self.0.contains_key(&column)
    }

    pub fn columns(&self) -> impl Iterator<Item = (ImportColumn, usize)> + '_ {
        self.0.iter().map(|(c, i)| (*c, *i))
    }

    pub fn to_json(&self) -> String {
        let object: serde_json::Map<String, serde_json::Value> = self
            .0
            .iter()
            .map(|(c, i)| (c.as_str().to_string(), serde_json::Value::from(*i)))
            .collect();
        serde_json::Value::Object(object).to_string()
    }

    /// A stored mapping (unknown codes, written by a later version, are ignored).
    pub fn from_json(text: &str) -> Mapping {
        let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let mut out = BTreeMap::new();
        if let Some(object) = value.as_object() {
            for (code, index) in object {
                if let (Some(c), Some(i)) = (ImportColumn::from_code(code), index.as_u64()) {
                    out.insert(c, i as usize);
                }
            }
        }
        Mapping(out)
    }
}

/// The form field an error about a column is shown at (field names are static).
pub fn column_field(column: ImportColumn) -> &'static str {
    match column {
        ImportColumn::Identifiant => "col-identifiant",
        ImportColumn::Prenom => "col-prenom",
        ImportColumn::Nom => "col-nom",
        ImportColumn::DateNaissance => "col-date-naissance",
        ImportColumn::Telephone => "col-telephone",
        ImportColumn::Courriel => "col-courriel",
        ImportColumn::Adresse => "col-adresse",
        ImportColumn::CodePostal => "col-code-postal",
        ImportColumn::Commune => "col-commune",
        ImportColumn::DateReperage => "col-date-reperage",
        ImportColumn::Canal => "col-canal",
        ImportColumn::Besoins => "col-besoins",
        ImportColumn::Champs => "col-champs",
        ImportColumn::Recontact => "col-recontact",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_column_has_its_own_field_name() {
        for c in ImportColumn::ALL {
            assert_eq!(column_field(*c), field_name(*c));
        }
    }

    #[test]
    fn a_mapping_needs_the_first_name_and_uses_a_column_once() {
        let h = header(&["Prénom", "Nom", "Tél."]);
        let m = Mapping::recognised(&h);
        assert_eq!(m.get(ImportColumn::Prenom), Some(0));
        assert_eq!(m.get(ImportColumn::Telephone), Some(2));
        assert_eq!(Mapping::from_json(&m.to_json()), m);

        let form = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        let Err(AppError::Invalid(e)) = Mapping::from_form(&h, &form(&[("col-nom", "1")])) else {
            panic!("the first name is required");
        };
        assert!(e.get("col-prenom").is_some());
        let Err(AppError::Invalid(e)) =
            Mapping::from_form(&h, &form(&[("col-prenom", "0"), ("col-nom", "0")]))
        else {
            panic!("a column serves once");
        };
        assert_eq!(
            e.get("col-nom"),
            Some("La colonne « Prénom » est déjà choisie pour « Prénom ».")
        );
        let Err(AppError::Invalid(e)) =
            Mapping::from_form(&h, &form(&[("col-prenom", "0"), ("col-nom", "9")]))
        else {
            panic!("an index past the header is refused");
        };
        assert!(e.get("col-nom").is_some());
        let m =
            Mapping::from_form(&h, &form(&[("col-prenom", "1"), ("col-nom", "")])).expect("valid");
        assert_eq!(m.get(ImportColumn::Prenom), Some(1));
        assert!(!m.has(ImportColumn::Nom));
    }
}
