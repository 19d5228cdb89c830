//! The service credential: proof that a call comes from another GTS service.
//!
//! A caller mints a short-lived HS256 JWT (`svc` = its name) keyed with the shared secret
//! `GTS_SERVICE_TOKEN` and sends it in the `x-gts-service-token` metadata. The verifier
//! pins HS256, the issuer and the audience, so neither a user's access JWT nor anything
//! signed with another key passes.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::{Request, Status, metadata::MetadataValue};

use super::{claims::unix_now, verifier::VerifyError};

/// The metadata key that carries a service credential.
pub const SERVICE_TOKEN_HEADER: &str = "x-gts-service-token";
const ISSUER: &str = "gts-service";
const AUDIENCE: &str = "gts-internal";
/// Lifetime of a minted credential; each call mints a fresh one.
const LIFETIME_SECS: i64 = 60;
/// Shortest secret accepted.
pub const MIN_SECRET_LEN: usize = 32;

/// The shared secret behind service credentials (`GTS_SERVICE_TOKEN`).
#[derive(Clone)]
pub struct ServiceSecret(Vec<u8>);

impl std::fmt::Debug for ServiceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceSecret(***)")
    }
}

impl ServiceSecret {
    /// Wraps a secret of at least [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &str) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!("must be at least {MIN_SECRET_LEN} characters"));
        }
        crate::config::refuse_placeholder(secret)?;
        Ok(Self(secret.as_bytes().to_vec()))
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ServiceClaims {
    svc: String,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// Mints service credentials for one calling service; also a tonic interceptor.
#[derive(Clone)]
pub struct ServiceCredential {
    name: String,
    key: EncodingKey,
}

impl ServiceCredential {
    /// Credentials naming `service_name` (e.g. `gts-worker`).
    pub fn new(service_name: &str, secret: &ServiceSecret) -> Self {
        Self {
            name: service_name.to_owned(),
            key: EncodingKey::from_secret(&secret.0),
        }
    }

    /// A fresh credential.
    pub fn token(&self) -> Result<String, Status> {
        let now = unix_now();
        let claims = ServiceClaims {
            svc: self.name.clone(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + LIFETIME_SECS,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
            .map_err(|_| Status::internal("cannot mint a service credential"))
    }

    /// Adds a fresh credential to `request`.
    pub fn attach<T>(&self, request: &mut Request<T>) -> Result<(), Status> {
        let value = MetadataValue::try_from(self.token()?)
            .map_err(|_| Status::internal("cannot encode a service credential"))?;
        request.metadata_mut().insert(SERVICE_TOKEN_HEADER, value);
        Ok(())
    }
}

impl tonic::service::Interceptor for ServiceCredential {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        self.attach(&mut request)?;
        Ok(request)
    }
}

/// Verifies service credentials.
#[derive(Clone)]
pub struct ServiceVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl ServiceVerifier {
    /// A verifier for credentials keyed with `secret`.
    pub fn new(secret: &ServiceSecret, leeway_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = leeway_secs;
        Self {
            key: DecodingKey::from_secret(&secret.0),
            validation,
        }
    }

    /// The calling service's name.
    pub fn verify(&self, token: &str) -> Result<String, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.alg != Algorithm::HS256 {
            return Err(VerifyError::AlgorithmNotAllowed(format!(
                "{:?}",
                header.alg
            )));
        }
        jsonwebtoken::decode::<ServiceClaims>(token, &self.key, &self.validation)
            .map(|data| data.claims.svc)
            .map_err(|e| super::verifier::map_error(e.kind()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::auth::{AccessClaims, JwtSigner, SigningKey};

    fn secret(s: &str) -> ServiceSecret {
        ServiceSecret::new(&s.repeat(32)).unwrap()
    }

    #[test]
    fn a_credential_names_its_service() {
        let credential = ServiceCredential::new("gts-worker", &secret("a"));
        let verifier = ServiceVerifier::new(&secret("a"), 5);
        assert_eq!(
            verifier.verify(&credential.token().unwrap()).unwrap(),
            "gts-worker"
        );
    }

    #[test]
    fn other_secrets_short_secrets_and_user_tokens_are_refused() {
        assert!(ServiceSecret::new("short").is_err());
        let verifier = ServiceVerifier::new(&secret("a"), 5);
        let other = ServiceCredential::new("gts-worker", &secret("b"));
        assert_eq!(
            verifier.verify(&other.token().unwrap()),
            Err(VerifyError::BadSignature)
        );
        let signer = JwtSigner::new(SigningKey::generate("k1").unwrap());
        let now = unix_now();
        let user = signer
            .sign(&AccessClaims {
                sub: uuid::Uuid::new_v4().to_string(),
                sid: uuid::Uuid::new_v4().to_string(),
                iat: now,
                nbf: now,
                exp: now + 60,
                iss: "gts-auth".to_owned(),
                aud: "gts".to_owned(),
            })
            .unwrap();
        assert!(matches!(
            verifier.verify(&user),
            Err(VerifyError::AlgorithmNotAllowed(_))
        ));
    }
}
