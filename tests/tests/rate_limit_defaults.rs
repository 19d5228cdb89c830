//! The rate limits at their documented default thresholds (nothing here overrides a
//! limit, only the window, so a test can see one end): the gateway per user (600) and per
//! IP (1200), artifact downloads per IP (1200, their own count), and auth's login and
//! refresh (30 per IP, 30 per user). The call over the threshold is refused with
//! RESOURCE_EXHAUSTED and a RetryInfo (429 and Retry-After for downloads), and the same
//! call is served again once the window has passed.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::{
    future::Future,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use gts_e2e::{Stack, clients, with_bearer};
use gts_proto::v1::{
    ListJobsRequest, PingRequest, RefreshRequest, StartLoginRequest,
    job_service_client::JobServiceClient, ops_internal_client::OpsInternalClient,
};
use http_body_util::{BodyExt, Empty};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The documented defaults (README, docs/configuration.md).
const GATEWAY_USER_PER_MINUTE: u64 = 600;
const GATEWAY_IP_PER_MINUTE: u64 = 1200;
const AUTH_PER_IP: u64 = 30;
const AUTH_PER_USER: u64 = 30;

/// The shortened windows: long enough for the calls of one round on a busy machine.
const GATEWAY_WINDOW: Duration = Duration::from_secs(20);
const AUTH_WINDOW: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Limited(Duration),
}

/// A gRPC answer as an [`Outcome`]: a refusal must carry its RetryInfo.
fn grpc_outcome<T>(result: Result<T, Status>) -> Outcome {
    match result {
        Err(status) if status.code() == Code::ResourceExhausted => {
            let delay = status
                .get_details_retry_info()
                .and_then(|info| info.retry_delay)
                .unwrap_or_else(|| panic!("RESOURCE_EXHAUSTED without RetryInfo: {status:?}"));
            Outcome::Limited(delay)
        }
        _ => Outcome::Allowed,
    }
}

fn window_index(window: Duration) -> u128 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    now.as_millis() / window.as_millis()
}

