//! Verification of access JWTs: EdDSA only, known `kid` only, `iss`/`aud`/`exp`/`nbf`
//! checked with a small leeway.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use tonic::Status;
use uuid::Uuid;

use super::{claims::AccessClaims, keys::PublicKeyEntry};
use crate::identity::UserIdentity;

/// Why an access token was refused. The text is safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the access token is not a well-formed JWT")]
    Malformed,
    #[error("the access token uses algorithm {0:?}; only EdDSA is accepted")]
    AlgorithmNotAllowed(String),
    #[error("the access token has no key id (kid)")]
    MissingKeyId,
    #[error("the access token names an unknown signing key {0:?}")]
    UnknownKeyId(String),
    #[error("the access token's signature is invalid")]
    BadSignature,
    #[error("the access token has expired; refresh the session")]
    Expired,
    #[error("the access token is not valid yet")]
    NotYetValid,
    #[error("the access token is for another audience")]
    WrongAudience,
    #[error("the access token was issued by someone else")]
    WrongIssuer,
    #[error("the access token's claims are invalid: {0}")]
    BadClaims(String),
}

impl VerifyError {
    /// The UNAUTHENTICATED status a caller sees.
    pub fn status(&self) -> Status {
        Status::unauthenticated(self.to_string())
    }
}

/// Verifies access JWTs against a set of public keys, by `kid`.
#[derive(Clone)]
pub struct JwtVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier accepting tokens signed by any of `keys` for `issuer` and `audience`.
    pub fn new(keys: &[PublicKeyEntry], issuer: &str, audience: &str, leeway_secs: u64) -> Self {
        let keys = keys
            .iter()
            .filter_map(|k| k.decoding_key().map(|d| (k.key_id.clone(), d)))
            .collect();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = vec![Algorithm::EdDSA];
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = leeway_secs;
        Self { keys, validation }
    }

    /// How many keys it knows.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Verifies `token` and returns who it names.
    pub fn verify(&self, token: &str) -> Result<UserIdentity, VerifyError> {
        let claims = self.verify_claims(token)?;
        let user_id = Uuid::parse_str(&claims.sub)
            .map_err(|_| VerifyError::BadClaims("sub is not a UUID".to_owned()))?;
        let session_id = Uuid::parse_str(&claims.sid)
            .map_err(|_| VerifyError::BadClaims("sid is not a UUID".to_owned()))?;
        Ok(UserIdentity {
            user_id,
            session_id,
        })
    }

    /// Verifies `token` and returns its claims.
    pub fn verify_claims(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        // Read `alg` from the raw header first, so `none` or `HS256` get a clear refusal
        // and never reach a key lookup.
        let alg = raw_header_alg(token)?;
        if alg != "EdDSA" {
            return Err(VerifyError::AlgorithmNotAllowed(alg));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        let kid = header.kid.ok_or(VerifyError::MissingKeyId)?;
        let key = self
            .keys
            .get(&kid)
            .ok_or_else(|| VerifyError::UnknownKeyId(kid.clone()))?;
        jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| map_error(e.kind()))
    }
}

fn raw_header_alg(token: &str) -> Result<String, VerifyError> {
    let segment = token.split('.').next().ok_or(VerifyError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| VerifyError::Malformed)?;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| VerifyError::Malformed)?;
    header
        .get("alg")
        .and_then(|a| a.as_str())
        .map(str::to_owned)
        .ok_or(VerifyError::Malformed)
}

