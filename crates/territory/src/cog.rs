//! The Code officiel géographique, compact extract of `@etalab/decoupage-administratif`
//! (Licence Ouverte 2.0). Parsed once, on first use, then shared.

use std::collections::HashMap;
use std::sync::OnceLock;

use domain::{EpciCode, InseeCode, PostalCode, text::fold};

const COMMUNES: &str = include_str!("../data/communes.csv");
const EPCI: &str = include_str!("../data/epci.csv");
const DEPARTEMENTS: &str = include_str!("../data/departements.csv");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommuneKind {
    /// A current commune.
    Current,
    /// An arrondissement municipal of Paris, Lyon or Marseille.
    Arrondissement,
    /// A former commune, now déléguée within a commune nouvelle.
    Delegated,
    /// A former commune, now associée.
    Associated,
}

#[derive(Debug, Clone)]
pub struct Commune {
    pub code: InseeCode,
    pub name: String,
    pub kind: CommuneKind,
    pub departement: String,
    /// The commune it belongs to, for arrondissements and former communes.
    pub parent: Option<InseeCode>,
    pub epci: Option<EpciCode>,
    pub postal_codes: Vec<PostalCode>,
    pub population: Option<u32>,
}

impl Commune {
    /// « Maubeuge (59) », as shown in lists.
    pub fn display_name(&self) -> String {
        format!("{} ({})", self.name, self.departement)
    }
}

#[derive(Debug, Clone)]
pub struct Epci {
    pub code: EpciCode,
    pub name: String,
    /// CA, CC, CU, MET, EPT…
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct Departement {
    pub code: String,
    pub name: String,
    pub region: String,
}

#[derive(Debug)]
pub struct Referential {
    communes: Vec<Commune>,
    by_code: HashMap<String, usize>,
    by_postal_code: HashMap<String, Vec<usize>>,
    epcis: Vec<Epci>,
    epci_by_code: HashMap<String, usize>,
    epci_members: HashMap<String, Vec<usize>>,
    departements: Vec<Departement>,
    folded_names: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("référentiel COG illisible, ligne {line} : {reason}")]
pub struct ReferentialError {
    pub line: usize,
    pub reason: String,
}

impl Referential {
    /// The shipped official referential. The data is part of the binary; a failure to parse it
    /// is a build defect caught by this crate's tests.
    pub fn official() -> &'static Referential {
        static OFFICIAL: OnceLock<Referential> = OnceLock::new();
        OFFICIAL.get_or_init(|| {
            Referential::parse(COMMUNES, EPCI, DEPARTEMENTS)
                .unwrap_or_else(|e| panic!("the embedded COG extract is broken: {e}"))
        })
    }

