//! Eligibility rules as data (docs/domain.md §9): a rule is a dated list of « voies d'accès »,
//! each a list of typed criteria with how many of them must hold. A rule is evaluated against
//! what is known of a person at a reference date, in three values — « éligible », « non
//! éligible », « à vérifier » — and a fact that is not known is always « à vérifier », naming
//! what is missing, never « non ». The rules Passerelle ships are in [`shipped`]; a territory
//! writes its own with the same types (stored as JSON, edited through a form).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::person::{QualificationLevel, Sex, age_on};
use crate::{Field, Invalid};

crate::codes! {
    /// What a rule answers.
    Answer {
        Eligible => "eligible", "Éligible";
        ToCheck => "a-verifier", "À vérifier";
        NotEligible => "non-eligible", "Non éligible";
    }
}

crate::codes! {
    /// The yes-or-no facts a criterion may ask about.
    Flag {
        Rsa => "rsa", "Bénéficiaire du RSA";
        Ass => "ass", "Bénéficiaire de l'allocation de solidarité spécifique (ASS)";
        Aah => "aah", "Bénéficiaire de l'allocation aux adultes handicapés (AAH)";
        Rqth => "rqth", "Reconnaissance de la qualité de travailleur handicapé (RQTH)";
        JobSeeker => "demandeur-emploi", "Inscrit à France Travail comme demandeur d'emploi";
        Student => "etudiant", "Étudiant";
        InTraining => "en-formation", "En formation";
        SingleParent => "parent-isole", "Parent isolé";
        AseLeaver => "sortant-ase", "Sortant de l'aide sociale à l'enfance (ASE)";
        Homeless => "sans-hebergement", "Sans hébergement, hébergé ou ayant un parcours de rue";
        Refugee => "refugie", "Réfugié, bénéficiaire de la protection subsidiaire ou demandeur d'asile";
        DetentionLeaver => "sortant-detention", "Sortant de détention ou sous main de justice";
        QpvResident => "residant-qpv", "Résidant d'un quartier prioritaire (QPV)";
        FrrResident => "residant-frr", "Résidant d'une commune France Ruralités Revitalisation (ex-ZRR)";
        FleBelowA1 => "fle-infra-a1", "Maîtrise du français inférieure au niveau A1";
        MobilityProblem => "probleme-mobilite", "Problème de mobilité";
        JobOrTrainingStart => "reprise-emploi-formation", "Reprend un emploi ou entre en formation";
    }
}

impl Flag {
    /// Health data: known only to those who may read it (docs/domain.md §6).
    pub fn is_health(self) -> bool {
        matches!(self, Flag::Rqth | Flag::Aah)
    }

    /// The criterion « not in this situation », in French.
    fn negated(self) -> &'static str {
        match self {
            Flag::Rsa => "Ne pas être bénéficiaire du RSA",
            Flag::Ass => "Ne pas être bénéficiaire de l'ASS",
            Flag::Aah => "Ne pas être bénéficiaire de l'AAH",
            Flag::Rqth => "Ne pas avoir de RQTH",
            Flag::JobSeeker => "Ne pas être inscrit à France Travail",
            Flag::Student => "Ne pas être étudiant",
            Flag::InTraining => "Ne pas suivre de formation",
            Flag::SingleParent => "Ne pas être parent isolé",
            Flag::AseLeaver => "Ne pas être sortant de l'ASE",
            Flag::Homeless => "Avoir un hébergement stable",
            Flag::Refugee => "Ne pas relever de la protection internationale",
            Flag::DetentionLeaver => "Ne pas être sortant de détention",
            Flag::QpvResident => "Ne pas résider en QPV",
            Flag::FrrResident => "Ne pas résider en zone FRR",
            Flag::FleBelowA1 => "Maîtriser le français au niveau A1 au moins",
            Flag::MobilityProblem => "Ne pas avoir de problème de mobilité",
            Flag::JobOrTrainingStart => "Ne pas reprendre d'emploi ni de formation",
        }
    }

    /// Where the fact is filled in, said when it is missing.
    fn where_to_fill(self) -> &'static str {
        match self {
            Flag::Rqth | Flag::Aah => "volet santé du dossier",
            Flag::QpvResident => "adresse du dossier (vérification QPV)",
            Flag::MobilityProblem => "diagnostic, champ Mobilité",
            _ => "situation de la personne",
        }
    }
}

