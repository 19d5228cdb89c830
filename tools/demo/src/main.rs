//! `gts-demo`: shows a running local stack doing its job, as `deploy/local/run.sh` starts
//! it: every service's health, the internal drain-check RPC, a TONE3000 sign-in (against
//! the fake) through the gateway over grpc-web, the signed-in user's calls routed to each
//! backend, the gateway refusing an internal service, then the main job: a 4-chain shootout
//! of TONE3000 library models and an uploaded cabinet IR on a synthesised DI, submitted,
//! watched live to the end, and its artifacts downloaded through their signed URLs into
//! `GTS_DEMO_OUT` (default `.local/demo-render`).
//!
//! Addresses come from the same variables the services read (`GTS_AUTH_LISTEN`, ...).

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use futures::StreamExt;
use gts_e2e::{
    clients::{self, GrpcWebChannel},
    health::wait_for_status,
    shootouts::{cabinet, chain, library, nam, plucked_wav, try_upload},
    stack::follow_authorize,
    with_bearer,
};
use gts_proto::v1::{
    AssetKind, CompleteLoginRequest, CreateShootoutRequest, DiTrackRef, GetArtifactUrlRequest,
    GetMeRequest, JobStatus, ListArtifactsRequest, ListJobsRequest, ListShootoutsRequest,
    OutputOptions, PingRequest, RenderStage, SearchTonesRequest, Shootout, StartLoginRequest,
    SubmitJobRequest, WatchJobRequest, auth_service_client::AuthServiceClient, job_event::Event,
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

    println!(
        "== internal drain-check RPC, called directly with a service credential (gts.v1.OpsInternal/Ping)"
    );
    let secret = std::env::var("GTS_SERVICE_TOKEN")
        .map_err(|_| "GTS_SERVICE_TOKEN is required (the secret of service credentials)")?;
    let credential = gts_common::auth::ServiceCredential::new(
        "gts-demo",
        &gts_common::auth::ServiceSecret::new(&secret)
            .map_err(|e| format!("configuration error: GTS_SERVICE_TOKEN: {e}"))?,
    );
    for (name, addr) in &services[..3] {
        let mut request = tonic::Request::new(PingRequest {
            delay_ms: 0,
            message: "hello".to_owned(),
        });
        credential
            .attach(&mut request)
            .map_err(|s| format!("cannot mint a service credential: {s}"))?;
        let reply = OpsInternalClient::new(connect(name, *addr).await?)
            .ping(request)
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
            OpsInternalClient::with_origin(web(), gateway.clone())
                .ping(with_bearer(PingRequest::default(), &token))
                .await
        )
    );
    render_shootout(&gateway, &token).await
}

/// Uploads `bytes` through the gateway in the service's chunk size; answers the asset id.
async fn upload(
    gateway: &http::Uri,
    token: &str,
    kind: AssetKind,
    name: &str,
    bytes: &[u8],
) -> Result<String, String> {
    try_upload(gateway, token, kind, name, bytes)
        .await
        .map(|asset| asset.id)
        .map_err(|status| format!("the upload of {name} failed: {status}"))
}

