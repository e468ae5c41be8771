//! Messages shown once after a redirect (« Le dossier a été mis à jour. »). Each feature
//! declares its own with [`flashes!`]: a code carried in the URL (`?message=…`, so no state is
//! kept) and the French text. [`text_of`] looks a code up among every feature's messages.

use axum::response::Redirect;

/// A feature's message after a redirect.
pub trait Flash: Copy + 'static {
    fn code(self) -> &'static str;
    fn text(self) -> &'static str;
}

/// Declares a feature's messages: `Name { Variant => "code", "Texte."; … }`.
macro_rules! flashes {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $code:literal, $text:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The message carried by this code, if it is one of this feature's.
            pub fn lookup(code: &str) -> Option<&'static str> {
                $name::ALL
                    .iter()
                    .find(|m| $crate::flash::Flash::code(**m) == code)
                    .map(|m| $crate::flash::Flash::text(*m))
            }
        }

        impl $crate::flash::Flash for $name {
            fn code(self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }
            fn text(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }
    };
}
pub(crate) use flashes;

/// Redirects to `path` with the message to show there.
pub fn redirect(path: &str, message: impl Flash) -> Redirect {
    let separator = if path.contains('?') { '&' } else { '?' };
    // A fragment stays at the end of the address.
    match path.split_once('#') {
        Some((before, fragment)) => Redirect::to(&format!(
            "{before}{separator}message={}#{fragment}",
            message.code()
        )),
        None => Redirect::to(&format!("{path}{separator}message={}", message.code())),
    }
}

/// The text of a message code, looked up among every feature's messages.
pub fn text_of(code: &str) -> Option<&'static str> {
    crate::persons::Message::lookup(code)
        .or_else(|| crate::diagnostic::Message::lookup(code))
        .or_else(|| crate::orientations::Message::lookup(code))
        .or_else(|| crate::cohorts::Message::lookup(code))
        .or_else(|| crate::governance::Message::lookup(code))
        .or_else(|| crate::second_factor::Message::lookup(code))
        .or_else(|| crate::api_tokens::Message::lookup(code))
        .or_else(|| crate::webhooks::Message::lookup(code))
        .or_else(|| crate::layout::general_message(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    flashes! {
        Sample {
            Saved => "enregistre", "C'est enregistré.";
        }
    }

    fn location(r: Redirect) -> String {
        r.into_response()
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn a_message_travels_as_its_code_and_keeps_the_fragment_last() {
        assert_eq!(
            location(redirect("/a", Sample::Saved)),
            "/a?message=enregistre"
        );
        assert_eq!(
            location(redirect("/a?x=1", Sample::Saved)),
            "/a?x=1&message=enregistre"
        );
        assert_eq!(
            location(redirect("/a#b", Sample::Saved)),
            "/a?message=enregistre#b"
        );
        assert_eq!(Sample::lookup("enregistre"), Some("C'est enregistré."));
        assert_eq!(Sample::lookup("inconnu"), None);
    }

    #[test]
    fn codes_are_unique_across_features() {
        let mut seen = std::collections::HashSet::new();
        let codes = crate::persons::Message::ALL
            .iter()
            .map(|m| m.code())
            .chain(crate::diagnostic::Message::ALL.iter().map(|m| m.code()))
            .chain(crate::orientations::Message::ALL.iter().map(|m| m.code()))
            .chain(crate::cohorts::Message::ALL.iter().map(|m| m.code()))
            .chain(crate::governance::Message::ALL.iter().map(|m| m.code()))
            .chain(crate::second_factor::Message::ALL.iter().map(|m| m.code()))
            .chain(crate::api_tokens::Message::ALL.iter().map(|m| m.code()))
            .chain(crate::webhooks::Message::ALL.iter().map(|m| m.code()));
        for code in codes {
            assert!(seen.insert(code), "{code} twice");
            assert!(
                crate::layout::general_message(code).is_none(),
                "{code} also general"
            );
        }
    }
}
