//! Configuration of a fake server, in code (`FakeConfig`) or from `FAKE_T3K_*` variables.
//!
//! Contract: `FakeConfig::new` gives working defaults for tests (no rate limit, one-hour
//! access tokens, loopback redirect URIs allowed). `from_env` reads every variable
//! through a lookup function, so it is testable without touching the process
//! environment, and reports the first bad variable by name.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::catalogue::FakeUser;

/// The workspace's fixtures directory, resolved at compile time (for tests in this
/// workspace; the binary takes `FAKE_T3K_FIXTURES_DIR`).
pub const WORKSPACE_FIXTURES_DIR: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");

/// Default OAuth client id (publishable key) the fake accepts.
pub const DEFAULT_CLIENT_ID: &str = "t3k_pub_gts_fake";

/// A fixed-window request limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window; the next one gets 429.
    pub max_requests: u32,
    /// Window length.
    pub window: Duration,
}

/// Everything a fake server needs to start.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Directory holding `nam/*.nam` and `irs/*.wav`.
    pub fixtures_dir: PathBuf,
    /// The only accepted OAuth `client_id`.
    pub client_id: String,
    /// Redirect URIs accepted verbatim by the authorize endpoint.
    pub redirect_uris: Vec<String>,
    /// Also accept any `http://localhost`, `127.0.0.1` or `[::1]` redirect URI, as the
    /// real API does in development.
    pub allow_loopback_redirects: bool,
    /// The account the authorize endpoint auto-approves.
    pub test_user: FakeUser,
    /// Lifetime of issued access tokens (initial value of the knob).
    pub access_token_lifetime: Duration,
    /// Lifetime of authorization codes (the real API: 30 minutes).
    pub auth_code_lifetime: Duration,
    /// Request limit; `None` disables it (initial value of the knob).
    pub rate_limit: Option<RateLimit>,
    /// Delay added to every response (initial value of the knob).
    pub extra_latency: Duration,
    /// Origin (`scheme://host:port`) used in `model_url`s and `base_url`, when the
    /// server is reached through another address than the one it binds.
    pub public_url: Option<String>,
}

