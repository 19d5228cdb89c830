//! The gateway at scale: calls spread over two processes of one backend service (each
//! counted by its own Prometheus endpoint), a flood past the concurrency limit answered
//! at once with RESOURCE_EXHAUSTED while the gateway's health stays SERVING, and the
//! default deadline of unary calls.

#![allow(clippy::unwrap_used)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use gts_common::{
    Env,
    shutdown::{Shutdown, ShutdownTrigger},
};
use gts_e2e::{
    Stack,
    binaries::{RunningBinary, command, free_local_addr},
    clients,
    stack::{ServiceHandle, StackSecrets, ephemeral_listener, service_env},
    telemetry::{sample, scrape},
    with_bearer,
};
use gts_proto::v1::{
    GetJobRequest, GetJobResponse, ListShootoutsRequest,
    job_service_client::JobServiceClient,
    job_service_server::{JobService, JobServiceServer},
    shootout_service_client::ShootoutServiceClient,
};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// A gateway in-process with `extra` on top of `base`.
async fn gateway(base: &[(String, String)], extra: &[(&str, String)]) -> ServiceHandle {
    let mut pairs = base.to_vec();
    pairs.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let config = gts_gateway::Config::from_env(&Env::from_pairs(pairs)).expect("gateway config");
    ServiceHandle::spawn(ephemeral_listener().await, |l, s| {
        gts_gateway::serve(config, l, s)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_spread_over_two_processes_of_one_service() {
    let stack = Stack::start().await;
    let mut processes = Vec::new();
    let mut urls = Vec::new();
    let mut metrics = Vec::new();
    for _ in 0..2 {
        let (addr, metrics_addr) = (free_local_addr(), free_local_addr());
        let mut shootout = command("gts-shootout");
        shootout.envs(stack.backend_env.iter().cloned()).envs([
            ("GTS_SHOOTOUT_LISTEN", addr.to_string()),
            ("GTS_METRICS_LISTEN", metrics_addr.to_string()),
            ("GTS_LOG", "info".to_owned()),
        ]);
        processes.push(RunningBinary::start(shootout).await.drain_log());
        urls.push(format!("http://{addr}"));
        metrics.push(metrics_addr);
    }
    let balanced = gateway(
        &stack.backend_env,
        &[
            ("GTS_SHOOTOUT_URL", urls.join(",")),
            ("GTS_WORKER_URL", format!("http://{}", stack.worker.addr)),
            ("GTS_GATEWAY_RESOLVE_INTERVAL_MS", "200".to_owned()),
        ],
    )
    .await;

    let token = stack.token_for_new_user();
    let mut client =
        ShootoutServiceClient::with_origin(clients::grpc_web(), clients::origin(balanced.addr));
    const CALLS: usize = 40;
    for _ in 0..CALLS {
        client
            .list_shootouts(with_bearer(ListShootoutsRequest::default(), &token))
            .await
            .expect("ListShootouts through the balanced gateway");
    }

    let labels = [
        "service=\"gts.v1.ShootoutService\"",
        "method=\"ListShootouts\"",
        "code=\"OK\"",
    ];
    let mut served = Vec::new();
    for addr in &metrics {
        served.push(sample(
            &scrape(*addr).await,
            "gts_rpc_requests_total",
            &labels,
        ));
    }
    assert_eq!(served.iter().sum::<f64>(), CALLS as f64, "{served:?}");
    assert!(
        served.iter().all(|n| *n >= 1.0),
        "one process got every call: {served:?}"
    );

    balanced.stop().await.expect("the gateway stops cleanly");
    drop(processes);
    stack.stop().await;
}

/// A JobService whose GetJob takes `delay`, counting the calls it receives (also on
/// `arrived`, which a test waits on).
#[derive(Clone)]
struct SlowJobs {
    delay: Duration,
    calls: Arc<AtomicUsize>,
    arrived: Arc<tokio::sync::watch::Sender<usize>>,
}

#[tonic::async_trait]
impl JobService for SlowJobs {
    type WatchJobStream = tonic::codegen::BoxStream<gts_proto::v1::WatchJobResponse>;

    // The RPCs this backend does not serve (the trait has no default bodies).
    async fn submit_job(
        &self,
        _request: tonic::Request<gts_proto::v1::SubmitJobRequest>,
    ) -> Result<tonic::Response<gts_proto::v1::SubmitJobResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("submit_job"))
    }

    async fn list_jobs(
        &self,
        _request: tonic::Request<gts_proto::v1::ListJobsRequest>,
    ) -> Result<tonic::Response<gts_proto::v1::ListJobsResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("list_jobs"))
    }

    async fn cancel_job(
        &self,
        _request: tonic::Request<gts_proto::v1::CancelJobRequest>,
    ) -> Result<tonic::Response<gts_proto::v1::CancelJobResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("cancel_job"))
    }

    async fn list_artifacts(
        &self,
        _request: tonic::Request<gts_proto::v1::ListArtifactsRequest>,
    ) -> Result<tonic::Response<gts_proto::v1::ListArtifactsResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("list_artifacts"))
    }

    async fn get_artifact_url(
        &self,
        _request: tonic::Request<gts_proto::v1::GetArtifactUrlRequest>,
    ) -> Result<tonic::Response<gts_proto::v1::GetArtifactUrlResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("get_artifact_url"))
    }

    async fn share_job(
        &self,
        _request: tonic::Request<gts_proto::v1::ShareJobRequest>,
    ) -> Result<tonic::Response<gts_proto::v1::ShareJobResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("share_job"))
    }

    async fn unshare_job(
        &self,
        _request: tonic::Request<gts_proto::v1::UnshareJobRequest>,
    ) -> Result<tonic::Response<gts_proto::v1::UnshareJobResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("unshare_job"))
    }

    async fn get_shared_result(
        &self,
        _request: tonic::Request<gts_proto::v1::GetSharedResultRequest>,
    ) -> Result<tonic::Response<gts_proto::v1::GetSharedResultResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("get_shared_result"))
    }

    async fn get_shared_artifact_url(
        &self,
        _request: tonic::Request<gts_proto::v1::GetSharedArtifactUrlRequest>,
    ) -> Result<tonic::Response<gts_proto::v1::GetSharedArtifactUrlResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("get_shared_artifact_url"))
    }

    async fn watch_job(
        &self,
        _request: tonic::Request<gts_proto::v1::WatchJobRequest>,
    ) -> Result<tonic::Response<Self::WatchJobStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("watch_job"))
    }

    async fn get_job(
        &self,
        _request: tonic::Request<GetJobRequest>,
    ) -> Result<tonic::Response<GetJobResponse>, tonic::Status> {
        let count = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.arrived.send_replace(count);
        // The backend's work: long enough that the gateway's limit stays full.
        tokio::time::sleep(self.delay).await;
        Ok(tonic::Response::new(GetJobResponse::default()))
    }
}