    pub fn parse(communes: &str, epci: &str, departements: &str) -> Result<Self, ReferentialError> {
        let mut referential = Referential {
            communes: Vec::new(),
            by_code: HashMap::new(),
            by_postal_code: HashMap::new(),
            epcis: Vec::new(),
            epci_by_code: HashMap::new(),
            epci_members: HashMap::new(),
            departements: Vec::new(),
            folded_names: Vec::new(),
        };
        for (line, record) in records(communes)? {
            let err = |reason: String| ReferentialError { line, reason };
            let get = |i: usize| record.get(i).unwrap_or("").to_string();
            let code = InseeCode::parse(&get(0)).map_err(|e| err(e.0))?;
            let kind = match get(2).as_str() {
                "COM" => CommuneKind::Current,
                "ARM" => CommuneKind::Arrondissement,
                "COMD" => CommuneKind::Delegated,
                "COMA" => CommuneKind::Associated,
                other => return Err(err(format!("type de commune inconnu « {other} »"))),
            };
            let parent = match get(4).as_str() {
                "" => None,
                p => Some(InseeCode::parse(p).map_err(|e| err(e.0))?),
            };
            let epci = match get(5).as_str() {
                "" => None,
                p => Some(EpciCode::parse(p).map_err(|e| err(e.0))?),
            };
            let postal_codes = get(6)
                .split_whitespace()
                .map(PostalCode::parse)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| err(e.0))?;
            let population = get(7).parse().ok();
            let index = referential.communes.len();
            referential.by_code.insert(code.as_str().to_string(), index);
            for pc in &postal_codes {
                referential
                    .by_postal_code
                    .entry(pc.as_str().to_string())
                    .or_default()
                    .push(index);
            }
            if let Some(e) = &epci
                && kind == CommuneKind::Current
            {
                referential
                    .epci_members
                    .entry(e.as_str().to_string())
                    .or_default()
                    .push(index);
            }
            let name = get(1);
            referential.folded_names.push(fold(&name));
            referential.communes.push(Commune {
                code,
                name,
                kind,
                departement: get(3),
                parent,
                epci,
                postal_codes,
                population,
            });
        }
        for (line, record) in records(epci)? {
            let code = EpciCode::parse(record.get(0).unwrap_or(""))
                .map_err(|e| ReferentialError { line, reason: e.0 })?;
            referential
                .epci_by_code
                .insert(code.as_str().to_string(), referential.epcis.len());
            referential.epcis.push(Epci {
                code,
                name: record.get(1).unwrap_or("").to_string(),
                kind: record.get(2).unwrap_or("").to_string(),
            });
        }
        for (_, record) in records(departements)? {
            referential.departements.push(Departement {
                code: record.get(0).unwrap_or("").to_string(),
                name: record.get(1).unwrap_or("").to_string(),
                region: record.get(2).unwrap_or("").to_string(),
            });
        }
        Ok(referential)
    }

    pub fn commune(&self, code: &InseeCode) -> Option<&Commune> {
        self.by_code.get(code.as_str()).map(|&i| &self.communes[i])
    }

    /// Current communes and arrondissements served by a postal code.
    pub fn communes_by_postal_code(&self, postal_code: &PostalCode) -> Vec<&Commune> {
        self.by_postal_code
            .get(postal_code.as_str())
            .map(|ids| ids.iter().map(|&i| &self.communes[i]).collect())
            .unwrap_or_default()
    }

    pub fn epci(&self, code: &EpciCode) -> Option<&Epci> {
        self.epci_by_code
            .get(code.as_str())
            .map(|&i| &self.epcis[i])
    }

    pub fn epci_members(&self, code: &EpciCode) -> Vec<&Commune> {
        self.epci_members
            .get(code.as_str())
            .map(|ids| ids.iter().map(|&i| &self.communes[i]).collect())
            .unwrap_or_default()
    }

    pub fn departement(&self, code: &str) -> Option<&Departement> {
        self.departements.iter().find(|d| d.code == code)
    }

    pub fn commune_count(&self) -> usize {
        self.communes.len()
    }

    /// Current communes whose name starts with the query, accents and case ignored, largest first.
    pub fn search_communes(&self, query: &str, limit: usize) -> Vec<&Commune> {
        let needle = fold(query.trim());
        if needle.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<&Commune> = self
            .folded_names
            .iter()
            .enumerate()
            .filter(|(i, name)| {
                name.starts_with(&needle) && self.communes[*i].kind == CommuneKind::Current
            })
            .map(|(i, _)| &self.communes[i])
            .collect();
        found.sort_by_key(|c| std::cmp::Reverse(c.population.unwrap_or(0)));
        found.truncate(limit);
        found
    }
}

impl domain::inclusion::Geography for Referential {
    fn commune_exists(&self, code: &str) -> bool {
        self.by_code.contains_key(code)
    }

    fn departement_exists(&self, code: &str) -> bool {
        self.departement(code).is_some()
    }

    fn epci_exists(&self, code: &str) -> bool {
        self.epci_by_code.contains_key(code)
    }
}

