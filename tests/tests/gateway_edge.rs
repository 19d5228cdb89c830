//! The gateway's edge: CORS for the configured origins only, per-user and per-IP rate
//! limits in Redis (RESOURCE_EXHAUSTED with RetryInfo, others still served), internal
//! services refused even to a signed-in user, and the web console's static files.

#![allow(clippy::unwrap_used)]

use std::{net::IpAddr, time::Duration};

use gts_e2e::{
    Stack, clients,
    shootouts::{
        self, asset, block, create_shootout, event_position, fixture, get_job, jobs,
        one_di_shootout, plucked_wav, submit_job, upload, watch_job,
    },
    with_bearer,
};
use gts_proto::v1::{
    AssetKind, CancelJobRequest, JobStatus, ListJobsRequest, ModelSource, NamModelBlock,
    PingRequest, block, job_event, job_service_client::JobServiceClient,
    ops_internal_client::OpsInternalClient,
};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use tonic::{Code, codegen::Bytes};
use tonic_types::StatusExt;
use tonic_web::GrpcWebClientLayer;

const SERVED_BY: &str = gts_common::server::SERVED_BY_HEADER;

/// A raw HTTP/1.1 exchange with the gateway: status, headers and body.
async fn http(
    stack: &Stack,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Bytes) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = Request::builder()
        .method(method)
        .uri(format!("http://{}{path}", stack.gateway.addr));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::from(body))).unwrap();
    let response = client.request(request).await.expect("the gateway answers");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("a whole body").to_bytes();
    (parts.status, parts.headers, body)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A grpc-web frame holding an empty message (StartLogin needs no fields).
fn empty_grpc_web_frame() -> Vec<u8> {
    vec![0, 0, 0, 0, 0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_succeeds_for_the_configured_origin_only() {
    let stack = Stack::start().await;
    let preflight = |origin: &'static str| {
        let stack = &stack;
        async move {
            http(
                stack,
                Method::OPTIONS,
                "/gts.v1.AuthService/StartLogin",
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    (
                        "access-control-request-headers",
                        "content-type,x-grpc-web,x-user-agent,authorization",
                    ),
                ],
                Vec::new(),
            )
            .await
        }
    };

    // The configured origin (Stack sets GTS_CORS_ORIGINS=http://console.test).
    let (status, headers, _) = preflight("http://console.test").await;
    assert!(status.is_success(), "preflight answered {status}");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        "http://console.test"
    );
    assert!(header(&headers, "access-control-allow-methods").contains("POST"));
    let allowed = header(&headers, "access-control-allow-headers").to_ascii_lowercase();
    for needed in [
        "content-type",
        "x-grpc-web",
        "x-user-agent",
        "authorization",
    ] {
        assert!(allowed.contains(needed), "{needed} not in {allowed:?}");
    }

    // The call itself exposes the gRPC status headers to the page's script.
    let (status, headers, _) = http(
        &stack,
        Method::POST,
        "/gts.v1.AuthService/StartLogin",
        &[
            ("origin", "http://console.test"),
            ("content-type", "application/grpc-web+proto"),
            ("x-grpc-web", "1"),
        ],
        empty_grpc_web_frame(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        "http://console.test"
    );
    let exposed = header(&headers, "access-control-expose-headers").to_ascii_lowercase();
    for needed in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        assert!(exposed.contains(needed), "{needed} not in {exposed:?}");
    }

    // Any other origin gets no CORS grant: the browser refuses the call.
    let (_, headers, _) = preflight("http://evil.test").await;
    assert!(
        headers.get("access-control-allow-origin").is_none(),
        "another origin was allowed: {headers:?}"
    );
    let (_, headers, _) = http(
        &stack,
        Method::POST,
        "/gts.v1.AuthService/StartLogin",
        &[
            ("origin", "http://evil.test"),
            ("content-type", "application/grpc-web+proto"),
            ("x-grpc-web", "1"),
        ],
        empty_grpc_web_frame(),
    )
    .await;
    assert!(headers.get("access-control-allow-origin").is_none());

    stack.stop().await;
}