/// One typed condition of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Criterion {
    /// Age in full years (« révolus ») at the reference date, both bounds included.
    Age {
        min: Option<u8>,
        max: Option<u8>,
    },
    /// A yes-or-no fact, expected to be `expected`.
    Flag {
        flag: Flag,
        expected: bool,
    },
    /// Qualification at this level or below.
    QualificationAtMost {
        level: QualificationLevel,
    },
    /// Registered at France Travail for at least `min` and at most `max` full months.
    JobSeekerMonths {
        min: Option<u32>,
        max: Option<u32>,
    },
    /// At least one child under `years` years at the reference date.
    YoungestChildUnder {
        years: u8,
    },
    Sex {
        sex: Sex,
    },
    /// A condition Passerelle does not record: always to be checked with the person.
    Declared {
        label: String,
    },
}

/// One way into a scheme: the criteria and how many of them must hold (all, when `at_least`
/// is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Path {
    pub label: String,
    pub at_least: Option<u8>,
    pub criteria: Vec<Criterion>,
}

/// A rule in force from `valid_from` to `valid_until` (both included): eligible through any of
/// its paths. `priority` criteria do not decide, they are reported (« prioritaire si … »).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub code: String,
    pub name: String,
    pub reference: String,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// The fields of action the scheme answers (for suggestions).
    #[serde(default)]
    pub fields: Vec<Field>,
    pub paths: Vec<Path>,
    #[serde(default)]
    pub priority: Vec<Criterion>,
}

impl Rule {
    pub fn in_force(&self, on: NaiveDate) -> bool {
        self.valid_from <= on && self.valid_until.is_none_or(|until| on <= until)
    }

    /// A rule a person wrote is checked before it is stored: French messages, per part.
    pub fn check(&self) -> Result<(), Invalid> {
        if self.name.trim().is_empty() {
            return Err(Invalid("Indiquez le nom du dispositif.".into()));
        }
        if self.reference.trim().is_empty() {
            return Err(Invalid(
                "Indiquez la référence du texte (loi, décret, délibération, règlement local)."
                    .into(),
            ));
        }
        if let Some(until) = self.valid_until
            && until < self.valid_from
        {
            return Err(Invalid("La fin de validité précède son début.".into()));
        }
        if self.paths.is_empty() || self.paths.iter().all(|p| p.criteria.is_empty()) {
            return Err(Invalid(
                "Indiquez au moins un critère dans une voie d'accès.".into(),
            ));
        }
        for (i, p) in self.paths.iter().enumerate() {
            if let Some(n) = p.at_least
                && (n == 0 || usize::from(n) > p.criteria.len())
            {
                return Err(Invalid(format!(
                    "Voie {} : le nombre de critères requis doit être entre 1 et {}.",
                    i + 1,
                    p.criteria.len()
                )));
            }
        }
        for c in self
            .paths
            .iter()
            .flat_map(|p| &p.criteria)
            .chain(&self.priority)
        {
            c.check()?;
        }
        Ok(())
    }
}

impl Criterion {
    fn check(&self) -> Result<(), Invalid> {
        match self {
            Criterion::Age { min, max } => match (min, max) {
                (None, None) => Err(Invalid(
                    "Un critère d'âge demande un âge minimum ou maximum.".into(),
                )),
                (Some(a), Some(b)) if a > b => Err(Invalid(format!(
                    "Âge : le minimum ({a} ans) dépasse le maximum ({b} ans)."
                ))),
                _ => Ok(()),
            },
            Criterion::JobSeekerMonths { min, max } => match (min, max) {
                (None, None) => Err(Invalid(
                    "Une durée d'inscription demande un minimum ou un maximum de mois.".into(),
                )),
                (Some(a), Some(b)) if a > b => Err(Invalid(format!(
                    "Durée d'inscription : le minimum ({a} mois) dépasse le maximum ({b} mois)."
                ))),
                _ => Ok(()),
            },
            Criterion::YoungestChildUnder { years } if *years == 0 || *years > 18 => Err(Invalid(
                "L'âge de l'enfant doit être entre 1 et 18 ans.".into(),
            )),
            Criterion::Declared { label } if label.trim().is_empty() => Err(Invalid(
                "Décrivez la condition à vérifier avec la personne.".into(),
            )),
            _ => Ok(()),
        }
    }

