use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

fn rule(code: &str, on: NaiveDate) -> Rule {
    in_force(&shipped(), on)
        .into_iter()
        .find(|r| r.code == code)
        .cloned()
        .expect("shipped rule")
}

/// A young person not studying and not in training, with the given birth date and RQTH.
fn youth(birth: NaiveDate, rqth: Option<bool>) -> Facts {
    let mut f = Facts {
        birth_date: Some(birth),
        ..Facts::default()
    };
    f.flags.insert(Flag::Student, false);
    f.flags.insert(Flag::InTraining, false);
    if let Some(r) = rqth {
        f.flags.insert(Flag::Rqth, r);
    }
    f
}

/// The day `birth` + `years` years (the birthday), for any birth date (29 February included).
fn birthday(birth: NaiveDate, years: i32) -> NaiveDate {
    birth
        .with_year(birth.year() + years)
        .unwrap_or_else(|| d(birth.year() + years, 3, 1))
}

fn any_birth() -> impl Strategy<Value = NaiveDate> {
    (0u64..365 * 30).prop_map(|n| d(1996, 3, 1) + Days::new(n))
}

proptest! {
    #[test]
    fn cej_holds_the_day_before_the_26th_birthday_and_not_on_it(birth in any_birth()) {
        let eve = birthday(birth, 26).pred_opt().expect("eve");
        let cej = rule("cej", eve);
        prop_assert_eq!(evaluate(&cej, &youth(birth, Some(false)), eve).answer, Answer::Eligible);
        let day = birthday(birth, 26);
        let cej = rule("cej", day);
        prop_assert_eq!(evaluate(&cej, &youth(birth, Some(false)), day).answer, Answer::NotEligible);
    }

    #[test]
    fn with_an_rqth_cej_holds_until_the_30th_birthday(birth in any_birth(), extra in 0i32..4) {
        let on = birthday(birth, 26 + extra);
        let cej = rule("cej", on);
        prop_assert_eq!(evaluate(&cej, &youth(birth, Some(true)), on).answer, Answer::Eligible);
        let thirty = birthday(birth, 30);
        prop_assert_eq!(evaluate(&cej, &youth(birth, Some(true)), thirty).answer, Answer::NotEligible);
        // RQTH not known: at 26 to 29 it is to be checked, never a refusal.
        let e = evaluate(&cej, &youth(birth, None), on);
        prop_assert_eq!(e.answer, Answer::ToCheck);
        prop_assert!(e.missing.iter().any(|m| m.contains("RQTH")), "{:?}", e.missing);
    }

    #[test]
    fn a_missing_fact_never_gives_non(birth in proptest::option::of(any_birth()), on_days in 0u64..3000, drop in 0usize..20) {
        // Whatever the rule, removing a fact can only move « éligible » or « non » towards
        // « à vérifier », never from « à vérifier » or « éligible » to « non ».
        let on = d(2022, 3, 1) + Days::new(on_days);
        let mut full = Facts { birth_date: birth, ..Facts::default() };
        for (i, f) in Flag::ALL.iter().enumerate() {
            full.flags.insert(*f, i % 3 == 0);
        }
        full.qualification = Some(QualificationLevel::Niveau3);
        full.job_seeker_since = Some(d(2020, 6, 15));
        full.youngest_child_born = Some(d(2019, 5, 2));
        let mut partial = full.clone();
        let flag = Flag::ALL[drop % Flag::ALL.len()];
        partial.flags.remove(&flag);
        partial.birth_date = None;
        for r in in_force(&shipped(), on) {
            let before = evaluate(r, &full, on).answer;
            let after = evaluate(r, &partial, on).answer;
            if after == Answer::NotEligible {
                prop_assert_eq!(before, Answer::NotEligible, "{} became « non » by losing facts", &r.code);
            }
            if before == Answer::ToCheck {
                prop_assert_eq!(after, Answer::ToCheck, "{}", &r.code);
            }
        }
    }

    #[test]
    fn iae_counts_three_level_two_criteria_or_two_for_ai_etti(n in 0usize..6) {
        let on = d(2026, 6, 1);
        let mut f = Facts { birth_date: Some(d(1990, 1, 1)), ..Facts::default() };
        for flag in Flag::ALL {
            f.flags.insert(*flag, false);
        }
        f.qualification = Some(QualificationLevel::Niveau5);
        let level_2 = [Flag::SingleParent, Flag::Homeless, Flag::QpvResident, Flag::FleBelowA1, Flag::MobilityProblem];
        for flag in level_2.iter().take(n) {
            f.flags.insert(*flag, true);
        }
        let aci = evaluate(&rule("iae", on), &f, on).answer;
        let etti = evaluate(&rule("iae-ai-etti", on), &f, on).answer;
        prop_assert_eq!(aci == Answer::Eligible, n >= 3);
        prop_assert_eq!(etti == Answer::Eligible, n >= 2);
        prop_assert!(aci != Answer::ToCheck && etti != Answer::ToCheck, "every fact known");
    }
}

use chrono::Datelike;

#[test]
fn a_missing_birth_date_is_to_check_naming_it() {
    let on = d(2026, 12, 1);
    let mut f = youth(d(2000, 1, 1), Some(false));
    f.birth_date = None;
    for code in ["cej", "pacea", "epide"] {
        let e = evaluate(&rule(code, on), &f, on);
        assert_eq!(e.answer, Answer::ToCheck, "{code}");
        assert!(
            e.missing.iter().any(|m| m.contains("date de naissance")),
            "{code}: {:?}",
            e.missing
        );
        assert!(e.summary().starts_with("À vérifier"), "{}", e.summary());
    }
}

