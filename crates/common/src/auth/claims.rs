//! The claims of a GTS access JWT.

use serde::{Deserialize, Serialize};

/// Default `iss` of access JWTs.
pub const DEFAULT_ISSUER: &str = "gts-auth";
/// Default `aud` of access JWTs.
pub const DEFAULT_AUDIENCE: &str = "gts";

/// Claims of an access JWT (`sub` = user id, `sid` = session id, times in Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// GTS user id (UUID).
    pub sub: String,
    /// Session id (UUID).
    pub sid: String,
    /// Issued at.
    pub iat: i64,
    /// Not valid before.
    pub nbf: i64,
    /// Expires at.
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// Seconds since the Unix epoch (what `exp`, `nbf` and `iat` count).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
