//! The wire protocols the gateway speaks, checked with raw HTTP/1.1 so nothing is hidden by
//! a client library: grpc-web-text (base64 frames, as browsers without binary fetch bodies
//! send), and a deadline (`grpc-timeout`) that travels with the call and ends it with
//! DEADLINE_EXCEEDED well before the slow upstream would have answered.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use base64::Engine;
use gts_e2e::Stack;
use gts_proto::v1::{SearchTonesRequest, StartLoginRequest, StartLoginResponse};
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use prost::Message;

/// A grpc-web data frame: flag 0, big-endian length, the message.
fn frame(message: &impl Message) -> Vec<u8> {
    let payload = message.encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    framed.extend_from_slice(&payload);
    framed
}

/// Splits a grpc-web body into (data messages, trailer text).
fn unframe(mut body: &[u8]) -> (Vec<Vec<u8>>, String) {
    let (mut data, mut trailers) = (Vec::new(), String::new());
    while body.len() >= 5 {
        let flag = body[0];
        let length = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        let payload = &body[5..5 + length];
        if flag & 0x80 == 0 {
            data.push(payload.to_vec());
        } else {
            trailers.push_str(&String::from_utf8_lossy(payload));
        }
        body = &body[5 + length..];
    }
    (data, trailers)
}

/// Decodes grpc-web-text: base64 quanta may carry padding mid-stream (one segment per
/// frame), and each 4-character quantum decodes on its own.
fn decode_text(text: &[u8]) -> Vec<u8> {
    let engine = base64::engine::general_purpose::STANDARD;
    let clean: Vec<u8> = text
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    clean
        .chunks(4)
        .flat_map(|quantum| engine.decode(quantum).unwrap())
        .collect()
}

async fn post(
    stack: &Stack,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (http::response::Parts, Vec<u8>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
    let mut request = http::Request::post(format!("http://{}{path}", stack.gateway.addr));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client
        .request(request.body(Full::new(body.into())).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    (parts, body.collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_web_text_calls_round_trip_through_the_gateway() {
    let stack = Stack::start().await;
    let body = base64::engine::general_purpose::STANDARD
        .encode(frame(&StartLoginRequest::default()))
        .into_bytes();
    let (parts, body) = post(
        &stack,
        "/gts.v1.AuthService/StartLogin",
        &[
            ("content-type", "application/grpc-web-text"),
            ("accept", "application/grpc-web-text"),
            ("x-grpc-web", "1"),
        ],
        body,
    )
    .await;
    assert_eq!(parts.status, 200);
    assert!(
        parts.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/grpc-web-text"),
        "{:?}",
        parts.headers
    );
    let (messages, trailers) = unframe(&decode_text(&body));
    assert!(trailers.contains("grpc-status:0"), "{trailers:?}");
    let response = StartLoginResponse::decode(messages[0].as_slice()).unwrap();
    assert!(
        response
            .authorize_url
            .contains("code_challenge_method=S256"),
        "{response:?}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_ends_the_call_with_deadline_exceeded() {
    let stack = Stack::start().await;
    let token = stack.login().await.access_token().to_owned();
    // TONE3000 now answers in 5 s; the caller gives the call 300 ms.
    stack
        .tone3000
        .state()
        .set_extra_latency(Duration::from_secs(5));
    let started = Instant::now();
    let (parts, body) = post(
        &stack,
        "/gts.v1.LibraryService/SearchTones",
        &[
            ("content-type", "application/grpc-web+proto"),
            ("x-grpc-web", "1"),
            ("grpc-timeout", "300m"),
            ("authorization", &format!("Bearer {token}")),
        ],
        frame(&SearchTonesRequest::default()),
    )
    .await;
    let elapsed = started.elapsed();
    let status = parts
        .headers
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_else(|| {
            let (_, trailers) = unframe(&body);
            trailers
                .lines()
                .find_map(|line| line.strip_prefix("grpc-status:"))
                .unwrap_or("<none>")
                .trim()
                .to_owned()
        });
    assert_eq!(status, "4", "DEADLINE_EXCEEDED: {:?}", parts.headers);
    assert!(
        elapsed < Duration::from_secs(4),
        "ended at the deadline, not when TONE3000 answered: {elapsed:?}"
    );
    stack.tone3000.state().set_extra_latency(Duration::ZERO);
    stack.stop().await;
}