#[test]
fn a_year_of_birth_decides_when_both_possible_ages_agree() {
    let on = d(2026, 12, 1);
    let f = Facts {
        birth_year: Some(1990),
        ..Facts::default()
    };
    // 35 or 36: not 16 to 25 whatever the day.
    let e = evaluate(&rule("pacea", on), &f, on);
    assert_eq!(e.answer, Answer::NotEligible);
    // 25 or 26: it depends on the day.
    let f = Facts {
        birth_year: Some(2000),
        ..Facts::default()
    };
    let e = evaluate(&rule("pacea", on), &f, on);
    assert_eq!(e.answer, Answer::ToCheck);
    assert_eq!(e.missing, vec!["date de naissance exacte".to_string()]);
}

#[test]
fn a_level_one_criterion_suffices_for_the_iae_and_detld_counts_full_months() {
    let on = d(2026, 6, 1);
    let mut f = Facts::default();
    f.flags.insert(Flag::JobSeeker, true);
    f.job_seeker_since = Some(d(2024, 6, 1));
    let e = evaluate(&rule("iae", on), &f, on);
    assert_eq!(e.answer, Answer::Eligible, "{e:?}");
    assert_eq!(full_months(d(2024, 6, 2), on), 23);
    f.job_seeker_since = Some(d(2024, 6, 2));
    // 23 months: a level-2 criterion (DELD) only; others unknown → to check.
    let e = evaluate(&rule("iae", on), &f, on);
    assert_eq!(e.answer, Answer::ToCheck);
}

#[test]
fn health_facts_hidden_from_the_caller_are_to_check_by_the_referent() {
    let on = d(2026, 6, 1);
    let mut f = youth(d(1998, 1, 1), None);
    f.health_hidden = true;
    let e = evaluate(&rule("cej", on), &f, on);
    assert_eq!(e.answer, Answer::ToCheck);
    let line = e
        .paths
        .iter()
        .flat_map(|p| &p.lines)
        .find(|l| l.criterion.contains("RQTH"))
        .expect("rqth line");
    assert!(line.why.contains("pas autorisé"), "{}", line.why);
}

#[test]
fn the_childcare_aid_follows_its_text_at_the_reference_date() {
    let mut f = Facts {
        youngest_child_born: Some(d(2014, 3, 1)),
        ..Facts::default()
    };
    f.flags.insert(Flag::JobSeeker, true);
    f.flags.insert(Flag::SingleParent, true);
    f.flags.insert(Flag::JobOrTrainingStart, true);
    // In 2024-04, the child is 10: AGEPI (under 10) says no.
    let april = d(2024, 4, 15);
    assert_eq!(
        evaluate(&rule("garde-enfants", april), &f, april).answer,
        Answer::NotEligible
    );
    // From May 2024, AGE covers children under 12; the resources stay to be checked.
    let may = d(2024, 5, 15);
    let e = evaluate(&rule("garde-enfants", may), &f, may);
    assert_eq!(e.answer, Answer::ToCheck);
    assert_eq!(
        e.missing,
        vec!["Ressources sous le plafond fixé par France Travail".to_string()]
    );
    assert!(e.priority.iter().all(|l| l.outcome == Tri::Yes));
}

#[test]
fn publics_open_a_service_to_anyone_fitting_one_of_them() {
    let on = d(2026, 6, 1);
    let woman = Facts {
        sex: Some(Sex::Femme),
        ..Facts::default()
    };
    let r = publics_rule(&["femmes".into(), "seniors".into()]).expect("restricted");
    assert_eq!(evaluate(&r, &woman, on).answer, Answer::Eligible);
    let man = Facts {
        sex: Some(Sex::Homme),
        birth_date: Some(d(1990, 1, 1)),
        ..Facts::default()
    };
    assert_eq!(evaluate(&r, &man, on).answer, Answer::NotEligible);
    assert!(publics_rule(&["femmes".into(), "tous-publics".into()]).is_none());
    assert!(publics_rule(&["demandeurs-emploi".into()]).is_none());
    assert!(publics_rule(&[]).is_none());
}

#[test]
fn rules_survive_json_and_a_bad_one_is_refused_in_french() {
    for r in shipped() {
        r.check().expect(&r.code);
        let json = serde_json::to_string(&r).expect("json");
        let back: Rule = serde_json::from_str(&json).expect("back");
        assert_eq!(back, r);
    }
    let mut r = shipped().remove(0);
    r.paths[0].at_least = Some(9);
    assert!(r.check().expect_err("too many").0.contains("Voie 1"));
    r.paths[0].at_least = None;
    r.valid_until = Some(d(2000, 1, 1));
    assert!(r.check().is_err());
    assert!(check_code("Plie Local").is_err());
    assert_eq!(check_code(" plie-local ").as_deref(), Ok("plie-local"));
}

#[test]
fn each_shipped_code_has_one_version_in_force_on_any_day() {
    for on in [d(2015, 1, 1), d(2024, 4, 30), d(2024, 5, 1), d(2026, 12, 1)] {
        let rules = shipped();
        let mut seen = std::collections::BTreeMap::new();
        for r in rules.iter().filter(|r| r.in_force(on)) {
            *seen.entry(r.code.clone()).or_insert(0) += 1;
        }
        assert!(seen.values().all(|n| *n == 1), "{on}: {seen:?}");
    }
}
