//! What a person types as a second factor: the six digits of an authenticator app, or one of
//! their recovery codes (ten letters and digits, shown as `abcde-fghjk`).

use crate::Invalid;

/// The letters and digits recovery codes are made of: no `0 o 1 i l`, which are misread.
pub const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Characters of a recovery code (50 bits).
pub const RECOVERY_LENGTH: usize = 10;
/// Digits of an authenticator code.
pub const CODE_DIGITS: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactorCode {
    /// Six digits from the authenticator app.
    Totp(u32),
    /// A recovery code, normalised (lower case, no separator).
    Recovery(String),
}

impl SecondFactorCode {
    /// Spaces and dashes are ignored, letters in either case.
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect();
        if compact.is_empty() {
            return Err(Invalid::new(
                "Saisissez le code à 6 chiffres affiché par votre application, ou l'un de vos codes de secours.",
            ));
        }
        if compact.len() == CODE_DIGITS && compact.bytes().all(|b| b.is_ascii_digit()) {
            return compact
                .parse()
                .map(SecondFactorCode::Totp)
                .map_err(|_| Invalid::new("Code illisible."));
        }
        if compact.len() == RECOVERY_LENGTH
            && compact.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))
        {
            return Ok(SecondFactorCode::Recovery(compact));
        }
        Err(Invalid::new(
            "Ce code n'a pas le bon format : 6 chiffres (par exemple 123 456) pour le code de l'application, ou 10 caractères (par exemple abcde-fghjk) pour un code de secours.",
        ))
    }

    /// Only the six digits of the application (enrolment proves the application works).
    pub fn parse_totp(input: &str) -> Result<u32, Invalid> {
        match SecondFactorCode::parse(input)? {
            SecondFactorCode::Totp(code) => Ok(code),
            SecondFactorCode::Recovery(_) => Err(Invalid::new(
                "Saisissez le code à 6 chiffres affiché par votre application.",
            )),
        }
    }
}

/// A recovery code as shown to its owner: two groups of five.
pub fn show_recovery_code(code: &str) -> String {
    if code.len() == RECOVERY_LENGTH && code.is_ascii() {
        format!("{}-{}", &code[..5], &code[5..])
    } else {
        code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_people_type_them() {
        assert_eq!(
            SecondFactorCode::parse(" 123 456 "),
            Ok(SecondFactorCode::Totp(123456))
        );
        assert_eq!(
            SecondFactorCode::parse("012345"),
            Ok(SecondFactorCode::Totp(12345))
        );
        assert_eq!(
            SecondFactorCode::parse("ABCDE-FGHJK"),
            Ok(SecondFactorCode::Recovery("abcdefghjk".into()))
        );
        assert_eq!(show_recovery_code("abcdefghjk"), "abcde-fghjk");
        for bad in ["", "12345", "1234567", "abcde-fghj0", "12345a"] {
            assert!(SecondFactorCode::parse(bad).is_err(), "{bad:?} refused");
        }
        assert!(SecondFactorCode::parse_totp("abcde-fghjk").is_err());
    }
}
