//! Verification of access JWTs: EdDSA only, known `kid` only, `iss`/`aud`/`exp`/`nbf`
//! checked with a small leeway.
//!
//! Contract: a client sends the same access token on every call for up to its 15 minutes,
//! and the Ed25519 check is most of what a call costs a service (docs/benchmarks.md, the
//! gateway benchmark). So a token that verified is remembered, keyed by the whole token
//! (no other token, not even one with the same signature, can match an entry), with its
//! claims: a repeat skips the signature check but never the time checks (`exp`, `nbf`,
//! redone on every call), and the revocation check is the caller's, every call. The memory
//! is bounded ([`VERIFIED_TOKENS`] entries) and only verified tokens enter it, so a flood
//! of forged tokens neither grows it nor evicts anything.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use tonic::Status;
use uuid::Uuid;

use super::{
    claims::{AccessClaims, unix_now},
    keys::PublicKeyEntry,
};
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

/// Most verified tokens a verifier remembers (about 600 bytes each).
pub const VERIFIED_TOKENS: usize = 4096;

/// Verifies access JWTs against a set of public keys, by `kid`. Clones share the memory of
/// verified tokens (they share the keys too).
#[derive(Clone)]
pub struct JwtVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
    leeway_secs: i64,
    verified: Arc<VerifiedTokens>,
}

/// Tokens whose signature and claims verified, with their claims.
#[derive(Default)]
struct VerifiedTokens(Mutex<HashMap<Box<str>, AccessClaims>>);

impl VerifiedTokens {
    fn get(&self, token: &str) -> Option<AccessClaims> {
        // A poisoned lock only turns the memory off.
        self.0.lock().ok()?.get(token).cloned()
    }

    fn insert(&self, token: &str, claims: &AccessClaims, now: i64, leeway_secs: i64) {
        let Ok(mut tokens) = self.0.lock() else {
            return;
        };
        if tokens.len() >= VERIFIED_TOKENS {
            tokens.retain(|_, kept| !is_expired(kept, now, leeway_secs));
            if tokens.len() >= VERIFIED_TOKENS {
                tokens.clear();
            }
        }
        tokens.insert(token.into(), claims.clone());
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().map_or(0, |tokens| tokens.len())
    }
}

/// Past `exp` by more than the leeway (jsonwebtoken's rule, redone for remembered tokens).
fn is_expired(claims: &AccessClaims, now: i64, leeway_secs: i64) -> bool {
    claims.exp < now.saturating_sub(leeway_secs)
}

fn check_times(claims: &AccessClaims, now: i64, leeway_secs: i64) -> Result<(), VerifyError> {
    if is_expired(claims, now, leeway_secs) {
        return Err(VerifyError::Expired);
    }
    if claims.nbf > now.saturating_add(leeway_secs) {
        return Err(VerifyError::NotYetValid);
    }
    Ok(())
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
        Self {
            keys,
            validation,
            leeway_secs: i64::try_from(leeway_secs).unwrap_or(i64::MAX),
            verified: Arc::default(),
        }
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
        self.verify_claims_at(token, unix_now())
    }

    /// [`Self::verify_claims`] at Unix time `now` (for remembered tokens; the signature
    /// check of a new token reads the clock itself).
    fn verify_claims_at(&self, token: &str, now: i64) -> Result<AccessClaims, VerifyError> {
        if let Some(claims) = self.verified.get(token) {
            check_times(&claims, now, self.leeway_secs)?;
            return Ok(claims);
        }
        let claims = self.verify_signature_and_claims(token)?;
        self.verified.insert(token, &claims, now, self.leeway_secs);
        Ok(claims)
    }

    fn verify_signature_and_claims(&self, token: &str) -> Result<AccessClaims, VerifyError> {
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
    fn a_remembered_token_still_expires_and_a_tampered_copy_is_not_remembered() {
        let (signer, verifier) = setup();
        let claims = AccessClaims {
            exp: now() + 60,
            ..claims()
        };
        let token = signer.sign(&claims).unwrap();
        assert_eq!(verifier.verify_claims(&token).unwrap(), claims);
        assert_eq!(verifier.verified.len(), 1, "a verified token is remembered");
        assert_eq!(verifier.verify_claims(&token).unwrap(), claims, "a repeat");
        // Past exp + leeway (5 s), the remembered token is refused like any other.
        assert_eq!(
            verifier.verify_claims_at(&token, claims.exp + 6),
            Err(VerifyError::Expired)
        );
        assert_eq!(
            verifier.verify_claims_at(&token, claims.nbf - 6),
            Err(VerifyError::NotYetValid)
        );
        // The same signature on another payload is checked, and fails.
        let mut parts: Vec<&str> = token.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&AccessClaims {
                sub: Uuid::new_v4().to_string(),
                ..claims.clone()
            })
            .unwrap(),
        );
        parts[1] = &other;
        assert_eq!(
            verifier.verify_claims(&parts.join(".")),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verifier.verified.len(),
            1,
            "refused tokens are not remembered"
        );
    }

    #[test]
    fn the_memory_of_verified_tokens_is_bounded() {
        let (signer, verifier) = setup();
        for _ in 0..=VERIFIED_TOKENS {
            verifier.verify(&signer.sign(&claims()).unwrap()).unwrap();
        }
        assert!(verifier.verified.len() <= VERIFIED_TOKENS);
        assert!(
            verifier.verified.len() >= 1,
            "the newest token is remembered"
        );
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
