//! The data·inclusion schema v1 (« data·inclusion — GIP Plateforme de l'inclusion », Licence
//! Ouverte 2.0): its vocabularies with their French labels, its two records (structure and
//! service) and the rules a record must follow. Records are read from JSON values so that every
//! problem of a record is reported, in French, by field name — not only the first one.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The schema version Passerelle speaks.
pub const SCHEMA_VERSION: &str = "1.0.10";

/// The vocabularies of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vocabulary {
    Categorie,
    Thematique,
    TypeService,
    Public,
    ModeAccueil,
    Frais,
    ModeMobilisation,
    PersonneMobilisatrice,
    ReseauPorteur,
}

impl Vocabulary {
    fn key(self) -> &'static str {
        match self {
            Vocabulary::Categorie => "Categorie",
            Vocabulary::Thematique => "Thematique",
            Vocabulary::TypeService => "TypeService",
            Vocabulary::Public => "Public",
            Vocabulary::ModeAccueil => "ModeAccueil",
            Vocabulary::Frais => "Frais",
            Vocabulary::ModeMobilisation => "ModeMobilisation",
            Vocabulary::PersonneMobilisatrice => "PersonneMobilisatrice",
            Vocabulary::ReseauPorteur => "ReseauPorteur",
        }
    }

    const ALL: [Vocabulary; 9] = [
        Vocabulary::Categorie,
        Vocabulary::Thematique,
        Vocabulary::TypeService,
        Vocabulary::Public,
        Vocabulary::ModeAccueil,
        Vocabulary::Frais,
        Vocabulary::ModeMobilisation,
        Vocabulary::PersonneMobilisatrice,
        Vocabulary::ReseauPorteur,
    ];

    /// Every value of this vocabulary, in the schema's order.
    pub fn terms(self) -> &'static [Term] {
        vocabularies().get(&self).map_or(&[], Vec::as_slice)
    }

    /// The French label of a value, `None` when the value is not part of the vocabulary.
    pub fn label(self, value: &str) -> Option<&'static str> {
        self.terms()
            .iter()
            .find(|t| t.value == value)
            .map(|t| t.label.as_str())
    }

    pub fn contains(self, value: &str) -> bool {
        self.label(value).is_some()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Term {
    pub value: String,
    pub label: String,
}

#[derive(Deserialize)]
struct EnumFile {
    enums: HashMap<String, EnumValues>,
}

#[derive(Deserialize)]
struct EnumValues {
    values: Vec<Term>,
}

fn vocabularies() -> &'static HashMap<Vocabulary, Vec<Term>> {
    static VOCABULARIES: OnceLock<HashMap<Vocabulary, Vec<Term>>> = OnceLock::new();
    VOCABULARIES.get_or_init(|| {
        let file: EnumFile = match serde_json::from_str(include_str!(
            "../data/data-inclusion-schema-1.0.10-enums.json"
        )) {
            Ok(f) => f,
            // The file is part of the build; a test proves it parses.
            Err(_) => return HashMap::new(),
        };
        let mut enums = file.enums;
        Vocabulary::ALL
            .into_iter()
            .map(|v| {
                (
                    v,
                    enums.remove(v.key()).map(|e| e.values).unwrap_or_default(),
                )
            })
            .collect()
    })
}

/// Existence of geographic codes (the official referential answers; tests may fake it).
pub trait Geography {
    fn commune_exists(&self, code: &str) -> bool;
    fn departement_exists(&self, code: &str) -> bool;
    fn epci_exists(&self, code: &str) -> bool;
}

/// A place a service may be sought from: a commune with its département and EPCI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub commune: String,
    pub departement: String,
    pub epci: Option<String>,
}

impl Place {
    /// The `zone_eligibilite` codes that include this place: its commune, département, EPCI,
    /// and « france ».
    pub fn zone_codes(&self) -> Vec<String> {
        let mut codes = vec![
            self.commune.clone(),
            self.departement.clone(),
            "france".to_string(),
        ];
        codes.extend(self.epci.clone());
        codes
    }
}

