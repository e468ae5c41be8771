//! Cohorts and collective actions (docs/domain.md §11). A cohort is a named group of people of
//! one territory followed in a reinforced way for a period; its target public is a list of
//! eligibility criteria (the engine of `crate::eligibility`), evaluated to suggest candidates. A
//! person may belong to several cohorts over time, but to one cohort once at a time. Collective
//! actions gather people (invited, then registered) and employers; attendance is taken on the
//! day, and only for those registered.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::eligibility::{Criterion, Flag};
use crate::person::{FunnelStatus, Sex};

crate::codes! {
    /// Why a person left a cohort.
    LeaveReason {
        FinCohorte => "fin-cohorte", "Fin de la cohorte";
        Sortie => "sortie", "Sortie du parcours (emploi, formation…)";
        Abandon => "abandon", "Abandon";
        Reorientation => "reorientation", "Réorientée vers un autre accompagnement";
        Erreur => "erreur", "Inscrite par erreur";
        Autre => "autre", "Autre raison";
    }
}

crate::codes! {
    ActionKind {
        JobDating => "job-dating", "Job dating";
        InformationCollective => "information-collective", "Information collective";
        Atelier => "atelier", "Atelier";
        Forum => "forum", "Forum";
        VisiteEntreprise => "visite-entreprise", "Visite d'entreprise";
        Immersion => "immersion-pmsmp", "Immersion (PMSMP)";
        Autre => "autre", "Autre action";
    }
}

crate::codes! {
    /// A person's place in an action: invited first (by mail or on paper), then registered.
    Registration {
        Invitee => "invitee", "Invitée";
        Inscrite => "inscrite", "Inscrite";
    }
}

crate::codes! {
    Attendance {
        Present => "present", "Présente";
        Absent => "absent", "Absente";
        Excuse => "excuse", "Excusée";
    }
}

/// The target public of a cohort, as the form sets it; stored as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Public {
    pub age_min: Option<u8>,
    pub age_max: Option<u8>,
    pub sex: Option<Sex>,
    /// Where in the funnel (none: any status but « sorti »).
    pub statuses: Vec<FunnelStatus>,
    pub qpv: bool,
    pub brsa: bool,
    /// Demandeur d'emploi de longue durée: registered at France Travail for 12 months or more.
    pub deld: bool,
    pub rqth: bool,
    /// What the criteria do not say, in the coordinator's words.
    pub description: String,
}

impl Public {
    /// The criteria the eligibility engine evaluates, all of which must hold.
    pub fn criteria(&self) -> Vec<Criterion> {
        let mut v = Vec::new();
        if self.age_min.is_some() || self.age_max.is_some() {
            v.push(Criterion::Age {
                min: self.age_min,
                max: self.age_max,
            });
        }
        if let Some(sex) = self.sex {
            v.push(Criterion::Sex { sex });
        }
        for (wanted, flag) in [
            (self.qpv, Flag::QpvResident),
            (self.brsa, Flag::Rsa),
            (self.rqth, Flag::Rqth),
        ] {
            if wanted {
                v.push(Criterion::Flag {
                    flag,
                    expected: true,
                });
            }
        }
        if self.deld {
            v.push(Criterion::JobSeekerMonths {
                min: Some(12),
                max: None,
            });
        }
        v
    }

    /// Whether the funnel status is one the cohort is for.
    pub fn takes(&self, status: FunnelStatus) -> bool {
        if self.statuses.is_empty() {
            status != FunnelStatus::Sorti
        } else {
            self.statuses.contains(&status)
        }
    }

    /// The public in one French line.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        match (self.age_min, self.age_max) {
            (Some(a), Some(b)) => parts.push(format!("de {a} à {b} ans")),
            (Some(a), None) => parts.push(format!("{a} ans ou plus")),
            (None, Some(b)) => parts.push(format!("{b} ans au plus")),
            (None, None) => {}
        }
        match self.sex {
            Some(Sex::Femme) => parts.push("femmes".into()),
            Some(Sex::Homme) => parts.push("hommes".into()),
            _ => {}
        }
        if self.qpv {
            parts.push("résidant en QPV".into());
        }
        if self.brsa {
            parts.push("bénéficiaires du RSA".into());
        }
        if self.deld {
            parts.push("demandeurs d'emploi depuis un an ou plus".into());
        }
        if self.rqth {
            parts.push("avec une RQTH".into());
        }
        if !self.statuses.is_empty() {
            parts.push(
                self.statuses
                    .iter()
                    .map(|s| s.label().to_lowercase())
                    .collect::<Vec<_>>()
                    .join(" ou "),
            );
        }
        if parts.is_empty() {
            "Tout public du territoire".into()
        } else {
            let mut s = parts.join(", ");
            if let Some(first) = s.get(..1) {
                s = first.to_uppercase() + &s[1..];
            }
            s
        }
    }

    pub fn check(&self) -> Result<(), Invalid> {
        if let (Some(a), Some(b)) = (self.age_min, self.age_max)
            && a > b
        {
            return Err(Invalid(format!(
                "L'âge minimum ({a} ans) dépasse l'âge maximum ({b} ans)."
            )));
        }
        if self.age_min.is_some_and(|a| a < 16) || self.age_max.is_some_and(|a| a > 70) {
            return Err(Invalid(
                "Les âges d'une cohorte vont de 16 à 70 ans.".into(),
            ));
        }
        Ok(())
    }
}

