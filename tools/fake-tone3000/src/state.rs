//! Shared state of a running fake: grants, knobs, counters and a controllable clock.
//!
//! Contract: one `FakeState` per server, shared as `Arc` between the handlers and the
//! test that started it. Knob changes take effect on the next request. The clock is
//! real time plus an offset that `advance_clock` grows, so tests can expire tokens and
//! codes, or end a rate-limit window, without sleeping. Locks are never held across an
//! `.await`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use crate::catalogue::{Catalogue, FakeUser};
use crate::config::{FakeConfig, RateLimit};

/// A failure the fake injects, for testing how callers cope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureMode {
    /// Behave normally.
    #[default]
    None,
    /// Every request answers 500.
    InternalError,
    /// Every request answers 503.
    Unavailable,
    /// Refresh-token grants answer 400 `invalid_grant`; everything else works.
    RefuseRefresh,
}

/// Tokens minted for a user, as the token endpoint would return them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    /// Bearer credential.
    pub access_token: String,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct PendingCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub user: FakeUser,
    pub expires_at: Instant,
}

#[derive(Debug, Clone)]
struct AccessGrant {
    user: FakeUser,
    expires_at: Instant,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    user: FakeUser,
    client_id: String,
}

#[derive(Debug, Default)]
struct Grants {
    codes: HashMap<String, PendingCode>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
}

#[derive(Debug)]
struct Knobs {
    access_token_lifetime: Duration,
    extra_latency: Duration,
    failure_mode: FailureMode,
    rate_limit: Option<RateLimit>,
}

#[derive(Debug)]
struct RateWindow {
    started: Instant,
    count: u32,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    authorizations: AtomicU64,
    code_exchanges: AtomicU64,
    refresh_attempts: AtomicU64,
    token_refreshes: AtomicU64,
    downloads: AtomicU64,
}

/// Outcome of a refresh-token grant.
pub(crate) enum RefreshOutcome {
    Issued(IssuedTokens),
    Refused,
}

/// The state of one fake server. Get it from `FakeHandle::state`.
#[derive(Debug)]
pub struct FakeState {
    pub(crate) client_id: String,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) allow_loopback_redirects: bool,
    pub(crate) test_user: FakeUser,
    pub(crate) auth_code_lifetime: Duration,
    pub(crate) catalogue: Catalogue,
    pub(crate) api_base: String,
    knobs: Mutex<Knobs>,
    grants: Mutex<Grants>,
    rate: Mutex<RateWindow>,
    clock_offset: Mutex<Duration>,
    counters: Counters,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicked holder cannot leave these maps half-updated in a way that matters to a fake.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn random_token(prefix: &str) -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(raw))
}

impl FakeState {
    pub(crate) fn new(config: &FakeConfig, catalogue: Catalogue, api_base: String) -> Self {
        Self {
            client_id: config.client_id.clone(),
            redirect_uris: config.redirect_uris.clone(),
            allow_loopback_redirects: config.allow_loopback_redirects,
            test_user: config.test_user.clone(),
            auth_code_lifetime: config.auth_code_lifetime,
            catalogue,
            api_base,
            knobs: Mutex::new(Knobs {
                access_token_lifetime: config.access_token_lifetime,
                extra_latency: config.extra_latency,
                failure_mode: FailureMode::None,
                rate_limit: config.rate_limit,
            }),
            grants: Mutex::new(Grants::default()),
            rate: Mutex::new(RateWindow {
                started: Instant::now(),
                count: 0,
            }),
            clock_offset: Mutex::new(Duration::ZERO),
            counters: Counters::default(),
        }
    }

    /// The fake's notion of now: real time plus `advance_clock` offsets.
    pub(crate) fn now(&self) -> Instant {
        Instant::now() + *lock(&self.clock_offset)
    }

    // ---- knobs -------------------------------------------------------------------

    /// Moves the fake's clock forward (expires tokens and codes, ends rate windows).
    pub fn advance_clock(&self, by: Duration) {
        *lock(&self.clock_offset) += by;
    }

    /// Lifetime given to access tokens issued from now on.
    pub fn access_token_lifetime(&self) -> Duration {
        lock(&self.knobs).access_token_lifetime
    }

