//! Building and rendering shootouts as a signed-in browser does: synthesised DI tracks,
//! chunked uploads over grpc-web, the workspace's fixture models and IRs, blocks and
//! chains, and the job calls (create, submit, watch) through the gateway.

use futures::StreamExt;
use gts_proto::v1::{
    Asset, AssetKind, BeginUploadRequest, Block, CabinetIrBlock, CreateShootoutRequest, DiTrackRef,
    FinishUploadRequest, GetJobRequest, Job, JobEvent, ModelSource, NamModelBlock, PutChunkRequest,
    RenderStage, Shootout, SignalChain, SubmitJobRequest, Tone3000ModelRef, WatchJobRequest,
    WatchJobResponse, block::Kind, job_event::Event, job_service_client::JobServiceClient,
    model_source::Source, shootout_service_client::ShootoutServiceClient,
    upload_service_client::UploadServiceClient,
};

use crate::{Stack, clients, with_bearer};

/// A 16-bit mono WAV of decaying plucks (three notes, two per second).
pub fn plucked_wav(seconds: f64, rate: u32) -> Vec<u8> {
    let frames = (seconds * f64::from(rate)) as u32;
    let samples: Vec<f64> = (0..frames)
        .map(|i| {
            let t = f64::from(i % (rate / 2)) / f64::from(rate);
            let note = [110.0, 146.83, 196.0][(i / (rate / 2)) as usize % 3];
            (2.0 * std::f64::consts::PI * note * t).sin() * (-6.0 * t).exp() * 0.6
        })
        .collect();
    wav_16bit_mono(&samples, rate)
}

/// A 16-bit PCM mono WAV of `samples` (clamped to ±1), written by hand: the harness has
/// no WAV crate.
pub fn wav_16bit_mono(samples: &[f64], rate: u32) -> Vec<u8> {
    let pcm: Vec<u8> = samples
        .iter()
        .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
        .collect();
    let mut wav = Vec::with_capacity(44 + pcm.len());
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + pcm.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(pcm.len() as u32).to_le_bytes());
    wav.extend_from_slice(&pcm);
    wav
}

/// A file of the workspace's `tests/fixtures`.
pub fn fixture(relative: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Uploads `bytes` in the service's chunk size through the gateway and finishes it.
pub async fn upload(
    stack: &Stack,
    token: &str,
    kind: AssetKind,
    name: &str,
    bytes: &[u8],
) -> Asset {
    try_upload(&stack.gateway_origin(), token, kind, name, bytes)
        .await
        .unwrap_or_else(|status| panic!("upload of {name}: {status:?}"))
}

/// [`upload`] to the gateway at `origin`, answering the first refusal (the demo binary
/// reports it instead of panicking).
pub async fn try_upload(
    origin: &http::Uri,
    token: &str,
    kind: AssetKind,
    name: &str,
    bytes: &[u8],
) -> Result<Asset, tonic::Status> {
    let mut client = UploadServiceClient::with_origin(clients::grpc_web(), origin.clone());
    let upload = client
        .begin_upload(with_bearer(
            BeginUploadRequest {
                kind: kind as i32,
                filename: name.into(),
                size_bytes: bytes.len() as u64,
                sha256: gts_shootout::sha256_hex(bytes),
            },
            token,
        ))
        .await?
        .into_inner()
        .upload
        .ok_or_else(|| tonic::Status::internal("BeginUpload returned no upload"))?;
    let chunk = (upload.max_chunk_bytes as usize).max(1);
    for (i, data) in bytes.chunks(chunk).enumerate() {
        client
            .put_chunk(with_bearer(
                PutChunkRequest {
                    upload_id: upload.upload_id.clone(),
                    offset: (i * chunk) as u64,
                    data: data.to_vec(),
                },
                token,
            ))
            .await?;
    }
    client
        .finish_upload(with_bearer(
            FinishUploadRequest {
                upload_id: upload.upload_id,
            },
            token,
        ))
        .await?
        .into_inner()
        .asset
        .ok_or_else(|| tonic::Status::internal("FinishUpload returned no asset"))
}

/// A shootout named `name` of one DI asset (labelled `label`) and `chains`.
pub fn one_di_shootout(name: &str, di: &Asset, label: &str, chains: Vec<SignalChain>) -> Shootout {
    Shootout {
        name: name.into(),
        di_tracks: vec![DiTrackRef {
            asset_id: di.id.clone(),
            label: label.into(),
        }],
        chains,
        ..Default::default()
    }
}

/// `CreateShootout` through the gateway; answers the stored shootout.
pub async fn create_shootout(stack: &Stack, token: &str, draft: Shootout) -> Shootout {
    ShootoutServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin())
        .create_shootout(with_bearer(
            CreateShootoutRequest {
                shootout: Some(draft),
            },
            token,
        ))
        .await
        .expect("CreateShootout")
        .into_inner()
        .shootout
        .expect("a shootout")
}

/// A job client on the gateway, over grpc-web.
pub fn jobs(stack: &Stack) -> JobServiceClient<clients::GrpcWebChannel> {
    JobServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin())
}

