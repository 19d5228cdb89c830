//! TONE3000 OAuth through the `tone3000` crate: the authorize URL, the code exchange
//! (+ `/user`), and the refresh of a rotating refresh token.
//!
//! Contract: every call is bounded by the configured timeout. Failures are split in two:
//! [`UpstreamError::Rejected`] (TONE3000 answered and said no: `invalid_grant` and the
//! like) and [`UpstreamError::Unavailable`] (unreachable, 5xx, 429, timeout, garbage), so
//! callers can tell "sign in again" from "try later".

use std::future::Future;

use tone3000::{AuthorizeOptions, Client, Error, Prompt, Tokens};

use crate::config::Tone3000Settings;

/// A TONE3000 failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    #[error("TONE3000 rejected the request ({error}{})", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Rejected {
        error: String,
        description: Option<String>,
    },
    #[error("TONE3000 is unavailable: {0}")]
    Unavailable(String),
}

/// What a code exchange yields.
#[derive(Debug, Clone)]
pub struct ExchangedLogin {
    pub tokens: Tokens,
    pub user: tone3000::User,
}

/// The TONE3000 client side of GTS.
#[derive(Debug, Clone)]
pub struct Tone3000 {
    settings: Tone3000Settings,
}

impl Tone3000 {
    pub fn new(settings: Tone3000Settings) -> Self {
        Self { settings }
    }

    fn client(&self) -> tone3000::ClientBuilder {
        Client::builder(self.settings.client_id.clone()).base_url(self.settings.base_url.clone())
    }

    /// The authorize URL for a PKCE `challenge` and `state`. The crate builds it on the
    /// public TONE3000 origin; its query is moved onto the configured API base.
    pub fn authorize_url(&self, challenge: &str, state: &str) -> Result<String, UpstreamError> {
        let built = tone3000::authorize_url(
            &self.settings.client_id,
            &self.settings.redirect_uri,
            challenge,
            state,
            Prompt::Standard,
            AuthorizeOptions::default(),
        );
        // The browser follows this URL: built on the browser's name for TONE3000.
        let mut url = url::Url::parse(&format!("{}/oauth/authorize", self.settings.browser_url))
            .map_err(|e| {
                UpstreamError::Unavailable(format!("bad GTS_TONE3000_BROWSER_URL: {e}"))
            })?;
        url.set_query(built.query());
        Ok(url.to_string())
    }

    /// Exchanges an authorization code (with its PKCE verifier) and reads the user.
    pub async fn exchange(
        &self,
        code: &str,
        verifier: &str,
    ) -> Result<ExchangedLogin, UpstreamError> {
        let client = self.client().build();
        let tokens = self
            .bounded(client.exchange_code(code, verifier, &self.settings.redirect_uri))
            .await?;
        let user = self.bounded(client.user()).await?;
        Ok(ExchangedLogin { tokens, user })
    }

    /// Trades a refresh token for a new pair (the old refresh token dies upstream).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, UpstreamError> {
        let client = self.client().refresh_token(refresh_token).build();
        self.bounded(client.refresh()).await
    }

    async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, UpstreamError> {
        match tokio::time::timeout(self.settings.timeout, call).await {
            Ok(result) => result.map_err(classify),
            Err(_) => Err(UpstreamError::Unavailable(format!(
                "no answer within {} ms",
                self.settings.timeout.as_millis()
            ))),
        }
    }
}

fn classify(error: Error) -> UpstreamError {
    match error {
        // Server-side OAuth errors say "try later", not "no".
        Error::Oauth { error, .. }
            if matches!(
                error.as_str(),
                "server_error" | "temporarily_unavailable" | "rate_limit_exceeded"
            ) =>
        {
            UpstreamError::Unavailable(format!("it answered {error}"))
        }
        Error::Oauth {
            error, description, ..
        } => UpstreamError::Rejected { error, description },
        Error::Unauthorized => UpstreamError::Rejected {
            error: "unauthorized".to_owned(),
            description: None,
        },
        Error::Forbidden => UpstreamError::Rejected {
            error: "forbidden".to_owned(),
            description: None,
        },
        Error::Status { code, .. } if (400..500).contains(&code) && code != 429 && code != 408 => {
            UpstreamError::Rejected {
                error: format!("HTTP {code}"),
                description: None,
            }
        }
        Error::Status { code, .. } => {
            UpstreamError::Unavailable(format!("it answered HTTP {code}"))
        }
        Error::RateLimited { .. } => {
            UpstreamError::Unavailable("it is rate limiting GTS".to_owned())
        }
        Error::Http(e) if e.is_timeout() => {
            UpstreamError::Unavailable("the request timed out".to_owned())
        }
        Error::Http(e) if e.is_connect() => UpstreamError::Unavailable("cannot connect".to_owned()),
        Error::Http(e) => UpstreamError::Unavailable(format!("transport error: {e}")),
        Error::Deserialize(_) | Error::Utf8(_) => {
            UpstreamError::Unavailable("it sent an answer GTS cannot read".to_owned())
        }
        other => UpstreamError::Unavailable(other.to_string()),
    }
}
