//! The diagnostic of the eight fields, the professional project and the action plan
//! (docs/domain.md §4 and §9): levels, target jobs (ROME), action statuses, and what « a
//! barrier lifted » means. No I/O.

use std::sync::OnceLock;

use chrono::NaiveDate;

use crate::{Field, Invalid};

crate::codes! {
    /// How much a field holds the person back (design choice, docs/domain.md §4).
    Level {
        Aucun => "0", "0 — Aucun frein";
        Leger => "1", "1 — Frein léger";
        Important => "2", "2 — Frein important";
        Bloquant => "3", "3 — Frein bloquant";
    }
}

impl Level {
    pub fn value(self) -> u8 {
        match self {
            Level::Aucun => 0,
            Level::Leger => 1,
            Level::Important => 2,
            Level::Bloquant => 3,
        }
    }

    pub fn from_value(v: i64) -> Option<Level> {
        Level::ALL
            .iter()
            .copied()
            .find(|l| i64::from(l.value()) == v)
    }

    /// From level 2 on, the field is a barrier to lift (suggestions are made for it).
    pub fn is_barrier(self) -> bool {
        self >= Level::Important
    }

    /// The level a form sent: « 0 » to « 3 », anything else refused in French.
    pub fn parse_form(input: &str) -> Result<Level, Invalid> {
        Level::from_code(input.trim()).ok_or_else(|| {
            Invalid("Choisissez un niveau entre 0 (aucun frein) et 3 (bloquant).".into())
        })
    }
}

crate::codes! {
    /// A diagnostic is a draft (not counted) until it is signed; a signed one never changes.
    DiagnosticStatus {
        Brouillon => "brouillon", "Brouillon";
        Signe => "signe", "Signé";
    }
}

crate::codes! {
    /// When the person can start.
    Availability {
        Immediate => "immediate", "Immédiatement";
        SousUnMois => "sous-un-mois", "D'ici un mois";
        SousTroisMois => "sous-trois-mois", "D'ici trois mois";
        PlusTard => "plus-tard", "Plus tard (contraintes à lever d'abord)";
    }
}

crate::codes! {
    /// Working hours the person can take.
    WorkingHours {
        TempsPlein => "temps-plein", "Temps plein";
        TempsPartiel => "temps-partiel", "Temps partiel";
        Journee => "journee", "En journée seulement";
        Decales => "horaires-decales", "Horaires décalés (tôt le matin, tard le soir)";
        Nuit => "nuit", "De nuit";
        WeekEnd => "week-end", "Le week-end";
    }
}

crate::codes! {
    /// Where an action of the plan stands.
    ActionStatus {
        AFaire => "a-faire", "À faire";
        EnCours => "en-cours", "En cours";
        Fait => "fait", "Fait";
        Abandonne => "abandonne", "Abandonné";
    }
}

impl ActionStatus {
    /// Still expected to happen: counts as overdue once its due date has passed.
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::AFaire | ActionStatus::EnCours)
    }
}

/// An action is overdue when it is still open the day after its due date.
pub fn overdue(status: ActionStatus, due_on: NaiveDate, today: NaiveDate) -> bool {
    status.is_open() && due_on < today
}

/// The farthest a person may say they would travel (kilometres).
pub const MAX_DISTANCE_KM: i64 = 200;

/// A ROME code (« fiche métier »): a letter and four digits, present in the referential
/// shipped with Passerelle (`crates/domain/data/rome.csv`, an extract of France Travail's
/// Répertoire opérationnel des métiers et des emplois, Licence Ouverte 2.0).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RomeCode(String);

fn referential() -> &'static Vec<(String, String)> {
    static ROME: OnceLock<Vec<(String, String)>> = OnceLock::new();
    ROME.get_or_init(|| {
        include_str!("../data/rome.csv")
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(';'))
            .map(|(c, l)| (c.trim().to_string(), l.trim().to_string()))
            .collect()
    })
}

impl RomeCode {
    /// A code typed or chosen in a list (« K2204 » or « K2204 — Nettoyage de locaux »).
    pub fn parse(input: &str) -> Result<RomeCode, Invalid> {
        let code: String = input
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_uppercase();
        let shaped = code.len() == 5
            && code.starts_with(|c: char| c.is_ascii_uppercase())
            && code[1..].chars().all(|c| c.is_ascii_digit());
        if !shaped {
            return Err(Invalid(format!(
                "« {} » n'est pas un code ROME (une lettre et quatre chiffres, par exemple K2204).",
                input.trim()
            )));
        }
        if !referential().iter().any(|(c, _)| *c == code) {
            return Err(Invalid(format!(
                "Le code ROME {code} n'est pas dans le référentiel : choisissez un métier de la liste."
            )));
        }
        Ok(RomeCode(code))
    }