/// A grpc-web client whose TCP connections come from `local` (any 127.x address reaches
/// the gateway on 127.0.0.1), so the gateway sees another client IP.
fn grpc_web_from(local: IpAddr) -> clients::GrpcWebChannel {
    let mut connector = HttpConnector::new();
    connector.set_local_address(Some(local));
    let client = Client::builder(TokioExecutor::new()).build(connector);
    tower::ServiceBuilder::new()
        .layer(GrpcWebClientLayer::new())
        .service(client)
}

enum Outcome {
    /// The worker answered (OK or its own error).
    Served,
    /// The gateway refused with RESOURCE_EXHAUSTED.
    Limited(tonic::Status),
}

async fn list_jobs(
    channel: clients::GrpcWebChannel,
    stack: &Stack,
    token: Option<&str>,
) -> Outcome {
    let mut client = JobServiceClient::with_origin(channel, stack.gateway_origin());
    let request = match token {
        Some(token) => with_bearer(ListJobsRequest::default(), token),
        None => tonic::Request::new(ListJobsRequest::default()),
    };
    match client.list_jobs(request).await {
        Ok(response) => {
            let by = response.metadata().get(SERVED_BY).cloned();
            assert_eq!(
                by.as_ref().and_then(|v| v.to_str().ok()),
                Some("gts-worker")
            );
            Outcome::Served
        }
        Err(status) if status.code() == Code::ResourceExhausted => {
            assert!(
                status.metadata().get(SERVED_BY).is_none(),
                "a limited call must not reach a backend: {status:?}"
            );
            Outcome::Limited(status)
        }
        Err(status) => {
            let by = status
                .metadata()
                .get(SERVED_BY)
                .and_then(|v| v.to_str().ok());
            assert_eq!(by, Some("gts-worker"), "{status:?}");
            Outcome::Served
        }
    }
}

/// Calls until the gateway refuses; returns the refusal and how many calls were served
/// before it. A fixed window may reset once during the flood, so up to `2 * limit + 1`
/// calls are allowed before the test gives up.
async fn flood(
    stack: &Stack,
    channel: &clients::GrpcWebChannel,
    token: Option<&str>,
    limit: u64,
) -> (tonic::Status, u64) {
    let mut served = 0;
    for _ in 0..=(2 * limit + 1) {
        match list_jobs(channel.clone(), stack, token).await {
            Outcome::Served => served += 1,
            Outcome::Limited(status) => return (status, served),
        }
    }
    panic!("no RESOURCE_EXHAUSTED after {served} calls with a limit of {limit}");
}