/// Whether a `zone_eligibilite` (its codes) includes a place.
pub fn zone_covers<'a>(codes: impl IntoIterator<Item = &'a str>, place: &Place) -> bool {
    let covering = place.zone_codes();
    codes
        .into_iter()
        .any(|code| covering.iter().any(|c| c == code))
}

/// What a code of `zone_eligibilite` designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneCode {
    France,
    Pays,
    Epci,
    Commune,
    Departement,
}

impl ZoneCode {
    pub fn classify(code: &str) -> Option<ZoneCode> {
        let word = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        match code.len() {
            _ if code == "france" => Some(ZoneCode::France),
            9 if digits(code) => Some(ZoneCode::Epci),
            5 if code.starts_with("99") && digits(code) && code.as_bytes()[2] <= b'5' => {
                Some(ZoneCode::Pays)
            }
            5 if word(code) => Some(ZoneCode::Commune),
            2 | 3 if word(code) => Some(ZoneCode::Departement),
            _ => None,
        }
    }
}

/// A structure (organisation) as data·inclusion describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Structure {
    pub source: String,
    pub id: String,
    pub nom: String,
    pub date_maj: String,
    pub description: Option<String>,
    pub lien_source: Option<String>,
    pub siret: Option<String>,
    pub commune: Option<String>,
    pub code_postal: Option<String>,
    pub code_insee: Option<String>,
    pub adresse: Option<String>,
    pub complement_adresse: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub telephone: Option<String>,
    pub courriel: Option<String>,
    pub site_web: Option<String>,
    pub horaires_accueil: Option<String>,
    pub accessibilite_lieu: Option<String>,
    pub reseaux_porteurs: Option<Vec<String>>,
}

/// A service as data·inclusion describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub source: String,
    pub structure_id: String,
    pub id: String,
    pub nom: String,
    pub description: String,
    pub lien_source: Option<String>,
    pub date_maj: String,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub thematiques: Option<Vec<String>>,
    pub frais: Option<String>,
    pub frais_precisions: Option<String>,
    pub publics: Option<Vec<String>>,
    pub publics_precisions: Option<String>,
    pub conditions_acces: Option<String>,
    pub commune: Option<String>,
    pub code_postal: Option<String>,
    pub code_insee: Option<String>,
    pub adresse: Option<String>,
    pub complement_adresse: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub telephone: Option<String>,
    pub courriel: Option<String>,
    pub modes_accueil: Option<Vec<String>>,
    pub zone_eligibilite: Option<Vec<String>>,
    pub contact_nom_prenom: Option<String>,
    pub lien_mobilisation: Option<String>,
    pub modes_mobilisation: Option<Vec<String>>,
    pub mobilisable_par: Option<Vec<String>>,
    pub mobilisation_precisions: Option<String>,
    pub volume_horaire_hebdomadaire: Option<f64>,
    pub nombre_semaines: Option<i64>,
    pub horaires_accueil: Option<String>,
}

/// Fields holding lists (CSV cells hold them separated by commas).
pub const LIST_FIELDS: [&str; 7] = [
    "thematiques",
    "publics",
    "modes_accueil",
    "zone_eligibilite",
    "modes_mobilisation",
    "mobilisable_par",
    "reseaux_porteurs",
];
/// Fields holding numbers.
pub const NUMBER_FIELDS: [&str; 4] = [
    "longitude",
    "latitude",
    "volume_horaire_hebdomadaire",
    "nombre_semaines",
];

/// Turns a CSV row (header names and cells) into the JSON object the JSON files hold: empty
/// cells are null, list cells are split on commas (or read as a JSON array), number cells are
/// read as numbers when they are numbers (else left as text, for the rules to refuse).
pub fn csv_record(headers: &[String], cells: &[String]) -> Value {
    let mut object = Map::new();
    for (name, cell) in headers.iter().zip(cells) {
        let name = name.trim();
        let cell = cell.trim();
        let value = if cell.is_empty() {
            Value::Null
        } else if LIST_FIELDS.contains(&name) {
            match serde_json::from_str::<Value>(cell) {
                Ok(v @ Value::Array(_)) => v,
                _ => Value::Array(
                    cell.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| Value::String(s.to_string()))
                        .collect(),
                ),
            }
        } else if NUMBER_FIELDS.contains(&name) {
            cell.replace(',', ".")
                .parse::<serde_json::Number>()
                .map_or_else(|_| Value::String(cell.to_string()), Value::Number)
        } else {
            Value::String(cell.to_string())
        };
        object.insert(name.to_string(), value);
    }
    Value::Object(object)
}

