//! French postal addresses as typed by people: normalised and split into house number,
//! repetition index (bis, ter…), street, postcode and commune, for matching against the BAN.
//! Normalisation folds case and accents, turns hyphens and apostrophes into spaces and expands
//! the usual abbreviations (bd → boulevard, av → avenue, r → rue, st → saint, chem → chemin…).

use domain::text::fold;

/// Street-type and title abbreviations, as found in French addresses.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("all", "allee"),
    ("av", "avenue"),
    ("ave", "avenue"),
    ("bd", "boulevard"),
    ("bld", "boulevard"),
    ("blvd", "boulevard"),
    ("bvd", "boulevard"),
    ("ch", "chemin"),
    ("chem", "chemin"),
    ("che", "chemin"),
    ("crs", "cours"),
    ("fbg", "faubourg"),
    ("fg", "faubourg"),
    ("gal", "general"),
    ("imp", "impasse"),
    ("lot", "lotissement"),
    ("mal", "marechal"),
    ("pl", "place"),
    ("pte", "porte"),
    ("qu", "quai"),
    ("r", "rue"),
    ("res", "residence"),
    ("rte", "route"),
    ("sq", "square"),
    ("st", "saint"),
    ("ste", "sainte"),
    ("vla", "villa"),
];

/// Repetition indexes written after a house number.
const REPETITIONS: &[(&str, &str)] = &[
    ("bis", "bis"),
    ("b", "bis"),
    ("ter", "ter"),
    ("t", "ter"),
    ("quater", "quater"),
    ("q", "quater"),
    ("a", "a"),
    ("c", "c"),
    ("d", "d"),
];

/// Lower case, no accents, words separated by single spaces, abbreviations expanded.
pub fn normalize(text: &str) -> String {
    let folded = fold(text);
    let spaced: String = folded
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    spaced
        .split_whitespace()
        .map(|word| {
            ABBREVIATIONS
                .iter()
                .find(|(a, _)| *a == word)
                .map_or(word, |(_, full)| full)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words that name a part of a building, followed by its number or letter (« bât. B »,
/// « appt 12 », « esc. 3 », « porte 5 »): what residents of social housing add to their line.
const COMPLEMENTS: &[&str] = &[
    "bat",
    "batiment",
    "bt",
    "appt",
    "app",
    "apt",
    "appart",
    "appartement",
    "esc",
    "escalier",
    "etage",
    "etg",
    "log",
    "logement",
    "hall",
    "porte",
    "entree",
    "cage",
];

/// Street types: what remains of an address must still name a street for a « résidence » to
/// be dropped (otherwise the résidence is the street, as the BAN sometimes names it).
const STREET_TYPES: &[&str] = &[
    "rue",
    "avenue",
    "boulevard",
    "allee",
    "chemin",
    "impasse",
    "place",
    "route",
    "quai",
    "cours",
    "square",
    "faubourg",
    "villa",
    "lotissement",
    "passage",
    "sentier",
    "promenade",
    "voie",
    "ruelle",
    "esplanade",
    "parvis",
    "rond",
    "cite",
    "hameau",
    "lieu",
];

/// A building part's number or letter: « b », « 12 », « a2 », « 108 ».
fn is_part_value(word: &str) -> bool {
    word.len() <= 4 && (word.chars().any(|c| c.is_ascii_digit()) || word.len() == 1)
}

/// « 2e », « 3eme », « 1er », « 1ere »: an ordinal before « étage ».
fn is_ordinal(word: &str) -> bool {
    let digits = word.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && matches!(&word[digits..], "e" | "eme" | "er" | "ere")
}

/// Drops what is not the street from a normalised address: building parts (bâtiment, appt,
/// escalier, porte, étage, rez-de-chaussée), a résidence's name, a post-office box, « cedex »
/// and a final « France ».
fn strip_complements(words: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        let after = words.get(i + 2).map(String::as_str);
        // « appt n 5 », « appt no 5 »: the « n° » between marker and value.
        let numbered = matches!(next, Some("n" | "no" | "num" | "numero"));
        if COMPLEMENTS.contains(&w) {
            if numbered && after.is_some_and(is_part_value) {
                i += 3;
                continue;
            }
            if next.is_some_and(is_part_value) && !(w == "porte" && next == Some("d")) {
                i += 2;
                continue;
            }
        }
        if is_ordinal(w) && next == Some("etage") {
            i += 2;
            continue;
        }
        if w == "rdc" {
            i += 1;
            continue;
        }
        if w == "bp" && next.is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())) {
            i += 2;
            continue;
        }
        if w == "b"
            && next == Some("p")
            && after.is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        {
            i += 3;
            continue;
        }
        if w == "cedex" {
            i += if next.is_some_and(|n| n.len() <= 2 && n.chars().all(|c| c.is_ascii_digit())) {
                2
            } else {
                1
            };
            continue;
        }
        if w == "residence" {
            // The résidence's name runs to the house number, a street type or the postcode.
            let end = words[i + 1..]
                .iter()
                .position(|x| {
                    x.starts_with(|c: char| c.is_ascii_digit())
                        || STREET_TYPES.contains(&x.as_str())
                })
                .map_or(words.len(), |p| i + 1 + p);
            let rest_names_a_street = words[end..]
                .iter()
                .chain(out.iter())
                .any(|x| STREET_TYPES.contains(&x.as_str()));
            if rest_names_a_street {
                i = end;
                continue;
            }
        }
        out.push(words[i].clone());
        i += 1;
    }
    // « … 59600 Maubeuge France »: the country after the commune.
    if out.len() > 2
        && out.last().map(String::as_str) == Some("france")
        && out[..out.len() - 1]
            .iter()
            .any(|w| w.len() == 5 && w.chars().all(|c| c.is_ascii_digit()))
    {
        out.pop();
    }
    out
}

/// An address split into its parts; every text part is normalised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedAddress {
    pub number: Option<u32>,
    /// `bis`, `ter`, `quater`, or a letter.
    pub repetition: Option<String>,
    pub street: String,
    pub postcode: Option<String>,
    /// What follows the postcode (or what is left after the street when there is none).
    pub commune: String,
}