    /// Sets the lifetime of access tokens issued from now on.
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        lock(&self.knobs).access_token_lifetime = lifetime;
    }

    /// Delay added before every response.
    pub fn extra_latency(&self) -> Duration {
        lock(&self.knobs).extra_latency
    }

    /// Sets the delay added before every response.
    pub fn set_extra_latency(&self, latency: Duration) {
        lock(&self.knobs).extra_latency = latency;
    }

    /// The failure currently injected.
    pub fn failure_mode(&self) -> FailureMode {
        lock(&self.knobs).failure_mode
    }

    /// Injects a failure (or `FailureMode::None` to stop).
    pub fn set_failure_mode(&self, mode: FailureMode) {
        lock(&self.knobs).failure_mode = mode;
    }

    /// The request limit in force.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        lock(&self.knobs).rate_limit
    }

    /// Replaces the request limit and starts a fresh window.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        lock(&self.knobs).rate_limit = limit;
        let now = self.now();
        let mut rate = lock(&self.rate);
        rate.started = now;
        rate.count = 0;
    }

    // ---- users and grants ---------------------------------------------------------

    /// The account the authorize endpoint auto-approves.
    pub fn test_user(&self) -> &FakeUser {
        &self.test_user
    }

    /// The accepted OAuth client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Revokes every code, access token and refresh token of `user_id`, as if the user
    /// disconnected the app. Returns how many grants died.
    pub fn revoke_user_grants(&self, user_id: &str) -> usize {
        let mut g = lock(&self.grants);
        let before = g.codes.len() + g.access.len() + g.refresh.len();
        g.codes.retain(|_, c| c.user.id != user_id);
        g.access.retain(|_, a| a.user.id != user_id);
        g.refresh.retain(|_, r| r.user.id != user_id);
        before - (g.codes.len() + g.access.len() + g.refresh.len())
    }

    /// Mints tokens for the test user without the OAuth dance, for tests that only need
    /// a logged-in client.
    pub fn issue_tokens_for_test_user(&self) -> IssuedTokens {
        let user = self.test_user.clone();
        let client_id = self.client_id.clone();
        self.issue(user, client_id)
    }

    pub(crate) fn issue(&self, user: FakeUser, client_id: String) -> IssuedTokens {
        let lifetime = self.access_token_lifetime();
        let now = self.now();
        let tokens = IssuedTokens {
            access_token: random_token("t3k_at_"),
            refresh_token: random_token("t3k_rt_"),
            expires_in: lifetime.as_secs(),
        };
        let mut g = lock(&self.grants);
        g.access.insert(
            tokens.access_token.clone(),
            AccessGrant {
                user: user.clone(),
                expires_at: now + lifetime,
            },
        );
        g.refresh.insert(
            tokens.refresh_token.clone(),
            RefreshGrant { user, client_id },
        );
        tokens
    }

    pub(crate) fn store_code(&self, pending: PendingCode) -> String {
        let code = random_token("");
        lock(&self.grants).codes.insert(code.clone(), pending);
        self.counters.authorizations.fetch_add(1, Ordering::Relaxed);
        code
    }

    /// Removes the code whatever happens next: a code is good for one attempt only.
    pub(crate) fn take_code(&self, code: &str) -> Option<PendingCode> {
        let now = self.now();
        lock(&self.grants)
            .codes
            .remove(code)
            .filter(|c| c.expires_at > now)
    }

    pub(crate) fn note_code_exchange(&self) {
        self.counters.code_exchanges.fetch_add(1, Ordering::Relaxed);
    }

    /// Rotates `refresh_token`: the old one dies and a new pair is issued.
    pub(crate) fn rotate_refresh(&self, refresh_token: &str, client_id: &str) -> RefreshOutcome {
        self.counters
            .refresh_attempts
            .fetch_add(1, Ordering::Relaxed);
        if self.failure_mode() == FailureMode::RefuseRefresh {
            return RefreshOutcome::Refused;
        }
        let grant = {
            let mut g = lock(&self.grants);
            match g.refresh.get(refresh_token) {
                Some(r) if r.client_id == client_id => g.refresh.remove(refresh_token),
                _ => None,
            }
        };
        match grant {
            Some(r) => {
                self.counters
                    .token_refreshes
                    .fetch_add(1, Ordering::Relaxed);
                RefreshOutcome::Issued(self.issue(r.user, r.client_id))
            }
            None => RefreshOutcome::Refused,
        }
    }

    /// The user behind a live access token.
    pub(crate) fn user_for_access(&self, access_token: &str) -> Option<FakeUser> {
        let now = self.now();
        lock(&self.grants)
            .access
            .get(access_token)
            .filter(|a| a.expires_at > now)
            .map(|a| a.user.clone())
    }

    /// Counts a received request (before any delay, failure or limit applies).
    pub(crate) fn note_request(&self) {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes a slot in the current rate window; `Err(retry_after_secs)` once it is full.
    pub(crate) fn admit(&self) -> Result<(), u64> {
        let Some(limit) = self.rate_limit() else {
            return Ok(());
        };
        let now = self.now();
        let mut rate = lock(&self.rate);
        if now.saturating_duration_since(rate.started) >= limit.window {
            rate.started = now;
            rate.count = 0;
        }
        if rate.count < limit.max_requests {
            rate.count += 1;
            return Ok(());
        }
        let remaining = limit
            .window
            .saturating_sub(now.saturating_duration_since(rate.started));
        drop(rate);
        self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        // Round up, and never tell a client to retry after 0 s.
        let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
        Err(secs.max(1))
    }

    pub(crate) fn note_download(&self) {
        self.counters.downloads.fetch_add(1, Ordering::Relaxed);
    }

    // ---- counters -----------------------------------------------------------------

    /// Requests received (all endpoints, including refused ones).
    pub fn requests(&self) -> u64 {
        self.counters.requests.load(Ordering::Relaxed)
    }

    /// Requests answered 429.
    pub fn rate_limited_responses(&self) -> u64 {
        self.counters.rate_limited.load(Ordering::Relaxed)
    }

    /// Authorization codes issued by the authorize endpoint.
    pub fn authorizations(&self) -> u64 {
        self.counters.authorizations.load(Ordering::Relaxed)
    }

    /// Successful authorization-code exchanges.
    pub fn code_exchanges(&self) -> u64 {
        self.counters.code_exchanges.load(Ordering::Relaxed)
    }

    /// Refresh-token grants received, successful or not.
    pub fn refresh_attempts(&self) -> u64 {
        self.counters.refresh_attempts.load(Ordering::Relaxed)
    }

    /// Successful refreshes (each rotated a refresh token).
    pub fn token_refreshes(&self) -> u64 {
        self.counters.token_refreshes.load(Ordering::Relaxed)
    }

    /// Model files served.
    pub fn downloads(&self) -> u64 {
        self.counters.downloads.load(Ordering::Relaxed)
    }
}