/// Reads fields off a record, collecting every problem in French.
struct Reader<'a> {
    record: &'a Map<String, Value>,
    errors: Vec<String>,
}

impl<'a> Reader<'a> {
    fn fail(&mut self, name: &str, problem: impl std::fmt::Display) {
        self.errors.push(format!("{name} : {problem}"));
    }

    /// The value, `None` when absent or null (an empty text counts as absent).
    fn raw(&self, name: &str) -> Option<&'a Value> {
        match self.record.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(v) => Some(v),
        }
    }

    fn text(&mut self, name: &str, required: bool) -> Option<String> {
        match self.raw(name) {
            None => {
                if required {
                    self.fail(name, "champ obligatoire manquant");
                }
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.fail(name, "doit être du texte");
                None
            }
        }
    }

    fn sized(&mut self, name: &str, required: bool, min: usize, max: usize) -> Option<String> {
        let value = self.text(name, required)?;
        let n = value.chars().count();
        if n < min || n > max {
            self.fail(
                name,
                format_args!("doit compter entre {min} et {max} caractères ({n} reçus)"),
            );
        }
        Some(value)
    }

    fn matching(&mut self, name: &str, rule: &str, ok: impl Fn(&str) -> bool) -> Option<String> {
        let value = self.text(name, false)?;
        if !ok(&value) {
            self.fail(name, format_args!("« {value} » : {rule}"));
        }
        Some(value)
    }

    fn uri(&mut self, name: &str) -> Option<String> {
        self.matching(
            name,
            "doit être une adresse web complète (https://…) de 2 083 caractères au plus",
            |v| {
                (v.starts_with("https://") || v.starts_with("http://"))
                    && v.len() <= 2083
                    && !v.contains(char::is_whitespace)
                    && v.len() > "https://".len()
            },
        )
    }

    fn email(&mut self, name: &str) -> Option<String> {
        self.matching(name, "n'est pas une adresse électronique valide", |v| {
            crate::Email::parse(v).is_ok()
        })
    }

    fn date(&mut self, name: &str) -> Option<String> {
        let value = self.text(name, true)?;
        if NaiveDate::parse_from_str(&value, crate::ISO_DATE).is_err() || value.len() != 10 {
            self.fail(
                name,
                format_args!("« {value} » n'est pas une date AAAA-MM-JJ"),
            );
        }
        Some(value)
    }

    fn number(&mut self, name: &str, min: f64, max: f64) -> Option<f64> {
        match self.raw(name) {
            None => None,
            Some(Value::Number(n)) => {
                let v = n.as_f64().unwrap_or(f64::NAN);
                if !(min..=max).contains(&v) {
                    self.fail(name, format_args!("{v} n'est pas entre {min} et {max}"));
                }
                Some(v)
            }
            Some(other) => {
                self.fail(name, format_args!("{other} n'est pas un nombre"));
                None
            }
        }
    }

    fn integer(&mut self, name: &str, min: i64) -> Option<i64> {
        match self.raw(name) {
            None => None,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(v) if v >= min => Some(v),
                _ => {
                    self.fail(
                        name,
                        format_args!("{n} : doit être un nombre entier d'au moins {min}"),
                    );
                    None
                }
            },
            Some(other) => {
                self.fail(name, format_args!("{other} n'est pas un nombre entier"));
                None
            }
        }
    }

    fn list(&mut self, name: &str, min_items: usize) -> Option<Vec<String>> {
        let items = match self.raw(name)? {
            Value::Array(items) => items,
            _ => {
                self.fail(name, "doit être une liste");
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::String(s) => out.push(s.clone()),
                other => self.fail(name, format_args!("{other} n'est pas du texte")),
            }
        }
        if out.len() < min_items {
            self.fail(name, "la liste ne peut pas être vide");
        }
        let distinct: BTreeSet<&String> = out.iter().collect();
        if distinct.len() != out.len() {
            self.fail(name, "une valeur y figure deux fois");
        }
        Some(out)
    }

    fn enumerated(&mut self, name: &str, vocabulary: Vocabulary) -> Option<String> {
        let value = self.text(name, false)?;
        if !vocabulary.contains(&value) {
            self.fail(
                name,
                format_args!("« {value} » n'est pas une valeur du schéma"),
            );
        }
        Some(value)
    }

    fn enumerated_list(
        &mut self,
        name: &str,
        vocabulary: Vocabulary,
        min_items: usize,
    ) -> Option<Vec<String>> {
        let values = self.list(name, min_items)?;
        for value in &values {
            if !vocabulary.contains(value) {
                self.fail(
                    name,
                    format_args!("« {value} » n'est pas une valeur du schéma"),
                );
            }
        }
        Some(values)
    }

    fn location(&mut self, geo: &dyn Geography) -> Location {
        let code_postal = self.matching("code_postal", "doit compter 5 chiffres", |v| {
            v.len() == 5 && v.chars().all(|c| c.is_ascii_digit())
        });
        let code_insee = self.matching(
            "code_insee",
            "n'est pas un code commune du Code officiel géographique",
            |v| geo.commune_exists(v),
        );
        Location {
            commune: self.text("commune", false),
            code_postal,
            code_insee,
            adresse: self.text("adresse", false),
            complement_adresse: self.text("complement_adresse", false),
            longitude: self.number("longitude", -180.0, 180.0),
            latitude: self.number("latitude", -90.0, 90.0),
        }
    }

    fn finish<T>(self, value: T) -> Result<T, Vec<String>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