impl Referential {
    /// A commune as a place services are sought from (its département and EPCI, those of its
    /// current commune for a former one).
    pub fn place(&self, code: &InseeCode) -> Option<domain::inclusion::Place> {
        let commune = self.commune(code)?;
        let epci = commune.epci.clone().or_else(|| {
            commune
                .parent
                .as_ref()
                .and_then(|p| self.commune(p)?.epci.clone())
        });
        Some(domain::inclusion::Place {
            commune: commune.code.as_str().to_string(),
            departement: commune.departement.clone(),
            epci: epci.map(|e| e.as_str().to_string()),
        })
    }

    /// The commune a user means by « Maubeuge », « 59600 » or « 59392 »: an INSEE code, a postal
    /// code served by one commune (or the most populous when several), or a commune name.
    pub fn find_commune(&self, input: &str) -> Option<&Commune> {
        let input = input.trim();
        if let Ok(code) = PostalCode::parse(input) {
            let mut communes = self.communes_by_postal_code(&code);
            communes.sort_by_key(|c| std::cmp::Reverse(c.population.unwrap_or(0)));
            if let Some(c) = communes.first() {
                return Some(c);
            }
        }
        if let Ok(code) = InseeCode::parse(input)
            && let Some(c) = self.commune(&code)
        {
            return Some(c);
        }
        let folded = fold(input);
        self.search_communes(input, 20)
            .into_iter()
            .find(|c| fold(&c.name) == folded)
            .or_else(|| self.search_communes(input, 1).into_iter().next())
    }
}

fn records(text: &str) -> Result<Vec<(usize, csv::StringRecord)>, ReferentialError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(true)
        .from_reader(text.as_bytes());
    reader
        .records()
        .enumerate()
        .map(|(i, r)| {
            r.map(|r| (i + 2, r)).map_err(|e| ReferentialError {
                line: i + 2,
                reason: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insee(code: &str) -> InseeCode {
        InseeCode::parse(code).expect("valid code")
    }

    #[test]
    fn the_official_referential_knows_every_current_commune() {
        let r = Referential::official();
        assert!(r.commune_count() > 35_000, "{}", r.commune_count());
        let maubeuge = r.commune(&insee("59392")).expect("Maubeuge");
        assert_eq!(maubeuge.name, "Maubeuge");
        assert_eq!(maubeuge.kind, CommuneKind::Current);
        assert_eq!(r.departement("59").expect("Nord").name, "Nord");
    }

    #[test]
    fn a_postal_code_gives_its_communes() {
        let r = Referential::official();
        let names: Vec<_> = r
            .communes_by_postal_code(&PostalCode::parse("59600").expect("cp"))
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert!(names.contains(&"Maubeuge".to_string()), "{names:?}");
        assert!(names.len() > 1, "59600 serves several communes: {names:?}");
    }

    #[test]
    fn marseille_arrondissements_point_to_marseille() {
        let r = Referential::official();
        let first = r.commune(&insee("13201")).expect("Marseille 1er");
        assert_eq!(first.kind, CommuneKind::Arrondissement);
        assert_eq!(first.parent.as_ref().map(|c| c.as_str()), Some("13055"));
    }

    #[test]
    fn an_epci_lists_its_member_communes() {
        let r = Referential::official();
        let maubeuge = r.commune(&insee("59392")).expect("Maubeuge");
        let epci = maubeuge.epci.clone().expect("Maubeuge is in an EPCI");
        let members = r.epci_members(&epci);
        assert!(members.iter().any(|c| c.code == maubeuge.code));
        assert!(r.epci(&epci).expect("known EPCI").name.contains("Maubeuge"));
    }

    #[test]
    fn commune_search_ignores_accents_and_puts_large_communes_first() {
        let r = Referential::official();
        let found = r.search_communes("saint-etienne", 3);
        assert_eq!(found[0].name, "Saint-Étienne");
    }

    #[test]
    fn a_broken_line_is_reported_with_its_number() {
        let communes = "code;nom;type;departement;parent;epci;codes_postaux;population\n59392;Maubeuge;COM;59;;;59600;1\n5939X;Bad;COM;59;;;;\n";
        let err = Referential::parse(communes, "siren;nom;type\n", "code;nom;region\n")
            .expect_err("bad code");
        assert_eq!(err.line, 3);
    }
}