/// Waits until a fresh fixed window starts (the limits count in windows aligned to the
/// epoch), so a round of calls starts with a count of zero.
async fn fresh_window(window: Duration) {
    let current = window_index(window);
    while window_index(window) == current {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How precisely a refusal states its delay: RetryInfo in milliseconds, Retry-After in
/// whole seconds rounded up (so up to a second longer than the window's true end).
const RETRY_INFO_RESOLUTION: Duration = Duration::from_millis(1);
const RETRY_AFTER_RESOLUTION: Duration = Duration::from_secs(1);

/// Makes `limit` calls that must be served and one more that must be refused, all in
/// one window (a round that straddled two windows is run again); then waits for the
/// refused call to be served again and checks it was not before the advertised delay
/// (less its `resolution`).
async fn exhaust_then_recover<F, Fut>(
    limit: u64,
    window: Duration,
    resolution: Duration,
    mut call: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Outcome>,
{
    for _round in 0..3 {
        fresh_window(window).await;
        let started_in = window_index(window);
        for i in 0..limit {
            assert_eq!(call().await, Outcome::Allowed, "call {} of {limit}", i + 1);
        }
        let over = call().await;
        if window_index(window) != started_in {
            continue; // straddled a window boundary: the count started again midway
        }
        let Outcome::Limited(delay) = over else {
            panic!("call {} was served; the limit is {limit}", limit + 1);
        };
        assert!(
            delay <= window + resolution,
            "retry in {delay:?}, longer than the window"
        );
        let refused_at = Instant::now();
        while call().await != Outcome::Allowed {
            assert!(
                refused_at.elapsed() < delay + Duration::from_secs(5),
                "still refused {:?} after a retry delay of {delay:?}",
                refused_at.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            refused_at.elapsed() + resolution + Duration::from_millis(500) >= delay,
            "served after {:?}, before the retry delay of {delay:?}",
            refused_at.elapsed()
        );
        return;
    }
    panic!("every round straddled a window boundary; lengthen the test window");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_limits_each_ip_at_1200_calls() {
    let stack = Stack::start_with(&[(
        "GTS_GATEWAY_RATE_WINDOW_MS",
        GATEWAY_WINDOW.as_millis().to_string(),
    )])
    .await;
    // A call the gateway answers itself (an internal service, refused by name): counted.
    let mut client = OpsInternalClient::with_origin(clients::grpc_web(), stack.gateway_origin());
    exhaust_then_recover(
        GATEWAY_IP_PER_MINUTE,
        GATEWAY_WINDOW,
        RETRY_INFO_RESOLUTION,
        || {
            let mut client = client.clone();
            async move { grpc_outcome(client.ping(PingRequest::default()).await) }
        },
    )
    .await;
    let status = client.ping(PingRequest::default()).await.unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "served again: {status:?}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_limits_each_user_at_600_calls() {
    let stack = Stack::start_with(&[(
        "GTS_GATEWAY_RATE_WINDOW_MS",
        GATEWAY_WINDOW.as_millis().to_string(),
    )])
    .await;
    let token = stack.token_for_new_user();
    let client = JobServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin());
    exhaust_then_recover(
        GATEWAY_USER_PER_MINUTE,
        GATEWAY_WINDOW,
        RETRY_INFO_RESOLUTION,
        || {
            let mut client = client.clone();
            let request = with_bearer(ListJobsRequest::default(), &token);
            async move {
                let result = client.list_jobs(request).await;
                if let Err(status) = &result
                    && status.code() == Code::ResourceExhausted
                {
                    assert!(status.message().contains("this user"), "{status:?}");
                }
                grpc_outcome(result)
            }
        },
    )
    .await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifact_downloads_are_limited_per_ip_at_1200() {
    let stack = Stack::start_with(&[(
        "GTS_GATEWAY_RATE_WINDOW_MS",
        GATEWAY_WINDOW.as_millis().to_string(),
    )])
    .await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    // Any link is counted before its signature is checked.
    let url: http::Uri = format!(
        "http://{}/artifacts/jobs/x/ab.flac?exp=1&sig=00",
        stack.gateway.addr
    )
    .parse()
    .unwrap();
    exhaust_then_recover(
        GATEWAY_IP_PER_MINUTE,
        GATEWAY_WINDOW,
        RETRY_AFTER_RESOLUTION,
        || {
            let client = client.clone();
            let url = url.clone();
            async move {
                let response = client.get(url).await.unwrap();
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
                let _ = response.into_body().collect().await;
                if status == 429 {
                    Outcome::Limited(Duration::from_secs(
                        retry_after.expect("a 429 carries Retry-After"),
                    ))
                } else {
                    Outcome::Allowed
                }
            }
        },
    )
    .await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_refresh_are_limited_at_30_per_ip_and_per_user() {
    let stack = Stack::start_with(&[(
        "GTS_AUTH_RATE_WINDOW_SECS",
        AUTH_WINDOW.as_secs().to_string(),
    )])
    .await;
    let auth = stack.auth_web();
    exhaust_then_recover(AUTH_PER_IP, AUTH_WINDOW, RETRY_INFO_RESOLUTION, || {
        let mut auth = auth.clone();
        async move { grpc_outcome(auth.start_login(StartLoginRequest::default()).await) }
    })
    .await;

    // Refresh: each served call rotates the token; a refused one does not consume it.
    let signed_in = stack.login().await;
    let current = std::sync::Arc::new(std::sync::Mutex::new(signed_in.refresh_token().to_owned()));
    exhaust_then_recover(
        AUTH_PER_USER.min(AUTH_PER_IP),
        AUTH_WINDOW,
        RETRY_INFO_RESOLUTION,
        || {
            let mut auth = auth.clone();
            let current = current.clone();
            async move {
                let token = current.lock().unwrap().clone();
                match auth
                    .refresh(RefreshRequest {
                        refresh_token: token,
                    })
                    .await
                {
                    Ok(reply) => {
                        *current.lock().unwrap() =
                            reply.into_inner().session.unwrap().refresh_token;
                        Outcome::Allowed
                    }
                    Err(status) if status.code() == Code::ResourceExhausted => {
                        grpc_outcome::<()>(Err(status))
                    }
                    Err(status) => panic!("refresh failed: {status:?}"),
                }
            }
        },
    )
    .await;
    stack.stop().await;
}
