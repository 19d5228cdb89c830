//! Token forgeries for tests of the verifiers (an `alg: none` token, an HMAC token keyed
//! with a public key, a payload edited after signing). Nothing in production calls these.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

pub use super::claims::unix_now;

fn segment(value: &impl Serialize) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

/// An unsigned token (`alg: none`, empty signature).
pub fn unsigned_token(claims: &impl Serialize, kid: &str) -> String {
    let header = serde_json::json!({ "alg": "none", "typ": "JWT", "kid": kid });
    format!("{}.{}.", segment(&header), segment(claims))
}

/// An HS256 token keyed with `secret` (e.g. a public key's bytes).
pub fn hs256_token(claims: &impl Serialize, kid: &str, secret: &[u8]) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap_or_default()
}

/// `token` with its payload edited by `edit` and the original signature kept.
pub fn tamper_payload(token: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let (Some(header), Some(payload), Some(signature)) =
        (parts.first(), parts.get(1), parts.get(2))
    else {
        return token.to_owned();
    };
    let mut claims: serde_json::Value = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    edit(&mut claims);
    format!("{header}.{}.{signature}", segment(&claims))
}
