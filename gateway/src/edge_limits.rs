//! Per-user and per-IP rate limits at the edge, counted in Redis.
//!
//! Contract:
//! - Every gRPC / grpc-web call counts once against its client IP (the TCP peer, never a
//!   header the client sent) and, when it carries a verified access token, once against
//!   the signed-in user. A server stream (`WatchJob`) counts once per call, however long
//!   it stays open.
//! - The algorithm is a **fixed window of one minute** per subject
//!   ([`gts_common::rate_limit::FixedWindow`], the counter auth uses too): one `INCR` per
//!   call, shared by every gateway replica. A burst straddling a window boundary can reach
//!   twice the limit; in exchange each call costs one Redis round trip.
//! - Over a limit the call is refused before it reaches a backend with RESOURCE_EXHAUSTED,
//!   a message naming the limit, and a `google.rpc.RetryInfo` (in
//!   `grpc-status-details-bin`) saying when the window ends.
//! - Redis trouble never takes the gateway down: when the count cannot be read within
//!   [`REDIS_BUDGET`] the call is let through (fail open) and a warning is logged.
//!
//! The layer is placed twice: [`Subject::Ip`] in front of the size limit and
//! authentication (so floods with bad tokens are counted too), [`Subject::User`] behind
//! authentication, where the verified [`Caller`] is in the request's extensions.

use std::{
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::extract::ConnectInfo;
use gts_common::{
    identity::Caller,
    rate_limit::{FixedWindow, Verdict, resource_exhausted},
    redis_conn::RedisHandle,
};
use http::{Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};

/// The longest a call waits for its count before it is let through uncounted.
pub const REDIS_BUDGET: Duration = Duration::from_millis(250);

/// The window every limit is expressed in, by default (`GTS_GATEWAY_RATE_WINDOW_MS`).
pub const WINDOW: Duration = Duration::from_secs(60);

/// What a limit is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The client's IP address (the TCP peer).
    Ip,
    /// The verified user id from the access token.
    User,
}

/// The shared counter and the limits per minute (0 turns a limit off).
#[derive(Clone)]
pub struct RateLimits {
    inner: Arc<Limits>,
}

struct Limits {
    window: FixedWindow,
    user_per_minute: u64,
    ip_per_minute: u64,
}

impl RateLimits {
    pub fn new(
        redis: RedisHandle,
        user_per_minute: u64,
        ip_per_minute: u64,
        window: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Limits {
                window: FixedWindow::new(redis, window),
                user_per_minute,
                ip_per_minute,
            }),
        }
    }

    /// The layer that counts calls by `subject`.
    pub fn layer(&self, subject: Subject) -> RateLimitLayer {
        RateLimitLayer {
            limits: self.clone(),
            subject,
        }
    }

    /// The key parts and limit of `request` for `subject`, or `None` when it is not counted.
    fn key_of<B>(&self, subject: Subject, request: &Request<B>) -> Option<(String, u64)> {
        match subject {
            Subject::Ip => {
                let limit = self.inner.ip_per_minute;
                if limit == 0 {
                    return None;
                }
                client_ip(request).map(|ip| (ip.to_string(), limit))
            }
            Subject::User => {
                let limit = self.inner.user_per_minute;
                if limit == 0 {
                    return None;
                }
                match request.extensions().get::<Caller>() {
                    Some(Caller::User(user)) => Some((user.user_id.to_string(), limit)),
                    _ => None,
                }
            }
        }
    }

    /// Counts one call; the refusal to send when it is over the limit.
    async fn check(&self, subject: Subject, id: &str, limit: u64) -> Option<tonic::Status> {
        let scope = match subject {
            Subject::Ip => "ip",
            Subject::User => "user",
        };
        let retry_after = self.count(scope, id, limit).await?;
        let who = match subject {
            Subject::Ip => "this network address",
            Subject::User => "this user",
        };
        let seconds = retry_after.as_millis().div_ceil(1000).max(1);
        Some(resource_exhausted(
            format!(
                "too many requests from {who}: the limit is {limit} calls per {}; \
                 try again in {seconds} s",
                window_name(self.inner.window.window())
            ),
            retry_after,
        ))
    }

    /// Counts one artifact download of `ip` (its own count, at the per-IP limit, so a media
    /// player's range requests never starve the same address's API calls); how long to wait
    /// when it is over the limit.
    pub async fn check_download(&self, ip: IpAddr) -> Option<Duration> {
        let limit = self.inner.ip_per_minute;
        if limit == 0 {
            return None;
        }
        self.count("download", &ip.to_string(), limit).await
    }

    /// Counts one hit of `id` in `scope`; `Some(wait)` when over `limit`. Fails open: a
    /// Redis error or a slow Redis lets the call through, with a warning.
    async fn count(&self, scope: &str, id: &str, limit: u64) -> Option<Duration> {
        let parts = ["gateway", "rl", scope, id];
        let hit = self.inner.window.hit(&parts, limit);
        match tokio::time::timeout(REDIS_BUDGET, hit).await {
            Ok(Ok(Verdict::Allowed)) => None,
            Ok(Ok(Verdict::Limited { retry_after })) => Some(retry_after),
            Ok(Err(error)) => {
                tracing::warn!(%error, scope, "rate limit not counted: Redis failed; letting the call through");
                None
            }
            Err(_) => {
                tracing::warn!(
                    scope,
                    budget_ms = REDIS_BUDGET.as_millis() as u64,
                    "rate limit not counted: Redis too slow; letting the call through"
                );
                None
            }
        }
    }
}

/// "minute" for the default window, else its length.
fn window_name(window: Duration) -> String {
    if window == WINDOW {
        "minute".to_owned()
    } else {
        format!("{} ms", window.as_millis())
    }
}

/// The TCP peer's address: axum's connect info, or the `x-forwarded-for` the gateway
/// itself set from it (see `set_forwarded_for`; a client's own value never survives).
fn client_ip<B>(request: &Request<B>) -> Option<IpAddr> {
    if let Some(ConnectInfo(addr)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        return Some(addr.ip());
    }
    request
        .headers()
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
}

/// See [`RateLimits::layer`].
#[derive(Clone)]
pub struct RateLimitLayer {
    limits: RateLimits,
    subject: Subject,
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit {
            inner,
            limits: self.limits.clone(),
            subject: self.subject,
        }
    }
}

/// See [`RateLimits::layer`].
#[derive(Clone)]
pub struct RateLimit<S> {
    inner: S,
    limits: RateLimits,
    subject: Subject,
}

impl<S, B> Service<Request<B>> for RateLimit<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The ready service goes to this call; a fresh clone waits for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let Some((id, limit)) = self.limits.key_of(self.subject, &request) else {
            return Box::pin(inner.call(request));
        };
        let limits = self.limits.clone();
        let subject = self.subject;
        Box::pin(async move {
            if let Some(refusal) = limits.check(subject, &id, limit).await {
                return Ok(refusal.into_http());
            }
            inner.call(request).await
        })
    }
}
