//! The situation recorded at the entry into accompaniment (and corrected later).

use chrono::{Duration, NaiveDate};
use domain::person::{QualificationLevel, Sex, birth_date};
use store::persons::{Person, Situation};

use super::{past_date, yes_no};
use crate::FieldErrors;

/// The situation form, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SituationInput {
    pub birth_date: String,
    pub sex: String,
    pub single_parent: String,
    pub children_under_12: String,
    pub ft_registered: String,
    pub ft_since: String,
    pub brsa: String,
    pub cej_pacea: String,
    pub qualification: String,
    pub languages: String,
    pub driving_licence: String,
    pub vehicle: String,
    pub student: String,
    pub in_training: String,
    pub ass: String,
    pub ase_leaver: String,
    pub homeless: String,
    pub refugee: String,
    pub detention_leaver: String,
    pub frr_resident: String,
    pub fle_below_a1: String,
    pub job_or_training_start: String,
    pub youngest_child_born_on: String,
}

/// The yes-or-no facts of the situation the eligibility rules ask about, with their labels.
pub const CRITERIA: [(&str, &str); 10] = [
    ("student", "Étudiant"),
    ("in_training", "En formation"),
    ("ass", "Bénéficiaire de l'ASS"),
    ("ase_leaver", "Sortant de l'aide sociale à l'enfance (ASE)"),
    ("homeless", "Sans hébergement ou hébergé"),
    (
        "refugee",
        "Réfugié, protection subsidiaire ou demande d'asile",
    ),
    (
        "detention_leaver",
        "Sortant de détention ou sous main de justice",
    ),
    (
        "frr_resident",
        "Résidant en zone France Ruralités Revitalisation (ex-ZRR)",
    ),
    ("fle_below_a1", "Français inférieur au niveau A1"),
    (
        "job_or_training_start",
        "Reprend un emploi ou entre en formation",
    ),
];

impl SituationInput {
    pub fn from_person(p: &Person) -> SituationInput {
        let yn = |b: Option<bool>| match b {
            Some(true) => "oui".to_string(),
            Some(false) => "non".to_string(),
            None => String::new(),
        };
        SituationInput {
            birth_date: p.birth_date.clone().unwrap_or_default(),
            sex: p.sex.clone().unwrap_or_default(),
            single_parent: yn(p.single_parent),
            children_under_12: p
                .children_under_12
                .map(|n| n.to_string())
                .unwrap_or_default(),
            ft_registered: yn(p.ft_registered),
            ft_since: p.ft_since.clone().unwrap_or_default(),
            brsa: yn(p.brsa),
            cej_pacea: yn(p.cej_pacea),
            qualification: p.qualification.clone().unwrap_or_default(),
            languages: p.languages.clone(),
            driving_licence: yn(p.driving_licence),
            vehicle: yn(p.vehicle),
            student: yn(p.criteria.student),
            in_training: yn(p.criteria.in_training),
            ass: yn(p.criteria.ass),
            ase_leaver: yn(p.criteria.ase_leaver),
            homeless: yn(p.criteria.homeless),
            refugee: yn(p.criteria.refugee),
            detention_leaver: yn(p.criteria.detention_leaver),
            frr_resident: yn(p.criteria.frr_resident),
            fle_below_a1: yn(p.criteria.fle_below_a1),
            job_or_training_start: yn(p.criteria.job_or_training_start),
            youngest_child_born_on: p
                .criteria
                .youngest_child_born_on
                .clone()
                .unwrap_or_default(),
        }
    }

    pub(crate) fn validate(&self, errors: &mut FieldErrors, today: NaiveDate) -> Situation {
        let birth = match self.birth_date.trim() {
            "" => None,
            b => errors.check("birth_date", birth_date(b, today)),
        };
        let children = match self.children_under_12.trim() {
            "" => None,
            n => match n.parse::<i32>() {
                Ok(n) if (0..=20).contains(&n) => Some(n),
                _ => {
                    errors.add(
                        "children_under_12",
                        "Indiquez un nombre d'enfants entre 0 et 20.",
                    );
                    None
                }
            },
        };
        let ft_registered = yes_no(errors, "ft_registered", &self.ft_registered);
        let ft_since = match self.ft_since.trim() {
            "" => None,
            d => {
                let since = past_date(errors, "ft_since", d, today);
                if ft_registered != Some(true) && since.is_some() {
                    errors.add(
                        "ft_since",
                        "Une date d'inscription suppose une inscription à France Travail.",
                    );
                }
                since
            }
        };
        let youngest = match self.youngest_child_born_on.trim() {
            "" => None,
            d => match domain::parse_date(d) {
                Ok(d) if d > today => {
                    errors.add("youngest_child_born_on", "La date est dans le futur.");
                    None
                }
                Ok(d) if domain::person::age_on(d, today) >= 30 => {
                    errors.add(
                        "youngest_child_born_on",
                        "Indiquez la date de naissance du plus jeune enfant (moins de 30 ans).",
                    );
                    None
                }
                Ok(d) => Some(d),
                Err(e) => {
                    errors.add("youngest_child_born_on", e.0);
                    None
                }
            },
        };
        if let (Some(d), Some(0)) = (youngest, children)
            && domain::person::age_on(d, today) < 12
        {
            errors.add(
                "youngest_child_born_on",
                "Cet enfant a moins de 12 ans, or aucun enfant de moins de 12 ans n'est indiqué.",
            );
        }
        let criteria = store::persons::Criteria {
            student: yes_no(errors, "student", &self.student),
            in_training: yes_no(errors, "in_training", &self.in_training),
            ass: yes_no(errors, "ass", &self.ass),
            ase_leaver: yes_no(errors, "ase_leaver", &self.ase_leaver),
            homeless: yes_no(errors, "homeless", &self.homeless),
            refugee: yes_no(errors, "refugee", &self.refugee),
            detention_leaver: yes_no(errors, "detention_leaver", &self.detention_leaver),
            frr_resident: yes_no(errors, "frr_resident", &self.frr_resident),
            fle_below_a1: yes_no(errors, "fle_below_a1", &self.fle_below_a1),
            job_or_training_start: yes_no(
                errors,
                "job_or_training_start",
                &self.job_or_training_start,
            ),
            youngest_child_born_on: youngest.map(domain::iso_date),
        };
        Situation {
            criteria,
            birth_date: birth,
            sex: match self.sex.trim() {
                "" => None,
                s => errors.check("sex", Sex::parse(s)),
            },
            single_parent: yes_no(errors, "single_parent", &self.single_parent),
            children_under_12: children,
            ft_registered,
            ft_since,
            brsa: yes_no(errors, "brsa", &self.brsa),
            cej_pacea: yes_no(errors, "cej_pacea", &self.cej_pacea),
            qualification: match self.qualification.trim() {
                "" => None,
                q => errors.check("qualification", QualificationLevel::parse(q)),
            },
            languages: self.languages.trim().to_string(),
            driving_licence: yes_no(errors, "driving_licence", &self.driving_licence),
            vehicle: yes_no(errors, "vehicle", &self.vehicle),
        }
    }
}

/// Long-term job seeker (DELD): registered at France Travail for more than a year.
pub fn is_deld(p: &Person, today: NaiveDate) -> bool {
    p.ft_registered == Some(true)
        && p.ft_since
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, domain::ISO_DATE).ok())
            .is_some_and(|d| today - d > Duration::days(365))
}
