//! A real render through the gateway over grpc-web, as the browser does it: upload a DI, a
//! model and an IR, build a 4-chain shootout mixing uploads and TONE3000 library models,
//! submit it, watch live progress to the end, then download the A/B comparison through its
//! signed URL (whole and by Range) and decode it. Forged, expired and other users' access is
//! refused.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::StreamExt;
use gts_common::signed_url::UrlSigner;
use gts_e2e::{
    Stack,
    shootouts::{
        asset, block, cabinet, chain, create_shootout, events_until_rendering, fixture, get_job,
        jobs, library, nam, one_di_shootout, plucked_wav, submit_job, two_standard_chains, upload,
        watch_job,
    },
    stack::with_bearer,
};
use gts_proto::v1::{
    ArtifactKind, GainBlock, GetArtifactUrlRequest, JobStatus, ListArtifactsRequest,
    NoiseGateBlock, RenderStage, SignalChain, WatchJobRequest, block::Kind, job_event::Event,
};
use http_body_util::{BodyExt, Empty};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use tonic::Code;

/// Fetches `url` with optional headers; answers status, headers and body.
async fn http_get(url: &str, headers: &[(&str, &str)]) -> (u16, http::HeaderMap, Vec<u8>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    let mut request = http::Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client
        .request(request.body(Empty::new()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status.as_u16(), parts.headers, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_four_chain_shootout_renders_and_its_ab_downloads_through_the_gateway() {
    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    let token = signed_in.access_token();

    let di = upload(
        &stack,
        token,
        gts_proto::v1::AssetKind::DiTrack,
        "riff.wav",
        &plucked_wav(4.0, 48_000),
    )
    .await;
    let model = upload(
        &stack,
        token,
        gts_proto::v1::AssetKind::NamModel,
        "tiny.nam",
        &fixture("nam/wavenet.nam"),
    )
    .await;
    let ir = upload(
        &stack,
        token,
        gts_proto::v1::AssetKind::ImpulseResponse,
        "v30.wav",
        &fixture("irs/4x12-classic.wav"),
    )
    .await;
    let chains = vec![
        chain(
            "JCM800",
            vec![nam(library(51949, 293886)), cabinet(library(33510, 220300))],
        ),
        chain("Uploaded", vec![nam(asset(&model)), cabinet(asset(&ir))]),
        SignalChain {
            // This one without the input high-pass.
            input_high_pass_hz: Some(0.0),
            ..chain(
                "Klon",
                vec![nam(library(2699, 150044)), cabinet(asset(&ir))],
            )
        },
        chain(
            "Uploaded, gated",
            vec![
                block(Kind::NoiseGate(NoiseGateBlock {
                    threshold_db: -70.0,
                    release_ms: None,
                })),
                nam(asset(&model)),
                block(Kind::Gain(GainBlock { gain_db: -3.0 })),
                cabinet(asset(&ir)),
            ],
        ),
    ];
    let shootout = create_shootout(
        &stack,
        token,
        one_di_shootout("Four amps", &di, "Riff", chains),
    )
    .await;
    let mut jobs = jobs(&stack);
    let job = submit_job(&stack, token, &shootout.id, "render-1").await;

    // Watch to the end: a snapshot first, then progress, then the terminal change.
    let mut stream = watch_job(&stack, token, &job.id, "").await;
    let mut first = true;
    let mut overall = Vec::new();
    let mut stages = Vec::new();
    let mut chains_rendered = std::collections::BTreeSet::new();
    let mut terminal = None;
    let watch = async {
        while let Some(message) = stream.next().await {
            let event = message.unwrap().event.unwrap().event.unwrap();
            if first {
                assert!(matches!(event, Event::Snapshot(_)), "{event:?}");
                first = false;
                continue;
            }
            match event {
                Event::Progress(progress) => {
                    overall.push(progress.overall_fraction);
                    stages.push(progress.stage());
                    if progress.stage() == RenderStage::RenderingChain {
                        chains_rendered.insert(progress.chain_index.unwrap());
                    }
                }
                Event::StatusChange(change) if change.to_status() == JobStatus::Succeeded => {
                    terminal = Some(change);
                }
                Event::StatusChange(change) => {
                    assert_ne!(
                        change.to_status(),
                        JobStatus::Failed,
                        "{}",
                        change.error_message
                    );
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(300), watch)
        .await
        .expect("the render finishes within 5 minutes");
    assert!(terminal.is_some(), "the stream ends with SUCCEEDED");
    assert!(
        overall.len() >= 5,
        "live progress, not one jump: {overall:?}"
    );
    assert!(
        overall.windows(2).all(|pair| pair[0] <= pair[1]),
        "overall progress never goes back: {overall:?}"
    );
    assert_eq!(stages.first(), Some(&RenderStage::Fetching), "{stages:?}");
    assert!(stages.contains(&RenderStage::Uploading), "{stages:?}");
    // Progress is rate-limited (newest wins), so not every chain need be seen rendering.
    assert!(!chains_rendered.is_empty(), "{stages:?}");
    assert!(
        chains_rendered.iter().all(|chain| *chain < 4),
        "{chains_rendered:?}"
    );
    assert!(
        overall.last().is_some_and(|last| *last >= 0.95),
        "{overall:?}"
    );

    // The job carries per-chain results, levelled to the target.
    let done = get_job(&stack, token, &job.id).await;
    assert_eq!(done.status(), JobStatus::Succeeded);
    assert_eq!(done.chain_results.len(), 4);
    for result in &done.chain_results {
        let lufs = result.metrics.as_ref().unwrap().integrated_lufs;
        assert!(
            (lufs + 14.0).abs() < 0.5,
            "{}: {lufs} LUFS",
            result.display_name
        );
        assert_eq!(
            result.chain_id,
            shootout.chains[result.chain_index as usize].id
        );
    }

    // Both input modes, from the library's metadata: the standard JCM800 capture states
    // no input_level_dbu (RMS, with a note saying so); the Klon capture was calibrated at
    // +18.3 dBu, so the DI (default calibration +12 dBu) entered it 6.3 dB down.
    use gts_proto::v1::AppliedInputMode;
    let input = |index: usize| done.chain_results[index].input_level.clone().unwrap();
    let jcm800 = input(0);
    assert_eq!(jcm800.mode(), AppliedInputMode::Rms, "{jcm800:?}");
    assert!(jcm800.note.contains("input_level_dbu"), "{jcm800:?}");
    let klon = input(2);
    assert_eq!(klon.mode(), AppliedInputMode::Calibrated, "{klon:?}");
    assert_eq!(klon.model_input_level_dbu, Some(18.3));
    let gain = klon.calibration_gain_db.unwrap();
    assert!(
        (gain - (klon.di_calibration_dbu - 18.3)).abs() < 1e-9,
        "{klon:?}"
    );

    // The A/B comparison downloads through its signed URL and decodes.
    let artifacts = jobs
        .list_artifacts(with_bearer(
            ListArtifactsRequest {
                job_id: job.id.clone(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .artifacts;
    let kinds: Vec<ArtifactKind> = artifacts.iter().map(|a| a.kind()).collect();
    for kind in [
        ArtifactKind::AbFlac,
        ArtifactKind::CueList,
        ArtifactKind::SpectrumPlot,
        ArtifactKind::Manifest,
        ArtifactKind::Metrics,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} missing from {kinds:?}");
    }
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == ArtifactKind::ChainFlac)
            .count(),
        4
    );
    let ab = artifacts
        .iter()
        .find(|a| a.kind() == ArtifactKind::AbFlac)
        .unwrap();
    let url = jobs
        .get_artifact_url(with_bearer(
            GetArtifactUrlRequest {
                job_id: job.id.clone(),
                artifact_id: ab.id.clone(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .url;
    let (status, headers, body) = http_get(&url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "audio/flac");
    assert_eq!(headers["accept-ranges"], "bytes");
    assert_eq!(body.len() as u64, ab.size_bytes);
    assert_eq!(gts_storage::sha256_hex(&body), ab.sha256);
    let file = tempfile::Builder::new().suffix(".flac").tempfile().unwrap();
    std::fs::write(file.path(), &body).unwrap();
    let decoded = gts_render::decode::decode_file(file.path(), 600).unwrap();
    assert!(decoded.samples.len() as f64 / f64::from(decoded.sample_rate) > 3.0);
    assert!(
        decoded.samples.iter().any(|s| s.abs() > 0.01),
        "the A/B is not silent"
    );

    // Seeking: a Range answers exactly those bytes.
    let (status, headers, part) = http_get(&url, &[("range", "bytes=100-1123")]).await;
    assert_eq!(status, 206);
    assert_eq!(
        headers["content-range"],
        format!("bytes 100-1123/{}", body.len())
    );
    assert_eq!(part, body[100..1124]);

    // The manifest names inputs, never the worker's scratch paths.
    let manifest = artifacts
        .iter()
        .find(|a| a.kind() == ArtifactKind::Manifest)
        .unwrap();
    let manifest_url = jobs
        .get_artifact_url(with_bearer(
            GetArtifactUrlRequest {
                job_id: job.id.clone(),
                artifact_id: manifest.id.clone(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .url;
    let (_, _, manifest_body) = http_get(&manifest_url, &[]).await;
    let manifest_text = String::from_utf8(manifest_body).unwrap();
    assert!(manifest_text.contains("\"di-1\""), "{manifest_text}");
    let manifest: serde_json::Value = serde_json::from_str(&manifest_text).unwrap();
    let high_passes: Vec<bool> = manifest["spec"]["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|chain| chain["high_pass"].as_bool().unwrap())
        .collect();
    assert_eq!(
        high_passes,
        [true, true, false, true],
        "the chains' input high-pass"
    );
    assert!(!manifest_text.contains("scratch"), "{manifest_text}");

    // A forged or expired link is refused.
    let forged = url.replace("sig=", "sig=00");
    assert_eq!(http_get(&forged, &[]).await.0, 403);
    let path = url::Url::parse(&url).unwrap().path().to_owned();
    let signer = UrlSigner::new(stack.secrets.artifact_url_key.as_bytes()).unwrap();
    let expired = format!(
        "http://{}{path}?expires=1000&sig={}",
        stack.gateway.addr,
        signer.sign(&path, 1000)
    );
    let (status, _, message) = http_get(&expired, &[]).await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&message).contains("expired"));

    // The library models went through the worker's model cache.
    let cached: i64 = sqlx::query_scalar("SELECT count(*) FROM worker.model_cache")
        .fetch_one(&stack.db_pool().await)
        .await
        .unwrap();
    assert_eq!(cached, 3, "the three TONE3000 files are cached");

    // Another user sees none of it.
    let other = stack.token_for_new_user();
    let status = jobs
        .watch_job(with_bearer(
            WatchJobRequest {
                job_id: job.id.clone(),
                after_event_id: String::new(),
            },
            &other,
        ))
        .await
        .expect_err("another user's job");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_real_render_stops_it_and_leaves_no_artifacts() {
    let stack = Stack::start().await;
    let token = stack.login().await.access_token().to_owned();
    let di = upload(
        &stack,
        &token,
        gts_proto::v1::AssetKind::DiTrack,
        "long.wav",
        &plucked_wav(30.0, 48_000),
    )
    .await;
    let shootout = create_shootout(
        &stack,
        &token,
        one_di_shootout("Cancelled", &di, "", two_standard_chains()),
    )
    .await;
    let mut jobs = jobs(&stack);
    let job = submit_job(&stack, &token, &shootout.id, "cancel").await;
    let mut stream = watch_job(&stack, &token, &job.id, "").await;
    // Cancel once the engine is rendering a chain.
    events_until_rendering(&mut stream).await;
    jobs.cancel_job(with_bearer(
        gts_proto::v1::CancelJobRequest {
            job_id: job.id.clone(),
        },
        &token,
    ))
    .await
    .unwrap();
    let mut last_change = None;
    let rest = async {
        while let Some(message) = stream.next().await {
            if let Event::StatusChange(change) = message.unwrap().event.unwrap().event.unwrap() {
                last_change = Some(change.to_status());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), rest)
        .await
        .expect("the stream ends after the cancellation");
    assert_eq!(last_change, Some(JobStatus::Cancelled));
    let done = get_job(&stack, &token, &job.id).await;
    assert_eq!(done.status(), JobStatus::Cancelled);
    let store = stack.blob_store();
    // The runner cleans up after the render stops, a moment after the status changed:
    // wait for the clean state (bounded), which a leak would never reach.
    let scratch = stack.storage.path().join("scratch");
    let prefix = format!("jobs/{}/", job.id);
    let clean = async {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tick.tick().await;
            let artifacts_left = store.list(&prefix).await.unwrap();
            let scratch_left = std::fs::read_dir(&scratch).map_or(0, |entries| entries.count());
            if artifacts_left.is_empty() && scratch_left == 0 {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), clean)
        .await
        .expect("a cancelled render leaves no artifacts and no scratch files");
    stack.stop().await;
}