struct Location {
    commune: Option<String>,
    code_postal: Option<String>,
    code_insee: Option<String>,
    adresse: Option<String>,
    complement_adresse: Option<String>,
    longitude: Option<f64>,
    latitude: Option<f64>,
}

fn object(value: &Value) -> Result<&Map<String, Value>, Vec<String>> {
    value
        .as_object()
        .ok_or_else(|| vec!["l'enregistrement n'est pas un objet JSON".to_string()])
}

impl Structure {
    /// Reads and checks a structure record; every problem is listed.
    pub fn from_json(value: &Value, geo: &dyn Geography) -> Result<Structure, Vec<String>> {
        let mut r = Reader {
            record: object(value)?,
            errors: Vec::new(),
        };
        let nom = r.sized("nom", true, 3, 150).unwrap_or_default();
        if nom.trim_end().ends_with('.') {
            r.fail("nom", "ne doit pas se terminer par un point");
        }
        let location = r.location(geo);
        let structure = Structure {
            source: r.text("source", true).unwrap_or_default(),
            id: r.text("id", true).unwrap_or_default(),
            nom,
            date_maj: r.date("date_maj").unwrap_or_default(),
            description: r.sized("description", false, 5, 10_000),
            lien_source: r.uri("lien_source"),
            siret: r.matching("siret", "un SIRET compte 14 chiffres", |v| {
                v.len() == 14 && v.chars().all(|c| c.is_ascii_digit())
            }),
            commune: location.commune,
            code_postal: location.code_postal,
            code_insee: location.code_insee,
            adresse: location.adresse,
            complement_adresse: location.complement_adresse,
            longitude: location.longitude,
            latitude: location.latitude,
            telephone: r.text("telephone", false),
            courriel: r.email("courriel"),
            site_web: r.uri("site_web"),
            horaires_accueil: r.text("horaires_accueil", false),
            accessibilite_lieu: r.uri("accessibilite_lieu"),
            reseaux_porteurs: r.enumerated_list("reseaux_porteurs", Vocabulary::ReseauPorteur, 0),
        };
        r.finish(structure)
    }
}

