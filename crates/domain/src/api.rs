//! What an API token may do: its scopes. A token acts as its owner, within these scopes only
//! (the owner's rights still apply to each request).

use crate::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiScope {
    /// Check addresses and points against the QPV maps.
    Qpv,
    /// Read a territory's directory of relays (data·inclusion format).
    Directory,
    /// Read the orientations the owner sees: received by their organisations, sent for the
    /// persons they follow.
    Orientations,
    /// Send orientations and take their steps (study, accept, decline, entry, outcome…).
    OrientationsWrite,
    /// Read the indicators the owner may read, masked as on the pages.
    Indicators,
}

/// The scopes an organisation's token may carry: none reads or writes a person. Sharing a
/// person's file is between named professionals (docs/security.md, « Jetons d'API »), so a
/// partner's system that follows orientations uses the token of one of its professionals.
pub const ORGANISATION_SCOPES: &[ApiScope] = &[ApiScope::Qpv, ApiScope::Directory];

/// Why another scope is refused on an organisation's token.
pub const ORGANISATION_SCOPES_RULE: &str = "Un jeton de structure ne peut porter que les portées « qpv » et « annuaire » : ce qui touche une personne demande le jeton nominatif d'un professionnel de la structure.";

impl ApiScope {
    pub const ALL: &'static [ApiScope] = &[
        ApiScope::Qpv,
        ApiScope::Directory,
        ApiScope::Orientations,
        ApiScope::OrientationsWrite,
        ApiScope::Indicators,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::Qpv => "qpv",
            ApiScope::Directory => "annuaire",
            ApiScope::Orientations => "orientations",
            ApiScope::OrientationsWrite => "orientations-ecriture",
            ApiScope::Indicators => "indicateurs",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ApiScope::Qpv => "Vérifier des adresses et des points (QPV)",
            ApiScope::Directory => {
                "Lire l'annuaire des relais du territoire (format data·inclusion)"
            }
            ApiScope::Orientations => {
                "Lire les orientations reçues par vos structures et envoyées pour les personnes que vous suivez"
            }
            ApiScope::OrientationsWrite => {
                "Envoyer des orientations et y donner suite (étude, acceptation, refus, entrée, résultat)"
            }
            ApiScope::Indicators => {
                "Lire les indicateurs que vous pouvez consulter, masqués comme à l'écran"
            }
        }
    }

    pub fn from_code(code: &str) -> Option<ApiScope> {
        ApiScope::ALL.iter().copied().find(|s| s.as_str() == code)
    }

    /// Scopes as checked in a form: at least one, each known.
    pub fn parse_list(codes: &[String]) -> Result<Vec<ApiScope>, Invalid> {
        let mut scopes = Vec::new();
        for code in codes {
            let scope = ApiScope::from_code(code.trim())
                .ok_or_else(|| Invalid::new(format!("Portée inconnue : « {code} ».")))?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err(Invalid::new(
                "Cochez au moins une portée : ce que le jeton pourra faire.",
            ));
        }
        Ok(scopes)
    }

    /// Scopes as stored: space-separated codes; unknown codes (of a later version) are ignored.
    pub fn read_stored(text: &str) -> Vec<ApiScope> {
        text.split_whitespace()
            .filter_map(ApiScope::from_code)
            .collect()
    }

    pub fn stored(scopes: &[ApiScope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How long a new token lasts, as offered in the form (days).
pub const TOKEN_DURATIONS: &[u32] = &[30, 90, 365];

/// A token's lifetime from the form: one of [`TOKEN_DURATIONS`].
pub fn parse_duration(text: &str) -> Result<u32, Invalid> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|d| TOKEN_DURATIONS.contains(d))
        .ok_or_else(|| Invalid::new("Choisissez une durée de validité : 30, 90 ou 365 jours."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_read_from_forms_and_storage() {
        assert_eq!(
            ApiScope::parse_list(&["qpv".into(), "qpv".into()]),
            Ok(vec![ApiScope::Qpv])
        );
        assert!(ApiScope::parse_list(&[]).is_err());
        assert!(ApiScope::parse_list(&["tout".into()]).is_err());
        assert_eq!(
            ApiScope::read_stored("qpv futur annuaire"),
            vec![ApiScope::Qpv, ApiScope::Directory]
        );
        assert_eq!(
            ApiScope::stored(&[ApiScope::Qpv, ApiScope::Directory]),
            "qpv annuaire"
        );
        assert_eq!(parse_duration("90"), Ok(90));
        assert!(parse_duration("1000").is_err() && parse_duration("").is_err());
    }
}
