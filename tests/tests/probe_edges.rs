//! Holes an outside probe found, closed end to end: ids of any length answered with a
//! small INVALID_ARGUMENT through the gateway and directly; ListJobs refusing pages over
//! the shared limit and other lists' page tokens; DeleteShootout racing SubmitJob never
//! leaving a job on a half-deleted shootout.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::sync::Arc;

use gts_e2e::{
    Stack, clients,
    shootouts::{block, chain, create_shootout, one_di_shootout, plucked_wav, upload},
    with_bearer,
};
use gts_proto::v1::{
    AssetKind, DeleteShootoutRequest, GainBlock, GetShootoutRequest, ListJobsRequest,
    ListShootoutsRequest, RenderSpec, SubmitJobRequest, block::Kind,
    job_service_client::JobServiceClient, shootout_service_client::ShootoutServiceClient,
};
use prost::Message;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_kilobyte_ids_are_invalid_argument_through_the_gateway_and_directly() {
    let stack = Stack::start().await;
    let token = stack.token_for_new_user();
    let long = "f".repeat(10 * 1024);
    let request = || {
        with_bearer(
            GetShootoutRequest {
                shootout_id: long.clone(),
            },
            &token,
        )
    };
    let over_grpc_web =
        ShootoutServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin())
            .get_shootout(request())
            .await
            .unwrap_err();
    let over_grpc_via_gateway = ShootoutServiceClient::new(stack.gateway.channel().await)
        .get_shootout(request())
        .await
        .unwrap_err();
    let direct = ShootoutServiceClient::new(stack.shootout.channel().await)
        .get_shootout(request())
        .await
        .unwrap_err();
    for (path, status) in [
        ("grpc-web via the gateway", over_grpc_web),
        ("gRPC via the gateway", over_grpc_via_gateway),
        ("gRPC to gts-shootout", direct),
    ] {
        assert_eq!(status.code(), Code::InvalidArgument, "{path}: {status:?}");
        assert!(
            status.message().contains("shootout_id"),
            "{path}: {status:?}"
        );
        assert!(status.message().len() < 300, "{path}: {status:?}");
    }
    // The worker too (it never echoed ids; the bound holds there as well).
    let status = JobServiceClient::new(stack.worker.channel().await)
        .submit_job(with_bearer(
            SubmitJobRequest {
                shootout_id: long.clone(),
                idempotency_key: long.clone(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().len() < 300, "{status:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_jobs_refuses_big_pages_and_other_lists_tokens() {
    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    let token = signed_in.access_token();
    let di = upload(
        &stack,
        token,
        AssetKind::DiTrack,
        "di.wav",
        &plucked_wav(2.0, 48_000),
    )
    .await;
    let gain = || chain("Gain", vec![block(Kind::Gain(GainBlock { gain_db: 1.0 }))]);
    for name in ["One", "Two"] {
        create_shootout(
            &stack,
            token,
            one_di_shootout(name, &di, "DI", vec![gain()]),
        )
        .await;
    }
    let shootouts_token =
        ShootoutServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin())
            .list_shootouts(with_bearer(
                ListShootoutsRequest {
                    page_size: 1,
                    page_token: String::new(),
                },
                token,
            ))
            .await
            .unwrap()
            .into_inner()
            .next_page_token;
    assert!(!shootouts_token.is_empty());

    let mut jobs = JobServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin());
    let list = |page_size: u32, page_token: &str| {
        with_bearer(
            ListJobsRequest {
                page_size,
                page_token: page_token.to_owned(),
                ..Default::default()
            },
            token,
        )
    };
    jobs.list_jobs(list(100, "")).await.unwrap();
    let status = jobs.list_jobs(list(101, "")).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("100"), "{status:?}");
    let status = jobs
        .list_jobs(list(10, &shootouts_token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("another list"), "{status:?}");
    stack.stop().await;
}

/// The decision (docs/worker.md): a job renders the shootout as it was at SubmitJob (a
/// snapshot). Raced truly concurrently against DeleteShootout, SubmitJob either finds
/// the shootout whole or answers NOT_FOUND; no job is ever queued with a part of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delete_racing_submit_never_queues_a_half_deleted_shootout() {
    const CHAINS: usize = 8;
    const ROUNDS: usize = 40;
    // API-only worker: the jobs stay queued, their specs are what is checked.
    let stack = Stack::start_with(&[("GTS_WORKER_RUN_JOBS", "false".to_owned())]).await;
    let signed_in = stack.login().await;
    let token = signed_in.access_token().to_owned();
    let di = upload(
        &stack,
        &token,
        AssetKind::DiTrack,
        "di.wav",
        &plucked_wav(2.0, 48_000),
    )
    .await;
    let chains = || {
        (0..CHAINS)
            .map(|i| {
                chain(
                    &format!("Chain {i}"),
                    vec![block(Kind::Gain(GainBlock { gain_db: 1.0 }))],
                )
            })
            .collect::<Vec<_>>()
    };
    let db = stack.db_pool().await;
    let (mut queued, mut not_found) = (0, 0);
    for round in 0..ROUNDS {
        let shootout =
            create_shootout(&stack, &token, one_di_shootout("Race", &di, "DI", chains())).await;
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let submit = {
            let mut client = JobServiceClient::new(stack.worker.channel().await);
            let request = with_bearer(
                SubmitJobRequest {
                    shootout_id: shootout.id.clone(),
                    idempotency_key: format!("race-{round}"),
                },
                &token,
            );
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                client.submit_job(request).await
            })
        };
        let delete = {
            let mut client = ShootoutServiceClient::new(stack.shootout.channel().await);
            let request = with_bearer(
                DeleteShootoutRequest {
                    shootout_id: shootout.id.clone(),
                    etag: String::new(),
                },
                &token,
            );
            tokio::spawn(async move {
                barrier.wait().await;
                client.delete_shootout(request).await
            })
        };
        delete.await.unwrap().unwrap();
        match submit.await.unwrap() {
            Ok(reply) => {
                let job = reply.into_inner().job.unwrap();
                let id: uuid::Uuid = job.id.parse().unwrap();
                let spec: Vec<u8> =
                    sqlx::query_scalar("SELECT spec FROM worker.jobs WHERE id = $1")
                        .bind(id)
                        .fetch_one(&db)
                        .await
                        .unwrap();
                let spec = RenderSpec::decode(spec.as_slice()).unwrap();
                let frozen = spec.shootout.unwrap();
                assert_eq!(
                    frozen.chains.len(),
                    CHAINS,
                    "round {round}: a half-deleted shootout"
                );
                assert_eq!(
                    spec.di_tracks.len(),
                    1,
                    "round {round}: a half-deleted shootout"
                );
                queued += 1;
            }
            Err(status) => {
                assert_eq!(status.code(), Code::NotFound, "round {round}: {status:?}");
                not_found += 1;
            }
        }
    }
    assert_eq!(queued + not_found, ROUNDS);
    db.close().await;
    stack.stop().await;
}