impl Service {
    /// Reads and checks a service record; every problem is listed.
    pub fn from_json(value: &Value, geo: &dyn Geography) -> Result<Service, Vec<String>> {
        let mut r = Reader {
            record: object(value)?,
            errors: Vec::new(),
        };
        let publics = r.enumerated_list("publics", Vocabulary::Public, 1);
        if let Some(p) = &publics
            && p.len() > 1
            && p.iter().any(|v| v == "tous-publics")
        {
            r.fail(
                "publics",
                "« tous-publics » ne peut pas être combiné avec d'autres publics",
            );
        }
        let zone = r.list("zone_eligibilite", 1);
        for code in zone.iter().flatten() {
            let known = match ZoneCode::classify(code) {
                Some(ZoneCode::France | ZoneCode::Pays) => true,
                Some(ZoneCode::Commune) => geo.commune_exists(code),
                Some(ZoneCode::Departement) => geo.departement_exists(code),
                Some(ZoneCode::Epci) => geo.epci_exists(code),
                None => false,
            };
            if !known {
                r.fail("zone_eligibilite", format_args!("« {code} » n'est ni « france » ni un code de commune, de département, d'EPCI ou de pays connu"));
            }
        }
        let location = r.location(geo);
        let service = Service {
            source: r.text("source", true).unwrap_or_default(),
            structure_id: r.text("structure_id", true).unwrap_or_default(),
            id: r.text("id", true).unwrap_or_default(),
            nom: r.sized("nom", true, 3, 150).unwrap_or_default(),
            description: r.sized("description", true, 5, 10_000).unwrap_or_default(),
            lien_source: r.uri("lien_source"),
            date_maj: r.date("date_maj").unwrap_or_default(),
            type_: r.enumerated("type", Vocabulary::TypeService),
            thematiques: r.enumerated_list("thematiques", Vocabulary::Thematique, 0),
            frais: r.enumerated("frais", Vocabulary::Frais),
            frais_precisions: r.text("frais_precisions", false),
            publics,
            publics_precisions: r.text("publics_precisions", false),
            conditions_acces: r.text("conditions_acces", false),
            commune: location.commune,
            code_postal: location.code_postal,
            code_insee: location.code_insee,
            adresse: location.adresse,
            complement_adresse: location.complement_adresse,
            longitude: location.longitude,
            latitude: location.latitude,
            telephone: r.text("telephone", false),
            courriel: r.email("courriel"),
            modes_accueil: r.enumerated_list("modes_accueil", Vocabulary::ModeAccueil, 0),
            zone_eligibilite: zone,
            contact_nom_prenom: r.text("contact_nom_prenom", false),
            lien_mobilisation: r.uri("lien_mobilisation"),
            modes_mobilisation: r.enumerated_list(
                "modes_mobilisation",
                Vocabulary::ModeMobilisation,
                1,
            ),
            mobilisable_par: r.enumerated_list(
                "mobilisable_par",
                Vocabulary::PersonneMobilisatrice,
                1,
            ),
            mobilisation_precisions: r.text("mobilisation_precisions", false),
            volume_horaire_hebdomadaire: r.number("volume_horaire_hebdomadaire", 0.0, 168.0),
            nombre_semaines: r.integer("nombre_semaines", 1),
            horaires_accueil: r.text("horaires_accueil", false),
        };
        r.finish(service)
    }

