//! Employers (docs/domain.md §11): a company known by its SIRET (`crate::Siret`), its sector by
//! its NAF code, and its engagement with the territory over time.

use std::fmt;

use crate::Invalid;

crate::codes! {
    /// How an employer takes part.
    Engagement {
        Parrainage => "parrainage", "Parrainage";
        Immersion => "immersion", "Accueil en immersion";
        JobDating => "job-dating", "Job dating";
        Recrutement => "recrutement", "Recrutement";
        Visite => "visite", "Visite d'entreprise";
        Club => "club-entreprises", "Club d'entreprises";
    }
}

crate::codes! {
    /// A job offer or recruitment need, while it lasts.
    OfferStatus {
        Ouverte => "ouverte", "Ouverte";
        Pourvue => "pourvue", "Pourvue";
        Close => "close", "Close sans recrutement";
    }
}

/// A NAF (rév. 2) code: two digits, a dot, two digits and a letter — « 62.01Z ». Typed with or
/// without the dot, in either case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NafCode(String);

impl NafCode {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '.')
            .collect::<String>()
            .to_uppercase();
        let b = compact.as_bytes();
        if b.len() == 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4].is_ascii_uppercase() {
            Ok(NafCode(format!("{}.{}", &compact[..2], &compact[2..])))
        } else {
            Err(Invalid(format!(
                "« {} » n'est pas un code NAF : quatre chiffres et une lettre, par exemple 47.11F.",
                input.trim()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The division (two digits), which names the sector broadly.
    pub fn division(&self) -> &str {
        &self.0[..2]
    }
}

impl fmt::Display for NafCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The section (A to U) of a NAF division, with its French name.
pub fn sector(division: &str) -> &'static str {
    let Ok(n) = division.parse::<u8>() else {
        return "Secteur inconnu";
    };
    match n {
        1..=3 => "Agriculture, sylviculture et pêche",
        5..=9 => "Industries extractives",
        10..=33 => "Industrie manufacturière",
        35 => "Production et distribution d'énergie",
        36..=39 => "Eau, assainissement, déchets",
        41..=43 => "Construction",
        45..=47 => "Commerce, réparation d'automobiles",
        49..=53 => "Transports et entreposage",
        55 | 56 => "Hébergement et restauration",
        58..=63 => "Information et communication",
        64..=66 => "Activités financières et d'assurance",
        68 => "Activités immobilières",
        69..=75 => "Activités spécialisées, scientifiques et techniques",
        77..=82 => "Services administratifs et de soutien",
        84 => "Administration publique",
        85 => "Enseignement",
        86..=88 => "Santé humaine et action sociale",
        90..=93 => "Arts, spectacles et activités récréatives",
        94..=96 => "Autres activités de services",
        97 | 98 => "Activités des ménages employeurs",
        99 => "Activités extra-territoriales",
        _ => "Secteur inconnu",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naf_codes_are_read_with_or_without_the_dot_and_named_by_sector() {
        assert_eq!(NafCode::parse("62.01Z").expect("naf").as_str(), "62.01Z");
        assert_eq!(NafCode::parse(" 4711f ").expect("naf").as_str(), "47.11F");
        let naf = NafCode::parse("56.10A").expect("naf");
        assert_eq!(sector(naf.division()), "Hébergement et restauration");
        for bad in ["", "62.01", "6201ZZ", "AB.12C", "62-01Z"] {
            let e = NafCode::parse(bad).expect_err(bad);
            assert!(e.0.contains("code NAF"), "{bad}: {}", e.0);
        }
    }
}