fn assert_retry_info(status: &tonic::Status, what: &str) {
    assert!(status.message().contains(what), "{status:?}");
    assert!(status.message().contains("per minute"), "{status:?}");
    let delay = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
        .expect("a RetryInfo with a delay in grpc-status-details-bin");
    assert!(
        delay > Duration::ZERO && delay <= Duration::from_secs(60),
        "{delay:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_limited_per_user_and_per_ip_while_others_are_served() {
    const USER_LIMIT: u64 = 5;
    const IP_LIMIT: u64 = 40;
    let stack = Stack::start_with(&[
        (
            "GTS_GATEWAY_RATE_LIMIT_USER_PER_MINUTE",
            USER_LIMIT.to_string(),
        ),
        ("GTS_GATEWAY_RATE_LIMIT_IP_PER_MINUTE", IP_LIMIT.to_string()),
    ])
    .await;
    let here = clients::grpc_web();
    let flooder = stack.token_for_new_user();
    let other = stack.token_for_new_user();

    // One user floods: refused with RetryInfo once over the limit, never before it.
    let (status, served) = flood(&stack, &here, Some(&flooder), USER_LIMIT).await;
    assert!(served >= USER_LIMIT, "refused after only {served} calls");
    assert_retry_info(&status, "this user");

    // Meanwhile another user on the same address is served, and the flooder still is not.
    assert!(matches!(
        list_jobs(here.clone(), &stack, Some(&other)).await,
        Outcome::Served
    ));
    assert!(matches!(
        list_jobs(here.clone(), &stack, Some(&flooder)).await,
        Outcome::Limited(_)
    ));

    // One address floods (without a token): refused per IP.
    let (status, served) = flood(&stack, &here, None, IP_LIMIT).await;
    assert!(served > 0, "the address was refused from the start");
    assert_retry_info(&status, "this network address");

    // A client cannot pose as another address with x-forwarded-for.
    let mut spoofed = tonic::Request::new(ListJobsRequest::default());
    spoofed
        .metadata_mut()
        .insert("x-forwarded-for", "10.9.9.9".parse().unwrap());
    let status = JobServiceClient::with_origin(here.clone(), stack.gateway_origin())
        .list_jobs(spoofed)
        .await
        .expect_err("the flooding address is still limited");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");

    // Another address is served, signed in or not.
    let elsewhere = grpc_web_from("127.0.0.2".parse().unwrap());
    assert!(matches!(
        list_jobs(elsewhere.clone(), &stack, None).await,
        Outcome::Served
    ));
    assert!(matches!(
        list_jobs(elsewhere, &stack, Some(&other)).await,
        Outcome::Served
    ));

    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_services_are_refused_even_with_a_valid_user_token() {
    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    let status = OpsInternalClient::with_origin(clients::grpc_web(), stack.gateway_origin())
        .ping(with_bearer(
            PingRequest {
                delay_ms: 0,
                message: "hello".to_owned(),
            },
            signed_in.access_token(),
        ))
        .await
        .expect_err("an internal service must be refused to a signed-in user");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.metadata().get(SERVED_BY).is_none(), "{status:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_with_correct_content_types_beside_grpc_web() {
    assert!(
        gts_e2e::stack::console_dir().join("index.html").is_file(),
        "the console is not built: run `npm ci && npm run build` in web/ \
         (deploy/local/ensure-deps.sh does)"
    );
    let stack = Stack::start().await;

    let (status, headers, body) = http(&stack, Method::GET, "/", &[], Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    let html = String::from_utf8_lossy(&body);
    assert!(html.contains("/assets/app.js"), "{html}");

    let (status, headers, body) =
        http(&stack, Method::GET, "/assets/app.js", &[], Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        header(&headers, "content-type").contains("javascript"),
        "{headers:?}"
    );
    assert!(body.len() > 1000, "the bundle is suspiciously small");

    let (status, headers, _) = http(&stack, Method::GET, "/style.css", &[], Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, "content-type").starts_with("text/css"));

    // A page of the app (the sign-in callback) gets index.html; a missing file is 404.
    let (status, headers, body) = http(
        &stack,
        Method::GET,
        "/auth/callback?code=x&state=y",
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert_eq!(String::from_utf8_lossy(&body), html);
    let (status, _, _) = http(&stack, Method::GET, "/assets/missing.js", &[], Vec::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Paths that are neither a console page nor a file are 404, never the console's HTML.
    for path in ["/metrics", "/healthz", "/readyz", "/no-such-page"] {
        let (status, _, body) = http(&stack, Method::GET, path, &[], Vec::new()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!String::from_utf8_lossy(&body).contains("<html"), "{path}");
    }

    // grpc-web POSTs and health are not shadowed by the console.
    let (status, headers, _) = http(
        &stack,
        Method::POST,
        "/gts.v1.AuthService/StartLogin",
        &[
            ("content-type", "application/grpc-web+proto"),
            ("x-grpc-web", "1"),
        ],
        empty_grpc_web_frame(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, "content-type").starts_with("application/grpc-web"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_built_console_the_gateway_still_serves_grpc_and_says_how_to_build() {
    let missing = tempfile::tempdir().unwrap();
    let stack = Stack::start_with(&[(
        "GTS_GATEWAY_CONSOLE_DIR",
        missing.path().join("dist").display().to_string(),
    )])
    .await;
    let (status, headers, body) = http(&stack, Method::GET, "/", &[], Vec::new()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(header(&headers, "content-type").starts_with("text/plain"));
    assert!(String::from_utf8_lossy(&body).contains("npm run build"));
    // gRPC goes on (the stack's health wait already passed through this gateway too).
    assert!(matches!(
        list_jobs(clients::grpc_web(), &stack, None).await,
        Outcome::Served
    ));
    stack.stop().await;
}

fn terminal(status: i32) -> bool {
    matches!(
        JobStatus::try_from(status),
        Ok(JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled)
    )
}

/// Events of a WatchJob stream through the gateway over grpc-web arrive while the job is
/// live: the first one is in hand while the job is still unfinished (checked with GetJob
/// after it arrived), and the stream then carries the job to its end. A gateway that
/// buffered the stream would hand over nothing until the job had ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_job_events_pass_through_the_gateway_as_they_happen() {
    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    let token = signed_in.access_token();

    // A long DI through the standard WaveNet twice: a render of seconds, not milliseconds.
    let di = upload(
        &stack,
        token,
        AssetKind::DiTrack,
        "long.wav",
        &plucked_wav(40.0, 48_000),
    )
    .await;
    let model = upload(
        &stack,
        token,
        AssetKind::NamModel,
        "standard.nam",
        &fixture("nam/wavenet_a1_standard.nam"),
    )
    .await;
    let chain = |name: &str, gain: f64| {
        let model = Some(ModelSource {
            source: Some(asset(&model)),
        });
        shootouts::chain(
            name,
            vec![block(block::Kind::NamModel(NamModelBlock {
                source: model,
                input_gain_db: gain,
            }))],
        )
    };
    let shootout = create_shootout(
        &stack,
        token,
        one_di_shootout(
            "stream test",
            &di,
            "DI",
            vec![chain("A", 0.0), chain("B", 6.0)],
        ),
    )
    .await;
    let mut jobs = jobs(&stack);
    let job = submit_job(&stack, token, &shootout.id, "stream-test").await;
    let mut stream = watch_job(&stack, token, &job.id, "").await;

    // The first event (the snapshot) is in hand…
    let first = tokio::time::timeout(Duration::from_secs(30), stream.message())
        .await
        .expect("the first event must arrive while the job runs")
        .unwrap()
        .expect("a first event")
        .event
        .unwrap();
    let Some(job_event::Event::Snapshot(snapshot)) = &first.event else {
        panic!("the first event must be a snapshot: {first:?}");
    };
    assert!(!terminal(snapshot.status), "{snapshot:?}");
    // …while the job is still unfinished.
    let now = get_job(&stack, token, &job.id).await;
    assert!(
        !terminal(now.status),
        "the first event arrived only after the job ended: {now:?}"
    );

    // End the job now rather than waiting for the render; the stream carries the end.
    jobs.cancel_job(with_bearer(
        CancelJobRequest {
            job_id: job.id.clone(),
        },
        token,
    ))
    .await
    .unwrap();
    let mut last_id = first.event_id.clone();
    let mut ended = None;
    while let Some(response) = tokio::time::timeout(Duration::from_secs(60), stream.message())
        .await
        .expect("the stream must end after the job does")
        .unwrap()
    {
        let event = response.event.unwrap();
        if let Some(job_event::Event::StatusChange(change)) = &event.event
            && terminal(change.to_status)
        {
            ended = Some(change.to_status);
        }
        if !matches!(event.event, Some(job_event::Event::Heartbeat(_))) {
            assert!(
                event_position(&event.event_id) >= event_position(&last_id),
                "events out of order: {} after {last_id}",
                event.event_id
            );
            last_id = event.event_id.clone();
        }
    }
    let ended = ended.expect("a terminal status change before the stream ended");
    assert!(
        matches!(
            JobStatus::try_from(ended),
            Ok(JobStatus::Cancelled | JobStatus::Succeeded)
        ),
        "{ended}"
    );
    stack.stop().await;
}

/// While Redis is away the limits fail open: even a user over the limit is served (and
/// the gateway stays up), rather than every user being refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limits_fail_open_while_redis_is_down() {
    const USER_LIMIT: u64 = 3;
    let mut redis = gts_e2e::redis_server::RedisServer::start();
    let stack = Stack::start_with(&[
        ("GTS_REDIS_URL", redis.url()),
        (
            "GTS_GATEWAY_RATE_LIMIT_USER_PER_MINUTE",
            USER_LIMIT.to_string(),
        ),
    ])
    .await;
    let web = clients::grpc_web();
    let flooder = stack.token_for_new_user();
    let (status, _) = flood(&stack, &web, Some(&flooder), USER_LIMIT).await;
    assert_retry_info(&status, "this user");

    redis.kill_server();
    for _ in 0..3 {
        assert!(
            matches!(
                list_jobs(web.clone(), &stack, Some(&flooder)).await,
                Outcome::Served
            ),
            "with Redis down the call must go through uncounted"
        );
    }
    stack.stop().await;
}
