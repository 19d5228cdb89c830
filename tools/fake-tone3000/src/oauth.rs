//! OAuth 2.0 authorization-code flow with PKCE, as TONE3000 runs it.
//!
//! Contract:
//! - `GET /api/v1/oauth/authorize` checks `client_id` and `redirect_uri` first (a bad
//!   one answers 400 JSON, never a redirect), then `response_type=code`,
//!   `code_challenge` + `code_challenge_method=S256` and `state`; those failures redirect
//!   with `error`/`error_description`. On success it auto-approves the configured test
//!   user and answers 302 to `redirect_uri?code=..&state=..` (plus `tone_id` for the
//!   select/load-tone prompts, `model_id` for load-model).
//! - `POST /api/v1/oauth/token` (form or JSON body) serves `authorization_code` (code is
//!   single use and expires; the S256 verifier must match) and `refresh_token` (rotation:
//!   the presented refresh token dies, a new one is issued). Failures use the OAuth
//!   error body with 400 `invalid_grant` / `invalid_request` /
//!   `unsupported_grant_type`, or 401 `invalid_client`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;

use crate::error::ApiError;
use crate::state::{FakeState, IssuedTokens, PendingCode, RefreshOutcome};

/// The S256 challenge of a verifier: base64url(sha256(verifier)), unpadded.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43–128 characters from the unreserved set.
fn is_valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is 32 bytes, base64url without padding: 43 characters.
fn is_valid_challenge(c: &str) -> bool {
    c.len() == 43
        && URL_SAFE_NO_PAD
            .decode(c)
            .map(|d| d.len() == 32)
            .unwrap_or(false)
}

fn is_loopback(uri: &Url) -> bool {
    uri.scheme() == "http"
        && matches!(
            uri.host_str(),
            Some("localhost") | Some("127.0.0.1") | Some("[::1]")
        )
}

fn redirect_uri_allowed(state: &FakeState, raw: &str, parsed: &Url) -> bool {
    state.redirect_uris.iter().any(|u| u == raw)
        || (state.allow_loopback_redirects && is_loopback(parsed))
}

fn redirect_with(mut target: Url, pairs: &[(&str, &str)]) -> Response {
    {
        let mut q = target.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    // 302 Found, as OAuth authorization servers answer (axum's `Redirect::to` is a 303).
    match HeaderValue::from_str(target.as_str()) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => ApiError::invalid_request("redirect_uri cannot be used in a Location header")
            .into_response(),
    }
}

fn redirect_error(target: Url, error: &str, description: &str, state: Option<&str>) -> Response {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    redirect_with(target, &pairs)
}

/// `GET /api/v1/oauth/authorize`.
pub(crate) async fn authorize(
    State(state): State<Arc<FakeState>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };

    if get("client_id") != Some(state.client_id.as_str()) {
        return ApiError::OAuth {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_client",
            description: "unknown client_id".into(),
        }
        .into_response();
    }
    let Some(raw_redirect) = get("redirect_uri") else {
        return ApiError::invalid_request("redirect_uri is required").into_response();
    };
    let Ok(target) = Url::parse(raw_redirect) else {
        return ApiError::invalid_request("redirect_uri is not an absolute URL").into_response();
    };
    if !redirect_uri_allowed(&state, raw_redirect, &target) {
        return ApiError::invalid_request("redirect_uri is not registered for this client")
            .into_response();
    }

    // From here on the redirect URI is trusted, so errors go back to it.
    let client_state = get("state");
    let fail = |error: &str, description: &str| {
        redirect_error(target.clone(), error, description, client_state)
    };
    if get("response_type") != Some("code") {
        return fail("unsupported_response_type", "response_type must be code");
    }
    let Some(challenge) = get("code_challenge") else {
        return fail("invalid_request", "code_challenge is required");
    };
    if get("code_challenge_method") != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256");
    }
    if !is_valid_challenge(challenge) {
        return fail("invalid_request", "code_challenge is not an S256 challenge");
    }
    let Some(client_state) = client_state else {
        return fail("invalid_request", "state is required");
    };

    let mut extra: Vec<(&str, String)> = Vec::new();
    match get("prompt") {
        None => {}
        Some("select_tone") => {
            // Auto-approval "selects" the first public tone.
            if let Some(t) = state.catalogue.tones.iter().find(|t| t.is_public) {
                extra.push(("tone_id", t.id.to_string()));
            }
        }
        Some("load_tone") => match get("tone_id").and_then(|v| v.parse::<u64>().ok()) {
            Some(id) if state.catalogue.tone(id).is_some() => {
                extra.push(("tone_id", id.to_string()))
            }
            _ => return fail("invalid_request", "tone_id is missing or unknown"),
        },
        Some("load_model") => match get("model_id").and_then(|v| v.parse::<u64>().ok()) {
            Some(id) if state.catalogue.model(id).is_some() => {
                extra.push(("model_id", id.to_string()))
            }
            _ => return fail("invalid_request", "model_id is missing or unknown"),
        },
        Some(_) => return fail("invalid_request", "unknown prompt"),
    }

    let code = state.store_code(PendingCode {
        client_id: state.client_id.clone(),
        redirect_uri: raw_redirect.to_owned(),
        challenge: challenge.to_owned(),
        user: state.test_user.clone(),
        expires_at: state.now() + state.auth_code_lifetime,
    });
    let mut pairs: Vec<(&str, &str)> = vec![("code", &code), ("state", client_state)];
    pairs.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
    redirect_with(target, &pairs)
}

