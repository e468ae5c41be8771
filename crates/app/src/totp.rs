//! Time-based one-time passwords (RFC 6238 over RFC 4226: HMAC-SHA1, 6 digits, 30-second
//! steps), as every authenticator app computes them; the `otpauth://` address that enrols
//! one, and its QR code. docs/security.md, « Double authentification ».

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;
/// Bytes of a secret (160 bits, the size RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;
/// Steps accepted on either side of the current one: a phone's clock a little off, or a code
/// typed as it changed.
pub const DRIFT_STEPS: i64 = 1;

/// The step a moment falls in.
pub fn step_at(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(STEP_SECONDS)
}

/// The code of a step (RFC 4226 §5.3, dynamic truncation), to `digits` digits.
pub fn code_at_step(secret: &[u8], step: i64, digits: u32) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let binary = (u32::from(hash[offset]) & 0x7f) << 24
        | u32::from(hash[offset + 1]) << 16
        | u32::from(hash[offset + 2]) << 8
        | u32::from(hash[offset + 3]);
    binary % 10u32.pow(digits)
}

/// The six-digit code of a moment.
pub fn code_at(secret: &[u8], at: DateTime<Utc>) -> u32 {
    code_at_step(secret, step_at(at), 6)
}

/// The step whose code this is, among the current one and its neighbours, compared in
/// constant time.
pub fn matching_step(secret: &[u8], code: u32, at: DateTime<Utc>) -> Option<i64> {
    use subtle::ConstantTimeEq;
    let now = step_at(at);
    let mut found = None;
    for step in now - DRIFT_STEPS..=now + DRIFT_STEPS {
        let expected = code_at_step(secret, step, 6);
        if bool::from(expected.ct_eq(&code)) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base 32 without padding, as authenticator apps read secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buffer = [0u8; 5];
        buffer[..chunk.len()].copy_from_slice(chunk);
        let bits = buffer.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            let index = (bits >> (35 - 5 * i)) & 0x1f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

/// Reads base 32 as [`base32`] writes it (spaces ignored, either case); `None` if it is not.
pub fn decode_base32(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u64;
    let mut count = 0u32;
    let mut out = Vec::new();
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        let value = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u64 - 'A' as u64,
            c @ '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => return None,
        };
        bits = (bits << 5 | value) & 0xffff_ffff;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

/// The secret in groups of four, for typing it into an app by hand.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The key-uri address an authenticator app enrols from (the de facto `otpauth` format).
pub fn enrolment_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{issuer_label}:{account}?secret={secret}&issuer={issuer_label}&algorithm=SHA1&digits=6&period={STEP_SECONDS}",
        issuer_label = percent_encode(issuer),
        account = percent_encode(account),
        secret = base32(secret),
    )
}

/// The QR code of an address, as an inline SVG element (no XML prologue, hidden from screen
/// readers: the page gives the secret in text beside it).
pub fn qr_svg(text: &str) -> Result<String, crate::AppError> {
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| crate::AppError::Internal(format!("QR code impossible : {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen(
        "<svg ",
        "<svg aria-hidden=\"true\" focusable=\"false\" class=\"passerelle-qr\" ",
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// RFC 6238 appendix B, SHA-1 column (8 digits there; the last six are what apps show).
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            let at = Utc.timestamp_opt(time, 0).single().expect("valid time");
            assert_eq!(code_at_step(secret, step_at(at), 8), expected, "t = {time}");
            assert_eq!(code_at(secret, at), expected % 1_000_000);
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let secret = b"12345678901234567890";
        let at = Utc
            .timestamp_opt(1_111_111_111, 0)
            .single()
            .expect("valid time");
        let step = step_at(at);
        for offset in -1..=1 {
            let code = code_at_step(secret, step + offset, 6);
            assert_eq!(matching_step(secret, code, at), Some(step + offset));
        }
        for offset in [-3, -2, 2, 3] {
            let code = code_at_step(secret, step + offset, 6);
            if (-1..=1).all(|o| code_at_step(secret, step + o, 6) != code) {
                assert_eq!(matching_step(secret, code, at), None, "offset {offset}");
            }
        }
    }

    #[test]
    fn base32_is_rfc_4648() {
        // RFC 4648 §10, without padding.
        for (input, expected) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(input.as_bytes()), expected);
            assert_eq!(
                decode_base32(&grouped(expected)).as_deref(),
                Some(input.as_bytes())
            );
        }
        assert_eq!(decode_base32("MZ1"), None);
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }

    #[test]
    fn the_enrolment_address_names_the_issuer_and_the_account() {
        let uri = enrolment_uri("Passerelle", "anne+test@exemple.fr", b"foobar");
        assert_eq!(
            uri,
            "otpauth://totp/Passerelle:anne%2Btest%40exemple.fr?secret=MZXW6YTBOI&issuer=Passerelle&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).expect("fits in a QR code");
        assert!(
            svg.starts_with("<svg aria-hidden=\"true\""),
            "{}",
            &svg[..40]
        );
        assert!(svg.ends_with("</svg>"));
    }
}
