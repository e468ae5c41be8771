//! QPV codes and map years. The 2015 map numbers its quartiers `QP` + département (3 digits) +
//! order (3 digits), e.g. `QP093028`; the 2024 map `QN` + département (3 characters, `02A`,
//! `974`) + order (2 digits) + a letter: `N` new, `M` modified, `I` unchanged (`QN07512M`).

use std::fmt;

use crate::values::Invalid;

/// The QPV map a code or a membership check belongs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Millesime {
    Y2015,
    Y2024,
}

impl Millesime {
    pub const ALL: [Millesime; 2] = [Millesime::Y2015, Millesime::Y2024];
    pub const CURRENT: Millesime = Millesime::Y2024;

    pub fn year(self) -> i32 {
        match self {
            Millesime::Y2015 => 2015,
            Millesime::Y2024 => 2024,
        }
    }

    pub fn from_year(year: i32) -> Option<Millesime> {
        Millesime::ALL.into_iter().find(|m| m.year() == year)
    }

    pub fn parse(input: &str) -> Result<Millesime, Invalid> {
        input
            .trim()
            .parse()
            .ok()
            .and_then(Millesime::from_year)
            .ok_or_else(|| {
                Invalid(format!(
                    "millésime « {} » inconnu : 2015 ou 2024.",
                    input.trim()
                ))
            })
    }
}

impl fmt::Display for Millesime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.year().fmt(f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QpvCode(String);

impl QpvCode {
    /// Parses a code of either map; the map it belongs to is [`QpvCode::millesime`].
    pub fn parse(input: &str) -> Result<QpvCode, Invalid> {
        let value = input.trim().to_uppercase();
        let b = value.as_bytes();
        let departement_ok = |d: &[u8]| {
            d.len() == 3
                && d[0].is_ascii_digit()
                && (d[1].is_ascii_digit() || (d[0] == b'0' && d[1] == b'2'))
                && (d[2].is_ascii_digit()
                    || (d[0] == b'0' && d[1] == b'2' && (d[2] == b'A' || d[2] == b'B')))
        };
        let ok = match b {
            [b'Q', b'P', rest @ ..] if rest.len() == 6 => rest.iter().all(u8::is_ascii_digit),
            [b'Q', b'N', rest @ ..] if rest.len() == 6 => {
                departement_ok(&rest[..3])
                    && rest[3..5].iter().all(u8::is_ascii_digit)
                    && matches!(rest[5], b'N' | b'M' | b'I')
            }
            _ => false,
        };
        if !ok {
            return Err(Invalid(format!(
                "« {} » n'est pas un code de QPV : QP suivi de 6 chiffres (carte 2015, ex. QP093028) ou QN, le département, 2 chiffres et N, M ou I (carte 2024, ex. QN07512M).",
                input.trim()
            )));
        }
        Ok(QpvCode(value))
    }

    /// Parses a code that must belong to a given map.
    pub fn parse_for(input: &str, millesime: Millesime) -> Result<QpvCode, Invalid> {
        let code = QpvCode::parse(input)?;
        if code.millesime() != millesime {
            return Err(Invalid(format!(
                "le code {code} appartient à la carte {}, pas à la carte {millesime}.",
                code.millesime()
            )));
        }
        Ok(code)
    }

    pub fn millesime(&self) -> Millesime {
        if self.0.starts_with("QP") {
            Millesime::Y2015
        } else {
            Millesime::Y2024
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QpvCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_of_both_maps_are_recognised() {
        assert_eq!(
            QpvCode::parse("qp093028").expect("2015").millesime(),
            Millesime::Y2015
        );
        assert_eq!(
            QpvCode::parse("QN07512M").expect("2024").millesime(),
            Millesime::Y2024
        );
        assert_eq!(
            QpvCode::parse("QN97414I").expect("overseas").as_str(),
            "QN97414I"
        );
        assert!(QpvCode::parse("QN02A01N").is_ok(), "Corsica");
        for bad in [
            "QP09302", "QN07512X", "QN0751M", "QX093028", "QP09302A", "", "QN02C01N",
        ] {
            assert!(QpvCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_code_of_the_other_map_is_refused_for_a_given_year() {
        let err = QpvCode::parse_for("QP093028", Millesime::Y2024).expect_err("2015 code");
        assert!(err.0.contains("carte 2015"), "{err}");
        assert!(Millesime::parse("2020").is_err());
        assert_eq!(Millesime::parse(" 2024 ").expect("valid"), Millesime::Y2024);
    }

    proptest! {
        #[test]
        fn every_well_formed_2024_code_parses_and_reads_back(dep in "(0[1-9][0-9]|02[AB]|97[1-6])", n in 0u8..100, letter in "[NMI]") {
            let text = format!("QN{dep}{n:02}{letter}");
            let code = QpvCode::parse(&text).expect("well formed");
            prop_assert_eq!(code.as_str(), text.as_str());
            prop_assert_eq!(code.millesime(), Millesime::Y2024);
        }
    }
}
