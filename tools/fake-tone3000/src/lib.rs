//! A fake TONE3000 server speaking the real API v1, for tests and the local demo.
//!
//! Contract: paths, query parameters, JSON field names, the pagination envelope and the
//! OAuth error bodies follow the real API as the `tone3000` crate (0.1) documents it, so
//! that client works against the fake with only its base URL changed. What the real API
//! does not document (resource error bodies) is kept in the OAuth `{error,
//! error_description}` shape. See `docs/fake-tone3000.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fake_tone3000::StartError> {
//! use fake_tone3000::{FakeConfig, FakeTone3000};
//! let fake = FakeTone3000::start(FakeConfig::for_workspace_tests()).await?;
//! let tokens = fake.state().issue_tokens_for_test_user();
//! println!("{} {}", fake.base_url(), tokens.access_token);
//! fake.shutdown().await.ok();
//! # Ok(()) }
//! ```

mod api;
mod catalogue;
mod config;
mod error;
mod oauth;
mod server;
mod state;
mod wire;

pub use catalogue::{
    FakeUser, FixtureError, TONE_BADLANDER, TONE_CAB_PACK, TONE_DELUXE, TONE_JCM800, TONE_KLON,
    TONE_PRIVATE_DRAFT, TONE_PRIVATE_OTHER,
};
pub use config::{
    DEFAULT_CLIENT_ID, EnvError, FakeConfig, RateLimit, WORKSPACE_FIXTURES_DIR, env_vars,
};
pub use oauth::s256_challenge;
pub use server::{API_PREFIX, FakeHandle, FakeTone3000, StartError};
pub use state::{FailureMode, FakeState, IssuedTokens};