pub(crate) fn map_error(kind: &ErrorKind) -> VerifyError {
    match kind {
        ErrorKind::ExpiredSignature => VerifyError::Expired,
        ErrorKind::ImmatureSignature => VerifyError::NotYetValid,
        ErrorKind::InvalidAudience => VerifyError::WrongAudience,
        ErrorKind::InvalidIssuer => VerifyError::WrongIssuer,
        ErrorKind::InvalidSignature => VerifyError::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            VerifyError::AlgorithmNotAllowed("?".to_owned())
        }
        ErrorKind::MissingRequiredClaim(claim) => {
            VerifyError::BadClaims(format!("missing {claim}"))
        }
        ErrorKind::InvalidClaimFormat(claim) => {
            VerifyError::BadClaims(format!("malformed {claim}"))
        }
        _ => VerifyError::Malformed,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::auth::{keys::SigningKey, signer::JwtSigner, testing};

    const ISS: &str = "gts-auth";
    const AUD: &str = "gts";

    fn now() -> i64 {
        testing::unix_now()
    }

    fn claims() -> AccessClaims {
        AccessClaims {
            sub: Uuid::new_v4().to_string(),
            sid: Uuid::new_v4().to_string(),
            iat: now(),
            nbf: now(),
            exp: now() + 600,
            iss: ISS.to_owned(),
            aud: AUD.to_owned(),
        }
    }

    fn setup() -> (JwtSigner, JwtVerifier) {
        let signer = JwtSigner::new(SigningKey::generate("k1").unwrap());
        let verifier = JwtVerifier::new(&[signer.key().public_key().clone()], ISS, AUD, 5);
        (signer, verifier)
    }

    #[test]
    fn a_valid_token_names_its_user_and_session() {
        let (signer, verifier) = setup();
        let claims = claims();
        let identity = verifier.verify(&signer.sign(&claims).unwrap()).unwrap();
        assert_eq!(identity.user_id.to_string(), claims.sub);
        assert_eq!(identity.session_id.to_string(), claims.sid);
    }

    #[test]
    fn expired_and_future_tokens_are_rejected_beyond_the_leeway() {
        let (signer, verifier) = setup();
        let expired = AccessClaims {
            exp: now() - 30,
            ..claims()
        };
        assert_eq!(
            verifier.verify(&signer.sign(&expired).unwrap()),
            Err(VerifyError::Expired)
        );
        let within_leeway = AccessClaims {
            exp: now() - 2,
            ..claims()
        };
        assert!(
            verifier
                .verify(&signer.sign(&within_leeway).unwrap())
                .is_ok()
        );
        let future = AccessClaims {
            nbf: now() + 60,
            ..claims()
        };
        assert_eq!(
            verifier.verify(&signer.sign(&future).unwrap()),
            Err(VerifyError::NotYetValid)
        );
    }

    #[test]
    fn wrong_audience_and_issuer_are_rejected() {
        let (signer, verifier) = setup();
        let aud = AccessClaims {
            aud: "someone-else".to_owned(),
            ..claims()
        };
        assert_eq!(
            verifier.verify(&signer.sign(&aud).unwrap()),
            Err(VerifyError::WrongAudience)
        );
        let iss = AccessClaims {
            iss: "evil".to_owned(),
            ..claims()
        };
        assert_eq!(
            verifier.verify(&signer.sign(&iss).unwrap()),
            Err(VerifyError::WrongIssuer)
        );
    }

    #[test]
    fn alg_none_and_hmac_with_the_public_key_are_rejected() {
        let (signer, verifier) = setup();
        let none = testing::unsigned_token(&claims(), "k1");
        assert_eq!(
            verifier.verify(&none),
            Err(VerifyError::AlgorithmNotAllowed("none".to_owned()))
        );
        let public = signer.key().public_key();
        for secret in [public.spki_der.clone(), public.pem().into_bytes()] {
            let forged = testing::hs256_token(&claims(), "k1", &secret);
            assert_eq!(
                verifier.verify(&forged),
                Err(VerifyError::AlgorithmNotAllowed("HS256".to_owned()))
            );
        }
    }

    #[test]
    fn foreign_keys_unknown_kids_and_tampering_are_rejected() {
        let (_, verifier) = setup();
        // A different key under the same kid.
        let foreign = JwtSigner::new(SigningKey::generate("k1").unwrap());
        assert_eq!(
            verifier.verify(&foreign.sign(&claims()).unwrap()),
            Err(VerifyError::BadSignature)
        );
        let unknown = JwtSigner::new(SigningKey::generate("k9").unwrap());
        assert_eq!(
            verifier.verify(&unknown.sign(&claims()).unwrap()),
            Err(VerifyError::UnknownKeyId("k9".to_owned()))
        );
        let (signer, verifier) = setup();
        let token = signer.sign(&claims()).unwrap();
        let tampered =
            testing::tamper_payload(&token, |c| c["sub"] = Uuid::new_v4().to_string().into());
        assert_eq!(verifier.verify(&tampered), Err(VerifyError::BadSignature));
        assert_eq!(verifier.verify("not-a-jwt"), Err(VerifyError::Malformed));
    }

    #[test]
    fn several_keys_verify_during_rotation() {
        let old = JwtSigner::new(SigningKey::generate("old").unwrap());
        let new = JwtSigner::new(SigningKey::generate("new").unwrap());
        let verifier = JwtVerifier::new(
            &[
                old.key().public_key().clone(),
                new.key().public_key().clone(),
            ],
            ISS,
            AUD,
            5,
        );
        assert!(verifier.verify(&old.sign(&claims()).unwrap()).is_ok());
        assert!(verifier.verify(&new.sign(&claims()).unwrap()).is_ok());
    }
}
