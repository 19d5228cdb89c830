//! Artifact downloads at the edge are rate-limited per address with `Retry-After`, in a
//! count of their own, so the same address's API calls keep being served; the count comes
//! before the signature check, so guessing links is limited too. (Signature, expiry and
//! Range are covered by `render_gateway.rs` on real artifacts.)

#![allow(clippy::unwrap_used)]

use gts_common::signed_url::UrlSigner;
use gts_e2e::{Stack, clients};
use gts_proto::v1::{StartLoginRequest, auth_service_client::AuthServiceClient};
use http_body_util::{BodyExt, Empty};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

async fn get(url: &str) -> (u16, http::HeaderMap, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    let response = client.get(url.parse().unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        parts.status.as_u16(),
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_are_limited_per_address_apart_from_api_calls() {
    const LIMIT: u64 = 3;
    let stack =
        Stack::start_with(&[("GTS_GATEWAY_RATE_LIMIT_IP_PER_MINUTE", LIMIT.to_string())]).await;
    let signer = UrlSigner::new(stack.secrets.artifact_url_key.as_bytes()).unwrap();
    let base = url::Url::parse(&format!("http://{}", stack.gateway.addr)).unwrap();
    let expires = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
        + 600;
    // A validly signed link to an artifact that does not exist: 404, counted.
    let url = signer.signed_url(
        &base,
        "jobs/00000000-0000-0000-0000-000000000000/ab.flac",
        expires,
    );
    for _ in 0..LIMIT {
        let (status, _, message) = get(&url).await;
        assert_eq!(status, 404, "{message}");
    }
    let (status, headers, message) = get(&url).await;
    assert_eq!(status, 429, "{message}");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(message.contains("too many downloads"), "{message}");

    // The same address's API calls have their own count and are still served.
    AuthServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin())
        .start_login(StartLoginRequest::default())
        .await
        .expect("an API call from the same address");

    // Over the limit, even a forged link gets 429 first: guessing is limited too.
    let forged = url.replace("sig=", "sig=ff");
    assert_eq!(get(&forged).await.0, 429, "limited before anything else");
    stack.stop().await;
}
