//! The gateway carries grpc-web calls from a browser-like client to each backend and
//! refuses internal services whatever the caller sends.

use gts_e2e::{Stack, clients};
use gts_proto::v1::{
    GetMeRequest, ListJobsRequest, PingRequest, PutChunkRequest, SearchTonesRequest,
    StartLoginRequest, auth_service_client::AuthServiceClient,
    job_service_client::JobServiceClient, library_service_client::LibraryServiceClient,
    ops_internal_client::OpsInternalClient, upload_service_client::UploadServiceClient,
};
use tonic::Code;

const SERVED_BY: &str = gts_common::server::SERVED_BY_HEADER;

fn served_by(status: &tonic::Status) -> String {
    status
        .metadata()
        .get(SERVED_BY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("<none>")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_web_calls_reach_each_backend() {
    let stack = Stack::start().await;
    let origin = stack.gateway_origin();

    // The answer must come from the backend that hosts the service, through the gateway,
    // over grpc-web (GetMe without a token is refused by auth itself).
    let status = AuthServiceClient::with_origin(clients::grpc_web(), origin.clone())
        .get_me(GetMeRequest::default())
        .await
        .expect_err("GetMe needs a signed-in user");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(served_by(&status), "gts-auth");

    let status = LibraryServiceClient::with_origin(clients::grpc_web(), origin.clone())
        .search_tones(SearchTonesRequest::default())
        .await
        .expect_err("SearchTones needs a signed-in user (or is not implemented yet)");
    assert!(
        matches!(status.code(), Code::Unauthenticated | Code::Unimplemented),
        "{status:?}"
    );
    assert_eq!(served_by(&status), "gts-shootout");

    let status = JobServiceClient::with_origin(clients::grpc_web(), origin.clone())
        .list_jobs(ListJobsRequest::default())
        .await
        .expect_err("ListJobs needs a signed-in user (or is not implemented yet)");
    assert!(
        matches!(status.code(), Code::Unauthenticated | Code::Unimplemented),
        "{status:?}"
    );
    assert_eq!(served_by(&status), "gts-worker");

    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_services_are_refused_at_the_gateway_but_work_directly() {
    let stack = Stack::start().await;
    let ping = PingRequest {
        delay_ms: 0,
        message: "hello".to_owned(),
    };

    // Directly at each service, the internal RPC answers a caller with a service
    // credential, and only such a caller: anonymous callers and users are refused at once
    // (even one asking for the longest delay).
    let credential = stack.service_credential("gts-ops");
    for (service, handle) in [
        ("gts-auth", &stack.auth),
        ("gts-shootout", &stack.shootout),
        ("gts-worker", &stack.worker),
    ] {
        let mut client = OpsInternalClient::new(handle.channel().await);
        let mut request = tonic::Request::new(ping.clone());
        credential.attach(&mut request).unwrap();
        let direct = client
            .ping(request)
            .await
            .expect("Ping answers a service credential")
            .into_inner();
        assert_eq!(direct.message, "hello");
        assert_eq!(direct.service, service);

        let slow = PingRequest {
            delay_ms: 10_000,
            message: "anyone".to_owned(),
        };
        let started = std::time::Instant::now();
        let status = client
            .ping(slow.clone())
            .await
            .expect_err("an anonymous Ping must be refused");
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "{service}: {status:?}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{service} held an anonymous Ping for {:?}",
            started.elapsed()
        );
        let status = client
            .ping(gts_e2e::with_bearer(slow, &stack.token_for_new_user()))
            .await
            .expect_err("a user's Ping must be refused");
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "{service}: {status:?}"
        );
    }

    // Through the gateway over grpc-web, with a bearer token, it is refused.
    let mut request = tonic::Request::new(ping.clone());
    request
        .metadata_mut()
        .insert("authorization", "Bearer any-token".parse().unwrap());
    let status = OpsInternalClient::with_origin(clients::grpc_web(), stack.gateway_origin())
        .ping(request)
        .await
        .expect_err("internal service must be refused");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("internal"), "{status:?}");
    assert_eq!(served_by(&status), "<none>", "no backend may see the call");

    // Plain gRPC through the gateway is refused the same way.
    let status = OpsInternalClient::new(stack.gateway.channel().await)
        .ping(ping)
        .await
        .expect_err("internal service must be refused over gRPC too");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");

    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_are_refused_at_the_edge_and_the_gateway_keeps_serving() {
    let stack = Stack::start().await;
    let origin = stack.gateway_origin();

    // 3 MiB in one PutChunk: over the 2 MiB limit, refused before auth and any backend.
    let status = UploadServiceClient::with_origin(clients::grpc_web(), origin.clone())
        .put_chunk(PutChunkRequest {
            upload_id: "any".to_owned(),
            offset: 0,
            data: vec![7u8; 3 * 1024 * 1024],
        })
        .await
        .expect_err("an oversized request must be refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("PutChunk"), "{status:?}");
    assert_eq!(served_by(&status), "<none>", "no backend may see the call");

    // The same client goes on being served.
    let started = AuthServiceClient::with_origin(clients::grpc_web(), origin)
        .start_login(StartLoginRequest::default())
        .await
        .expect("a normal call after the refusal")
        .into_inner();
    assert!(!started.authorize_url.is_empty());

    stack.stop().await;
}