/// Splits « 12 bis, Bd. du Général-de-Gaulle 59600 Maubeuge » into its parts. Without a
/// postcode, the commune cannot be told from the street by syntax alone: the whole rest is the
/// street, and the matcher tries its last words as a commune name.
pub fn parse(text: &str) -> ParsedAddress {
    // A last comma-separated part that says « France » is the country, whatever precedes it.
    let text = match text.rsplit_once(',') {
        Some((before, country)) if fold(country).trim() == "france" => before,
        _ => text,
    };
    let words = strip_complements(
        normalize(text)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect(),
    );
    let mut parsed = ParsedAddress::default();
    let mut rest: &[String] = &words;
    // A leading house number, possibly glued to its repetition (« 12bis », « 3b »).
    if let Some(first) = rest.first() {
        let digits: String = first.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty()
            && digits.len() <= 5
            && !(digits.len() == 5
                && first.len() == 5
                && rest.len() > 1
                && looks_like_postcode_only(rest))
        {
            parsed.number = digits.parse().ok();
            let suffix = &first[digits.len()..];
            if !suffix.is_empty() {
                parsed.repetition = REPETITIONS
                    .iter()
                    .find(|(r, _)| *r == suffix)
                    .map(|(_, full)| full.to_string());
            }
            rest = &rest[1..];
            if parsed.repetition.is_none()
                && let Some(next) = rest.first()
            {
                // « b » or « a » alone is a repetition only before more words.
                if let Some((_, full)) = REPETITIONS.iter().find(|(r, _)| r == next)
                    && rest.len() > 1
                {
                    parsed.repetition = Some(full.to_string());
                    rest = &rest[1..];
                }
            }
        }
    }
    // The last five-digit word is the postcode: the street before it, the commune after.
    match rest
        .iter()
        .rposition(|w| w.len() == 5 && w.chars().all(|c| c.is_ascii_digit()))
    {
        Some(i) => {
            parsed.postcode = Some(rest[i].clone());
            parsed.street = rest[..i].join(" ");
            parsed.commune = rest[i + 1..].join(" ");
        }
        None => parsed.street = rest.join(" "),
    }
    parsed
}