    pub fn date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.date_maj, crate::ISO_DATE).ok()
    }

    /// Not updated for six months: the directory shows it « à vérifier ».
    pub fn is_stale(&self, today: NaiveDate) -> bool {
        self.date()
            .and_then(|d| d.checked_add_months(Months::new(6)))
            .is_none_or(|limit| limit < today)
    }

    /// Whether someone from this place may use the service; `None` when the record does not say.
    pub fn eligible_from(&self, place: &Place) -> Option<bool> {
        let zone = self.zone_eligibilite.as_ref()?;
        Some(zone_covers(zone.iter().map(String::as_str), place))
    }

    pub fn is_remote(&self) -> bool {
        self.modes_accueil
            .as_ref()
            .is_some_and(|m| m.iter().any(|v| v == "a-distance"))
    }

    /// How complete and current the record is, criterion by criterion, in the spirit of the
    /// score data·inclusion computes for the services it publishes.
    pub fn quality(&self, today: NaiveDate) -> Quality {
        let some = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
        let description = self.description.chars().count();
        let criteria = vec![
            ("Description d'au moins 200 caractères", description >= 200),
            ("Type de service renseigné", self.type_.is_some()),
            ("Thématiques renseignées", some(&self.thematiques)),
            ("Publics renseignés", some(&self.publics)),
            ("Frais précisés", self.frais.is_some()),
            ("Modes d'accueil renseignés", some(&self.modes_accueil)),
            (
                "Modes de mobilisation et qui peut mobiliser",
                some(&self.modes_mobilisation) && some(&self.mobilisable_par),
            ),
            (
                "Contact (téléphone, courriel ou lien)",
                self.telephone.is_some()
                    || self.courriel.is_some()
                    || self.lien_mobilisation.is_some(),
            ),
            (
                "Lieu d'accueil localisé ou service à distance",
                (self.longitude.is_some() && self.latitude.is_some()) || self.is_remote(),
            ),
            (
                "Zone d'éligibilité renseignée",
                some(&self.zone_eligibilite),
            ),
            ("Mis à jour depuis moins de 6 mois", !self.is_stale(today)),
        ];
        Quality { criteria }
    }
}

#[derive(Debug, Clone)]
pub struct Quality {
    pub criteria: Vec<(&'static str, bool)>,
}

impl Quality {
    /// Between 0 and 1.
    pub fn score(&self) -> f64 {
        let met = self.criteria.iter().filter(|(_, ok)| *ok).count();
        met as f64 / self.criteria.len().max(1) as f64
    }

