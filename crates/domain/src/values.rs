//! Validated values ("parse, don't validate"): each has a private field and a `parse`
//! constructor whose error is a French sentence fit to show beside the form field.

use std::fmt;

/// Why a value was refused, in French, for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Invalid(message.into())
    }
}

macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// An e-mail address, trimmed and lower-cased (accounts are found by e-mail whatever the case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);
string_value!(Email);

impl Email {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let value = input.trim().to_lowercase();
        if value.is_empty() {
            return Err(Invalid::new("Saisissez une adresse électronique."));
        }
        let format = || {
            Invalid::new(
                "Saisissez une adresse électronique valide, par exemple prenom.nom@exemple.fr.",
            )
        };
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format());
        }
        let (local, domain) = value.split_once('@').ok_or_else(format)?;
        let domain_ok = !domain.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(format());
        }
        Ok(Email(value))
    }
}

/// A SIRET: 14 digits whose Luhn checksum holds (La Poste's establishments, SIREN 356 000 000,
/// use the sum of the digits modulo 5 instead).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Siret(String);
string_value!(Siret);

impl Siret {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let value: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if value.len() != 14 || !value.chars().all(|c| c.is_ascii_digit()) {
            return Err(Invalid::new(
                "Le SIRET doit comporter exactement 14 chiffres, par exemple 130 005 481 00010.",
            ));
        }
        let digits: Vec<u32> = value.chars().filter_map(|c| c.to_digit(10)).collect();
        let valid = if value.starts_with("356000000") {
            digits.iter().sum::<u32>().is_multiple_of(5)
        } else {
            luhn(&digits)
        };
        if !valid {
            return Err(Invalid::new(
                "Ce SIRET n'existe pas : sa clé de contrôle est fausse. Vérifiez les 14 chiffres.",
            ));
        }
        Ok(Siret(value))
    }

    /// The SIREN: the company part of the number.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// An INSEE (COG) commune code: département (2 digits, 2A, 2B, or 97x overseas) + commune number.
/// Only the shape is checked here; whether the commune exists is the referential's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InseeCode(String);
string_value!(InseeCode);

impl InseeCode {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let value = input.trim().to_uppercase();
        let bytes = value.as_bytes();
        let shape_ok = bytes.len() == 5
            && ((bytes[0].is_ascii_digit() && bytes[1].is_ascii_digit())
                || (bytes[0] == b'2' && (bytes[1] == b'A' || bytes[1] == b'B')))
            && bytes[2..].iter().all(u8::is_ascii_digit)
            && &value[..2] != "00"
            && &value[..2] != "20";
        if !shape_ok {
            return Err(Invalid::new(format!(
                "« {} » n'est pas un code INSEE de commune : 5 caractères, par exemple 59392 ou 2A004.",
                input.trim()
            )));
        }
        Ok(InseeCode(value))
    }

    /// The département code: `97x` overseas, else the first two characters.
    pub fn departement(&self) -> &str {
        if self.0.starts_with("97") {
            &self.0[..3]
        } else {
            &self.0[..2]
        }
    }
}

/// A French postal code: five digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalCode(String);
string_value!(PostalCode);

impl PostalCode {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let value = input.trim();
        if value.len() != 5 || !value.chars().all(|c| c.is_ascii_digit()) {
            return Err(Invalid::new(
                "Un code postal comporte 5 chiffres, par exemple 59600.",
            ));
        }
        Ok(PostalCode(value.to_string()))
    }
}

/// A SIREN for an EPCI: nine digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EpciCode(String);
string_value!(EpciCode);

impl EpciCode {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let value: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if value.len() != 9 || !value.chars().all(|c| c.is_ascii_digit()) {
            return Err(Invalid::new(
                "Le code d'un EPCI est son SIREN : 9 chiffres, par exemple 200043396.",
            ));
        }
        Ok(EpciCode(value))
    }
}

/// A short, URL-safe name for a territory (`demo`, `maubeuge-val-de-sambre`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);
string_value!(Slug);

impl Slug {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let value = input.trim();
        let ok = (2..=60).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--");
        if !ok {
            return Err(Invalid::new(
                "L'identifiant court comporte de 2 à 60 lettres minuscules sans accent, chiffres ou tirets simples, par exemple « cite-maubeuge ».",
            ));
        }
        Ok(Slug(value.to_string()))
    }

    /// Suggests a slug from a free name: « Cité de l'emploi – Maubeuge » → `cite-de-l-emploi-maubeuge`.
    pub fn suggest(name: &str) -> String {
        let folded = crate::text::fold(name);
        let mut out = String::new();
        for c in folded.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        out.trim_end_matches('-').chars().take(60).collect()
    }
}