    /// The criterion in French, as a rule's page and an explanation show it.
    pub fn describe(&self) -> String {
        match self {
            Criterion::Age { min, max } => match (min, max) {
                (Some(a), Some(b)) => format!("Avoir de {a} à {b} ans révolus"),
                (Some(a), None) => format!("Avoir {a} ans ou plus"),
                (None, Some(b)) => format!(
                    "Avoir {b} ans révolus au plus (moins de {} ans)",
                    u16::from(*b) + 1
                ),
                (None, None) => "Âge".to_string(),
            },
            Criterion::Flag {
                flag,
                expected: true,
            } => flag.label().to_string(),
            Criterion::Flag {
                flag,
                expected: false,
            } => flag.negated().to_string(),
            Criterion::QualificationAtMost { level } => {
                format!("Niveau de qualification : {} ou moins", level.label())
            }
            Criterion::JobSeekerMonths { min, max } => match (min, max) {
                (Some(a), Some(b)) => format!("Inscrit à France Travail depuis {a} à {b} mois"),
                (Some(a), None) => format!("Inscrit à France Travail depuis {a} mois ou plus"),
                (None, Some(b)) => format!("Inscrit à France Travail depuis {b} mois au plus"),
                (None, None) => "Inscription à France Travail".to_string(),
            },
            Criterion::YoungestChildUnder { years } => {
                format!("Avoir au moins un enfant de moins de {years} ans")
            }
            Criterion::Sex { sex } => format!("Sexe : {}", sex.label()),
            Criterion::Declared { label } => label.clone(),
        }
    }
}

/// What is known of a person, as the caller may see it. `None`: not known (or not visible).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub birth_date: Option<NaiveDate>,
    /// When only the year of birth is known.
    pub birth_year: Option<i32>,
    pub sex: Option<Sex>,
    pub qualification: Option<QualificationLevel>,
    /// Registered at France Travail since that day (with `Flag::JobSeeker` true).
    pub job_seeker_since: Option<NaiveDate>,
    pub youngest_child_born: Option<NaiveDate>,
    /// How many children under 12 (0 tells there is none that young).
    pub children_under_12: Option<i32>,
    pub flags: BTreeMap<Flag, bool>,
    /// Where a known flag comes from, for the explanation (« QPV … , géographie 2024 »).
    pub sources: BTreeMap<Flag, String>,
    /// The caller may not read health data: health flags are hidden, not missing.
    pub health_hidden: bool,
}

/// One value of three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Unknown,
}

/// One criterion as evaluated: what it asks, what was found, and what is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub criterion: String,
    pub outcome: Tri,
    pub why: String,
    /// What to fill in or check, when unknown.
    pub missing: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathResult {
    pub label: String,
    pub needed: String,
    pub outcome: Tri,
    pub lines: Vec<Line>,
}

/// A rule's answer for one person at one date, criterion by criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub code: String,
    pub name: String,
    pub reference: String,
    pub on: NaiveDate,
    pub answer: Answer,
    pub paths: Vec<PathResult>,
    pub priority: Vec<Line>,
    /// What to check, when « à vérifier » (each named once).
    pub missing: Vec<String>,
}

impl Evaluation {
    /// One sentence for a list.
    pub fn summary(&self) -> String {
        match self.answer {
            Answer::Eligible => {
                let by = self
                    .paths
                    .iter()
                    .find(|p| p.outcome == Tri::Yes)
                    .map(|p| p.label.as_str())
                    .unwrap_or_default();
                format!("Éligible ({by}).")
            }
            Answer::NotEligible => {
                let why: Vec<&str> = self
                    .paths
                    .iter()
                    .flat_map(|p| &p.lines)
                    .filter(|l| l.outcome == Tri::No)
                    .map(|l| l.criterion.as_str())
                    .take(2)
                    .collect();
                format!("Non éligible : {}.", why.join(" ; "))
            }
            Answer::ToCheck => format!("À vérifier : {}.", self.missing.join(" ; ")),
        }
    }
}