    pub fn percent(&self) -> u32 {
        (self.score() * 100.0).round() as u32
    }
}

/// Opening hours in the OpenStreetMap syntax the schema uses, said in French: the simple rules
/// (days, time ranges, `off`, `24/7`, public holidays). `None` for what it cannot read, so the
/// caller shows the original text.
pub fn opening_hours_fr(hours: &str) -> Option<String> {
    const DAYS: [(&str, &str); 8] = [
        ("Mo", "lundi"),
        ("Tu", "mardi"),
        ("We", "mercredi"),
        ("Th", "jeudi"),
        ("Fr", "vendredi"),
        ("Sa", "samedi"),
        ("Su", "dimanche"),
        ("PH", "jours fériés"),
    ];
    let day = |d: &str| DAYS.iter().find(|(k, _)| *k == d).map(|(_, v)| *v);
    let time = |t: &str| {
        let (h, m) = t.split_once(':')?;
        let h: u32 = h.parse().ok()?;
        let m: u32 = m.parse().ok()?;
        (h <= 24 && m < 60).then(|| {
            if m == 0 {
                format!("{h} h")
            } else {
                format!("{h} h {m:02}")
            }
        })
    };
    let mut rules = Vec::new();
    for rule in hours.split(';').map(str::trim).filter(|r| !r.is_empty()) {
        if rule == "24/7" {
            rules.push("tous les jours, 24 h sur 24".to_string());
            continue;
        }
        let (days, times) = match rule.split_once(' ') {
            Some((d, t)) if d.chars().next().is_some_and(char::is_alphabetic) => (d, t.trim()),
            _ => ("Mo-Su", rule),
        };
        let mut said_days = Vec::new();
        for part in days.split(',') {
            match part.split_once('-') {
                Some((a, b)) => said_days.push(format!("du {} au {}", day(a)?, day(b)?)),
                None if part == "PH" => said_days.push("les jours fériés".to_string()),
                None => said_days.push(format!("le {}", day(part)?)),
            }
        }
        let said_times = if times == "off" || times == "closed" {
            "fermé".to_string()
        } else {
            let mut ranges = Vec::new();
            for range in times.split(',') {
                let (a, b) = range.trim().split_once('-')?;
                ranges.push(format!("de {} à {}", time(a)?, time(b)?));
            }
            ranges.join(" et ")
        };
        rules.push(format!("{} : {said_times}", said_days.join(", ")));
    }
    let mut text = rules.join(" ; ");
    let first = text.chars().next()?;
    text.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Geo;
    impl Geography for Geo {
        fn commune_exists(&self, code: &str) -> bool {
            ["59392", "59365"].contains(&code)
        }
        fn departement_exists(&self, code: &str) -> bool {
            ["59", "2A", "971"].contains(&code)
        }
        fn epci_exists(&self, code: &str) -> bool {
            code == "200043396"
        }
    }

    fn service() -> Value {
        json!({
            "source": "passerelle", "structure_id": "s1", "id": "svc1",
            "nom": "Atelier CV", "description": "Un atelier pour écrire son CV.",
            "date_maj": "2026-10-01", "type": "atelier",
            "thematiques": ["preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"],
            "frais": "gratuit", "publics": ["demandeurs-emploi", "jeunes"],
            "code_insee": "59392", "code_postal": "59600",
            "modes_accueil": ["en-presentiel"], "zone_eligibilite": ["59", "200043396"],
            "modes_mobilisation": ["telephoner"], "mobilisable_par": ["professionnels", "usagers"],
            "volume_horaire_hebdomadaire": 3, "nombre_semaines": 2,
        })
    }

    fn errors_of(value: Value) -> Vec<String> {
        Service::from_json(&value, &Geo).expect_err("refused")
    }

    #[test]
    fn vocabularies_load_with_their_french_labels() {
        assert_eq!(Vocabulary::Categorie.terms().len(), 16);
        assert_eq!(Vocabulary::Thematique.terms().len(), 69);
        assert_eq!(Vocabulary::TypeService.terms().len(), 6);
        assert_eq!(Vocabulary::Public.terms().len(), 14);
        assert_eq!(Vocabulary::ReseauPorteur.terms().len(), 108);
        assert_eq!(Vocabulary::Frais.label("gratuit"), Some("Gratuit"));
        assert!(Vocabulary::Public.contains("residents-qpv-frr"));
    }

    #[test]
    fn a_valid_service_reads_back_and_serialises_with_every_field() {
        let s = Service::from_json(&service(), &Geo).expect("valid");
        assert_eq!(s.volume_horaire_hebdomadaire, Some(3.0));
        let out = serde_json::to_value(&s).expect("json");
        assert_eq!(out["type"], "atelier");
        assert!(
            out.as_object()
                .expect("object")
                .contains_key("horaires_accueil")
        );
        assert_eq!(Service::from_json(&out, &Geo).expect("again"), s);
    }

    #[test]
    fn every_rule_of_the_schema_is_enforced_and_named() {
        let mut v = service();
        v["nom"] = json!("CV");
        v["description"] = json!("abc");
        v["publics"] = json!(["tous-publics", "jeunes"]);
        v["type"] = json!("conference");
        v["thematiques"] = json!(["numerique--inexistant"]);
        v["zone_eligibilite"] = json!(["75", "france", "123"]);
        v["code_insee"] = json!("99999");
        v["code_postal"] = json!("5960");
        v["courriel"] = json!("pas-une-adresse");
        v["date_maj"] = json!("2026-02-30");
        v["nombre_semaines"] = json!(0);
        v["volume_horaire_hebdomadaire"] = json!(-1);
        v["modes_mobilisation"] = json!([]);
        v["lien_mobilisation"] = json!("www.exemple.fr");
        v.as_object_mut().expect("object").remove("id");
        let errors = errors_of(v);
        for expected in [
            "nom : doit compter entre 3 et 150 caractères (2 reçus)",
            "description : doit compter entre 5 et 10000 caractères (3 reçus)",
            "publics : « tous-publics » ne peut pas être combiné",
            "type : « conference » n'est pas une valeur du schéma",
            "thematiques : « numerique--inexistant »",
            "zone_eligibilite : « 75 »",
            "zone_eligibilite : « 123 »",
            "code_insee : « 99999 »",
            "code_postal : « 5960 »",
            "courriel : « pas-une-adresse »",
            "date_maj : « 2026-02-30 » n'est pas une date",
            "nombre_semaines : 0",
            "volume_horaire_hebdomadaire : -1",
            "modes_mobilisation : la liste ne peut pas être vide",
            "lien_mobilisation : « www.exemple.fr »",
            "id : champ obligatoire manquant",
        ] {
            assert!(
                errors.iter().any(|e| e.starts_with(expected)),
                "missing « {expected} » in {errors:#?}"
            );
        }
        assert_eq!(errors.len(), 16, "{errors:#?}");
    }

    #[test]
    fn structures_follow_their_own_rules() {
        let ok = json!({"source": "x", "id": "s1", "nom": "Mission locale", "date_maj": "2026-01-02", "siret": "13002526500013", "reseaux_porteurs": ["mission-locale"]});
        assert!(Structure::from_json(&ok, &Geo).is_ok());
        let bad = json!({"source": "x", "id": "s1", "nom": "Mission locale.", "date_maj": "2026-01-02", "siret": "1300252650001", "reseaux_porteurs": ["inconnu"], "site_web": "ftp://x"});
        let errors = Structure::from_json(&bad, &Geo).expect_err("refused");
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].starts_with("nom : ne doit pas se terminer par un point"));
        assert!(Structure::from_json(&json!([1]), &Geo).is_err());
    }

    #[test]
    fn opening_hours_are_said_in_french_or_left_alone() {
        assert_eq!(
            opening_hours_fr("Mo-Fr 09:00-12:00,14:00-17:30; Sa 09:00-12:00; PH off").as_deref(),
            Some(
                "Du lundi au vendredi : de 9 h à 12 h et de 14 h à 17 h 30 ; le samedi : de 9 h à 12 h ; les jours fériés : fermé"
            )
        );
        assert_eq!(
            opening_hours_fr("24/7").as_deref(),
            Some("Tous les jours, 24 h sur 24")
        );
        assert_eq!(opening_hours_fr("sur rendez-vous"), None);
        assert_eq!(opening_hours_fr("Mo 9h-12h"), None);
    }

    #[test]
    fn csv_cells_become_lists_numbers_and_nulls() {
        let headers: Vec<String> = ["nom", "publics", "longitude", "nombre_semaines", "adresse"]
            .map(String::from)
            .to_vec();
        let cells: Vec<String> = ["Atelier", "jeunes, femmes", "3,96", "x", ""]
            .map(String::from)
            .to_vec();
        let v = csv_record(&headers, &cells);
        assert_eq!(v["publics"], json!(["jeunes", "femmes"]));
        assert_eq!(v["longitude"], json!(3.96));
        assert_eq!(v["nombre_semaines"], json!("x"));
        assert_eq!(v["adresse"], Value::Null);
    }

    #[test]
    fn eligibility_freshness_and_quality() {
        let s = Service::from_json(&service(), &Geo).expect("valid");
        let place = |commune: &str, dep: &str, epci: Option<&str>| Place {
            commune: commune.into(),
            departement: dep.into(),
            epci: epci.map(String::from),
        };
        assert_eq!(s.eligible_from(&place("59392", "59", None)), Some(true));
        assert_eq!(
            s.eligible_from(&place("62001", "62", Some("200043396"))),
            Some(true)
        );
        assert_eq!(
            s.eligible_from(&place("75056", "75", Some("200054781"))),
            Some(false)
        );
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        assert!(!s.is_stale(today));
        assert!(s.is_stale(NaiveDate::from_ymd_opt(2027, 4, 2).expect("date")));
        let q = s.quality(today);
        assert!(
            q.criteria
                .iter()
                .any(|(c, ok)| c.starts_with("Description") && !ok)
        );
        assert!(q.percent() > 50 && q.percent() < 100, "{}", q.percent());
        assert_eq!(ZoneCode::classify("99100"), Some(ZoneCode::Pays));
        assert_eq!(ZoneCode::classify("2A004"), Some(ZoneCode::Commune));
        assert_eq!(ZoneCode::classify("971"), Some(ZoneCode::Departement));
    }
}