/// The main job: build, submit, watch and download a 4-chain shootout.
async fn render_shootout(gateway: &http::Uri, token: &str) -> Result<(), String> {
    let web = clients::grpc_web;
    println!("== the main job: a 4-chain shootout rendered by the worker");
    let di = upload(
        gateway,
        token,
        AssetKind::DiTrack,
        "demo-di.wav",
        &plucked_wav(12.0, 48_000),
    )
    .await?;
    let ir_bytes = std::fs::read(
        // The workspace's test fixtures (tools/demo is two folders below the root).
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/irs/4x12-vintage.wav"),
    )
    .map_err(|e| format!("cannot read the fixture IR: {e}"))?;
    let ir = upload(
        gateway,
        token,
        AssetKind::ImpulseResponse,
        "4x12-vintage.wav",
        &ir_bytes,
    )
    .await?;
    println!("   uploaded a synthesised 12 s DI and a cabinet IR in chunks");
    let my_cab = || cabinet(gts_proto::v1::model_source::Source::AssetId(ir.clone()));
    let draft = Shootout {
        name: "GTS demo".into(),
        description: "Four captures from the TONE3000 library, one DI, levelled to -14 LUFS."
            .into(),
        di_tracks: vec![DiTrackRef {
            asset_id: di,
            label: "Plucked riff".into(),
        }],
        chains: vec![
            chain(
                "JCM800 standard",
                vec![nam(library(51949, 293886)), my_cab()],
            ),
            chain("Badlander A2", vec![nam(library(6298, 301200)), my_cab()]),
            chain(
                "Deluxe LSTM",
                vec![nam(library(70112, 310500)), cabinet(library(33510, 220302))],
            ),
            chain(
                "Klon into JCM800 nano",
                vec![
                    nam(library(2699, 150044)),
                    nam(library(51949, 293887)),
                    my_cab(),
                ],
            ),
        ],
        output_options: Some(OutputOptions {
            video_enabled: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    let shootout = ShootoutServiceClient::with_origin(web(), gateway.clone())
        .create_shootout(with_bearer(
            CreateShootoutRequest {
                shootout: Some(draft),
            },
            token,
        ))
        .await
        .map_err(|s| format!("CreateShootout failed: {s}"))?
        .into_inner()
        .shootout
        .ok_or("CreateShootout returned no shootout")?;
    let mut jobs = JobServiceClient::with_origin(web(), gateway.clone());
    let job = jobs
        .submit_job(with_bearer(
            SubmitJobRequest {
                shootout_id: shootout.id.clone(),
                idempotency_key: uuid::Uuid::new_v4().to_string(),
            },
            token,
        ))
        .await
        .map_err(|s| format!("SubmitJob failed: {s}"))?
        .into_inner()
        .job
        .ok_or("SubmitJob returned no job")?;
    println!(
        "   SubmitJob -> job {}; watching (WatchJob, a server stream through the gateway)",
        job.id
    );
    watch(&mut jobs, &job.id, token).await?;
    download(&mut jobs, &job.id, token).await
}

/// Prints the job's progress as it arrives, until its terminal event.
async fn watch(
    jobs: &mut JobServiceClient<GrpcWebChannel>,
    job_id: &str,
    token: &str,
) -> Result<(), String> {
    let mut stream = jobs
        .watch_job(with_bearer(
            WatchJobRequest {
                job_id: job_id.to_owned(),
                after_event_id: String::new(),
            },
            token,
        ))
        .await
        .map_err(|s| format!("WatchJob failed: {s}"))?
        .into_inner();
    let mut last = (String::new(), -1i64);
    while let Some(message) = stream.next().await {
        let message = message.map_err(|s| format!("the watch stream broke: {s}"))?;
        match message.event.and_then(|e| e.event) {
            Some(Event::Progress(progress)) => {
                let stage = match progress.stage() {
                    RenderStage::RenderingChain => format!(
                        "rendering chain {} of {}",
                        progress.chain_index.unwrap_or(0) + 1,
                        progress.chain_count
                    ),
                    other => other
                        .as_str_name()
                        .trim_start_matches("RENDER_STAGE_")
                        .to_lowercase(),
                };
                // One line per stage and per 10 % keeps the output readable.
                let decile = (progress.overall_fraction * 100.0).round() as i64 / 10;
                if (stage.as_str(), decile) != (last.0.as_str(), last.1) {
                    println!("   {:>3.0}%  {stage}", progress.overall_fraction * 100.0);
                    last = (stage, decile);
                }
            }
            Some(Event::StatusChange(change)) => {
                println!(
                    "   status -> {:?} (attempt {})",
                    change.to_status(),
                    change.attempt
                );
                match change.to_status() {
                    JobStatus::Succeeded => return Ok(()),
                    JobStatus::Failed | JobStatus::Cancelled => {
                        return Err(format!(
                            "the job ended {:?}: {}",
                            change.to_status(),
                            change.error_message
                        ));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Err("the watch stream ended before the job did".to_owned())
}

/// Downloads every artifact through its signed URL into `GTS_DEMO_OUT`.
async fn download(
    jobs: &mut JobServiceClient<GrpcWebChannel>,
    job_id: &str,
    token: &str,
) -> Result<(), String> {
    use http_body_util::{BodyExt, Empty};
    let out = std::path::PathBuf::from(
        std::env::var("GTS_DEMO_OUT").unwrap_or_else(|_| ".local/demo-render".to_owned()),
    );
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let artifacts = jobs
        .list_artifacts(with_bearer(
            ListArtifactsRequest {
                job_id: job_id.to_owned(),
            },
            token,
        ))
        .await
        .map_err(|s| format!("ListArtifacts failed: {s}"))?
        .into_inner()
        .artifacts;
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<bytes::Bytes>>();
    println!(
        "== artifacts, downloaded through their signed gateway URLs into {}",
        out.display()
    );
    for artifact in artifacts {
        let url = jobs
            .get_artifact_url(with_bearer(
                GetArtifactUrlRequest {
                    job_id: job_id.to_owned(),
                    artifact_id: artifact.id.clone(),
                },
                token,
            ))
            .await
            .map_err(|s| format!("GetArtifactUrl failed: {s}"))?
            .into_inner()
            .url;
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("bad artifact URL {url}: {e}"))?;
        let response = http
            .get(uri)
            .await
            .map_err(|e| format!("download of {} failed: {e}", artifact.filename))?;
        if !response.status().is_success() {
            return Err(format!(
                "download of {} answered {}",
                artifact.filename,
                response.status()
            ));
        }
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("download of {} broke: {e}", artifact.filename))?
            .to_bytes();
        let path = out.join(&artifact.filename);
        std::fs::write(&path, &bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!(
            "   {:<34} {:>10} bytes  {}",
            artifact.filename,
            bytes.len(),
            artifact.content_type
        );
    }
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
