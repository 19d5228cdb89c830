//! The object store on S3, against a real S3-compatible server (moto's, see
//! `gts_e2e::s3_server`): the blob operations the services use, then a whole render whose
//! uploads, cached models and artifacts live in the bucket, downloaded through the gateway.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::TryStreamExt;
use gts_e2e::{
    Stack,
    s3_server::S3Server,
    shootouts::{
        asset, cabinet, chain, create_shootout, events_to_end, fixture, jobs, library, nam,
        one_di_shootout, plucked_wav, submit_job, upload, watch_job,
    },
    with_bearer,
};
use gts_proto::v1::{
    ArtifactKind, AssetKind, GetArtifactUrlRequest, JobStatus, ListArtifactsRequest,
    job_event::Event,
};
use gts_storage::{BlobStore, content_key, sha256_hex};
use http_body_util::{BodyExt, Empty};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_put_get_range_list_and_delete_on_s3() {
    let server = S3Server::start().await;
    let bucket = server.bucket().await;
    let store = BlobStore::open(&S3Server::settings(&bucket)).unwrap();

    let bytes = bytes::Bytes::from((0..200_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
    let key = content_key(&sha256_hex(&bytes));
    assert!(!store.exists(&key).await.unwrap());
    store.put_bytes(&key, bytes.clone()).await.unwrap();
    assert!(store.exists(&key).await.unwrap());
    assert_eq!(store.get(&key).await.unwrap(), bytes);
    assert_eq!(
        store.get_verified(&key, &sha256_hex(&bytes)).await.unwrap(),
        bytes
    );
    assert!(
        store
            .get_verified(&key, &sha256_hex(b"other"))
            .await
            .is_err()
    );
    assert_eq!(store.size(&key).await.unwrap(), bytes.len() as u64);

    // A byte range, as artifact downloads serve `Range:` requests.
    let range: Vec<bytes::Bytes> = store
        .stream_range(&key, 1000..1500)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(range.concat(), bytes[1000..1500].to_vec());

    // A file larger than one multipart part streams up in parts and hashes on the way.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    let big: Vec<u8> = (0..(12 * 1024 * 1024u32))
        .map(|i| (i % 239) as u8)
        .collect();
    std::fs::write(&path, &big).unwrap();
    let digest = store
        .put_file("artifacts/job-1/big.bin", &path)
        .await
        .unwrap();
    assert_eq!(digest.size_bytes, big.len() as u64);
    assert_eq!(digest.sha256, sha256_hex(&big));
    assert_eq!(store.get("artifacts/job-1/big.bin").await.unwrap(), big);
    let downloaded = dir.path().join("down.bin");
    let written = store
        .download_verified("artifacts/job-1/big.bin", &digest.sha256, &downloaded)
        .await
        .unwrap();
    assert_eq!(written, big.len() as u64);

    store
        .put_bytes("artifacts/job-1/a.txt", "a".into())
        .await
        .unwrap();
    assert_eq!(
        store.list("artifacts/job-1").await.unwrap(),
        vec!["artifacts/job-1/a.txt", "artifacts/job-1/big.bin"]
    );
    store.delete_prefix("artifacts/job-1").await.unwrap();
    assert!(store.list("artifacts/job-1").await.unwrap().is_empty());
    store.delete(&key).await.unwrap();
    assert!(!store.exists(&key).await.unwrap());
    // Deleting what is gone succeeds.
    store.delete(&key).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_keeps_its_blobs_in_the_bucket_and_downloads_through_the_gateway() {
    let server = S3Server::start().await;
    let bucket = server.bucket().await;
    let overrides = S3Server::env(&bucket);
    let stack = Stack::start_with(&overrides).await;
    let signed_in = stack.login().await;
    let token = signed_in.access_token();

    let di = upload(
        &stack,
        token,
        AssetKind::DiTrack,
        "riff.wav",
        &plucked_wav(2.0, 48_000),
    )
    .await;
    let ir = upload(
        &stack,
        token,
        AssetKind::ImpulseResponse,
        "v30.wav",
        &fixture("irs/4x12-classic.wav"),
    )
    .await;
    let shootout = create_shootout(
        &stack,
        token,
        one_di_shootout(
            "On S3",
            &di,
            "Riff",
            vec![chain(
                "JCM800",
                vec![nam(library(51949, 293886)), cabinet(asset(&ir))],
            )],
        ),
    )
    .await;
    let job = submit_job(&stack, token, &shootout.id, "s3-1").await;
    let mut stream = watch_job(&stack, token, &job.id, "").await;
    let events = tokio::time::timeout(Duration::from_secs(180), events_to_end(&mut stream))
        .await
        .expect("the render ends in time");
    let ended = events.iter().rev().find_map(|event| match &event.event {
        Some(Event::StatusChange(change)) => Some(change.to_status()),
        _ => None,
    });
    assert_eq!(ended, Some(JobStatus::Succeeded), "{events:?}");

    // Uploads, the cached TONE3000 model and the artifacts are all in the bucket.
    let store = BlobStore::open(&S3Server::settings(&bucket)).unwrap();
    let keys = store.list("").await.unwrap();
    assert!(
        keys.iter().any(|k| k.starts_with("blobs/sha256/")),
        "{keys:?}"
    );
    let artifacts: Vec<_> = keys.iter().filter(|k| k.contains(&job.id)).collect();
    assert!(
        !artifacts.is_empty(),
        "no artifact of {} in {keys:?}",
        job.id
    );

    // The gateway serves the A/B comparison from the bucket, whole and by Range.
    let listed = jobs(&stack)
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
    let ab = listed
        .iter()
        .find(|a| a.kind() == ArtifactKind::AbFlac)
        .expect("an A/B FLAC");
    let url = jobs(&stack)
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
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    let whole = client
        .request(http::Request::get(&url).body(Empty::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    let body = whole.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len() as u64, ab.size_bytes);
    assert_eq!(&body[..4], b"fLaC");
    let part = client
        .request(
            http::Request::get(&url)
                .header("range", "bytes=0-3")
                .body(Empty::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    let part = part.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&part[..], b"fLaC");

    stack.stop().await;
}