#[derive(Debug, Default, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    code: Option<String>,
    code_verifier: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
}

fn parse_token_request(headers: &HeaderMap, body: &[u8]) -> Result<TokenRequest, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        serde_json::from_slice(body)
            .map_err(|_| ApiError::invalid_request("body is not a JSON token request"))
    } else {
        serde_urlencoded::from_bytes(body)
            .map_err(|_| ApiError::invalid_request("body is not a form-encoded token request"))
    }
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, ApiError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid_request(format!("{name} is required")))
}

fn token_response(tokens: IssuedTokens) -> Response {
    let mut r = Json(json!({
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_in": tokens.expires_in,
        "token_type": "bearer",
    }))
    .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `POST /api/v1/oauth/token`.
pub(crate) async fn token(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = parse_token_request(&headers, &body)?;
    let client_id = required(&req.client_id, "client_id")?;
    if client_id != state.client_id {
        return Err(ApiError::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "publishable key not recognised".into(),
        });
    }
    match req.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = required(&req.code, "code")?;
            let verifier = required(&req.code_verifier, "code_verifier")?;
            let redirect_uri = required(&req.redirect_uri, "redirect_uri")?;
            let pending = state.take_code(code).ok_or_else(|| {
                ApiError::invalid_grant("authorization code is invalid, expired or already used")
            })?;
            if pending.client_id != client_id || pending.redirect_uri != redirect_uri {
                return Err(ApiError::invalid_grant(
                    "redirect_uri or client_id does not match the authorization request",
                ));
            }
            if !is_valid_verifier(verifier) || s256_challenge(verifier) != pending.challenge {
                return Err(ApiError::invalid_grant("PKCE verification failed"));
            }
            state.note_code_exchange();
            Ok(token_response(state.issue(pending.user, pending.client_id)))
        }
        Some("refresh_token") => {
            let refresh = required(&req.refresh_token, "refresh_token")?;
            match state.rotate_refresh(refresh, client_id) {
                RefreshOutcome::Issued(tokens) => Ok(token_response(tokens)),
                RefreshOutcome::Refused => Err(ApiError::invalid_grant(
                    "refresh token is invalid, expired, revoked or already used",
                )),
            }
        }
        _ => Err(ApiError::OAuth {
            status: StatusCode::BAD_REQUEST,
            error: "unsupported_grant_type",
            description: "grant_type must be authorization_code or refresh_token".into(),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifier_and_challenge_shapes_are_checked() {
        assert!(is_valid_verifier(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        ));
        assert!(!is_valid_verifier("short"));
        assert!(!is_valid_verifier(&"a b".repeat(20)));
        assert!(is_valid_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!is_valid_challenge("plain-text-challenge"));
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback(
            &Url::parse("http://127.0.0.1:4000/cb").unwrap()
        ));
        assert!(is_loopback(&Url::parse("http://localhost/cb").unwrap()));
        assert!(!is_loopback(&Url::parse("https://localhost/cb").unwrap()));
        assert!(!is_loopback(&Url::parse("http://evil.example/cb").unwrap()));
    }
}
