//! Where the site may send a browser back to: only a path of this site. The `suite` of the
//! login page comes from the address bar, so anyone can craft it: schemes, `//host`,
//! backslashes (which browsers read as slashes), control characters (a tab or newline inside
//! `/\t/evil` is dropped by browsers, leaving `//evil`) and their percent-encoded forms are all
//! refused, and the fallback is the home page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A path of this site, safe to put in a `Location` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    pub fn parse(candidate: &str) -> Option<LocalPath> {
        fn acceptable(p: &str) -> bool {
            p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control)
        }
        if !acceptable(candidate) || candidate.chars().any(char::is_whitespace) {
            return None;
        }
        // The same rules once percent-decoded: `/%2F/evil`, `/%5Cevil`, `/%09/evil` (an
        // encoded space stays harmless).
        let decoded = percent_decoded(candidate)?;
        if !acceptable(&decoded) {
            return None;
        }
        Some(LocalPath(candidate.to_string()))
    }

    /// The path, or the home page when `candidate` is not one of this site's.
    pub fn or_home(candidate: &str) -> LocalPath {
        LocalPath::parse(candidate).unwrap_or_else(|| LocalPath("/".into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A 303 to this path (never a 500: the value was checked to be a valid header).
    pub fn redirect(&self) -> Response {
        let location = HeaderValue::from_str(&self.0).unwrap_or(HeaderValue::from_static("/"));
        (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
    }
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result is not UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        for ok in [
            "/",
            "/personnes/12?message=x",
            "/annuaire?lieu=Maubeuge%20centre",
        ] {
            assert_eq!(
                LocalPath::parse(ok).map(|p| p.0),
                Some(ok.to_string()),
                "{ok}"
            );
        }
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/%09/evil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/%0d%0aSet-Cookie:x",
            "https://evil.example",
            "https:/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/%zz",
            "/%",
        ] {
            assert!(LocalPath::parse(hostile).is_none(), "{hostile:?}");
            assert_eq!(LocalPath::or_home(hostile).as_str(), "/");
        }
    }
}
