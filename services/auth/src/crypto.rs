//! Encryption at rest of the TONE3000 tokens (and of PKCE verifiers in flight):
//! AES-256-GCM, a random 96-bit nonce per value, stored as `nonce || ciphertext || tag`
//! with the key id beside it. The associated data binds a value to its user and column, so
//! a ciphertext copied to another row does not decrypt.
//!
//! `GTS_TOKEN_ENCRYPTION_KEYS` = `kid:base64(32 bytes)[,kid:…]`; the first key encrypts,
//! all of them decrypt (rotation: put the new key first, keep the old ones until every row
//! has been rewritten by a refresh).

use std::collections::HashMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::{Engine, engine::general_purpose::STANDARD};

/// AES-256-GCM keys by id; the first is current.
#[derive(Clone)]
pub struct TokenCipher {
    current: String,
    keys: HashMap<String, std::sync::Arc<LessSafeKey>>,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCipher")
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

/// A value encrypted under `key_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

/// Decryption failed: unknown key id, or the value or its context does not match.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot decrypt a stored token: {0}")]
pub struct CipherError(pub String);

impl TokenCipher {
    /// Parses `kid:base64key,…`.
    pub fn from_config(raw: &str) -> Result<Self, String> {
        let mut current = None;
        let mut keys = HashMap::new();
        for item in raw.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (kid, b64) = item
                .split_once(':')
                .ok_or_else(|| "expected kid:base64key entries".to_owned())?;
            if kid.is_empty() {
                return Err("a key id is empty".to_owned());
            }
            let bytes = STANDARD
                .decode(b64.trim())
                .map_err(|_| format!("key {kid:?} is not base64"))?;
            let key = key_from_bytes(&bytes).map_err(|e| format!("key {kid:?}: {e}"))?;
            if keys.insert(kid.to_owned(), key).is_some() {
                return Err(format!("key id {kid:?} appears twice"));
            }
            current.get_or_insert_with(|| kid.to_owned());
        }
        let current = current.ok_or_else(|| "no key given".to_owned())?;
        Ok(Self { current, keys })
    }

    /// A cipher with one random key (development only).
    pub fn random() -> Result<Self, String> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| "no randomness".to_owned())?;
        let key = key_from_bytes(&bytes)?;
        let current = format!("dev-{}", uuid::Uuid::new_v4().simple());
        Ok(Self {
            keys: HashMap::from([(current.clone(), key)]),
            current,
        })
    }

    /// A fresh random `kid:base64key` entry for `GTS_TOKEN_ENCRYPTION_KEYS` (local setup
    /// and tests).
    pub fn generate_config_entry(key_id: &str) -> Result<String, String> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| "no randomness".to_owned())?;
        Ok(format!("{key_id}:{}", STANDARD.encode(bytes)))
    }

    /// Encrypts `plaintext` under the current key, bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Sealed, CipherError> {
        let key = self
            .keys
            .get(&self.current)
            .ok_or_else(|| CipherError("the current key is missing".to_owned()))?;
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| CipherError("no randomness".to_owned()))?;
        let mut in_out = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context.as_bytes()),
            &mut in_out,
        )
        .map_err(|_| CipherError("encryption failed".to_owned()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&in_out);
        Ok(Sealed {
            key_id: self.current.clone(),
            bytes,
        })
    }

    /// Decrypts a value sealed under `key_id` with the same `context`.
    pub fn open(&self, key_id: &str, bytes: &[u8], context: &str) -> Result<Vec<u8>, CipherError> {
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| CipherError(format!("unknown key id {key_id:?}")))?;
        let (nonce, sealed) = bytes
            .split_at_checked(NONCE_LEN)
            .ok_or_else(|| CipherError("value too short".to_owned()))?;
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| CipherError("bad nonce".to_owned()))?;
        let mut in_out = sealed.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut in_out)
            .map_err(|_| CipherError("authentication failed".to_owned()))?;
        Ok(plain.to_vec())
    }

    /// Opens a UTF-8 value.
    pub fn open_string(
        &self,
        key_id: &str,
        bytes: &[u8],
        context: &str,
    ) -> Result<String, CipherError> {
        String::from_utf8(self.open(key_id, bytes, context)?)
            .map_err(|_| CipherError("not UTF-8".to_owned()))
    }
}

fn key_from_bytes(bytes: &[u8]) -> Result<std::sync::Arc<LessSafeKey>, String> {
    if bytes.len() != 32 {
        return Err(format!("must be 32 bytes, got {}", bytes.len()));
    }
    let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| "invalid key".to_owned())?;
    Ok(std::sync::Arc::new(LessSafeKey::new(unbound)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn config(kid: &str, byte: u8) -> String {
        format!("{kid}:{}", STANDARD.encode([byte; 32]))
    }

    #[test]
    fn values_round_trip_and_are_bound_to_their_context() {
        let cipher = TokenCipher::from_config(&config("a", 1)).unwrap();
        let sealed = cipher.seal(b"secret-token", "user-1:access").unwrap();
        assert_eq!(sealed.key_id, "a");
        assert!(!sealed.bytes.windows(12).any(|w| w == b"secret-token"));
        assert_eq!(
            cipher.open("a", &sealed.bytes, "user-1:access").unwrap(),
            b"secret-token"
        );
        assert!(cipher.open("a", &sealed.bytes, "user-2:access").is_err());
        let mut tampered = sealed.bytes.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(cipher.open("a", &tampered, "user-1:access").is_err());
    }

    #[test]
    fn rotation_encrypts_with_the_first_key_and_decrypts_with_any() {
        let old = TokenCipher::from_config(&config("old", 1)).unwrap();
        let sealed_old = old.seal(b"t", "c").unwrap();
        let rotated =
            TokenCipher::from_config(&format!("{},{}", config("new", 2), config("old", 1)))
                .unwrap();
        assert_eq!(rotated.open("old", &sealed_old.bytes, "c").unwrap(), b"t");
        assert_eq!(rotated.seal(b"t", "c").unwrap().key_id, "new");
        assert!(rotated.open("gone", &sealed_old.bytes, "c").is_err());
    }

    #[test]
    fn bad_configurations_are_refused() {
        assert!(TokenCipher::from_config("").is_err());
        assert!(TokenCipher::from_config("a:AAAA").is_err());
        assert!(TokenCipher::from_config("nokid").is_err());
        assert!(
            TokenCipher::from_config(&format!("{},{}", config("a", 1), config("a", 2))).is_err()
        );
    }
}
