//! Through the services: a shootout of TONE3000 library models (the fake) renders a video
//! whose cards name the tone, the model and the IR, with chapters in the MP4 and in
//! `chapters.txt`, and no card, plot label, chapter or cue carries an internal block id.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use gts_e2e::{
    Stack,
    shootouts::{
        cabinet, chain, create_shootout, events_to_end, get_job, jobs, library, nam,
        one_di_shootout, plucked_wav, submit_job, upload, watch_job,
    },
    stack::with_bearer,
};
use gts_proto::v1::{
    ArtifactKind, AssetKind, GetArtifactUrlRequest, JobStatus, ListArtifactsRequest, OutputOptions,
};
use http_body_util::{BodyExt, Empty};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

async fn http_body(url: &str) -> Vec<u8> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    let response = client
        .request(http::Request::get(url).body(Empty::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_library_shootouts_video_names_tone_model_and_ir_and_never_an_id() {
    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    let token = signed_in.access_token();
    let di = upload(
        &stack,
        token,
        AssetKind::DiTrack,
        "riff.wav",
        &plucked_wav(4.0, 48_000),
    )
    .await;
    let chains = vec![
        // JCM800 (nano) into the 4x12, Klon into the AC15 1x12: all from the library.
        chain(
            "Crunch",
            vec![nam(library(51949, 293887)), cabinet(library(33510, 220303))],
        ),
        chain(
            "Boost",
            vec![nam(library(2699, 150044)), cabinet(library(33510, 220300))],
        ),
    ];
    let mut draft = one_di_shootout("Library video", &di, "Riff", chains);
    draft.output_options = Some(OutputOptions {
        video_enabled: true,
        ..Default::default()
    });
    let shootout = create_shootout(&stack, token, draft).await;
    let job = submit_job(&stack, token, &shootout.id, "video-1").await;
    let mut stream = watch_job(&stack, token, &job.id, "").await;
    tokio::time::timeout(Duration::from_secs(300), events_to_end(&mut stream))
        .await
        .expect("the render finishes within 5 minutes");
    let done = get_job(&stack, token, &job.id).await;
    assert_eq!(
        done.status(),
        JobStatus::Succeeded,
        "{}",
        done.error_message
    );

    let mut jobs = jobs(&stack);
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
    let mut download = async |kind: ArtifactKind| {
        let artifact = artifacts
            .iter()
            .find(|a| a.kind() == kind)
            .unwrap_or_else(|| panic!("{kind:?} missing"));
        let url = jobs
            .get_artifact_url(with_bearer(
                GetArtifactUrlRequest {
                    job_id: job.id.clone(),
                    artifact_id: artifact.id.clone(),
                },
                token,
            ))
            .await
            .unwrap()
            .into_inner()
            .url;
        http_body(&url).await
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(&download(ArtifactKind::Manifest).await).unwrap();
    let chapters = String::from_utf8(download(ArtifactKind::Chapters).await).unwrap();
    let cues = String::from_utf8(download(ArtifactKind::CueList).await).unwrap();
    let video = download(ArtifactKind::Video).await;

    // The cards name the tone, the model, its author and the IR.
    let cards = &manifest["presentation"]["cards"];
    let crunch: Vec<&str> = cards[0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(cards[0]["title"], "Crunch");
    assert!(
        crunch[0].starts_with("Amp: Marshall JCM800 2203 Crunch")
            && crunch[0].contains("JCM800 2203 Crunch DI nano")
            && crunch[0].contains("by brucew"),
        "{crunch:?}"
    );
    assert!(
        crunch[1].contains("Speaker Impulse Responses")
            && crunch[1].contains("Marshall 1960A 4x12 G12M-25, SM57 edge"),
        "{crunch:?}"
    );
    let boost = cards[1]["lines"].to_string();
    assert!(
        boost.contains("Pedal: Klon Centaur Clean Boost") && boost.contains("Vox AC15 1x12"),
        "{boost}"
    );
    assert!(
        chapters.starts_with("0:00 Intro\n0:04 Crunch\n"),
        "{chapters}"
    );

    // No internal id on any card, plot label (chain reports), chapter or cue.
    let file = tempfile::Builder::new().suffix(".mp4").tempfile().unwrap();
    std::fs::write(file.path(), &video).unwrap();
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_chapters",
            "-show_streams",
        ])
        .arg(file.path())
        .output()
        .unwrap();
    let probe: serde_json::Value = serde_json::from_slice(&probe.stdout).unwrap();
    let mp4_chapters = probe["chapters"].to_string();
    assert_eq!(
        probe["chapters"].as_array().unwrap().len(),
        chapters.lines().count()
    );
    let shown = [
        cards.to_string(),
        manifest["presentation"]["chapters"].to_string(),
        manifest["chains"].to_string(),
        chapters.clone(),
        cues,
        mp4_chapters,
    ];
    let mut ids: Vec<String> = vec![shootout.id.clone()];
    for chain in &shootout.chains {
        ids.push(chain.id.clone());
        ids.extend(chain.blocks.iter().map(|b| b.id.clone()));
    }
    // The worker's local file names for blocks are ids too.
    ids.extend(["chain-1-block-1", "chain-2-block-2", "block-1"].map(str::to_owned));
    for text in &shown {
        for id in &ids {
            assert!(!text.contains(id.as_str()), "{id} shown in {text}");
        }
    }
    let streams = probe["streams"].as_array().unwrap();
    let video = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!(video["profile"], "High");
    assert_eq!(video["avg_frame_rate"], "25/1");
}