fn french(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Full months from `since` to `on` (0 when `on` precedes `since`).
pub fn full_months(since: NaiveDate, on: NaiveDate) -> u32 {
    if on < since {
        return 0;
    }
    let mut months = (on.year() - since.year()) * 12 + on.month() as i32 - since.month() as i32;
    if on.day() < since.day() {
        months -= 1;
    }
    u32::try_from(months.max(0)).unwrap_or(0)
}

fn within(value: i64, min: Option<u8>, max: Option<u8>) -> bool {
    min.is_none_or(|m| value >= i64::from(m)) && max.is_none_or(|m| value <= i64::from(m))
}

fn unknown(criterion: String, why: String, missing: String) -> Line {
    Line {
        criterion,
        outcome: Tri::Unknown,
        why,
        missing: Some(missing),
    }
}

fn known(criterion: String, holds: bool, why: String) -> Line {
    Line {
        criterion,
        outcome: if holds { Tri::Yes } else { Tri::No },
        why,
        missing: None,
    }
}

/// One criterion against the facts at `on`.
pub fn evaluate_criterion(c: &Criterion, facts: &Facts, on: NaiveDate) -> Line {
    let text = c.describe();
    match c {
        Criterion::Age { min, max } => {
            if let Some(birth) = facts.birth_date {
                let age = i64::from(age_on(birth, on));
                return known(
                    text,
                    within(age, *min, *max),
                    format!("Né(e) le {} : {age} ans au {}.", french(birth), french(on)),
                );
            }
            if let Some(year) = facts.birth_year {
                // Born in `year`: the age at `on` is one of two values.
                let older = i64::from(on.year() - year);
                let younger = older - 1;
                let (a, b) = (within(younger, *min, *max), within(older, *min, *max));
                if a == b {
                    return known(
                        text,
                        a,
                        format!(
                            "Né(e) en {year} : {younger} ou {older} ans au {}.",
                            french(on)
                        ),
                    );
                }
                return unknown(
                    text,
                    format!(
                        "Né(e) en {year} : {younger} ou {older} ans au {} selon le jour de naissance.",
                        french(on)
                    ),
                    "date de naissance exacte".into(),
                );
            }
            unknown(
                text,
                "Date de naissance non renseignée.".into(),
                "date de naissance (situation de la personne)".into(),
            )
        }
        Criterion::Flag { flag, expected } => match facts.flags.get(flag) {
            Some(value) => {
                let source = facts
                    .sources
                    .get(flag)
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                let said = if *value { "oui" } else { "non" };
                known(
                    text,
                    value == expected,
                    format!("{} : {said}{source}.", flag.label()),
                )
            }
            None if flag.is_health() && facts.health_hidden => unknown(
                text,
                "Information de santé que vous n'êtes pas autorisé(e) à consulter.".into(),
                format!("{} (à vérifier par le référent)", flag.label()),
            ),
            None => unknown(
                text,
                format!("{} : non renseigné.", flag.label()),
                format!("{} ({})", flag.label(), flag.where_to_fill()),
            ),
        },
        Criterion::QualificationAtMost { level } => match facts.qualification {
            Some(q) => known(
                text,
                q <= *level,
                format!("Niveau de qualification : {}.", q.label()),
            ),
            None => unknown(
                text,
                "Niveau de qualification non renseigné.".into(),
                "niveau de qualification (situation de la personne)".into(),
            ),
        },
        Criterion::JobSeekerMonths { min, max } => {
            match (facts.flags.get(&Flag::JobSeeker), facts.job_seeker_since) {
                (Some(false), _) => known(text, false, "Pas inscrit à France Travail.".into()),
                (_, Some(since)) => {
                    let months = full_months(since, on);
                    let holds = min.is_none_or(|m| months >= m) && max.is_none_or(|m| months <= m);
                    known(
                        text,
                        holds,
                        format!(
                            "Inscrit depuis le {} : {months} mois au {}.",
                            french(since),
                            french(on)
                        ),
                    )
                }
                (Some(true), None) => unknown(
                    text,
                    "Inscrit à France Travail, date d'inscription non renseignée.".into(),
                    "date d'inscription à France Travail".into(),
                ),
                (None, None) => unknown(
                    text,
                    "Inscription à France Travail non renseignée.".into(),
                    "inscription à France Travail et sa date".into(),
                ),
            }
        }
        Criterion::YoungestChildUnder { years } => {
            if let Some(born) = facts.youngest_child_born {
                let age = i64::from(age_on(born, on));
                return known(
                    text,
                    age < i64::from(*years),
                    format!(
                        "Plus jeune enfant né le {} : {age} ans au {}.",
                        french(born),
                        french(on)
                    ),
                );
            }
            match facts.children_under_12 {
                Some(0) if *years <= 12 => {
                    known(text, false, "Aucun enfant de moins de 12 ans.".into())
                }
                Some(n) if n > 0 && *years >= 12 => {
                    known(text, true, format!("{n} enfant(s) de moins de 12 ans."))
                }
                _ => unknown(
                    text,
                    "Âge du plus jeune enfant non renseigné.".into(),
                    "date de naissance du plus jeune enfant (situation de la personne)".into(),
                ),
            }
        }
        Criterion::Sex { sex } => match facts.sex {
            Some(s) if s != Sex::NonPrecise => {
                known(text, s == *sex, format!("Sexe : {}.", s.label()))
            }
            _ => unknown(
                text,
                "Sexe non précisé.".into(),
                "sexe (situation de la personne)".into(),
            ),
        },
        Criterion::Declared { label } => unknown(
            text,
            "Condition que Passerelle n'enregistre pas.".into(),
            label.clone(),
        ),
    }
}

fn needed(p: &Path) -> String {
    match p.at_least {
        None if p.criteria.len() == 1 => "Le critère doit être rempli.".into(),
        None => "Tous les critères doivent être remplis.".into(),
        Some(1) => "Un critère au moins doit être rempli.".into(),
        Some(n) => format!("{n} critères au moins doivent être remplis."),
    }
}

/// A path: all criteria (or `at_least` of them) must hold. Kleene logic, so that an unknown
/// fact can only ever make the answer « à vérifier ».
fn evaluate_path(p: &Path, facts: &Facts, on: NaiveDate) -> PathResult {
    let lines: Vec<Line> = p
        .criteria
        .iter()
        .map(|c| evaluate_criterion(c, facts, on))
        .collect();
    let yes = lines.iter().filter(|l| l.outcome == Tri::Yes).count();
    let unknown = lines.iter().filter(|l| l.outcome == Tri::Unknown).count();
    let need = p.at_least.map_or(lines.len(), usize::from);
    let outcome = if yes >= need {
        Tri::Yes
    } else if yes + unknown >= need {
        Tri::Unknown
    } else {
        Tri::No
    };
    PathResult {
        label: p.label.clone(),
        needed: needed(p),
        outcome,
        lines,
    }
}

/// A rule against the facts at `on`: eligible through any path, not eligible when every path
/// fails on known facts, else « à vérifier » with what to check.
pub fn evaluate(rule: &Rule, facts: &Facts, on: NaiveDate) -> Evaluation {
    let paths: Vec<PathResult> = rule
        .paths
        .iter()
        .map(|p| evaluate_path(p, facts, on))
        .collect();
    let answer = if paths.iter().any(|p| p.outcome == Tri::Yes) {
        Answer::Eligible
    } else if paths.iter().all(|p| p.outcome == Tri::No) {
        Answer::NotEligible
    } else {
        Answer::ToCheck
    };
    let mut missing: Vec<String> = Vec::new();
    if answer == Answer::ToCheck {
        for line in paths
            .iter()
            .filter(|p| p.outcome == Tri::Unknown)
            .flat_map(|p| &p.lines)
        {
            if let Some(m) = &line.missing
                && !missing.contains(m)
            {
                missing.push(m.clone());
            }
        }
    }
    Evaluation {
        code: rule.code.clone(),
        name: rule.name.clone(),
        reference: rule.reference.clone(),
        on,
        answer,
        paths,
        priority: rule
            .priority
            .iter()
            .map(|c| evaluate_criterion(c, facts, on))
            .collect(),
        missing,
    }
}

/// The version of each rule in force at `on`, by code; a territory's own rule replaces the
/// shipped one with the same code. `rules` may hold several dated versions of one code.
pub fn in_force(rules: &[Rule], on: NaiveDate) -> Vec<&Rule> {
    let mut by_code: BTreeMap<&str, &Rule> = BTreeMap::new();
    for r in rules.iter().filter(|r| r.in_force(on)) {
        by_code.insert(r.code.as_str(), r);
    }
    let mut out: Vec<&Rule> = by_code.into_values().collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Who a data·inclusion « public » is open to, as a path (any of its criteria). `None`: open
/// to everyone Passerelle follows (« tous publics », « demandeurs d'emploi »: every person
/// accompanied is looking for work, registered or not).
pub fn public_path(public: &str) -> Option<Path> {
    use Criterion as C;
    let flag = |flag| C::Flag {
        flag,
        expected: true,
    };
    let criteria = match public {
        "femmes" => vec![C::Sex { sex: Sex::Femme }],
        "jeunes" => vec![C::Age {
            min: None,
            max: Some(29),
        }],
        "seniors" => vec![C::Age {
            min: Some(50),
            max: None,
        }],
        "beneficiaires-des-minimas-sociaux" => {
            vec![flag(Flag::Rsa), flag(Flag::Ass), flag(Flag::Aah)]
        }
        "personnes-en-situation-de-handicap" => vec![flag(Flag::Rqth)],
        "residents-qpv-frr" => vec![flag(Flag::QpvResident), flag(Flag::FrrResident)],
        "personnes-exilees" => vec![flag(Flag::Refugee)],
        "personnes-en-situation-juridique-specifique" => vec![flag(Flag::DetentionLeaver)],
        "personnes-en-situation-durgence" => vec![flag(Flag::Homeless)],
        "familles" => vec![C::YoungestChildUnder { years: 18 }],
        "etudiants" => vec![flag(Flag::Student)],
        "actifs" => vec![C::Declared {
            label: "Avoir un emploi".into(),
        }],
        _ => return None,
    };
    Some(Path {
        label: format!("Public « {public} »"),
        at_least: Some(1),
        criteria,
    })
}

/// A service's publics as a rule: open when any public fits (or when one is open to all).
pub fn publics_rule(publics: &[String]) -> Option<Rule> {
    let mut paths = Vec::new();
    for p in publics {
        match public_path(p) {
            Some(path) => paths.push(path),
            None => return None,
        }
    }
    if paths.is_empty() {
        return None;
    }
    Some(Rule {
        code: "publics".into(),
        name: "Publics du service".into(),
        reference: "Publics déclarés dans la fiche data·inclusion du service".into(),
        valid_from: NaiveDate::MIN,
        valid_until: None,
        fields: Vec::new(),
        paths,
        priority: Vec::new(),
    })
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The rules Passerelle ships (docs/domain.md §9 cites each text). Versions of one code follow
/// each other in time.
pub fn shipped() -> Vec<Rule> {
    use Criterion as C;
    let flag = |flag, expected| C::Flag { flag, expected };
    let age = |min, max| C::Age { min, max };
    let not_student = || vec![flag(Flag::Student, false), flag(Flag::InTraining, false)];
    let all = |label: &str, criteria: Vec<Criterion>| Path {
        label: label.into(),
        at_least: None,
        criteria,
    };
    let iae_level_2 = || {
        vec![
            C::QualificationAtMost {
                level: QualificationLevel::Niveau3,
            },
            age(Some(50), None),
            age(None, Some(25)),
            flag(Flag::AseLeaver, true),
            C::JobSeekerMonths {
                min: Some(12),
                max: Some(23),
            },
            flag(Flag::Rqth, true),
            flag(Flag::SingleParent, true),
            flag(Flag::Homeless, true),
            flag(Flag::Refugee, true),
            flag(Flag::QpvResident, true),
            flag(Flag::FrrResident, true),
            flag(Flag::DetentionLeaver, true),
            flag(Flag::FleBelowA1, true),
            flag(Flag::MobilityProblem, true),
        ]
    };
    let iae_level_1 = || {
        vec![
            flag(Flag::Rsa, true),
            flag(Flag::Ass, true),
            flag(Flag::Aah, true),
            C::JobSeekerMonths {
                min: Some(24),
                max: None,
            },
        ]
    };
    let iae = |code: &str, name: &str, level_2: u8| {
        Rule {
        code: code.into(),
        name: name.into(),
        reference: "Code du travail, art. L. 5132-1 et R. 5132-1-1 et suivants ; arrêté du 1er septembre 2021 fixant la liste des critères administratifs d'éligibilité à un parcours d'insertion par l'activité économique".into(),
        valid_from: date(2021, 9, 1),
        valid_until: None,
        fields: vec![Field::ReseauProfessionnel],
        paths: vec![
            Path {
                label: "Un critère de niveau 1".into(),
                at_least: Some(1),
                criteria: iae_level_1(),
            },
            Path {
                label: format!("{level_2} critères de niveau 2"),
                at_least: Some(level_2),
                criteria: iae_level_2(),
            },
        ],
        priority: Vec::new(),
    }
    };
    vec![
        Rule {
            code: "cej".into(),
            name: "Contrat d'engagement jeune (CEJ)".into(),
            reference: "Code du travail, art. L. 5131-6 et R. 5131-16 et suivants ; décret n° 2022-199 du 18 février 2022".into(),
            valid_from: date(2022, 3, 1),
            valid_until: None,
            fields: vec![Field::ReseauProfessionnel],
            paths: vec![
                all("De 16 à 25 ans révolus", [vec![age(Some(16), Some(25))], not_student()].concat()),
                all(
                    "Jusqu'à 29 ans révolus avec une RQTH",
                    [vec![age(Some(16), Some(29)), flag(Flag::Rqth, true)], not_student()].concat(),
                ),
            ],
            priority: Vec::new(),
        },
        Rule {
            code: "pacea".into(),
            name: "Parcours contractualisé d'accompagnement vers l'emploi et l'autonomie (PACEA)".into(),
            reference: "Code du travail, art. L. 5131-4 et R. 5131-4 et suivants ; décret n° 2016-1855 du 23 décembre 2016".into(),
            valid_from: date(2017, 1, 1),
            valid_until: None,
            fields: vec![Field::ReseauProfessionnel],
            paths: vec![all("De 16 à 25 ans révolus", vec![age(Some(16), Some(25))])],
            priority: Vec::new(),
        },
        Rule {
            code: "e2c".into(),
            name: "École de la deuxième chance (E2C)".into(),
            reference: "Code de l'éducation, art. L. 214-14".into(),
            valid_from: date(2007, 3, 5),
            valid_until: None,
            fields: vec![Field::SavoirsDeBase, Field::ReseauProfessionnel],
            paths: vec![all(
                "De 16 à 25 ans, sans qualification",
                vec![
                    age(Some(16), Some(25)),
                    C::QualificationAtMost {
                        level: QualificationLevel::Infra3,
                    },
                ],
            )],
            priority: Vec::new(),
        },
        Rule {
            code: "epide".into(),
            name: "Établissement pour l'insertion dans l'emploi (EPIDE)".into(),
            reference: "Code du service national, art. L. 130-1 et suivants".into(),
            valid_from: date(2005, 8, 2),
            valid_until: None,
            fields: vec![Field::SavoirsDeBase, Field::ReseauProfessionnel],
            paths: vec![all("De 17 à 25 ans révolus", vec![age(Some(17), Some(25))])],
            priority: Vec::new(),
        },
        iae(
            "iae",
            "Insertion par l'activité économique — ACI, EI (PASS IAE)",
            3,
        ),
        iae(
            "iae-ai-etti",
            "Insertion par l'activité économique — AI, ETTI (PASS IAE)",
            2,
        ),
        Rule {
            code: "garde-enfants".into(),
            name: "Aide à la garde d'enfants pour parents isolés (AGEPI, France Travail)".into(),
            reference: "Délibération n° 2013-46 du 18 décembre 2013 du conseil d'administration de Pôle emploi".into(),
            valid_from: date(2014, 1, 1),
            valid_until: Some(date(2024, 4, 30)),
            fields: vec![Field::ContraintesFamiliales],
            paths: vec![all(
                "Parent isolé reprenant un emploi ou une formation",
                vec![
                    flag(Flag::JobSeeker, true),
                    flag(Flag::SingleParent, true),
                    flag(Flag::JobOrTrainingStart, true),
                    C::YoungestChildUnder { years: 10 },
                ],
            )],
            priority: Vec::new(),
        },
        Rule {
            code: "garde-enfants".into(),
            name: "Aide à la garde d'enfants (AGE, France Travail)".into(),
            reference: "Délibération du conseil d'administration de France Travail en vigueur le 1er mai 2024 (l'AGEPI devient l'AGE : ouverte à tous les parents, enfants de moins de 12 ans)".into(),
            valid_from: date(2024, 5, 1),
            valid_until: None,
            fields: vec![Field::ContraintesFamiliales],
            paths: vec![all(
                "Parent reprenant un emploi ou une formation",
                vec![
                    flag(Flag::JobSeeker, true),
                    flag(Flag::JobOrTrainingStart, true),
                    C::YoungestChildUnder { years: 12 },
                    C::Declared {
                        label: "Ressources sous le plafond fixé par France Travail".into(),
                    },
                ],
            )],
            priority: vec![flag(Flag::SingleParent, true)],
        },
        Rule {
            code: "creche-avip".into(),
            name: "Crèche à vocation d'insertion professionnelle (AVIP)".into(),
            reference: "Label national « crèche AVIP » (ministère chargé des familles, charte de 2016) : places réservées aux parents en recherche d'emploi, priorité aux familles des quartiers prioritaires".into(),
            valid_from: date(2016, 1, 1),
            valid_until: None,
            fields: vec![Field::ContraintesFamiliales],
            paths: vec![all(
                "Parent en recherche d'emploi d'un enfant de moins de 3 ans",
                vec![
                    C::YoungestChildUnder { years: 3 },
                    C::Declared {
                        label: "Être en recherche active d'emploi ou en parcours d'insertion".into(),
                    },
                ],
            )],
            priority: vec![flag(Flag::QpvResident, true), flag(Flag::SingleParent, true)],
        },
        Rule {
            code: "plie".into(),
            name: "Plan local pour l'insertion et l'emploi (PLIE) — règle type".into(),
            reference: "Code du travail, art. L. 5131-2 ; publics fixés par le protocole du PLIE du territoire (règle type à adapter)".into(),
            valid_from: date(2005, 1, 18),
            valid_until: None,
            fields: vec![Field::ReseauProfessionnel],
            paths: vec![Path {
                label: "Un public prioritaire du PLIE".into(),
                at_least: Some(1),
                criteria: vec![
                    C::JobSeekerMonths {
                        min: Some(12),
                        max: None,
                    },
                    flag(Flag::Rsa, true),
                    flag(Flag::Rqth, true),
                    age(Some(50), None),
                    flag(Flag::QpvResident, true),
                ],
            }],
            priority: Vec::new(),
        },
    ]
}

/// Is `code` a rule code one may type (lowercase letters, digits and dashes)?
pub fn check_code(code: &str) -> Result<String, Invalid> {
    let code = code.trim();
    if code.is_empty() || code.len() > 40 {
        return Err(Invalid(
            "Indiquez un code court (40 caractères au plus).".into(),
        ));
    }
    if !code
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(Invalid(
            "Le code ne contient que des minuscules sans accent, des chiffres et des tirets."
                .into(),
        ));
    }
    Ok(code.to_string())
}

#[cfg(test)]
mod tests;
