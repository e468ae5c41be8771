//! Random tokens, their stored hashes, keyed signatures and password hashing.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use store::Db;

use crate::AppError;

/// A fresh 256-bit random token, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a token: its SHA-256, so a database leak yields no usable token.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// The SHA-256 of some bytes, in lowercase hexadecimal.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The instance's signing key (CSRF tokens). Shared by all instances through the database
/// unless `PASSERELLE_SECRET_KEY` provides one.
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    pub fn from_text(text: &str) -> Result<SecretKey, AppError> {
        if text.len() < 32 {
            return Err(AppError::Internal(
                "la clé secrète doit comporter au moins 32 caractères".into(),
            ));
        }
        Ok(SecretKey(text.as_bytes().to_vec()))
    }

    pub async fn load_or_create(db: &Db) -> Result<SecretKey, AppError> {
        let mut conn = db.acquire().await?;
        let value =
            store::settings::get_or_insert(&mut conn.conn(), "secret_key", &random_token()).await?;
        SecretKey::from_text(&value)
    }

    /// HMAC-SHA256 of `message`, URL-safe.
    pub fn sign(&self, message: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.derive(message))
    }

    /// HMAC-SHA256 of `message`: 32 bytes that only this key gives for it.
    pub fn derive(&self, message: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(message.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Constant-time check of a signature made by [`SecretKey::sign`].
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.sign(message);
        expected.as_bytes().ct_eq(signature.as_bytes()).into()
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// Hashes a password with Argon2id (default OWASP parameters), off the async threads.
pub async fn hash_password(password: &str) -> Result<String, AppError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("hachage du mot de passe : {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Checks a password against a stored hash. With no hash (unknown account, or account without
/// password yet) it still spends the same time, so timing does not tell whether an account exists.
pub async fn verify_password(password: &str, hash: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let password = password.to_string();
    let hash = hash.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| {
            DUMMY
                .get_or_init(|| {
                    let salt = SaltString::generate(&mut OsRng);
                    Argon2::default()
                        .hash_password(random_token().as_bytes(), &salt)
                        .map(|h| h.to_string())
                        .unwrap_or_default()
                })
                .clone()
        });
        let ok = PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && real
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("une phrase de passe").await.expect("hashed");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("une phrase de passe", Some(&hash)).await);
        assert!(!verify_password("une autre phrase", Some(&hash)).await);
        assert!(!verify_password("une phrase de passe", None).await);
    }

    #[test]
    fn a_signature_verifies_for_its_message_only() {
        let key = SecretKey::from_text("0123456789abcdef0123456789abcdef").expect("long enough");
        let sig = key.sign("csrf:abc");
        assert!(key.verify("csrf:abc", &sig));
        assert!(!key.verify("csrf:abd", &sig));
        assert!(SecretKey::from_text("court").is_err());
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
