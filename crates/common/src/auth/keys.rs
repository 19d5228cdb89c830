//! Ed25519 keys for access JWTs: PEM and DER forms, `kid:KEY` lists from configuration,
//! and generation (for local development and the test harness).

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::{Engine, engine::general_purpose::STANDARD};
use jsonwebtoken::{DecodingKey, EncodingKey};

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 key bytes follow it.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
const ED25519_KEY_LEN: usize = 32;

/// A key that could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// A public key that verifies tokens whose header `kid` equals `key_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyEntry {
    /// The key id (`kid`).
    pub key_id: String,
    /// DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
}

impl PublicKeyEntry {
    /// Builds an entry from SPKI DER, checking that it is an Ed25519 key.
    pub fn from_spki_der(key_id: &str, spki_der: Vec<u8>) -> Result<Self, KeyError> {
        if key_id.is_empty() || key_id.contains([':', ',']) {
            return Err(KeyError(format!(
                "key id {key_id:?} must be non-empty without ':' or ','"
            )));
        }
        let entry = Self {
            key_id: key_id.to_owned(),
            spki_der,
        };
        entry
            .raw()
            .ok_or_else(|| KeyError(format!("key {key_id:?} is not an Ed25519 public key")))?;
        Ok(entry)
    }

    /// The 32 raw key bytes.
    pub fn raw(&self) -> Option<&[u8]> {
        self.spki_der
            .strip_prefix(&ED25519_SPKI_PREFIX)
            .filter(|raw| raw.len() == ED25519_KEY_LEN)
    }

    /// The key as PEM (`PUBLIC KEY`).
    pub fn pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.spki_der)
    }

    /// The `kid:BASE64DER` form used in `GTS_JWT_PUBLIC_KEYS`.
    pub fn config_form(&self) -> String {
        format!("{}:{}", self.key_id, STANDARD.encode(&self.spki_der))
    }

    pub(crate) fn decoding_key(&self) -> Option<DecodingKey> {
        self.raw().map(DecodingKey::from_ed_der)
    }
}

/// Parses `kid:KEY[,kid:KEY…]` where KEY is a PEM public key (newlines may be written
/// `\n`) or the base64 of its DER.
pub fn parse_public_key_list(value: &str) -> Result<Vec<PublicKeyEntry>, KeyError> {
    let mut entries: Vec<PublicKeyEntry> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (key_id, key) = item
            .split_once(':')
            .ok_or_else(|| KeyError(format!("expected kid:KEY, got {item:?}")))?;
        let der = if key.trim_start().starts_with("-----BEGIN") {
            pem_decode("PUBLIC KEY", key)?
        } else {
            STANDARD
                .decode(key.trim())
                .map_err(|e| KeyError(format!("key {key_id:?} is not base64 DER: {e}")))?
        };
        if entries.iter().any(|e| e.key_id == key_id) {
            return Err(KeyError(format!("key id {key_id:?} appears twice")));
        }
        entries.push(PublicKeyEntry::from_spki_der(key_id, der)?);
    }
    Ok(entries)
}

/// An Ed25519 private key that signs access JWTs, with its key id.
#[derive(Clone)]
pub struct SigningKey {
    pkcs8_der: Vec<u8>,
    public: PublicKeyEntry,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.public.key_id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PKCS#8 PEM (`PRIVATE KEY`; newlines may be written `\n`).
    pub fn from_pkcs8_pem(key_id: &str, pem: &str) -> Result<Self, KeyError> {
        Self::from_pkcs8_der(key_id, pem_decode("PRIVATE KEY", pem)?)
    }

    /// Reads PKCS#8 DER (v1 or v2).
    pub fn from_pkcs8_der(key_id: &str, pkcs8_der: Vec<u8>) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8_der)
            .map_err(|_| KeyError("not an Ed25519 PKCS#8 private key".to_owned()))?;
        let mut spki = ED25519_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(pair.public_key().as_ref());
        let public = PublicKeyEntry::from_spki_der(key_id, spki)?;
        // jsonwebtoken's signer wants the v2 form; re-encode whatever was given.
        let pkcs8_der = pair
            .to_pkcs8()
            .map_err(|_| KeyError("cannot encode the private key".to_owned()))?
            .as_ref()
            .to_vec();
        Ok(Self { pkcs8_der, public })
    }

    /// A fresh random key.
    pub fn generate(key_id: &str) -> Result<Self, KeyError> {
        let document = Ed25519KeyPair::generate()
            .and_then(|pair| pair.to_pkcs8())
            .map_err(|_| KeyError("cannot generate an Ed25519 key".to_owned()))?;
        Self::from_pkcs8_der(key_id, document.as_ref().to_vec())
    }

    /// The key id (`kid`).
    pub fn key_id(&self) -> &str {
        &self.public.key_id
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKeyEntry {
        &self.public
    }

    /// The private key as PKCS#8 PEM (for handing to a process by environment).
    pub fn pkcs8_pem(&self) -> String {
        pem_encode("PRIVATE KEY", &self.pkcs8_der)
    }

    pub(crate) fn encoding_key(&self) -> EncodingKey {
        EncodingKey::from_ed_der(&self.pkcs8_der)
    }
}

/// PEM-encodes DER with `label`.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// Decodes a PEM block with `label`; `\n` written as two characters is accepted.
pub fn pem_decode(label: &str, pem: &str) -> Result<Vec<u8>, KeyError> {
    let text = pem.replace("\\n", "\n");
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .ok_or_else(|| KeyError(format!("expected a PEM block \"{begin}\"")))?;
    let rest = text.get(start + begin.len()..).unwrap_or_default();
    let stop = rest
        .find(&end)
        .ok_or_else(|| KeyError(format!("the PEM block has no \"{end}\"")))?;
    let body: String = rest
        .get(..stop)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD
        .decode(body)
        .map_err(|e| KeyError(format!("the PEM body is not base64: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn generated_keys_round_trip_through_pem_and_config_forms() {
        let key = SigningKey::generate("k1").unwrap();
        let again =
            SigningKey::from_pkcs8_pem("k1", &key.pkcs8_pem().replace('\n', "\\n")).unwrap();
        assert_eq!(again.public_key(), key.public_key());

        let pem_list = format!("k1:{}", key.public_key().pem());
        let der_list = key.public_key().config_form();
        assert_eq!(
            parse_public_key_list(&pem_list).unwrap(),
            vec![key.public_key().clone()]
        );
        assert_eq!(
            parse_public_key_list(&der_list).unwrap(),
            vec![key.public_key().clone()]
        );
    }

    #[test]
    fn malformed_lists_are_rejected() {
        let key = SigningKey::generate("k1").unwrap();
        assert!(parse_public_key_list("k1").is_err());
        assert!(parse_public_key_list("k1:not base64!").is_err());
        assert!(
            parse_public_key_list("k1:AAAA").is_err(),
            "not an Ed25519 SPKI"
        );
        let dup = format!("{0},{0}", key.public_key().config_form());
        assert!(parse_public_key_list(&dup).is_err());
    }
}
