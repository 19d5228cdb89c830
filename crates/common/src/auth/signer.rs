//! Signing of access JWTs (used by `gts-auth`, and by tests to mint tokens).

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::{claims::AccessClaims, keys::SigningKey};

/// Signs access JWTs with an Ed25519 key, putting its `kid` in the header.
#[derive(Clone)]
pub struct JwtSigner {
    key: SigningKey,
    encoding: EncodingKey,
}

impl JwtSigner {
    /// A signer for `key`.
    pub fn new(key: SigningKey) -> Self {
        let encoding = key.encoding_key();
        Self { key, encoding }
    }

    /// The signing key (its public half verifies what this signs).
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs `claims` as an EdDSA JWT.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key.key_id().to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }
}