/// One stay of a person in a cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stay {
    pub entered_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
}

/// Whether the person may enter the cohort on `on`, given their stays in it: not while a stay
/// is open, not before the last one ended, and within the cohort's period.
pub fn may_enter(
    stays: &[Stay],
    on: NaiveDate,
    period: (NaiveDate, Option<NaiveDate>),
) -> Result<(), Invalid> {
    if stays.iter().any(|s| s.left_on.is_none()) {
        return Err(Invalid(
            "La personne fait déjà partie de la cohorte.".into(),
        ));
    }
    if let Some(last) = stays.iter().filter_map(|s| s.left_on).max()
        && on < last
    {
        return Err(Invalid(format!(
            "La personne a quitté la cohorte le {} : sa nouvelle entrée ne peut pas être antérieure.",
            crate::french_date(last)
        )));
    }
    in_period(on, period, "L'entrée")
}

/// Whether a stay may end on `on`.
pub fn may_leave(
    stay: Stay,
    on: NaiveDate,
    period: (NaiveDate, Option<NaiveDate>),
) -> Result<(), Invalid> {
    if stay.left_on.is_some() {
        return Err(Invalid("La personne a déjà quitté la cohorte.".into()));
    }
    if on < stay.entered_on {
        return Err(Invalid(format!(
            "La sortie de la cohorte ne peut pas précéder l'entrée ({}).",
            crate::french_date(stay.entered_on)
        )));
    }
    let _ = period;
    Ok(())
}

fn in_period(
    on: NaiveDate,
    (starts, ends): (NaiveDate, Option<NaiveDate>),
    what: &str,
) -> Result<(), Invalid> {
    if on < starts {
        return Err(Invalid(format!(
            "{what} ne peut pas précéder le début de la cohorte ({}).",
            crate::french_date(starts)
        )));
    }
    if let Some(end) = ends
        && on > end
    {
        return Err(Invalid(format!(
            "{what} ne peut pas suivre la fin de la cohorte ({}).",
            crate::french_date(end)
        )));
    }
    Ok(())
}

/// Whether `adding` more people fit: `capacity` none means no limit.
pub fn check_capacity(capacity: Option<u32>, taken: u32, adding: u32) -> Result<(), Invalid> {
    match capacity {
        Some(max) if taken.saturating_add(adding) > max => {
            let left = max.saturating_sub(taken);
            Err(Invalid(if left == 0 {
                format!("Complet : les {max} places sont prises.")
            } else {
                format!(
                    "Il reste {left} place{} sur {max} : vous en demandez {adding}.",
                    if left > 1 { "s" } else { "" }
                )
            }))
        }
        _ => Ok(()),
    }
}

