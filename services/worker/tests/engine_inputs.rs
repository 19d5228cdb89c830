//! The render engine's inputs: uploads from the object store and TONE3000 files through
//! the model cache, against the fake TONE3000 and the real PostgreSQL. Every refusal is an
//! input error a person can act on; outages are transient; the cache is bounded and LRU.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::Harness;
use fake_tone3000::{FailureMode, FakeConfig, FakeHandle, FakeTone3000};
use gts_common::tone3000_token::Tone3000TokenSource;
use gts_proto::v1::{
    Block, NamModelBlock, ObjectStoreRef, RenderSpec, ResolvedBlockSource, ResolvedDiTrack,
    ResolvedSource, Shootout, SignalChain, Tone3000Download, block::Kind, resolved_source::Source,
};
use gts_storage::{BlobStore, StorageSettings, sha256_hex};
use gts_worker::{
    engine::{
        inputs::{InputFetcher, LocalInputs, Tone3000Settings},
        model_cache::{ModelCache, cache_key},
    },
    render::RenderFailure,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// JCM800 nano (the tiny WaveNet) and the Klon (the same file) in the fake's catalogue.
const NANO: (u64, u64) = (51949, 293887);
const KLON: (u64, u64) = (2699, 150044);
const STANDARD: (u64, u64) = (51949, 293886);

struct FixedToken(String);

#[tonic::async_trait]
impl Tone3000TokenSource for FixedToken {
    async fn access_token(&self, _user: Uuid) -> Result<String, tonic::Status> {
        Ok(self.0.clone())
    }
}

struct World {
    harness: Harness,
    fake: FakeHandle,
    blobs: BlobStore,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(&StorageSettings::Local {
            root: dir.path().join("blobs"),
        })
        .unwrap();
        Self {
            harness: Harness::start(&[]).await,
            fake: FakeTone3000::start(FakeConfig::for_workspace_tests())
                .await
                .unwrap(),
            blobs,
            _dir: dir,
        }
    }

    fn fetcher(&self, cache_bytes: u64, max_download: u64) -> InputFetcher {
        let token = self.fake.state().issue_tokens_for_test_user().access_token;
        InputFetcher {
            blobs: self.blobs.clone(),
            cache: self.cache(cache_bytes),
            tokens: Arc::new(FixedToken(token)),
            tone3000: Tone3000Settings {
                base_url: self.fake.base_url().parse().unwrap(),
                client_id: self.fake.state().client_id().to_owned(),
                max_download_bytes: max_download,
            },
        }
    }

    fn cache(&self, cache_bytes: u64) -> ModelCache {
        ModelCache::new(self.harness.db().clone(), self.blobs.clone(), cache_bytes)
    }

    fn download(&self, (tone_id, model_id): (u64, u64), file: &str) -> Source {
        Source::Tone3000Download(Tone3000Download {
            tone_id,
            model_id,
            download_url: format!("{}/models/{model_id}/download/{file}", self.fake.base_url()),
            sha256: None,
        })
    }

    async fn fetch(
        &self,
        fetcher: &InputFetcher,
        sources: Vec<Source>,
    ) -> Result<LocalInputs, RenderFailure> {
        let dir = tempfile::tempdir().unwrap();
        fetcher
            .fetch(
                &spec(sources, vec![]),
                Uuid::new_v4(),
                dir.path(),
                &CancellationToken::new(),
                &|_| {},
            )
            .await
    }
}

/// One chain whose blocks have `sources`, and `di` tracks.
fn spec(sources: Vec<Source>, di: Vec<ObjectStoreRef>) -> RenderSpec {
    let blocks: Vec<Block> = (0..sources.len())
        .map(|i| Block {
            id: format!("b{i}"),
            kind: Some(Kind::NamModel(NamModelBlock::default())),
        })
        .collect();
    RenderSpec {
        shootout: Some(Shootout {
            chains: vec![SignalChain {
                id: "c1".into(),
                blocks,
                ..Default::default()
            }],
            ..Default::default()
        }),
        di_tracks: di
            .into_iter()
            .map(|object| ResolvedDiTrack {
                asset_id: "a".into(),
                label: "Riff".into(),
                object: Some(object),
            })
            .collect(),
        block_sources: sources
            .into_iter()
            .enumerate()
            .map(|(i, source)| ResolvedBlockSource {
                chain_id: "c1".into(),
                block_id: format!("b{i}"),
                source: Some(ResolvedSource {
                    source: Some(source),
                }),
                display: None,
            })
            .collect(),
        resolved_at: None,
    }
}