impl FakeConfig {
    /// Defaults for tests, serving model files from `fixtures_dir`.
    pub fn new(fixtures_dir: impl Into<PathBuf>) -> Self {
        Self {
            fixtures_dir: fixtures_dir.into(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            redirect_uris: Vec::new(),
            allow_loopback_redirects: true,
            test_user: FakeUser::new("00000000-0000-0000-0000-000000000001", "testuser"),
            access_token_lifetime: Duration::from_secs(3600),
            auth_code_lifetime: Duration::from_secs(30 * 60),
            rate_limit: None,
            extra_latency: Duration::ZERO,
            public_url: None,
        }
    }

    /// Defaults for tests in this workspace (`WORKSPACE_FIXTURES_DIR`).
    pub fn for_workspace_tests() -> Self {
        Self::new(WORKSPACE_FIXTURES_DIR)
    }
}

/// A missing or invalid environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct EnvError {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// Environment variables the binary reads (all optional, defaults shown in docs).
pub mod env_vars {
    /// Listen address, default `127.0.0.1:8787`.
    pub const ADDR: &str = "FAKE_T3K_ADDR";
    /// Fixtures directory, default `tests/fixtures`.
    pub const FIXTURES_DIR: &str = "FAKE_T3K_FIXTURES_DIR";
    /// Accepted OAuth client id.
    pub const CLIENT_ID: &str = "FAKE_T3K_CLIENT_ID";
    /// Comma-separated redirect URI allowlist.
    pub const REDIRECT_URIS: &str = "FAKE_T3K_REDIRECT_URIS";
    /// `true`/`false`: accept loopback redirect URIs too (default `true`).
    pub const ALLOW_LOOPBACK_REDIRECTS: &str = "FAKE_T3K_ALLOW_LOOPBACK_REDIRECTS";
    /// Access-token lifetime in seconds (default 3600).
    pub const TOKEN_LIFETIME_SECS: &str = "FAKE_T3K_TOKEN_LIFETIME_SECS";
    /// Requests per window before 429 (default 100; 0 disables).
    pub const RATE_LIMIT: &str = "FAKE_T3K_RATE_LIMIT";
    /// Rate-limit window in seconds (default 60).
    pub const RATE_WINDOW_SECS: &str = "FAKE_T3K_RATE_WINDOW_SECS";
    /// Extra latency per response in milliseconds (default 0).
    pub const LATENCY_MS: &str = "FAKE_T3K_LATENCY_MS";
    /// Public origin for `model_url`s, e.g. `http://fake-t3k:8787` (default: bound address).
    pub const PUBLIC_URL: &str = "FAKE_T3K_PUBLIC_URL";
}

fn parse_u64(variable: &'static str, raw: &str) -> Result<u64, EnvError> {
    raw.trim().parse::<u64>().map_err(|_| EnvError {
        variable,
        reason: format!("expected a non-negative integer, got {raw:?}"),
    })
}

impl FakeConfig {
    /// Reads the binary's configuration through `lookup` (e.g. `std::env::var(..).ok()`).
    pub fn from_env(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(SocketAddr, FakeConfig), EnvError> {
        use env_vars as v;
        let get = |name: &str| lookup(name).filter(|s| !s.trim().is_empty());

        let addr_raw = get(v::ADDR).unwrap_or_else(|| "127.0.0.1:8787".to_owned());
        let addr: SocketAddr = addr_raw.trim().parse().map_err(|_| EnvError {
            variable: v::ADDR,
            reason: format!("expected host:port such as 127.0.0.1:8787, got {addr_raw:?}"),
        })?;

        let fixtures =
            PathBuf::from(get(v::FIXTURES_DIR).unwrap_or_else(|| "tests/fixtures".into()));
        if !fixtures.join("nam").is_dir() || !fixtures.join("irs").is_dir() {
            return Err(EnvError {
                variable: v::FIXTURES_DIR,
                reason: format!(
                    "{} must be a directory containing nam/ and irs/",
                    fixtures.display()
                ),
            });
        }
        let mut config = FakeConfig::new(fixtures);

        if let Some(id) = get(v::CLIENT_ID) {
            config.client_id = id.trim().to_owned();
        }
        if let Some(list) = get(v::REDIRECT_URIS) {
            for uri in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if url::Url::parse(uri).is_err() {
                    return Err(EnvError {
                        variable: v::REDIRECT_URIS,
                        reason: format!("{uri:?} is not an absolute URL"),
                    });
                }
                config.redirect_uris.push(uri.to_owned());
            }
        }
        if let Some(raw) = get(v::ALLOW_LOOPBACK_REDIRECTS) {
            config.allow_loopback_redirects = match raw.trim() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => {
                    return Err(EnvError {
                        variable: v::ALLOW_LOOPBACK_REDIRECTS,
                        reason: format!("expected true or false, got {raw:?}"),
                    });
                }
            };
        }
        if let Some(raw) = get(v::TOKEN_LIFETIME_SECS) {
            let secs = parse_u64(v::TOKEN_LIFETIME_SECS, &raw)?;
            if secs == 0 {
                return Err(EnvError {
                    variable: v::TOKEN_LIFETIME_SECS,
                    reason: "must be at least 1".into(),
                });
            }
            config.access_token_lifetime = Duration::from_secs(secs);
        }
        let limit = match get(v::RATE_LIMIT) {
            Some(raw) => parse_u64(v::RATE_LIMIT, &raw)?,
            None => 100,
        };
        let window = match get(v::RATE_WINDOW_SECS) {
            Some(raw) => parse_u64(v::RATE_WINDOW_SECS, &raw)?,
            None => 60,
        };
        if window == 0 {
            return Err(EnvError {
                variable: v::RATE_WINDOW_SECS,
                reason: "must be at least 1".into(),
            });
        }
        config.rate_limit = match u32::try_from(limit) {
            Ok(0) => None,
            Ok(max_requests) => Some(RateLimit {
                max_requests,
                window: Duration::from_secs(window),
            }),
            Err(_) => {
                return Err(EnvError {
                    variable: v::RATE_LIMIT,
                    reason: format!("{limit} is too large"),
                });
            }
        };
        if let Some(raw) = get(v::LATENCY_MS) {
            config.extra_latency = Duration::from_millis(parse_u64(v::LATENCY_MS, &raw)?);
        }
        if let Some(raw) = get(v::PUBLIC_URL) {
            let trimmed = raw.trim().trim_end_matches('/');
            match url::Url::parse(trimmed) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.path() == "/" => {}
                _ => {
                    return Err(EnvError {
                        variable: v::PUBLIC_URL,
                        reason: format!("expected an origin such as http://host:8787, got {raw:?}"),
                    });
                }
            }
            config.public_url = Some(trimmed.to_owned());
        }
        Ok((addr, config))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        map.entry(env_vars::FIXTURES_DIR.to_owned())
            .or_insert_with(|| WORKSPACE_FIXTURES_DIR.to_owned());
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_apply_when_unset() {
        let (addr, config) = FakeConfig::from_env(lookup(&[])).unwrap();
        assert_eq!(addr.to_string(), "127.0.0.1:8787");
        assert_eq!(config.client_id, DEFAULT_CLIENT_ID);
        assert_eq!(
            config.rate_limit,
            Some(RateLimit {
                max_requests: 100,
                window: Duration::from_secs(60)
            })
        );
        assert_eq!(config.access_token_lifetime, Duration::from_secs(3600));
    }

    #[test]
    fn values_are_read() {
        let (addr, config) = FakeConfig::from_env(lookup(&[
            (env_vars::ADDR, "0.0.0.0:9999"),
            (env_vars::CLIENT_ID, "t3k_pub_x"),
            (env_vars::REDIRECT_URIS, "http://a/cb, https://b/cb"),
            (env_vars::TOKEN_LIFETIME_SECS, "5"),
            (env_vars::RATE_LIMIT, "0"),
            (env_vars::PUBLIC_URL, "http://fake:8787/"),
        ]))
        .unwrap();
        assert_eq!(addr.port(), 9999);
        assert_eq!(config.client_id, "t3k_pub_x");
        assert_eq!(config.redirect_uris, vec!["http://a/cb", "https://b/cb"]);
        assert_eq!(config.access_token_lifetime, Duration::from_secs(5));
        assert_eq!(config.rate_limit, None);
        assert_eq!(config.public_url.as_deref(), Some("http://fake:8787"));
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (var, value) in [
            (env_vars::ADDR, "nope"),
            (env_vars::FIXTURES_DIR, "/definitely/not/here"),
            (env_vars::TOKEN_LIFETIME_SECS, "-3"),
            (env_vars::RATE_LIMIT, "lots"),
            (env_vars::RATE_WINDOW_SECS, "0"),
            (env_vars::REDIRECT_URIS, "not a url"),
            (env_vars::ALLOW_LOOPBACK_REDIRECTS, "maybe"),
            (env_vars::PUBLIC_URL, "http://x/with/path"),
        ] {
            let err = FakeConfig::from_env(lookup(&[(var, value)])).unwrap_err();
            assert_eq!(err.variable, var, "{value}");
        }
    }
}