    /// A stored code, known or not (a referential may lose a code the file still holds).
    pub fn stored(code: String) -> RomeCode {
        RomeCode(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn label(&self) -> &str {
        referential()
            .iter()
            .find(|(c, _)| *c == self.0)
            .map(|(_, l)| l.as_str())
            .unwrap_or("métier hors référentiel")
    }

    /// « K2204 — Nettoyage de locaux ».
    pub fn display(&self) -> String {
        format!("{} — {}", self.0, self.label())
    }

    /// Every code of the referential, for a list to choose from.
    pub fn all() -> impl Iterator<Item = RomeCode> {
        referential().iter().map(|(c, _)| RomeCode(c.clone()))
    }
}

/// The level of one field in one signed diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub on: NaiveDate,
    pub level: Level,
}

/// A barrier lifted: the field was at 2 or 3, then at 0 or 1 in a later diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifted {
    pub field: Field,
    pub from: Reading,
    pub to: Reading,
}

/// The barriers lifted along a series of signed diagnostics (`readings` per field, in date
/// order), each time a level goes from « barrier » to « not a barrier ».
pub fn lifted(readings: &[(Field, Vec<Reading>)]) -> Vec<Lifted> {
    let mut out = Vec::new();
    for (field, series) in readings {
        for pair in series.windows(2) {
            if pair[0].level.is_barrier() && !pair[1].level.is_barrier() {
                out.push(Lifted {
                    field: *field,
                    from: pair[0],
                    to: pair[1],
                });
            }
        }
    }
    out.sort_by_key(|l| (l.to.on, l.field));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn levels_are_zero_to_three_and_nothing_else() {
        for (i, l) in Level::ALL.iter().enumerate() {
            assert_eq!(usize::from(l.value()), i);
            assert_eq!(Level::parse_form(&i.to_string()), Ok(*l));
        }
        for bad in ["4", "-1", "deux", ""] {
            assert!(Level::parse_form(bad).expect_err(bad).0.contains("entre 0"));
        }
        assert!(Level::Important.is_barrier() && !Level::Leger.is_barrier());
    }

    #[test]
    fn rome_codes_come_from_the_referential() {
        let c = RomeCode::parse("k2204 — Nettoyage de locaux").expect("known");
        assert_eq!(c.as_str(), "K2204");
        assert_eq!(c.label(), "Nettoyage de locaux");
        assert!(
            RomeCode::parse("Z9999")
                .expect_err("unknown")
                .0
                .contains("référentiel")
        );
        assert!(
            RomeCode::parse("plombier")
                .expect_err("shape")
                .0
                .contains("une lettre")
        );
        assert!(RomeCode::all().count() > 50);
    }

    #[test]
    fn a_barrier_is_lifted_when_it_falls_below_two() {
        let series = vec![
            (
                Field::Mobilite,
                vec![
                    Reading {
                        on: d(2026, 1, 5),
                        level: Level::Bloquant,
                    },
                    Reading {
                        on: d(2026, 3, 5),
                        level: Level::Important,
                    },
                    Reading {
                        on: d(2026, 6, 5),
                        level: Level::Leger,
                    },
                ],
            ),
            (
                Field::Logement,
                vec![
                    Reading {
                        on: d(2026, 1, 5),
                        level: Level::Leger,
                    },
                    Reading {
                        on: d(2026, 6, 5),
                        level: Level::Bloquant,
                    },
                ],
            ),
        ];
        let l = lifted(&series);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].field, Field::Mobilite);
        assert_eq!(l[0].to.on, d(2026, 6, 5));
    }

    #[test]
    fn open_actions_are_overdue_after_their_day() {
        let due = d(2026, 5, 10);
        assert!(!overdue(ActionStatus::AFaire, due, due));
        assert!(overdue(ActionStatus::EnCours, due, d(2026, 5, 11)));
        assert!(!overdue(ActionStatus::Fait, due, d(2026, 6, 1)));
    }
}
