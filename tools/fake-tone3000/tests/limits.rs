//! Rate limiting, injected failures and latency.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

mod common;

use std::time::{Duration, Instant};

use common::{login, start, start_with};
use fake_tone3000::{FailureMode, FakeConfig, RateLimit};
use tone3000::Error;

#[tokio::test]
async fn past_the_limit_answers_429_with_retry_after() {
    let mut config = FakeConfig::for_workspace_tests();
    config.rate_limit = Some(RateLimit {
        max_requests: 3,
        window: Duration::from_secs(60),
    });
    let fake = start_with(config).await;
    let tokens = fake.state().issue_tokens_for_test_user();
    let client = tone3000::Client::builder(fake.state().client_id())
        .base_url(fake.base_url())
        .access_token(&tokens.access_token)
        .build();

    for _ in 0..3 {
        client.user().await.unwrap();
    }
    let err = client.tones().await.unwrap_err();
    match err {
        Error::RateLimited {
            retry_after: Some(d),
            ..
        } => {
            assert!((1..=60).contains(&d.as_secs()), "{d:?}")
        }
        other => panic!("expected RateLimited with Retry-After, got {other:?}"),
    }

    let raw = reqwest::Client::new()
        .get(format!("{}/user", fake.base_url()))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 429);
    let retry: u64 = raw.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["error"], "rate_limit_exceeded");
    assert_eq!(fake.state().rate_limited_responses(), 2);

    // A new window admits requests again.
    fake.state().advance_clock(Duration::from_secs(61));
    client.user().await.unwrap();
}

#[tokio::test]
async fn retry_after_counts_down_with_the_window() {
    let fake = start().await;
    fake.state().set_rate_limit(Some(RateLimit {
        max_requests: 2,
        window: Duration::from_secs(100),
    }));
    // Authorize + token exchange use up the window: every endpoint counts.
    let (client, _) = login(&fake).await;
    fake.state().advance_clock(Duration::from_secs(40));
    match client.user().await.unwrap_err() {
        Error::RateLimited {
            retry_after: Some(d),
            ..
        } => {
            assert!((59..=60).contains(&d.as_secs()), "{d:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn failure_modes_inject_500_and_503() {
    let fake = start().await;
    let (client, _) = login(&fake).await;
    fake.state().set_failure_mode(FailureMode::InternalError);
    assert!(matches!(
        client.user().await.unwrap_err(),
        Error::Status { code: 500, .. }
    ));
    fake.state().set_failure_mode(FailureMode::Unavailable);
    assert!(matches!(
        client.tones().await.unwrap_err(),
        Error::Status { code: 503, .. }
    ));
    // The token endpoint fails too, with an OAuth-shaped body.
    let err = client.refresh().await.unwrap_err();
    assert!(
        matches!(err, Error::Oauth { ref error, .. } if error == "temporarily_unavailable"),
        "{err:?}"
    );
    fake.state().set_failure_mode(FailureMode::None);
    client.user().await.unwrap();
}

#[tokio::test]
async fn extra_latency_delays_responses() {
    let fake = start().await;
    let (client, _) = login(&fake).await;
    fake.state().set_extra_latency(Duration::from_millis(300));
    let began = Instant::now();
    client.user().await.unwrap();
    assert!(began.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let fake = start().await;
    let url = format!("{}/user", fake.base_url());
    fake.shutdown().await.unwrap();
    let err = reqwest::Client::new().get(&url).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let fake = start().await;
    let state = fake.state();
    let tokens = state.issue_tokens_for_test_user();
    state.set_extra_latency(Duration::from_millis(400));
    let url = format!("{}/user", fake.base_url());
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(tokens.access_token)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    // Wait until the server has the request (the counter moves before the delay).
    while state.requests() == 0 {
        tokio::task::yield_now().await;
    }
    fake.shutdown().await.unwrap();
    assert_eq!(in_flight.await.unwrap().unwrap(), 200);
}
