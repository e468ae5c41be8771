//! Closed lists of values (« codes »): each value has a stable code, which is what is stored —
//! with a `CHECK` constraint on both backends, tested against [`Code::ALL`] — and a French
//! label, which is what is shown. Every such list in Passerelle is declared with [`codes!`].

/// What every list declared with [`codes!`] offers.
pub trait Code: Copy + Eq + Sized + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
    fn label(self) -> &'static str;

    /// The value of a code, if it is one.
    fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == code)
    }

    /// The codes, each quoted, comma-separated: the list a `CHECK (column IN (…))` holds.
    fn sql_list() -> String {
        Self::ALL
            .iter()
            .map(|v| format!("'{}'", v.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Declares a closed list: `Name { Variant => "code", "Libellé"; … }`. The enum gets `ALL`,
/// `as_str`, `label`, `parse` (a French error for anything else), `from_code`, `options` (for
/// a select), and serde as its code.
#[macro_export]
macro_rules! codes {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $code:literal, $label:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }

            /// The value a form sent, or a French message for the field.
            pub fn parse(code: &str) -> Result<$name, $crate::Invalid> {
                match code.trim() {
                    $($code => Ok($name::$variant),)*
                    _ => Err($crate::Invalid("Choisissez une valeur de la liste.".into())),
                }
            }

            /// The value of a stored code, if it is one.
            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }

            /// (code, label) pairs, for a select or radio buttons.
            #[allow(dead_code)]
            pub fn options() -> Vec<(String, String)> {
                $name::ALL.iter().map(|v| (v.as_str().to_string(), v.label().to_string())).collect()
            }
        }

        impl $crate::code::Code for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn as_str(self) -> &'static str { $name::as_str(self) }
            fn label(self) -> &'static str { $name::label(self) }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let code = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::from_code(&code).ok_or_else(|| {
                    serde::de::Error::custom(format!("valeur inconnue « {code} »"))
                })
            }
        }

        /// A stored code read back (a database column): anything else is an error.
        impl TryFrom<String> for $name {
            type Error = $crate::Invalid;
            fn try_from(code: String) -> Result<$name, $crate::Invalid> {
                $name::from_code(&code)
                    .ok_or_else(|| $crate::Invalid(format!("code inconnu « {code} »")))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::Code;

    codes! {
        /// A list for the tests.
        Sample {
            Un => "un", "Premier";
            Deux => "deux", "Second";
        }
    }

    #[test]
    fn codes_round_trip_and_unknown_ones_get_a_french_message() {
        for v in Sample::ALL {
            assert_eq!(Sample::parse(v.as_str()), Ok(*v));
            assert_eq!(<Sample as Code>::from_code(v.as_str()), Some(*v));
        }
        assert_eq!(
            Sample::parse(" deux "),
            Ok(Sample::Deux),
            "forms are trimmed"
        );
        assert_eq!(Sample::from_code(" deux "), None, "stored codes are exact");
        let e = Sample::parse("trois").expect_err("refused");
        assert!(e.0.contains("Choisissez"), "{}", e.0);
        assert_eq!(Sample::sql_list(), "'un', 'deux'");
        assert_eq!(Sample::Deux.to_string(), "Second");
    }

    #[test]
    fn codes_serialise_as_their_code() {
        let json = serde_json::to_string(&Sample::Deux).expect("json");
        assert_eq!(json, "\"deux\"");
        let back: Sample = serde_json::from_str(&json).expect("back");
        assert_eq!(back, Sample::Deux);
        assert!(serde_json::from_str::<Sample>("\"trois\"").is_err());
    }
}