/// Attendance is taken for a registered person, from the day of the action on.
pub fn check_attendance(
    registration: Option<Registration>,
    action_day: NaiveDate,
    today: NaiveDate,
) -> Result<(), Invalid> {
    match registration {
        None => Err(Invalid(
            "Cette personne n'est pas inscrite à l'action : inscrivez-la d'abord.".into(),
        )),
        Some(Registration::Invitee) => Err(Invalid(
            "Cette personne est invitée mais pas inscrite : enregistrez son inscription d'abord."
                .into(),
        )),
        Some(Registration::Inscrite) if today < action_day => Err(Invalid(format!(
            "La présence se relève le jour de l'action ({}) ou après.",
            crate::french_date(action_day)
        ))),
        Some(Registration::Inscrite) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eligibility::{Facts, Tri, evaluate_criterion};

    fn d(s: &str) -> NaiveDate {
        crate::parse_date(s).expect("date")
    }

    fn stay(a: &str, b: Option<&str>) -> Stay {
        Stay {
            entered_on: d(a),
            left_on: b.map(d),
        }
    }

    const PERIOD: &str = "2026-01-01";

    #[test]
    fn a_person_enters_a_cohort_once_at_a_time_and_may_come_back_later() {
        let period = (d(PERIOD), Some(d("2026-12-31")));
        assert!(may_enter(&[], d("2026-02-01"), period).is_ok());
        let open = [stay("2026-02-01", None)];
        let e = may_enter(&open, d("2026-03-01"), period).expect_err("twice");
        assert!(e.0.contains("déjà"), "{}", e.0);
        let closed = [stay("2026-02-01", Some("2026-05-01"))];
        assert!(may_enter(&closed, d("2026-06-01"), period).is_ok());
        assert!(may_enter(&closed, d("2026-05-01"), period).is_ok());
        let e = may_enter(&closed, d("2026-04-01"), period).expect_err("back in time");
        assert!(e.0.contains("01/05/2026"), "{}", e.0);
        let e = may_enter(&[], d("2025-12-31"), period).expect_err("before");
        assert!(e.0.contains("début"), "{}", e.0);
        let e = may_enter(&[], d("2027-01-01"), period).expect_err("after");
        assert!(e.0.contains("fin"), "{}", e.0);
        assert!(may_enter(&[], d("2030-01-01"), (d(PERIOD), None)).is_ok());
    }

    #[test]
    fn leaving_a_cohort_cannot_precede_the_entry() {
        let period = (d(PERIOD), None);
        let s = stay("2026-03-01", None);
        assert!(may_leave(s, d("2026-03-01"), period).is_ok());
        let e = may_leave(s, d("2026-02-28"), period).expect_err("before");
        assert!(e.0.contains("01/03/2026"), "{}", e.0);
        let e = may_leave(
            stay("2026-03-01", Some("2026-04-01")),
            d("2026-05-01"),
            period,
        )
        .expect_err("left");
        assert!(e.0.contains("déjà"), "{}", e.0);
    }

    #[test]
    fn capacity_says_how_many_places_are_left() {
        assert!(check_capacity(None, 1_000, 50).is_ok());
        assert!(check_capacity(Some(10), 8, 2).is_ok());
        let e = check_capacity(Some(10), 8, 3).expect_err("over");
        assert_eq!(e.0, "Il reste 2 places sur 10 : vous en demandez 3.");
        let e = check_capacity(Some(10), 10, 1).expect_err("full");
        assert!(e.0.starts_with("Complet"), "{}", e.0);
    }

    #[test]
    fn attendance_needs_a_registration_and_the_day_of_the_action() {
        let day = d("2026-12-01");
        assert!(check_attendance(Some(Registration::Inscrite), day, day).is_ok());
        assert!(check_attendance(None, day, day).is_err());
        assert!(check_attendance(Some(Registration::Invitee), day, day).is_err());
        let e = check_attendance(Some(Registration::Inscrite), day, d("2026-11-30"))
            .expect_err("before the day");
        assert!(e.0.contains("01/12/2026"), "{}", e.0);
    }

    #[test]
    fn the_public_becomes_criteria_the_engine_evaluates() {
        let public = Public {
            age_min: Some(26),
            age_max: Some(55),
            sex: Some(Sex::Femme),
            deld: true,
            ..Public::default()
        };
        assert!(public.check().is_ok());
        assert_eq!(
            public.describe(),
            "De 26 à 55 ans, femmes, demandeurs d'emploi depuis un an ou plus"
        );
        let on = d("2026-12-01");
        let facts = Facts {
            birth_date: Some(d("1980-06-01")),
            sex: Some(Sex::Femme),
            job_seeker_since: Some(d("2025-01-15")),
            flags: [(Flag::JobSeeker, true)].into_iter().collect(),
            ..Facts::default()
        };
        let all: Vec<Tri> = public
            .criteria()
            .iter()
            .map(|c| evaluate_criterion(c, &facts, on).outcome)
            .collect();
        assert_eq!(all, vec![Tri::Yes, Tri::Yes, Tri::Yes]);
        let younger = Facts {
            birth_date: Some(d("2005-06-01")),
            ..facts.clone()
        };
        assert_eq!(
            evaluate_criterion(&public.criteria()[0], &younger, on).outcome,
            Tri::No
        );
        let bad = Public {
            age_min: Some(40),
            age_max: Some(30),
            ..Public::default()
        };
        assert!(bad.check().is_err());
        assert!(Public::default().takes(FunnelStatus::Repere));
        assert!(!Public::default().takes(FunnelStatus::Sorti));
    }
}
