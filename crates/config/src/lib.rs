//! Configuration from environment variables.
//!
//! Contract: every variable carries the `GTS_` prefix and is listed with its default in
//! `.env.example`. A missing required variable or a value that does not parse produces a
//! [`ConfigError`] whose `Display` is one line naming the variable; binaries print that
//! line and exit with status 2 (see [`exit_on_config_error`]).

use std::{collections::HashMap, fmt::Display, str::FromStr, time::Duration};

/// The prefix of every GTS variable.
pub const PREFIX: &str = "GTS_";

/// Words of the example secrets in the shipped manifests and docs (`change-me-...`,
/// `replace-with-...`): a secret containing one was never replaced, and a process that
/// accepted it would be protected by a value published in this repository.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "change-me",
    "changeme",
    "replace-with",
    "replace_me",
    "replace-me",
    "placeholder",
];

/// Refuses a secret that is still one of the shipped placeholders.
pub fn refuse_placeholder(secret: &str) -> Result<(), String> {
    let lower = secret.to_ascii_lowercase();
    match PLACEHOLDER_MARKERS
        .iter()
        .find(|marker| lower.contains(*marker))
    {
        Some(marker) => Err(format!(
            "is still the shipped placeholder (contains {marker:?}); generate a real secret: openssl rand -base64 48"
        )),
        None => Ok(()),
    }
}

/// A configuration value that is missing or malformed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration error: {var} is required ({hint})")]
    Missing { var: String, hint: &'static str },
    #[error("configuration error: {var}={value:?} is invalid: {reason}")]
    Invalid {
        var: String,
        value: String,
        reason: String,
    },
}

/// A snapshot of the process environment (or of a map, in tests) to read settings from.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars().collect(),
        }
    }

    /// Builds an environment from explicit pairs (tests, embedding).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    fn raw(&self, var: &str) -> Option<&str> {
        self.vars
            .get(var)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A required variable; `hint` says what it is for in the error line.
    pub fn required<T>(&self, var: &str, hint: &'static str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        let raw = self.raw(var).ok_or_else(|| ConfigError::Missing {
            var: var.to_owned(),
            hint,
        })?;
        parse(var, raw)
    }

    /// An optional variable with a default used when it is unset or empty.
    pub fn or<T>(&self, var: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.raw(var) {
            Some(raw) => parse(var, raw),
            None => Ok(default),
        }
    }

    /// An optional variable without a default.
    pub fn optional<T>(&self, var: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.raw(var).map(|raw| parse(var, raw)).transpose()
    }

    /// A duration given in milliseconds.
    pub fn millis_or(&self, var: &str, default: Duration) -> Result<Duration, ConfigError> {
        let ms: u64 = self.or(var, u64::try_from(default.as_millis()).unwrap_or(u64::MAX))?;
        Ok(Duration::from_millis(ms))
    }

    /// A URL that must use one of the given schemes.
    pub fn url(
        &self,
        var: &str,
        schemes: &[&str],
        hint: &'static str,
    ) -> Result<url::Url, ConfigError> {
        let url: url::Url = self.required(var, hint)?;
        check_scheme(var, url, schemes)
    }

    /// Like [`Env::url`] with a default.
    pub fn url_or(
        &self,
        var: &str,
        schemes: &[&str],
        default: &str,
    ) -> Result<url::Url, ConfigError> {
        let raw = self.raw(var).unwrap_or(default);
        let url: url::Url = parse(var, raw)?;
        check_scheme(var, url, schemes)
    }
}

fn check_scheme(var: &str, url: url::Url, schemes: &[&str]) -> Result<url::Url, ConfigError> {
    if schemes.contains(&url.scheme()) {
        Ok(url)
    } else {
        Err(ConfigError::Invalid {
            var: var.to_owned(),
            value: redact(url.as_str()),
            reason: format!("the scheme must be one of {}", schemes.join(", ")),
        })
    }
}

fn parse<T>(var: &str, raw: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    raw.parse().map_err(|e: T::Err| ConfigError::Invalid {
        var: var.to_owned(),
        value: redact(raw),
        reason: e.to_string(),
    })
}

/// Hides the password of a URL-like value so error lines never print secrets.
fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

/// Prints the error as one line on stderr and exits with status 2.
pub fn exit_on_config_error<T>(result: Result<T, ConfigError>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_placeholder_secrets_are_refused() {
        for placeholder in [
            "change-me-to-a-random-secret-of-at-least-32-characters",
            "replace-with-the-pem-of-openssl-genpkey-algorithm-ed25519",
            "CHANGEME0123456789012345678901234567",
        ] {
            let error = refuse_placeholder(placeholder).unwrap_err();
            assert!(error.contains("openssl rand"), "{error}");
        }
        assert!(refuse_placeholder("q3J0c2xkZmtqc2Rsa2ZqYXNsZGtmamFzbGRrZmo=").is_ok());
    }

    #[test]
    fn missing_required_names_the_variable() {
        let env = Env::default();
        let err = env
            .required::<String>("GTS_DATABASE_URL", "PostgreSQL URL")
            .unwrap_err();
        let line = err.to_string();
        assert!(line.contains("GTS_DATABASE_URL"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn malformed_value_names_the_variable_and_hides_passwords() {
        let env = Env::from_pairs([("GTS_DATABASE_URL", "mysql://u:secret@h/db")]);
        let err = env
            .url(
                "GTS_DATABASE_URL",
                &["postgres", "postgresql"],
                "PostgreSQL URL",
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("GTS_DATABASE_URL"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn defaults_apply_and_values_parse() {
        let env = Env::from_pairs([("GTS_PORT", "8080"), ("GTS_EMPTY", " ")]);
        assert_eq!(env.or("GTS_PORT", 1u16).unwrap(), 8080);
        assert_eq!(env.or("GTS_EMPTY", 7u16).unwrap(), 7);
        assert!(env.or::<u16>("GTS_PORT_BAD", 1).is_ok());
        let bad = Env::from_pairs([("GTS_PORT", "eighty")]);
        assert!(bad.or("GTS_PORT", 1u16).is_err());
    }
}