fn input_error(result: Result<LocalInputs, RenderFailure>) -> String {
    match result {
        Err(RenderFailure::Input(message)) => message,
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[tokio::test]
async fn library_files_download_once_then_come_from_the_cache() {
    let world = World::start().await;
    let fetcher = world.fetcher(1 << 30, 1 << 26);
    let sources = || {
        vec![
            world.download(NANO, "wavenet.nam"),
            world.download(KLON, "wavenet.nam"),
        ]
    };
    let first = world.fetch(&fetcher, sources()).await.unwrap();
    let path = &first.blocks[&("c1".to_owned(), "b0".to_owned())];
    assert!(path.ends_with("chain-1-block-1"), "{}", path.display());
    assert_eq!(world.fake.state().downloads(), 2);

    // Both ids share one content-addressed blob, and a second fetch downloads nothing.
    let fixture = std::fs::read(world.fake.fixtures_dir().join("nam/wavenet.nam")).unwrap();
    let sha = sha256_hex(&fixture);
    assert!(world.blobs.exists(&cache_key(&sha)).await.unwrap());
    let again = world.fetch(&fetcher, sources()).await.unwrap();
    assert_eq!(again.blocks.len(), 2);
    assert_eq!(world.fake.state().downloads(), 2, "served from the cache");
    world.harness.finish().await;
}

#[tokio::test]
async fn the_cache_evicts_least_recently_used_files_beyond_its_cap() {
    let world = World::start().await;
    let cache = world.cache(10);
    cache.put(1, Bytes::from_static(b"aaaa")).await;
    cache.put(2, Bytes::from_static(b"bbbb")).await;
    assert!(
        cache.get(1, None).await.is_some(),
        "touches 1: 2 is now the oldest"
    );
    cache.put(3, Bytes::from_static(b"cccc")).await;
    assert!(cache.get(2, None).await.is_none(), "2 was evicted");
    assert!(
        !world
            .blobs
            .exists(&cache_key(&sha256_hex(b"bbbb")))
            .await
            .unwrap()
    );
    assert!(cache.get(1, None).await.is_some());
    assert!(cache.get(3, None).await.is_some());
    assert_eq!(cache.total_bytes().await.unwrap(), 8);

    // A known hash that differs is a miss; a damaged blob is a miss, never an error.
    assert!(cache.get(1, Some(&sha256_hex(b"other"))).await.is_none());
    world
        .blobs
        .put_bytes(
            &cache_key(&sha256_hex(b"cccc")),
            Bytes::from_static(b"rot!"),
        )
        .await
        .unwrap();
    assert!(cache.get(3, None).await.is_none());
    world.harness.finish().await;
}

#[tokio::test]
async fn refusals_are_input_errors_that_say_what_to_do() {
    let world = World::start().await;
    let fetcher = world.fetcher(1 << 30, 1 << 26);

    // A download address outside TONE3000 never sees the user's token.
    let mut elsewhere = world.download(NANO, "wavenet.nam");
    if let Source::Tone3000Download(download) = &mut elsewhere {
        download.download_url = "http://203.0.113.9/steal".into();
    }
    let message = input_error(world.fetch(&fetcher, vec![elsewhere]).await);
    assert!(message.contains("outside TONE3000"), "{message}");
    assert!(message.contains("chain 1, block 1"), "{message}");

    // Too large for the configured cap.
    let small = world.fetcher(1 << 30, 1_000);
    let message = input_error(
        world
            .fetch(
                &small,
                vec![world.download(STANDARD, "wavenet_a1_standard.nam")],
            )
            .await,
    );
    assert!(message.contains("larger than 1000 bytes"), "{message}");

    // A model that no longer exists upstream.
    let message = input_error(
        world
            .fetch(&fetcher, vec![world.download((1, 999_999), "gone.nam")])
            .await,
    );
    assert!(message.contains("no longer exists"), "{message}");

    // A file that changed since GTS saw it.
    let mut changed = world.download(KLON, "wavenet.nam");
    if let Source::Tone3000Download(download) = &mut changed {
        download.sha256 = Some(sha256_hex(b"something else"));
    }
    let message = input_error(world.fetch(&fetcher, vec![changed]).await);
    assert!(message.contains("changed since"), "{message}");

    // An upload whose blob is gone.
    let gone = Source::ObjectStoreKey(ObjectStoreRef {
        key: "blobs/sha256/00/missing".into(),
        sha256: sha256_hex(b"x"),
        size_bytes: 1,
    });
    let message = input_error(world.fetch(&fetcher, vec![gone]).await);
    assert!(message.contains("upload it again"), "{message}");
    world.harness.finish().await;
}

#[tokio::test]
async fn an_unavailable_tone3000_is_transient_and_uploads_are_verified() {
    let world = World::start().await;
    let fetcher = world.fetcher(1 << 30, 1 << 26);
    world
        .fake
        .state()
        .set_failure_mode(FailureMode::Unavailable);
    match world
        .fetch(&fetcher, vec![world.download(NANO, "wavenet.nam")])
        .await
    {
        Err(RenderFailure::Transient(message)) => assert!(message.contains("retried"), "{message}"),
        other => panic!("expected a transient failure, got {other:?}"),
    }
    world.fake.state().set_failure_mode(FailureMode::None);

    // A DI upload comes back byte for byte; a tampered one is refused.
    let di = Bytes::from_static(b"RIFF....WAVE");
    let sha = sha256_hex(&di);
    world.blobs.put_bytes("blobs/di", di.clone()).await.unwrap();
    let object = ObjectStoreRef {
        key: "blobs/di".into(),
        sha256: sha.clone(),
        size_bytes: di.len() as u64,
    };
    let dir = tempfile::tempdir().unwrap();
    let inputs = fetcher
        .fetch(
            &spec(vec![], vec![object.clone()]),
            Uuid::new_v4(),
            dir.path(),
            &CancellationToken::new(),
            &|_| {},
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&inputs.di_tracks[0]).unwrap(), di);
    world
        .blobs
        .put_bytes("blobs/di", Bytes::from_static(b"tampered"))
        .await
        .unwrap();
    let result = fetcher
        .fetch(
            &spec(vec![], vec![object]),
            Uuid::new_v4(),
            dir.path(),
            &CancellationToken::new(),
            &|_| {},
        )
        .await;
    assert!(input_error(result).contains("damaged"));
    world.harness.finish().await;
}