/// A required free-text label (a name, a title): trimmed, not empty, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label(String);
string_value!(Label);

impl Label {
    pub fn parse(input: &str, what: &str, max: usize) -> Result<Self, Invalid> {
        let value = input.trim();
        if value.is_empty() {
            return Err(Invalid::new(format!("Saisissez {what}.")));
        }
        if value.chars().count() > max {
            return Err(Invalid::new(format!(
                "{} : {max} caractères au plus.",
                capitalise(what)
            )));
        }
        if value.chars().any(|c| c.is_control()) {
            return Err(Invalid::new(format!(
                "{} contient des caractères invisibles non autorisés.",
                capitalise(what)
            )));
        }
        Ok(Label(value.to_string()))
    }
}

fn capitalise(what: &str) -> String {
    let mut chars = what.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// A password chosen by a user. The policy follows the ANSSI/CNIL recommendation for
/// password-only authentication: at least 12 characters, no composition rules imposed.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 12;

    pub fn parse(input: &str, confirmation: &str) -> Result<Self, Invalid> {
        let count = input.chars().count();
        if count < Self::MIN_CHARS {
            return Err(Invalid::new(format!(
                "Le mot de passe doit comporter au moins {} caractères (une phrase de passe convient très bien).",
                Self::MIN_CHARS
            )));
        }
        if count > 256 {
            return Err(Invalid::new(
                "Le mot de passe doit comporter au plus 256 caractères.",
            ));
        }
        if input != confirmation {
            return Err(Invalid::new(
                "Les deux mots de passe saisis ne sont pas identiques.",
            ));
        }
        Ok(NewPassword(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// A date typed in a French form: JJ/MM/AAAA, or AAAA-MM-JJ as date inputs send it.
/// How calendar dates are written where they are stored or exchanged (`2026-12-01`).
pub const ISO_DATE: &str = "%Y-%m-%d";

/// The offset of the first line of page `page` (counted from 1; 0 and below read as 1) of
/// `per_page` lines. Saturates rather than overflowing: a page number nobody can reach (typed in
/// an address, sent to the API) is simply past the end.
pub fn page_offset(page: i64, per_page: i64) -> i64 {
    page.max(1).saturating_sub(1).saturating_mul(per_page)
}

/// A calendar date as stored and exchanged (ISO 8601).
pub fn iso_date(d: chrono::NaiveDate) -> String {
    d.format(ISO_DATE).to_string()
}

/// A calendar date as French readers write it (`01/12/2026`).
pub fn french_date(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

pub fn parse_date(input: &str) -> Result<chrono::NaiveDate, Invalid> {
    let text = input.trim();
    chrono::NaiveDate::parse_from_str(text, ISO_DATE)
        .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map_err(|_| {
            Invalid(format!(
                "« {text} » n'est pas une date : utilisez le format JJ/MM/AAAA."
            ))
        })
}

pub mod text {
    //! French text folding for comparisons: lower case, no accents, ligatures expanded.
    use unicode_normalization::UnicodeNormalization;

    pub fn fold(input: &str) -> String {
        let mut out = String::with_capacity(input.len());
        for c in input.nfd() {
            match c {
                'œ' | 'Œ' => out.push_str("oe"),
                'æ' | 'Æ' => out.push_str("ae"),
                c if unicode_normalization::char::is_combining_mark(c) => {}
                c => out.extend(c.to_lowercase()),
            }
        }
        out
    }
    /// The folded words of a search query, each of two characters or more.
    pub fn search_words(query: &str) -> Vec<String> {
        fold(query)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 2)
            .map(str::to_string)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_page_past_any_end_is_an_offset_past_the_end_not_an_overflow() {
        assert_eq!(page_offset(1, 50), 0);
        assert_eq!(page_offset(3, 50), 100);
        assert_eq!(page_offset(0, 50), 0);
        assert_eq!(page_offset(-7, 50), 0);
        assert_eq!(page_offset(i64::MAX, 50), i64::MAX);
    }

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Prenom.Nom@Exemple.FR ").expect("valid");
        assert_eq!(email.as_str(), "prenom.nom@exemple.fr");
    }

    #[test]
    fn malformed_emails_are_refused_in_french() {
        for bad in [
            "",
            "sans-arobase",
            "a@b",
            "a@@b.fr",
            "a b@c.fr",
            "@exemple.fr",
            "a@.fr",
            "a@exemple.",
        ] {
            let err = Email::parse(bad).expect_err(bad);
            assert!(err.0.starts_with("Saisissez"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_real_siret_passes_and_a_mistyped_one_is_refused() {
        // DINUM's SIRET.
        assert_eq!(
            Siret::parse("130 025 265 00013").expect("valid").as_str(),
            "13002526500013"
        );
        let err = Siret::parse("13002526500014").expect_err("checksum");
        assert!(err.0.contains("clé de contrôle"));
        assert!(Siret::parse("1300252650001").is_err());
        assert!(Siret::parse("1300252650001A").is_err());
    }

    #[test]
    fn la_poste_sirets_use_their_own_checksum() {
        // 356000000 00048: digits sum to 3+5+6+4+8 = 26 → not a multiple of 5; 00038 sums to 25.
        assert!(Siret::parse("35600000000038").is_ok());
        assert!(Siret::parse("35600000000048").is_err());
    }

    #[test]
    fn insee_codes_accept_corsica_and_overseas_and_refuse_postal_codes_shapes() {
        assert_eq!(InseeCode::parse("2a004").expect("corse").as_str(), "2A004");
        assert_eq!(
            InseeCode::parse("97411").expect("réunion").departement(),
            "974"
        );
        assert_eq!(
            InseeCode::parse("59392").expect("maubeuge").departement(),
            "59"
        );
        for bad in ["5939", "593920", "2C004", "AB123", "00123", "20123"] {
            assert!(InseeCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs_are_suggested_from_french_names() {
        assert_eq!(
            Slug::suggest("Cité de l'emploi – Maubeuge"),
            "cite-de-l-emploi-maubeuge"
        );
        assert!(Slug::parse(&Slug::suggest("Cœur d'Œuvre")).is_ok());
        assert!(Slug::parse("Démo").is_err());
        assert!(Slug::parse("a--b").is_err());
    }

    #[test]
    fn a_new_password_needs_twelve_characters_and_a_matching_confirmation() {
        assert!(NewPassword::parse("court", "court").is_err());
        assert!(NewPassword::parse("une phrase de passe", "une phrase de pass").is_err());
        assert!(NewPassword::parse("une phrase de passe", "une phrase de passe").is_ok());
        assert_eq!(
            format!(
                "{:?}",
                NewPassword::parse("une phrase de passe", "une phrase de passe").expect("ok")
            ),
            "NewPassword(***)"
        );
    }

    #[test]
    fn folding_removes_accents_and_case() {
        assert_eq!(
            text::fold("Œuvre Élégante à Saint-Étienne"),
            "oeuvre elegante a saint-etienne"
        );
    }

    fn luhn_complete(prefix: &str) -> String {
        (0..10)
            .map(|d| format!("{prefix}{d}"))
            .find(|s| luhn(&s.chars().filter_map(|c| c.to_digit(10)).collect::<Vec<_>>()))
            .expect("one check digit always completes a Luhn number")
    }

    proptest! {
        #[test]
        fn every_luhn_valid_fourteen_digit_number_is_a_siret(prefix in "[1-9][0-9]{12}") {
            prop_assume!(!prefix.starts_with("356000000"));
            let full = luhn_complete(&prefix);
            prop_assert!(Siret::parse(&full).is_ok());
        }

        #[test]
        fn changing_one_digit_of_a_siret_is_always_detected(prefix in "[1-9][0-9]{12}", pos in 0usize..14, delta in 1u32..10) {
            prop_assume!(!prefix.starts_with("356000000"));
            let full = luhn_complete(&prefix);
            let mut digits: Vec<u32> = full.chars().filter_map(|c| c.to_digit(10)).collect();
            digits[pos] = (digits[pos] + delta) % 10;
            let altered: String = digits.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect();
            prop_assume!(!altered.starts_with("356000000"));
            prop_assert!(Siret::parse(&altered).is_err());
        }

        #[test]
        fn email_parsing_never_panics_and_is_idempotent(input in "\\PC{0,40}") {
            if let Ok(email) = Email::parse(&input) {
                prop_assert_eq!(Email::parse(email.as_str()).ok(), Some(email));
            }
        }
    }
}
