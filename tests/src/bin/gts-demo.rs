//! `gts-demo`: shows a running local stack doing its job, as `deploy/local/run.sh` starts
//! it: every service's health, the internal drain-check RPC, a TONE3000 sign-in (against
//! the fake) through the gateway over grpc-web, the signed-in user's calls routed to each
//! backend, and the gateway refusing an internal service. Rendering through the worker
//! joins it when the worker's render step lands; `run.sh` renders offline meanwhile.
//!
//! Addresses come from the same variables the services read (`GTS_AUTH_LISTEN`, ...).

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use gts_e2e::{clients, health::wait_for_status, stack::follow_authorize, with_bearer};
use gts_proto::v1::{
    CompleteLoginRequest, GetMeRequest, ListJobsRequest, ListShootoutsRequest, PingRequest,
    SearchTonesRequest, StartLoginRequest, auth_service_client::AuthServiceClient,
    job_service_client::JobServiceClient, library_service_client::LibraryServiceClient,
    ops_internal_client::OpsInternalClient, shootout_service_client::ShootoutServiceClient,
};
use tonic::transport::{Channel, Endpoint};
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

/// Connects once the process accepts connections (it may still be starting), or says
/// which process never came up.
async fn connect(name: &str, addr: SocketAddr) -> Result<Channel, String> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}")).map_err(|e| e.to_string())?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match endpoint.connect().await {
            Ok(channel) => return Ok(channel),
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => {
                return Err(format!(
                    "{name} is not accepting connections on {addr}: {error}; see .local/logs/{name}.log"
                ));
            }
        }
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
        let channel = connect(name, addr).await?;
        wait_for_status(channel, "", ServingStatus::Serving, Duration::from_secs(60)).await;
        println!("   {name:<13} {addr:<16} SERVING");
    }

    println!("== internal drain-check RPC, called directly (gts.v1.OpsInternal/Ping)");
    for (name, addr) in &services[..3] {
        let reply = OpsInternalClient::new(connect(name, *addr).await?)
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
    let web = clients::grpc_web;
    println!("== sign in with TONE3000 (the fake) through the gateway, over grpc-web as a browser");
    let mut auth = AuthServiceClient::with_origin(web(), gateway.clone());
    let started = auth
        .start_login(StartLoginRequest::default())
        .await
        .map_err(|s| format!("StartLogin failed: {s}"))?
        .into_inner();
    println!("   StartLogin          -> authorize URL with PKCE S256 and a state");
    let redirect = follow_authorize(&started.authorize_url).await;
    let (Some(code), Some(state)) = (redirect.get("code"), redirect.get("state")) else {
        return Err(format!(
            "TONE3000 did not redirect back with a code: {redirect:?}"
        ));
    };
    let session = auth
        .complete_login(CompleteLoginRequest {
            code: code.clone(),
            state: state.clone(),
        })
        .await
        .map_err(|s| format!("CompleteLogin failed: {s}"))?
        .into_inner()
        .session
        .ok_or("CompleteLogin returned no session")?;
    let token = session.access_token;
    let me = auth
        .get_me(with_bearer(GetMeRequest::default(), &token))
        .await
        .map_err(|s| format!("GetMe failed: {s}"))?
        .into_inner()
        .user
        .ok_or("GetMe returned no user")?;
    println!(
        "   CompleteLogin/GetMe -> signed in as {:?} ({})",
        me.username, me.id
    );

    println!("== the signed-in user's calls, routed by service name");
    let tones = LibraryServiceClient::with_origin(web(), gateway.clone())
        .search_tones(with_bearer(SearchTonesRequest::default(), &token))
        .await
        .map_err(|s| format!("SearchTones failed: {s}"))?
        .into_inner()
        .tones;
    let titles: Vec<&str> = tones.iter().map(|t| t.title.as_str()).collect();
    println!(
        "   LibraryService/SearchTones -> {} tones: {titles:?}",
        tones.len()
    );
    let shootouts = ShootoutServiceClient::with_origin(web(), gateway.clone())
        .list_shootouts(with_bearer(ListShootoutsRequest::default(), &token))
        .await
        .map_err(|s| format!("ListShootouts failed: {s}"))?
        .into_inner()
        .shootouts;
    println!(
        "   ShootoutService/ListShootouts -> {} shootouts",
        shootouts.len()
    );
    let jobs = JobServiceClient::with_origin(web(), gateway.clone())
        .list_jobs(with_bearer(ListJobsRequest::default(), &token))
        .await
        .map_err(|s| format!("ListJobs failed: {s}"))?
        .into_inner()
        .jobs;
    println!("   JobService/ListJobs -> {} jobs", jobs.len());
    println!(
        "   OpsInternal/Ping (internal) -> {}",
        outcome(
            OpsInternalClient::with_origin(web(), gateway)
                .ping(with_bearer(PingRequest::default(), &token))
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
