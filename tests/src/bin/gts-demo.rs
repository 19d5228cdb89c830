//! `gts-demo`: shows a running local stack doing its job, as `deploy/local/run.sh` starts
//! it. Today: every service's health and reflection, a grpc-web call through the gateway
//! to each backend, and the gateway refusing an internal service. Later issues extend it
//! until it renders a whole shootout.
//!
//! Addresses come from the same variables the services read (`GTS_AUTH_LISTEN`, ...).

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use gts_e2e::{clients, health::wait_for_status};
use gts_proto::v1::{
    GetMeRequest, ListJobsRequest, PingRequest, SearchTonesRequest,
    auth_service_client::AuthServiceClient, job_service_client::JobServiceClient,
    library_service_client::LibraryServiceClient, ops_internal_client::OpsInternalClient,
};
use tonic_health::pb::health_check_response::ServingStatus;

fn addr(var: &str, default: &str) -> Result<SocketAddr, String> {
    let raw = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    raw.parse()
        .map_err(|e| format!("configuration error: {var}={raw:?} is invalid: {e}"))
}

fn outcome<T>(result: Result<tonic::Response<T>, tonic::Status>) -> String {
    let served_by = |meta: &tonic::metadata::MetadataMap| {
        meta.get(gts_common::server::SERVED_BY_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("the gateway")
            .to_owned()
    };
    match result {
        Ok(response) => format!("OK (served by {})", served_by(response.metadata())),
        Err(status) => format!(
            "{:?}: {} (served by {})",
            status.code(),
            status.message(),
            served_by(status.metadata())
        ),
    }
}

async fn demo() -> Result<(), String> {
    let services = [
        ("gts-auth", addr("GTS_AUTH_LISTEN", "127.0.0.1:50051")?),
        (
            "gts-shootout",
            addr("GTS_SHOOTOUT_LISTEN", "127.0.0.1:50052")?,
        ),
        ("gts-worker", addr("GTS_WORKER_LISTEN", "127.0.0.1:50053")?),
        ("gts-gateway", addr("GTS_GATEWAY_LISTEN", "127.0.0.1:8080")?),
    ];

    println!("== health (grpc.health.v1, following PostgreSQL and Redis)");
    for (name, addr) in services {
        let channel = clients::grpc(addr).await;
        wait_for_status(channel, "", ServingStatus::Serving, Duration::from_secs(60)).await;
        println!("   {name:<13} {addr:<16} SERVING");
    }

    println!("== internal drain-check RPC, called directly (gts.v1.OpsInternal/Ping)");
    for (name, addr) in &services[..3] {
        let reply = OpsInternalClient::new(clients::grpc(*addr).await)
            .ping(PingRequest {
                delay_ms: 0,
                message: "hello".to_owned(),
            })
            .await
            .map_err(|s| format!("{name} Ping failed: {s}"))?
            .into_inner();
        println!(
            "   {name:<13} answered {:?} as {}",
            reply.message, reply.service
        );
    }

    let gateway = clients::origin(services[3].1);
    println!("== grpc-web through the gateway (HTTP/1.1, as a browser calls)");
    let web = clients::grpc_web;
    println!(
        "   AuthService/GetMe          -> {}",
        outcome(
            AuthServiceClient::with_origin(web(), gateway.clone())
                .get_me(GetMeRequest::default())
                .await
        )
    );
    println!(
        "   LibraryService/SearchTones -> {}",
        outcome(
            LibraryServiceClient::with_origin(web(), gateway.clone())
                .search_tones(SearchTonesRequest::default())
                .await
        )
    );
    println!(
        "   JobService/ListJobs        -> {}",
        outcome(
            JobServiceClient::with_origin(web(), gateway.clone())
                .list_jobs(ListJobsRequest::default())
                .await
        )
    );
    println!(
        "   OpsInternal/Ping           -> {}",
        outcome(
            OpsInternalClient::with_origin(web(), gateway)
                .ping(PingRequest::default())
                .await
        )
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match demo().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(line) => {
            eprintln!("{line}");
            ExitCode::FAILURE
        }
    }
}
