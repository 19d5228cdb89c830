//! Server reflection at each service lists exactly the services that process hosts.

use std::collections::BTreeSet;

use gts_e2e::Stack;
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

async fn list_services(channel: tonic::transport::Channel) -> BTreeSet<String> {
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection answers")
        .into_inner();
    let response = responses
        .message()
        .await
        .expect("reflection stream")
        .expect("one response");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection response {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_each_services_own_services() {
    let stack = Stack::start().await;
    for (handle, hosted, foreign) in [
        (&stack.auth, gts_auth::SERVICE_NAMES, "gts.v1.JobService"),
        (
            &stack.shootout,
            gts_shootout::SERVICE_NAMES,
            "gts.v1.AuthService",
        ),
        (
            &stack.worker,
            gts_worker::SERVICE_NAMES,
            "gts.v1.ShootoutService",
        ),
    ] {
        let listed = list_services(handle.channel().await).await;
        for name in hosted.iter().chain(&["grpc.health.v1.Health"]) {
            assert!(listed.contains(*name), "{name} missing from {listed:?}");
        }
        assert!(
            !listed.contains(foreign),
            "{foreign} must not be listed: {listed:?}"
        );
    }
    stack.stop().await;
}
