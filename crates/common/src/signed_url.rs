//! Signed artifact URLs: `GET <base>/artifacts/<object key>?expires=<unix s>&sig=<hex>`.
//!
//! Contract: the signature is HMAC-SHA256, keyed with `GTS_ARTIFACT_URL_KEY` (shared by
//! the worker, which signs, and the gateway, which verifies with [`UrlSigner::verify_query`]
//! before serving the object), over `<path>\n<expires>` where `<path>` is the URL path
//! exactly as requested (percent-encoded form). Changing the path, the expiry or the
//! signature makes verification fail; so does an expiry in the past. Comparison is
//! constant-time.

use aws_lc_rs::hmac;

/// The URL path prefix under which the gateway serves artifacts.
pub const ARTIFACT_PATH_PREFIX: &str = "/artifacts/";
/// Shortest key accepted.
pub const MIN_KEY_LEN: usize = 32;

/// Why a signed URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signing key must be at least {MIN_KEY_LEN} bytes")]
    KeyTooShort,
    #[error("the signing key {0}")]
    Placeholder(String),
    #[error("the link is incomplete: expires and sig are required")]
    Missing,
    #[error("the link is malformed")]
    Malformed,
    #[error("the link has expired")]
    Expired,
    #[error("the link's signature does not match")]
    BadSignature,
}

/// Signs and verifies artifact URLs.
#[derive(Clone)]
pub struct UrlSigner {
    key: hmac::Key,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(***)")
    }
}