/// The slow backend on an ephemeral port, until the trigger fires.
async fn slow_backend(
    delay: Duration,
) -> (
    std::net::SocketAddr,
    Arc<AtomicUsize>,
    tokio::sync::watch::Receiver<usize>,
    ShutdownTrigger,
) {
    let listener = ephemeral_listener().await;
    let addr = listener.local_addr().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let (arrived, arrivals) = tokio::sync::watch::channel(0);
    let service = JobServiceServer::new(SlowJobs {
        delay,
        calls: Arc::clone(&calls),
        arrived: Arc::new(arrived),
    });
    let (trigger, shutdown) = Shutdown::new();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown.wait()),
    );
    (addr, calls, arrivals, trigger)
}

/// What a gateway in front of the slow backend needs (no auth process: pinned keys).
fn edge_env(worker: std::net::SocketAddr) -> Vec<(String, String)> {
    let secrets = StackSecrets::generate();
    let mut env = service_env(
        "postgres://unused@127.0.0.1/unused",
        &gts_e2e::unique_redis_prefix(),
    );
    env.extend(secrets.verifier_env());
    env.push(("GTS_WORKER_URL".to_owned(), format!("http://{worker}")));
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_shed_with_resource_exhausted_while_health_stays_serving() {
    const LIMIT: usize = 4;
    const CALLS: usize = 48;
    let (backend, received, mut arrivals, backend_stop) =
        slow_backend(Duration::from_millis(1500)).await;
    let edge = gateway(
        &edge_env(backend),
        &[("GTS_GATEWAY_MAX_CONCURRENT_CALLS", LIMIT.to_string())],
    )
    .await;
    gts_e2e::health::wait_for_status(
        edge.channel().await,
        "",
        ServingStatus::Serving,
        Duration::from_secs(10),
    )
    .await;

    let started = Instant::now();
    let calls = (0..CALLS).map(|i| {
        let origin = clients::origin(edge.addr);
        async move {
            let mut client = JobServiceClient::with_origin(clients::grpc_web(), origin);
            let request = GetJobRequest {
                job_id: format!("00000000-0000-0000-0000-{i:012}"),
            };
            let answered = client.get_job(request).await;
            (
                answered.map(|_| ()).map_err(|status| status.code()),
                started.elapsed(),
            )
        }
    });
    let flood = futures::future::join_all(calls);
    // Health answers while the flood is on: once the backend holds the limit's calls.
    let health = async {
        arrivals
            .wait_for(|count| *count >= LIMIT)
            .await
            .expect("the backend runs");
        HealthClient::new(edge.channel().await)
            .check(HealthCheckRequest::default())
            .await
            .expect("health answers during the flood")
            .into_inner()
            .status
    };
    let (results, health) = tokio::join!(flood, health);
    assert_eq!(health, ServingStatus::Serving as i32);

    let shed = results
        .iter()
        .filter(|(result, _)| *result == Err(Code::ResourceExhausted))
        .count();
    let served = results.iter().filter(|(result, _)| result.is_ok()).count();
    assert_eq!(shed + served, CALLS, "other answers: {results:?}");
    assert!(served >= 1 && served <= CALLS - shed, "{results:?}");
    assert!(shed >= CALLS / 2, "only {shed} of {CALLS} calls were shed");
    assert_eq!(
        received.load(Ordering::SeqCst),
        served,
        "shed calls reached the backend"
    );
    // Shed calls are answered at once, not after the slow calls.
    let slowest_shed = results
        .iter()
        .filter(|(result, _)| result.is_err())
        .map(|(_, took)| *took)
        .max()
        .unwrap();
    assert!(
        slowest_shed < Duration::from_millis(1500),
        "a shed call waited {slowest_shed:?}"
    );

    edge.stop().await.expect("the gateway stops cleanly");
    backend_stop.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unary_calls_without_a_deadline_get_the_default_one() {
    let (backend, _, _, backend_stop) = slow_backend(Duration::from_secs(3)).await;
    let edge = gateway(
        &edge_env(backend),
        &[("GTS_GATEWAY_DEFAULT_DEADLINE_MS", "300".to_owned())],
    )
    .await;
    let mut client = JobServiceClient::with_origin(clients::grpc_web(), clients::origin(edge.addr));
    let started = Instant::now();
    let status = client
        .get_job(GetJobRequest {
            job_id: "00000000-0000-0000-0000-000000000001".to_owned(),
        })
        .await
        .expect_err("the default deadline cuts the slow call");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    edge.stop().await.expect("the gateway stops cleanly");
    backend_stop.trigger();
}