/// A first word of five digits followed only by words is a postcode, not a house number, when
/// nothing else in the address looks like a postcode (« 59600 Maubeuge »).
fn looks_like_postcode_only(words: &[String]) -> bool {
    !words[1..]
        .iter()
        .any(|w| w.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn abbreviations_accents_hyphens_and_apostrophes_are_normalised() {
        assert_eq!(
            normalize("Bd. du Général-de-Gaulle"),
            "boulevard du general de gaulle"
        );
        assert_eq!(normalize("AV. JEAN JAURÈS"), "avenue jean jaures");
        assert_eq!(normalize("r de l'Église"), "rue de l eglise");
        assert_eq!(normalize("Chem. St-Jean"), "chemin saint jean");
        assert_eq!(normalize("Imp. Ste-Anne"), "impasse sainte anne");
        assert_eq!(normalize("Rue de la Cœur"), "rue de la coeur");
    }

    #[test]
    fn a_full_address_is_split_into_its_parts() {
        let a = parse("12 bis, Bd. du Général-de-Gaulle 59600 Maubeuge");
        assert_eq!(a.number, Some(12));
        assert_eq!(a.repetition.as_deref(), Some("bis"));
        assert_eq!(a.street, "boulevard du general de gaulle");
        assert_eq!(a.postcode.as_deref(), Some("59600"));
        assert_eq!(a.commune, "maubeuge");
    }

    #[test]
    fn glued_repetitions_and_missing_parts_are_handled() {
        let a = parse("3B rue des Lilas");
        assert_eq!(
            (
                a.number,
                a.repetition.as_deref(),
                a.street.as_str(),
                a.postcode.as_deref()
            ),
            (Some(3), Some("bis"), "rue des lilas", None)
        );
        let b = parse("rue de la Gare, Louvroil");
        assert_eq!(
            (b.number, b.street.as_str()),
            (None, "rue de la gare louvroil")
        );
        let c = parse("7 ter avenue de France 75013 Paris");
        assert_eq!(
            (c.number, c.repetition.as_deref(), c.commune.as_str()),
            (Some(7), Some("ter"), "paris")
        );
        // « 12 a » at the end is a number and a letter, not a repetition before nothing.
        let d = parse("12 a");
        assert_eq!(
            (d.number, d.repetition.as_deref(), d.street.as_str()),
            (Some(12), None, "a")
        );
        let e = parse("59600 Maubeuge");
        assert_eq!(
            (e.number, e.postcode.as_deref(), e.commune.as_str()),
            (None, Some("59600"), "maubeuge")
        );
    }

    #[test]
    fn what_residents_add_to_their_line_is_not_the_street() {
        let clean = parse("12 rue des Lilas 59600 Maubeuge");
        for noisy in [
            "Bât. B, 12 rue des Lilas 59600 Maubeuge",
            "12 rue des Lilas bâtiment D 59600 Maubeuge",
            "12 rue des Lilas Appt 12 59600 Maubeuge",
            "12 rue des Lilas appartement 47, 59600 Maubeuge",
            "12 rue des Lilas Appt n° 5 59600 Maubeuge",
            "Résidence Les Tilleuls, 12 rue des Lilas 59600 Maubeuge",
            "Rés. Les Hortensias 12 rue des Lilas 59600 Maubeuge",
            "12 rue des Lilas Résidence du Parc 59600 Maubeuge",
            "12 rue des Lilas Escalier 3 Porte 5 59600 Maubeuge",
            "12 rue des Lilas 2e étage 59600 Maubeuge",
            "12 rue des Lilas RDC 59600 Maubeuge",
            "12 rue des Lilas 59600 Maubeuge France",
            "12 rue des Lilas, 59600 Maubeuge, France",
            "12 rue des Lilas BP 123 59600 Maubeuge",
            "12 rue des Lilas B.P. 45 59600 Maubeuge CEDEX",
            "12 rue des Lilas 59600 Maubeuge Cedex 9",
        ] {
            assert_eq!(parse(noisy), clean, "{noisy}");
        }
    }

    #[test]
    fn streets_named_like_complements_are_kept() {
        // The BAN names some streets « Résidence … », « Porte de … », « avenue de France ».
        assert_eq!(
            parse("3 Résidence les Pins 59600 Maubeuge").street,
            "residence les pins"
        );
        assert_eq!(
            parse("8 Porte de Paris 59000 Lille").street,
            "porte de paris"
        );
        assert_eq!(
            parse("7 ter avenue de France 75013 Paris").street,
            "avenue de france"
        );
        assert_eq!(parse("7 avenue de France").street, "avenue de france");
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent_and_never_panics(text in "\\PC{0,60}") {
            let once = normalize(&text);
            prop_assert_eq!(normalize(&once), once.clone());
            prop_assert!(!once.contains("  ") && once == once.trim());
            let _ = parse(&text);
        }

        #[test]
        fn a_well_formed_address_reads_back(number in 1u32..2000, street in "(rue|avenue|boulevard|impasse) (des|de la) [a-z]{3,10}", postcode in "[0-9]{5}", commune in "[a-z]{3,12}") {
            // A random word that is itself an abbreviation (« ste », « lot ») is rightly expanded.
            prop_assume!(normalize(&street) == street && normalize(&commune) == commune);
            let a = parse(&format!("{number} {street} {postcode} {commune}"));
            prop_assert_eq!(a.number, Some(number));
            prop_assert_eq!(a.street, street);
            prop_assert_eq!(a.postcode, Some(postcode));
            prop_assert_eq!(a.commune, commune);
        }
    }
}
