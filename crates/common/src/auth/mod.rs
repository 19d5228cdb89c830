//! Authentication shared by every GTS process: the access-JWT verifier (EdDSA, pinned),
//! the service credential for internal RPCs, and the tower layer that turns either into
//! a [`crate::identity::Caller`] in the request's extensions.
//!
//! Contract:
//! - Access JWTs are signed by `gts-auth` with Ed25519 (`alg: EdDSA`), carry a `kid` that
//!   must name a configured public key, and are checked for `iss`, `aud`, `exp` and `nbf`
//!   with a small leeway. Any other algorithm (`none`, `HS*`, …) is rejected before a key
//!   is even looked up, so a public key can never be used as an HMAC secret.
//! - Service credentials are short-lived HS256 JWTs (`svc` claim) keyed by the shared
//!   `GTS_SERVICE_TOKEN`, sent in the [`service::SERVICE_TOKEN_HEADER`] metadata, never in
//!   `authorization`; a user JWT can never be taken for one (different header, algorithm,
//!   key and audience).
//! - A request without credentials passes with no `Caller` (handlers then answer
//!   UNAUTHENTICATED via `require_user`); a request with a bad credential is refused with
//!   UNAUTHENTICATED and a message naming the problem, except on the few paths a layer is
//!   told tolerate it (login and refresh, where an expired access token is normal).

pub mod claims;
pub mod fetch;
pub mod keys;
pub mod layer;
pub mod revocation;
pub mod service;
pub mod settings;
pub mod signer;
/// Token forgers for tests (`alg=none`, HS256 with a public key, tampered payloads):
/// compiled only for tests, never into a service binary.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod verifier;

pub use claims::AccessClaims;
pub use keys::{PublicKeyEntry, SigningKey};
pub use layer::{ANONYMOUS_AUTH_PATHS, AuthLayer, Authenticator, REVOKED_MESSAGE};
pub use revocation::RevocationList;
pub use service::{SERVICE_TOKEN_HEADER, ServiceCredential, ServiceSecret, ServiceVerifier};
pub use settings::VerifierSettings;
pub use signer::JwtSigner;
pub use verifier::{JwtVerifier, VerifyError};