impl UrlSigner {
    /// A signer over `key` (at least [`MIN_KEY_LEN`] bytes).
    pub fn new(key: &[u8]) -> Result<Self, SignatureError> {
        if key.len() < MIN_KEY_LEN {
            return Err(SignatureError::KeyTooShort);
        }
        crate::config::refuse_placeholder(&String::from_utf8_lossy(key))
            .map_err(SignatureError::Placeholder)?;
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        })
    }

    fn message(path: &str, expires_unix: i64) -> String {
        format!("{path}\n{expires_unix}")
    }

    /// Lowercase hex HMAC of `path` and `expires_unix`.
    pub fn sign(&self, path: &str, expires_unix: i64) -> String {
        hex::encode(hmac::sign(&self.key, Self::message(path, expires_unix).as_bytes()).as_ref())
    }

    /// The URL path of an artifact stored under `object_key` (each segment percent-encoded
    /// as the URL standard encodes a path segment of an http URL, tabs and line breaks
    /// included, so [`UrlSigner::object_key_of`] gives the key back; `.` and `..` segments
    /// are left out, as a URL would resolve them).
    pub fn artifact_path(object_key: &str) -> String {
        let mut path = ARTIFACT_PATH_PREFIX.to_owned();
        let segments = object_key
            .split('/')
            .filter(|segment| *segment != "." && *segment != "..");
        for (index, segment) in segments.enumerate() {
            if index > 0 {
                path.push('/');
            }
            for &byte in segment.as_bytes() {
                let plain = byte.is_ascii_graphic()
                    && !matches!(
                        byte,
                        b'"' | b'#' | b'<' | b'>' | b'?' | b'`' | b'{' | b'}' | b'/' | b'%' | b'\\'
                    );
                if plain {
                    path.push(char::from(byte));
                } else {
                    path.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        path
    }

    /// A full signed URL for `object_key` under `base`, valid until `expires_unix`.
    pub fn signed_url(&self, base: &url::Url, object_key: &str, expires_unix: i64) -> String {
        let path = Self::artifact_path(object_key);
        let signature = self.sign(&path, expires_unix);
        let origin = base.as_str().trim_end_matches('/');
        format!("{origin}{path}?expires={expires_unix}&sig={signature}")
    }

    /// Checks a signature for `path` and `expires_unix` at time `now_unix`.
    pub fn verify(
        &self,
        path: &str,
        expires_unix: i64,
        signature_hex: &str,
        now_unix: i64,
    ) -> Result<(), SignatureError> {
        let signature = hex::decode(signature_hex).map_err(|_| SignatureError::Malformed)?;
        hmac::verify(
            &self.key,
            Self::message(path, expires_unix).as_bytes(),
            &signature,
        )
        .map_err(|_| SignatureError::BadSignature)?;
        if expires_unix <= now_unix {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }

    /// Checks a request's path and query string (`expires=...&sig=...`, any order, other
    /// parameters ignored) at time `now_unix`.
    pub fn verify_query(
        &self,
        path: &str,
        query: Option<&str>,
        now_unix: i64,
    ) -> Result<(), SignatureError> {
        let mut expires = None;
        let mut signature = None;
        for pair in query.unwrap_or("").split('&') {
            match pair.split_once('=') {
                Some(("expires", value)) => expires = Some(value),
                Some(("sig", value)) => signature = Some(value),
                _ => {}
            }
        }
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Err(SignatureError::Missing);
        };
        let expires: i64 = expires.parse().map_err(|_| SignatureError::Malformed)?;
        self.verify(path, expires, signature, now_unix)
    }

    /// The object key an artifact URL path names, if it is one.
    pub fn object_key_of(path: &str) -> Option<String> {
        let rest = path.strip_prefix(ARTIFACT_PATH_PREFIX)?;
        let mut key = Vec::new();
        for segment in rest.split('/') {
            let decoded = percent_decode(segment)?;
            if decoded.is_empty() || decoded == "." || decoded == ".." {
                return None;
            }
            key.push(decoded);
        }
        Some(key.join("/"))
    }
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex_pair = segment.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex_pair, 16).ok()?);
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    let decoded = String::from_utf8(out).ok()?;
    (!decoded.contains('/')).then_some(decoded)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn split(url: &str) -> (String, String) {
        let url = url::Url::parse(url).unwrap();
        (url.path().to_owned(), url.query().unwrap().to_owned())
    }

    #[test]
    fn a_signed_url_verifies_until_it_expires() {
        let signer = UrlSigner::new(KEY).unwrap();
        let base = url::Url::parse("https://gts.example/").unwrap();
        let url = signer.signed_url(&base, "jobs/42/ab comparison.flac", 1_000);
        assert!(url.starts_with("https://gts.example/artifacts/jobs/42/ab%20comparison.flac?"));
        let (path, query) = split(&url);
        assert_eq!(signer.verify_query(&path, Some(&query), 999), Ok(()));
        assert_eq!(
            signer.verify_query(&path, Some(&query), 1_000),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            UrlSigner::object_key_of(&path).as_deref(),
            Some("jobs/42/ab comparison.flac")
        );
    }

    #[test]
    fn tampering_is_refused() {
        let signer = UrlSigner::new(KEY).unwrap();
        let base = url::Url::parse("http://127.0.0.1:8080").unwrap();
        let (path, query) = split(&signer.signed_url(&base, "jobs/1/a.flac", 5_000));
        let other_path = path.replace("a.flac", "b.flac");
        assert_eq!(
            signer.verify_query(&other_path, Some(&query), 0),
            Err(SignatureError::BadSignature)
        );
        let later = query.replace("expires=5000", "expires=9000");
        assert_eq!(
            signer.verify_query(&path, Some(&later), 0),
            Err(SignatureError::BadSignature)
        );
        let other_key = UrlSigner::new(b"another key that is long enough!!").unwrap();
        assert_eq!(
            other_key.verify_query(&path, Some(&query), 0),
            Err(SignatureError::BadSignature)
        );
        assert_eq!(
            signer.verify_query(&path, Some("expires=5000"), 0),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            signer.verify_query(&path, Some("expires=5000&sig=zz"), 0),
            Err(SignatureError::Malformed)
        );
        assert!(UrlSigner::new(b"short").is_err());
    }

    /// Found by the `signed_url` fuzz target: the URL parser drops tabs and line breaks
    /// from a segment, so a key holding one was signed under another key's path.
    #[test]
    fn every_plain_key_survives_its_path() {
        for key in [
            "jobs/1/\n!",
            "jobs/1/a\tb.flac",
            "jobs/1/a\rb",
            "jobs/1/ü %?#\\.wav",
        ] {
            let path = UrlSigner::artifact_path(key);
            assert!(!path.contains(['\t', '\n', '\r', ' ']), "{path:?}");
            assert_eq!(UrlSigner::object_key_of(&path).as_deref(), Some(key));
        }
        // The same encoding as the URL standard's for everything else.
        let key = "jobs/42/ab comparison \"{x}\" <1>`^|.flac";
        let mut url = url::Url::parse("http://x/artifacts/").unwrap();
        url.path_segments_mut()
            .unwrap()
            .pop_if_empty()
            .extend(key.split('/'));
        assert_eq!(UrlSigner::artifact_path(key), url.path());
    }

    #[test]
    fn traversal_paths_name_no_key() {
        assert_eq!(UrlSigner::object_key_of("/artifacts/jobs/../x"), None);
        assert_eq!(UrlSigner::object_key_of("/artifacts/jobs/%2e%2e/x"), None);
        assert_eq!(UrlSigner::object_key_of("/artifacts/a%2fb"), None);
        assert_eq!(UrlSigner::object_key_of("/other/a"), None);
    }
}