/// `SubmitJob` of `shootout_id` with `idempotency_key`; answers the job.
pub async fn submit_job(
    stack: &Stack,
    token: &str,
    shootout_id: &str,
    idempotency_key: &str,
) -> Job {
    jobs(stack)
        .submit_job(with_bearer(
            SubmitJobRequest {
                shootout_id: shootout_id.into(),
                idempotency_key: idempotency_key.into(),
            },
            token,
        ))
        .await
        .expect("SubmitJob")
        .into_inner()
        .job
        .expect("a job")
}

/// `GetJob` of `job_id`.
pub async fn get_job(stack: &Stack, token: &str, job_id: &str) -> Job {
    jobs(stack)
        .get_job(with_bearer(
            GetJobRequest {
                job_id: job_id.into(),
            },
            token,
        ))
        .await
        .expect("GetJob")
        .into_inner()
        .job
        .expect("a job")
}

/// `WatchJob` of `job_id` after `after_event_id` (empty: from a fresh snapshot).
pub async fn watch_job(
    stack: &Stack,
    token: &str,
    job_id: &str,
    after_event_id: &str,
) -> tonic::Streaming<WatchJobResponse> {
    jobs(stack)
        .watch_job(with_bearer(
            WatchJobRequest {
                job_id: job_id.into(),
                after_event_id: after_event_id.into(),
            },
            token,
        ))
        .await
        .expect("WatchJob")
        .into_inner()
}

/// Reads `stream` until the engine reports rendering a chain; answers every event read,
/// that one last (tests act "mid-render" from there).
pub async fn events_until_rendering(
    stream: &mut tonic::Streaming<WatchJobResponse>,
) -> Vec<JobEvent> {
    let mut seen = Vec::new();
    while let Some(message) = stream.next().await {
        let event = message.expect("a watch event").event.expect("an event");
        let rendering = matches!(&event.event,
            Some(Event::Progress(p)) if p.stage() == RenderStage::RenderingChain);
        seen.push(event);
        if rendering {
            return seen;
        }
    }
    panic!("the stream ended before a chain rendered: {seen:?}");
}

/// Every event of `stream` until it ends.
pub async fn events_to_end(stream: &mut tonic::Streaming<WatchJobResponse>) -> Vec<JobEvent> {
    let mut events = Vec::new();
    while let Some(message) = stream.next().await {
        events.push(message.expect("a watch event").event.expect("an event"));
    }
    events
}

/// An event id (`<ms>-<seq>`, Redis stream style) as a comparable pair.
pub fn event_position(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').expect("a <ms>-<seq> event id");
    (ms.parse().expect("ms"), seq.parse().expect("seq"))
}

/// The logged events of a watch that was resumed: `first` (a stream from its snapshot) and
/// `resumed` (a stream opened after `first`'s last event id), without the snapshots and
/// heartbeats. Asserts that the resumed stream starts with its snapshot and that together
/// they hold every event once, in log order.
pub fn resumed_log(first: &[JobEvent], resumed: &[JobEvent]) -> Vec<JobEvent> {
    assert!(
        matches!(
            resumed.first().and_then(|e| e.event.as_ref()),
            Some(Event::Snapshot(_))
        ),
        "a resumed stream starts with a snapshot: {resumed:?}"
    );
    let logged: Vec<JobEvent> = first
        .iter()
        .skip(1)
        .chain(resumed.iter().skip(1))
        .filter(|e| !matches!(e.event, Some(Event::Heartbeat(_))))
        .cloned()
        .collect();
    let positions: Vec<(u64, u64)> = logged.iter().map(|e| event_position(&e.event_id)).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "every event once, in order: {positions:?}"
    );
    logged
}

/// The JCM800 standard WaveNet of the fake TONE3000's library: a real capture's cost.
pub const STANDARD_WAVENET: (u64, u64) = (51949, 293886);

/// Two chains of the standard WaveNet: on a long DI, a render of seconds, long enough to
/// act on mid-render.
pub fn two_standard_chains() -> Vec<SignalChain> {
    let (tone, model) = STANDARD_WAVENET;
    vec![
        chain("A", vec![nam(library(tone, model))]),
        chain("B", vec![nam(library(tone, model))]),
    ]
}

/// A TONE3000 library model.
pub fn library(tone_id: u64, model_id: u64) -> Source {
    Source::Tone3000Model(Tone3000ModelRef { tone_id, model_id })
}

/// An uploaded asset.
pub fn asset(asset: &Asset) -> Source {
    Source::AssetId(asset.id.clone())
}

/// A NAM block.
pub fn nam(source: Source) -> Block {
    block(Kind::NamModel(NamModelBlock {
        source: Some(ModelSource {
            source: Some(source),
        }),
        input_gain_db: 0.0,
    }))
}

/// A cabinet IR block.
pub fn cabinet(source: Source) -> Block {
    block(Kind::CabinetIr(CabinetIrBlock {
        source: Some(ModelSource {
            source: Some(source),
        }),
        mix: None,
    }))
}

/// A block of `kind` (ids are assigned by the server).
pub fn block(kind: Kind) -> Block {
    Block {
        id: String::new(),
        kind: Some(kind),
    }
}

/// A chain named `name` with `blocks`.
pub fn chain(name: &str, blocks: Vec<Block>) -> SignalChain {
    SignalChain {
        id: String::new(),
        display_name: name.into(),
        description: String::new(),
        blocks,
        input_high_pass_hz: None,
        input_level_mode: 0,
    }
}
