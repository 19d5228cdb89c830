//! The shootout service through the gateway over grpc-web, as a signed-in browser uses it:
//! upload DI tracks and a model in chunks, create a shootout with 2 DI tracks and 4 chains
//! mixing library and uploaded models, read it back identical, update it by field mask,
//! list it with cursors, delete it.

#![allow(clippy::unwrap_used)]

use gts_e2e::{Stack, clients, stack::with_bearer};
use gts_proto::v1::{
    Asset, AssetKind, BeginUploadRequest, Block, CabinetIrBlock, CreateShootoutRequest,
    DeleteShootoutRequest, DiTrackRef, FinishUploadRequest, GetShootoutRequest,
    ListShootoutsRequest, ModelSource, NamModelBlock, PutChunkRequest, Shootout, SignalChain,
    Tone3000ModelRef, UpdateShootoutRequest, block::Kind, model_source::Source,
    shootout_service_client::ShootoutServiceClient, upload_service_client::UploadServiceClient,
};
use tonic::Code;

/// A 16-bit mono WAV of decaying plucks (written by hand: the harness has no WAV crate).
fn plucked_wav(seconds: f64, rate: u32) -> Vec<u8> {
    let frames = (seconds * f64::from(rate)) as u32;
    let mut pcm = Vec::with_capacity(frames as usize * 2);
    for i in 0..frames {
        let t = f64::from(i % (rate / 2)) / f64::from(rate);
        let note = [110.0, 146.83, 196.0][(i / (rate / 2)) as usize % 3];
        let value = (2.0 * std::f64::consts::PI * note * t).sin() * (-6.0 * t).exp() * 0.6;
        pcm.extend_from_slice(&((value * 32767.0) as i16).to_le_bytes());
    }
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

async fn upload(stack: &Stack, token: &str, kind: AssetKind, name: &str, bytes: &[u8]) -> Asset {
    let mut client = UploadServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin());
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
        .await
        .unwrap()
        .into_inner()
        .upload
        .unwrap();
    let chunk = upload.max_chunk_bytes as usize;
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
            .await
            .unwrap();
    }
    client
        .finish_upload(with_bearer(
            FinishUploadRequest {
                upload_id: upload.upload_id,
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .asset
        .unwrap()
}

fn nam(source: Source) -> Block {
    Block {
        id: String::new(),
        kind: Some(Kind::NamModel(NamModelBlock {
            source: Some(ModelSource {
                source: Some(source),
            }),
            input_gain_db: 0.0,
        })),
    }
}

fn library(tone_id: u64, model_id: u64) -> Source {
    Source::Tone3000Model(Tone3000ModelRef { tone_id, model_id })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shootout_round_trips_through_the_gateway() {
    let storage = tempfile::tempdir().unwrap();
    let stack = Stack::start_with(&[
        (
            "GTS_STORAGE_DIR",
            storage.path().join("blobs").display().to_string(),
        ),
        (
            "GTS_UPLOAD_STAGING_DIR",
            storage.path().join("staging").display().to_string(),
        ),
    ])
    .await;
    let signed_in = stack.login().await;
    let token = signed_in.access_token();

    // 2.5 s at 48 kHz mono 16-bit is 240 kB: three chunks of the service's size or fewer.
    let riff = upload(
        &stack,
        token,
        AssetKind::DiTrack,
        "riff.wav",
        &plucked_wav(2.5, 48_000),
    )
    .await;
    let chords = upload(
        &stack,
        token,
        AssetKind::DiTrack,
        "chords.wav",
        &plucked_wav(3.0, 44_100),
    )
    .await;
    let model_bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nam/wavenet.nam"),
    )
    .unwrap();
    let model = upload(&stack, token, AssetKind::NamModel, "tiny.nam", &model_bytes).await;
    let ir_bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/irs/4x12-classic.wav"),
    )
    .unwrap();
    let ir = upload(
        &stack,
        token,
        AssetKind::ImpulseResponse,
        "v30.wav",
        &ir_bytes,
    )
    .await;

    let cab = Block {
        id: String::new(),
        kind: Some(Kind::CabinetIr(CabinetIrBlock {
            source: Some(ModelSource {
                source: Some(Source::AssetId(ir.id.clone())),
            }),
            mix: None,
        })),
    };
    let chain = |name: &str, model: Source| SignalChain {
        id: String::new(),
        display_name: name.into(),
        description: String::new(),
        blocks: vec![nam(model), cab.clone()],
    };
    let draft = Shootout {
        name: "Through the gateway".into(),
        di_tracks: vec![
            DiTrackRef {
                asset_id: riff.id.clone(),
                label: "Riff".into(),
            },
            DiTrackRef {
                asset_id: chords.id.clone(),
                label: String::new(),
            },
        ],
        chains: vec![
            chain("JCM800 standard", library(51949, 1)),
            chain("Uploaded", Source::AssetId(model.id.clone())),
            chain("Klon", library(2699, 4)),
            chain("Uploaded again", Source::AssetId(model.id.clone())),
        ],
        ..Default::default()
    };

    let mut client =
        ShootoutServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin());
    let created = client
        .create_shootout(with_bearer(
            CreateShootoutRequest {
                shootout: Some(draft.clone()),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    assert_eq!(created.owner_user_id, signed_in.user.id);
    assert_eq!(created.di_tracks, draft.di_tracks);
    assert_eq!(created.chains.len(), 4);
    for (sent, got) in draft.chains.iter().zip(&created.chains) {
        assert_eq!(sent.display_name, got.display_name);
        let kinds: Vec<_> = got.blocks.iter().map(|b| b.kind.clone()).collect();
        let sent_kinds: Vec<_> = sent.blocks.iter().map(|b| b.kind.clone()).collect();
        assert_eq!(kinds, sent_kinds);
    }

    let read = client
        .get_shootout(with_bearer(
            GetShootoutRequest {
                shootout_id: created.id.clone(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    assert_eq!(read, created, "read back identical");

    let mut update = UpdateShootoutRequest {
        shootout: Some(Shootout {
            id: created.id.clone(),
            etag: created.etag.clone(),
            guitar: "Telecaster, bridge".into(),
            ..Default::default()
        }),
        update_mask: Some(Default::default()),
    };
    if let Some(mask) = update.update_mask.as_mut() {
        mask.paths = vec!["guitar".to_owned()];
    }
    let updated = client
        .update_shootout(with_bearer(update, token))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    assert_eq!(updated.guitar, "Telecaster, bridge");
    assert_eq!(updated.name, created.name);

    // A second shootout, then page through both one at a time.
    let second = client
        .create_shootout(with_bearer(
            CreateShootoutRequest {
                shootout: Some(Shootout {
                    name: "Second".into(),
                    ..draft.clone()
                }),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    let first_page = client
        .list_shootouts(with_bearer(
            ListShootoutsRequest {
                page_size: 1,
                page_token: String::new(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first_page.shootouts[0].id, second.id, "newest first");
    let second_page = client
        .list_shootouts(with_bearer(
            ListShootoutsRequest {
                page_size: 1,
                page_token: first_page.next_page_token.clone(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second_page.shootouts[0].id, created.id);
    assert!(second_page.next_page_token.is_empty());

    client
        .delete_shootout(with_bearer(
            DeleteShootoutRequest {
                shootout_id: created.id.clone(),
                etag: updated.etag.clone(),
            },
            token,
        ))
        .await
        .unwrap();
    let gone = client
        .get_shootout(with_bearer(
            GetShootoutRequest {
                shootout_id: created.id.clone(),
            },
            token,
        ))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);

    // Without a token the gateway's backend refuses.
    let anonymous = client
        .list_shootouts(ListShootoutsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_calls_reach_tone3000_with_the_users_token_and_429_becomes_resource_exhausted() {
    use fake_tone3000::{FakeConfig, FakeTone3000, RateLimit, TONE_JCM800};
    use gts_proto::v1::{
        GetToneRequest, SearchTonesRequest, library_service_client::LibraryServiceClient,
    };

    // Every service (auth for the sign-in, shootout for the library) talks to this fake.
    let fake = FakeTone3000::start(FakeConfig::for_workspace_tests())
        .await
        .unwrap();
    let stack = Stack::start_with(&[("GTS_TONE3000_URL", fake.base_url().to_owned())]).await;
    let signed_in = stack.login().await;
    let token = signed_in.access_token();
    let mut library =
        LibraryServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin());

    let before = fake.state().requests();
    let tone = library
        .get_tone(with_bearer(
            GetToneRequest {
                tone_id: TONE_JCM800,
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .tone
        .unwrap();
    assert_eq!(tone.id, TONE_JCM800);
    assert!(
        fake.state().requests() > before,
        "the call reached TONE3000"
    );

    fake.state().set_rate_limit(Some(RateLimit {
        max_requests: 1,
        window: std::time::Duration::from_secs(20),
    }));
    let mut limited = None;
    for page in 1..=3 {
        let search = SearchTonesRequest {
            query: format!("uncached query {page}"),
            ..Default::default()
        };
        if let Err(status) = library.search_tones(with_bearer(search, token)).await {
            limited = Some(status);
            break;
        }
    }
    let limited = limited.expect("the fake answers 429 past one request");
    assert_eq!(limited.code(), Code::ResourceExhausted, "{limited:?}");
    // The google.rpc.Status details carry a RetryInfo (checked by its type URL: this
    // harness has no rich-error decoder).
    let details = limited.details();
    let type_url = b"type.googleapis.com/google.rpc.RetryInfo";
    assert!(
        details.windows(type_url.len()).any(|w| w == type_url),
        "RetryInfo survives grpc-web: {details:?}"
    );
    stack.stop().await;
    fake.shutdown().await.unwrap();
}
