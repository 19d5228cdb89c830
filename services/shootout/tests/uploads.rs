//! UploadService and AssetService over gRPC: chunked resumable uploads, checksum and
//! content validation (a corpus of hostile files), quota and caps, expiry, asset facts,
//! and deletion guarded by the shootouts that use an asset.

#![allow(clippy::unwrap_used)]

mod common;

use common::{
    as_user,
    audio::{Sample, plucked, wav},
    fixtures, sha256_hex, start, start_with, upload,
};
use gts_proto::v1::{
    AbortUploadRequest, AssetKind, AudioFormat, BeginUploadRequest, CreateShootoutRequest,
    DeleteAssetRequest, DiTrackRef, FinishUploadRequest, GetAssetRequest, GetUploadRequest,
    ListAssetsRequest, ModelSize, NamArchitecture, PutChunkRequest, Shootout, SignalChain,
    UploadState, asset::Facts, asset_service_client::AssetServiceClient,
    shootout_service_client::ShootoutServiceClient, upload_service_client::UploadServiceClient,
};
use tonic::Code;
use uuid::Uuid;

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn a_50_mib_di_resumes_after_an_interruption_and_a_bad_checksum_keeps_nothing() {
    let svc = start().await;
    let user = Uuid::new_v4();
    // 48 kHz stereo 24-bit: 288 000 bytes a second, so ~182 s is just over 50 MiB.
    let di = wav(&plucked(182.1, 48_000), 48_000, 2, Sample::Int24);
    assert!(di.len() >= 50 * MIB, "{}", di.len());
    let sha = sha256_hex(&di);

    let mut client = UploadServiceClient::new(svc.channel.clone());
    let begun = client
        .begin_upload(as_user(
            user,
            BeginUploadRequest {
                kind: AssetKind::DiTrack as i32,
                filename: "riff.wav".into(),
                size_bytes: di.len() as u64,
                sha256: sha.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .upload
        .unwrap();
    assert_eq!(begun.max_chunk_bytes, MIB as u32);
    let chunks: Vec<&[u8]> = di.chunks(MIB).collect();
    let half = chunks.len() / 2;
    for (i, chunk) in chunks.iter().take(half).enumerate() {
        client
            .put_chunk(as_user(
                user,
                PutChunkRequest {
                    upload_id: begun.upload_id.clone(),
                    offset: (i * MIB) as u64,
                    data: chunk.to_vec(),
                },
            ))
            .await
            .unwrap();
    }
    drop(client); // the connection "drops" half-way

    let mut client = UploadServiceClient::new(svc.channel.clone());
    let state = client
        .get_upload(as_user(
            user,
            GetUploadRequest {
                upload_id: begun.upload_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .upload
        .unwrap();
    assert_eq!(state.bytes_received, (half * MIB) as u64);
    assert_eq!(state.state, UploadState::Open as i32);
    // Resuming one chunk early (the client is unsure the last one landed) is idempotent.
    let mut offset = state.bytes_received as usize - MIB;
    while offset < di.len() {
        let end = (offset + MIB).min(di.len());
        let received = client
            .put_chunk(as_user(
                user,
                PutChunkRequest {
                    upload_id: begun.upload_id.clone(),
                    offset: offset as u64,
                    data: di[offset..end].to_vec(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .bytes_received;
        assert_eq!(received, end.max(half * MIB) as u64);
        offset = end;
    }
    // A repeated chunk with different bytes is refused.
    let conflict = client
        .put_chunk(as_user(
            user,
            PutChunkRequest {
                upload_id: begun.upload_id.clone(),
                offset: 0,
                data: vec![0xAB; 16],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(conflict.code(), Code::FailedPrecondition);

    let asset = client
        .finish_upload(as_user(
            user,
            FinishUploadRequest {
                upload_id: begun.upload_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .asset
        .unwrap();
    assert_eq!(asset.sha256, sha);
    assert_eq!(asset.size_bytes, di.len() as u64);
    let Some(Facts::Audio(facts)) = asset.facts.clone() else {
        panic!("DI facts missing: {asset:?}");
    };
    assert_eq!(facts.sample_rate_hz, 48_000);
    assert_eq!(facts.channels, 2);
    assert_eq!(facts.bits_per_sample, 24);
    assert_eq!(facts.format, AudioFormat::Wav as i32);
    assert!(
        (182_000..=182_200).contains(&facts.duration_ms),
        "{}",
        facts.duration_ms
    );
    assert!(
        facts.peak_dbfs <= 0.0 && facts.peak_dbfs > -12.0,
        "{}",
        facts.peak_dbfs
    );
    assert!(facts.rms_dbfs < facts.peak_dbfs && facts.rms_dbfs > -60.0);
    let blob = svc
        .storage_dir
        .path()
        .join("blobs/blobs/sha256")
        .join(&sha[..2])
        .join(&sha);
    assert_eq!(std::fs::read(&blob).unwrap(), di, "content-addressed blob");
    // Finishing again returns the same asset.
    let again = client
        .finish_upload(as_user(
            user,
            FinishUploadRequest {
                upload_id: begun.upload_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .asset
        .unwrap();
    assert_eq!(again, asset);

    // Same file, wrong declared checksum: rejected at Finish and nothing is kept.
    let mut wrong = sha256_hex(b"something else");
    wrong.make_ascii_uppercase(); // case does not matter, the value does
    let bad = client
        .begin_upload(as_user(
            user,
            BeginUploadRequest {
                kind: AssetKind::DiTrack as i32,
                filename: "riff-again.wav".into(),
                size_bytes: 3 * MIB as u64,
                sha256: wrong,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .upload
        .unwrap();
    for i in 0..3 {
        client
            .put_chunk(as_user(
                user,
                PutChunkRequest {
                    upload_id: bad.upload_id.clone(),
                    offset: (i * MIB) as u64,
                    data: di[i * MIB..(i + 1) * MIB].to_vec(),
                },
            ))
            .await
            .unwrap();
    }
    let rejected = client
        .finish_upload(as_user(
            user,
            FinishUploadRequest {
                upload_id: bad.upload_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(rejected.code(), Code::InvalidArgument);
    assert!(
        rejected.message().contains("hash to"),
        "{}",
        rejected.message()
    );
    let after = client
        .get_upload(as_user(
            user,
            GetUploadRequest {
                upload_id: bad.upload_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .upload
        .unwrap();
    assert_eq!(after.state, UploadState::Aborted as i32);
    let staged = std::fs::read_dir(svc.storage_dir.path().join("staging"))
        .unwrap()
        .count();
    assert_eq!(staged, 0, "no staged bytes left behind");
    let listed = AssetServiceClient::new(svc.channel.clone())
        .list_assets(as_user(user, ListAssetsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.assets.len(),
        1,
        "only the good upload became an asset"
    );
    assert_eq!(listed.quota_used_bytes, di.len() as u64);
    svc.finish().await;
}

fn nam_fixture(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let text = std::fs::read_to_string(fixtures().join("nam/wavenet.nam")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut json);
    serde_json::to_vec(&json).unwrap()
}

/// A good WAV whose fmt chunk has `channels` and `block_align` overwritten.
fn wav_with_header(channels: u16, block_align: u16) -> Vec<u8> {
    let mut bytes = wav(&plucked(2.0, 44_100), 44_100, 1, Sample::Int16);
    bytes[22..24].copy_from_slice(&channels.to_le_bytes()); // fmt.channels
    bytes[32..34].copy_from_slice(&block_align.to_le_bytes()); // fmt.block_align
    bytes
}

fn zero_channel_wav() -> Vec<u8> {
    let mut bytes = wav(&plucked(2.0, 44_100), 44_100, 1, Sample::Int16);
    bytes[22..24].copy_from_slice(&0u16.to_le_bytes()); // fmt.channels
    bytes
}

#[tokio::test]
async fn hostile_files_are_rejected_with_specific_messages() {
    let svc = start().await;
    let user = Uuid::new_v4();
    let good = wav(&plucked(3.0, 44_100), 44_100, 1, Sample::Int16);
    let mut lying = good.clone();
    lying[40..44].copy_from_slice(&(u32::MAX - 8).to_le_bytes()); // data chunk size
    let mut nan = plucked(2.0, 48_000);
    nan.iter_mut().skip(1000).for_each(|s| *s = f32::NAN);
    let weights_text = String::from_utf8(nam_fixture(|_| {})).unwrap();
    // Compact JSON (serde_json); Python's json module writes NaN like this.
    let nan_weights = weights_text.replacen("\"weights\":[", "\"weights\":[NaN,", 1);
    assert_ne!(nan_weights, weights_text);

    let cases: Vec<(&str, AssetKind, Vec<u8>, &str)> = vec![
        (
            "truncated WAV",
            AssetKind::DiTrack,
            good[..good.len() * 6 / 10].to_vec(),
            "ends early",
        ),
        (
            "WAV header lies about sizes",
            AssetKind::DiTrack,
            lying,
            "header misstates its sizes",
        ),
        (
            "0 channels",
            AssetKind::DiTrack,
            zero_channel_wav(),
            "impossible number of channels",
        ),
        (
            "block align 0",
            AssetKind::DiTrack,
            wav_with_header(1, 0),
            "block align is 0",
        ),
        (
            "65535 channels",
            AssetKind::DiTrack,
            wav_with_header(u16::MAX, 2),
            "impossible number of channels",
        ),
        (
            "65535 channels (IR)",
            AssetKind::ImpulseResponse,
            wav_with_header(u16::MAX, u16::MAX),
            "impossible number of channels",
        ),
        (
            "silent IR",
            AssetKind::ImpulseResponse,
            wav(&vec![0.0; 4800], 48_000, 1, Sample::Int16),
            "silent",
        ),
        (
            "silent DI",
            AssetKind::DiTrack,
            wav(&vec![0.0; 96_000], 48_000, 1, Sample::Float32),
            "silent",
        ),
        (
            "near-silent DI",
            AssetKind::DiTrack,
            wav(
                &plucked(2.0, 48_000)
                    .iter()
                    .map(|s| s * 1e-4)
                    .collect::<Vec<_>>(),
                48_000,
                1,
                Sample::Float32,
            ),
            "nearly silent",
        ),
        (
            "1 Hz",
            AssetKind::DiTrack,
            wav(&plucked(2.0, 1000)[..4], 1, 1, Sample::Int16),
            "1 Hz",
        ),
        (
            "NaN float WAV",
            AssetKind::DiTrack,
            wav(&nan, 48_000, 1, Sample::Float32),
            "NaN",
        ),
        (
            "text named .wav",
            AssetKind::DiTrack,
            b"these are my liner notes, not audio\n".repeat(20),
            "not a DI track GTS can read",
        ),
        (
            "a silent DI (a muted input)",
            AssetKind::DiTrack,
            wav(&vec![0.0; 96_000], 48_000, 1, Sample::Int16),
            "is silent",
        ),
        (
            "too short",
            AssetKind::DiTrack,
            wav(&plucked(0.5, 44_100), 44_100, 1, Sample::Int16),
            "at least 1 s",
        ),
        (
            "11 minutes",
            AssetKind::DiTrack,
            wav(&plucked(660.0, 22_050), 22_050, 1, Sample::Int16),
            "11:00.0 min",
        ),
        (
            "IR over 10 s",
            AssetKind::ImpulseResponse,
            wav(&plucked(11.0, 44_100), 44_100, 1, Sample::Int16),
            "at most 10.0 s",
        ),
        (
            "wrong weight count",
            AssetKind::NamModel,
            nam_fixture(|j| {
                j["weights"].as_array_mut().unwrap().truncate(100);
            }),
            "weight count mismatch",
        ),
        (
            "a million channels",
            AssetKind::NamModel,
            nam_fixture(|j| {
                j["config"]["layers"][0]["channels"] = 1_000_000.into();
            }),
            "channels = 1000000",
        ),
        (
            "NaN weights",
            AssetKind::NamModel,
            nan_weights.into_bytes(),
            "NaN or infinite weights",
        ),
        (
            "infinite weights",
            AssetKind::NamModel,
            weights_text
                .replacen("\"weights\":[", "\"weights\":[1e39,", 1)
                .into_bytes(),
            "NaN or infinite",
        ),
        (
            "malformed JSON",
            AssetKind::NamModel,
            b"{\"version\": \"0.5.4\", \"config\": {".to_vec(),
            "not a valid .nam file",
        ),
        (
            "unsupported architecture",
            AssetKind::NamModel,
            nam_fixture(|j| {
                j["architecture"] = "Transformer".into();
            }),
            ".nam",
        ),
    ];
    for (name, kind, bytes, expected) in cases {
        let err = upload(&svc.channel, user, kind, "file.wav", &bytes)
            .await
            .expect_err(name);
        assert_eq!(err.code(), Code::InvalidArgument, "{name}: {err:?}");
        assert!(
            err.message().contains(expected),
            "{name}: expected {expected:?} in {:?}",
            err.message()
        );
    }

    // Refused at Begin: empty files, files over the kind's limit, undeclared kinds.
    let mut client = UploadServiceClient::new(svc.channel.clone());
    for (name, kind, size, filename, field) in [
        (
            "zero-length",
            AssetKind::DiTrack,
            0u64,
            "empty.wav",
            "size_bytes",
        ),
        (
            "60 MiB .nam",
            AssetKind::NamModel,
            60 * MIB as u64,
            "big.nam",
            "size_bytes",
        ),
        ("no kind", AssetKind::Unspecified, 10, "x.wav", "kind"),
        (
            "a path",
            AssetKind::DiTrack,
            10,
            "../etc/passwd",
            "filename",
        ),
    ] {
        let err = client
            .begin_upload(as_user(
                user,
                BeginUploadRequest {
                    kind: kind as i32,
                    filename: filename.into(),
                    size_bytes: size,
                    sha256: sha256_hex(b""),
                },
            ))
            .await
            .expect_err(name);
        assert_eq!(err.code(), Code::InvalidArgument, "{name}");
        assert_eq!(common::violation_fields(&err), [field], "{name}");
    }

    // None of it became an asset, and nothing is staged any more.
    let listed = AssetServiceClient::new(svc.channel.clone())
        .list_assets(as_user(user, ListAssetsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.assets.is_empty());
    assert_eq!(listed.quota_used_bytes, 0);
    let staged = std::fs::read_dir(svc.storage_dir.path().join("staging"))
        .unwrap()
        .count();
    assert_eq!(staged, 0);
    svc.finish().await;
}

#[tokio::test]
async fn good_files_of_every_kind_become_assets_with_their_facts() {
    let svc = start().await;
    let user = Uuid::new_v4();
    let cases = [
        (
            "mono16.wav",
            wav(&plucked(2.0, 44_100), 44_100, 1, Sample::Int16),
            16,
            1,
        ),
        (
            "float.wav",
            wav(&plucked(2.0, 96_000), 96_000, 2, Sample::Float32),
            32,
            2,
        ),
    ];
    for (name, bytes, bits, channels) in cases {
        let asset = upload(&svc.channel, user, AssetKind::DiTrack, name, &bytes)
            .await
            .unwrap();
        let Some(Facts::Audio(facts)) = asset.facts else {
            panic!("{name}")
        };
        assert_eq!(facts.bits_per_sample, bits, "{name}");
        assert_eq!(facts.channels, channels, "{name}");
        assert!((1990..=2010).contains(&facts.duration_ms), "{name}");
    }

    let nam = std::fs::read(fixtures().join("nam/wavenet_a1_standard.nam")).unwrap();
    let asset = upload(
        &svc.channel,
        user,
        AssetKind::NamModel,
        "standard.nam",
        &nam,
    )
    .await
    .unwrap();
    let Some(Facts::Nam(facts)) = asset.facts else {
        panic!("nam facts")
    };
    assert_eq!(facts.architecture, NamArchitecture::Wavenet as i32);
    assert_eq!(facts.size_class, ModelSize::Standard as i32);
    assert_eq!(facts.weight_count, 13_802);
    for file in ["wavenet.nam", "lstm.nam", "A2.nam"] {
        let bytes = std::fs::read(fixtures().join("nam").join(file)).unwrap();
        upload(&svc.channel, user, AssetKind::NamModel, file, &bytes)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
    }
    let small = std::fs::read(fixtures().join("nam/wavenet.nam")).unwrap();
    let tiny = upload(&svc.channel, user, AssetKind::NamModel, "tiny.nam", &small)
        .await
        .unwrap();
    let Some(Facts::Nam(facts)) = tiny.facts else {
        panic!("nam facts")
    };
    assert_eq!(facts.gear_make, "Darkglass Electronics");
    assert_eq!(facts.loudness_db.map(|l| l.round()), Some(-20.0));

    let ir = std::fs::read(fixtures().join("irs/4x12-classic.wav")).unwrap();
    let asset = upload(
        &svc.channel,
        user,
        AssetKind::ImpulseResponse,
        "v30.wav",
        &ir,
    )
    .await
    .unwrap();
    let Some(Facts::Ir(facts)) = asset.facts else {
        panic!("ir facts")
    };
    assert_eq!(facts.sample_rate_hz, 44_100);
    assert_eq!(facts.length_ms, 5); // 244 samples

    let mut assets = AssetServiceClient::new(svc.channel.clone());
    let models = assets
        .list_assets(as_user(
            user,
            ListAssetsRequest {
                kind: AssetKind::NamModel as i32,
                page_size: 2,
                page_token: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(models.assets.len(), 2);
    assert_eq!(models.assets[0].filename, "tiny.nam", "newest first");
    let rest = assets
        .list_assets(as_user(
            user,
            ListAssetsRequest {
                kind: AssetKind::NamModel as i32,
                page_size: 10,
                page_token: models.next_page_token,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.assets.len(), 3);
    assert!(rest.next_page_token.is_empty());
    svc.finish().await;
}

#[tokio::test]
async fn quota_cap_expiry_and_abort() {
    let svc = start_with(&[
        ("GTS_UPLOAD_QUOTA_BYTES", (3 * MIB).to_string()),
        ("GTS_UPLOAD_MAX_OPEN", "2".to_owned()),
    ])
    .await;
    let user = Uuid::new_v4();
    let mut client = UploadServiceClient::new(svc.channel.clone());
    let begin = |size: u64| {
        as_user(
            user,
            BeginUploadRequest {
                kind: AssetKind::DiTrack as i32,
                filename: "a.wav".into(),
                size_bytes: size,
                sha256: sha256_hex(b"x"),
            },
        )
    };
    let first = client
        .begin_upload(begin(2 * MIB as u64))
        .await
        .unwrap()
        .into_inner()
        .upload
        .unwrap();
    let over = client
        .begin_upload(begin(2 * MIB as u64))
        .await
        .unwrap_err();
    assert_eq!(over.code(), Code::ResourceExhausted);
    assert!(over.message().contains("free"), "{}", over.message());
    let second = client
        .begin_upload(begin(10))
        .await
        .unwrap()
        .into_inner()
        .upload
        .unwrap();
    let capped = client.begin_upload(begin(10)).await.unwrap_err();
    assert_eq!(capped.code(), Code::ResourceExhausted);
    assert!(capped.message().contains("unfinished uploads"));

    client
        .abort_upload(as_user(
            user,
            AbortUploadRequest {
                upload_id: first.upload_id.clone(),
            },
        ))
        .await
        .unwrap();
    let after_abort = client
        .put_chunk(as_user(
            user,
            PutChunkRequest {
                upload_id: first.upload_id.clone(),
                offset: 0,
                data: vec![1],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(after_abort.code(), Code::FailedPrecondition);
    // A gap is refused; a chunk past the declared size too.
    let gap = client
        .put_chunk(as_user(
            user,
            PutChunkRequest {
                upload_id: second.upload_id.clone(),
                offset: 5,
                data: vec![1],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(gap.code(), Code::FailedPrecondition);
    let past = client
        .put_chunk(as_user(
            user,
            PutChunkRequest {
                upload_id: second.upload_id.clone(),
                offset: 0,
                data: vec![1; 11],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(past.code(), Code::InvalidArgument);
    let unfinished = client
        .finish_upload(as_user(
            user,
            FinishUploadRequest {
                upload_id: second.upload_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(unfinished.code(), Code::FailedPrecondition);

    // Expiry: push the deadline into the past, then sweep.
    client
        .put_chunk(as_user(
            user,
            PutChunkRequest {
                upload_id: second.upload_id.clone(),
                offset: 0,
                data: vec![1; 4],
            },
        ))
        .await
        .unwrap();
    sqlx::query(
        "UPDATE shootout.uploads SET expires_at = now() - interval '1 second' WHERE id = $1",
    )
    .bind(Uuid::parse_str(&second.upload_id).unwrap())
    .execute(&svc.db)
    .await
    .unwrap();
    assert_eq!(svc.state.expire_overdue_uploads().await.unwrap(), 1);
    let expired = client
        .get_upload(as_user(
            user,
            GetUploadRequest {
                upload_id: second.upload_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .upload
        .unwrap();
    assert_eq!(expired.state, UploadState::Expired as i32);
    let staged = std::fs::read_dir(svc.storage_dir.path().join("staging"))
        .unwrap()
        .count();
    assert_eq!(staged, 0, "expired and aborted uploads leave no bytes");
    svc.finish().await;
}

#[tokio::test]
async fn deleting_an_asset_a_shootout_uses_names_the_shootout() {
    let svc = start().await;
    let user = Uuid::new_v4();
    let di_bytes = wav(&plucked(1.5, 44_100), 44_100, 1, Sample::Int16);
    let di = upload(
        &svc.channel,
        user,
        AssetKind::DiTrack,
        "riff.wav",
        &di_bytes,
    )
    .await
    .unwrap();
    let spare = upload(
        &svc.channel,
        user,
        AssetKind::DiTrack,
        "spare.wav",
        &di_bytes,
    )
    .await
    .unwrap();
    ShootoutServiceClient::new(svc.channel.clone())
        .create_shootout(as_user(
            user,
            CreateShootoutRequest {
                shootout: Some(Shootout {
                    name: "Friday night".into(),
                    di_tracks: vec![DiTrackRef {
                        asset_id: di.id.clone(),
                        label: String::new(),
                    }],
                    chains: vec![SignalChain {
                        display_name: "Clean".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap();
    let mut assets = AssetServiceClient::new(svc.channel.clone());
    let refused = assets
        .delete_asset(as_user(
            user,
            DeleteAssetRequest {
                asset_id: di.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("\"Friday night\""),
        "{}",
        refused.message()
    );

    // The spare shares the blob (same bytes): deleting it keeps the blob for the other.
    assets
        .delete_asset(as_user(
            user,
            DeleteAssetRequest {
                asset_id: spare.id.clone(),
            },
        ))
        .await
        .unwrap();
    let gone = assets
        .get_asset(as_user(
            user,
            GetAssetRequest {
                asset_id: spare.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let sha = &di.sha256;
    let blob = svc
        .storage_dir
        .path()
        .join("blobs/blobs/sha256")
        .join(&sha[..2])
        .join(sha);
    assert!(blob.exists());
    svc.finish().await;
}

#[tokio::test]
async fn an_upload_whose_staged_bytes_vanished_is_refused_not_corrupted() {
    let svc = start().await;
    let user = Uuid::new_v4();
    let bytes = wav(&plucked(1.5, 44_100), 44_100, 1, Sample::Int16);
    let mut client = UploadServiceClient::new(svc.channel.clone());
    let upload = client
        .begin_upload(as_user(
            user,
            BeginUploadRequest {
                kind: AssetKind::DiTrack as i32,
                filename: "lost.wav".into(),
                size_bytes: bytes.len() as u64,
                sha256: sha256_hex(&bytes),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .upload
        .unwrap();
    let half = bytes.len() / 2;
    client
        .put_chunk(as_user(
            user,
            PutChunkRequest {
                upload_id: upload.upload_id.clone(),
                offset: 0,
                data: bytes[..half].to_vec(),
            },
        ))
        .await
        .unwrap();
    // The staging disk loses the file (another replica, a wiped volume).
    for entry in std::fs::read_dir(svc.storage_dir.path().join("staging")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let refused = client
        .put_chunk(as_user(
            user,
            PutChunkRequest {
                upload_id: upload.upload_id.clone(),
                offset: half as u64,
                data: bytes[half..].to_vec(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("start a new upload"),
        "{}",
        refused.message()
    );
    svc.finish().await;
}

/// Converts a WAV to another container with ffmpeg (installed on every GTS machine).
fn ffmpeg_convert(wav_bytes: &[u8], extension: &str, codec_args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    let output = dir.path().join(format!("out.{extension}"));
    std::fs::write(&input, wav_bytes).unwrap();
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&input)
        .args(codec_args)
        .arg(&output)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg failed for {extension}");
    std::fs::read(&output).unwrap()
}

#[tokio::test]
async fn every_supported_format_is_accepted_and_recognised() {
    let svc = start().await;
    let user = Uuid::new_v4();
    let source = wav(&plucked(2.0, 48_000), 48_000, 2, Sample::Int16);
    let int32 = {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 44_100,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Int,
        };
        let mut cursor = std::io::Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
        for s in plucked(1.5, 44_100) {
            writer.write_sample((s * 2_147_483_000.0) as i32).unwrap();
        }
        writer.finalize().unwrap();
        cursor.into_inner()
    };
    let cases: Vec<(&str, Vec<u8>, AudioFormat, u32)> = vec![
        ("int32.wav", int32, AudioFormat::Wav, 32),
        (
            "take.flac",
            ffmpeg_convert(&source, "flac", &["-c:a", "flac"]),
            AudioFormat::Flac,
            16,
        ),
        (
            "take.mp3",
            ffmpeg_convert(&source, "mp3", &["-c:a", "libmp3lame", "-b:a", "192k"]),
            AudioFormat::Mp3,
            0,
        ),
        (
            "take.aiff",
            ffmpeg_convert(&source, "aiff", &["-c:a", "pcm_s16be"]),
            AudioFormat::Aiff,
            16,
        ),
        (
            "take.ogg",
            ffmpeg_convert(&source, "ogg", &["-c:a", "libvorbis", "-q:a", "5"]),
            AudioFormat::Ogg,
            0,
        ),
    ];
    for (name, bytes, format, bits) in cases {
        let asset = upload(&svc.channel, user, AssetKind::DiTrack, name, &bytes)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let Some(Facts::Audio(facts)) = asset.facts else {
            panic!("{name}: no facts")
        };
        assert_eq!(facts.format, format as i32, "{name}");
        assert_eq!(facts.bits_per_sample, bits, "{name}");
        assert!(
            (1400..=2100).contains(&facts.duration_ms),
            "{name}: {}",
            facts.duration_ms
        );
        assert!(
            facts.peak_dbfs > -20.0 && facts.peak_dbfs <= 0.5,
            "{name}: {}",
            facts.peak_dbfs
        );
    }
    svc.finish().await;
}

#[tokio::test]
async fn a_damaged_asset_row_is_an_internal_error_not_an_asset_without_facts() {
    let svc = start().await;
    let user = Uuid::new_v4();
    let bytes = wav(&plucked(1.0, 44_100), 44_100, 1, Sample::Int16);
    let asset = upload(&svc.channel, user, AssetKind::DiTrack, "riff.wav", &bytes)
        .await
        .unwrap();
    // Bytes that are no protobuf message: a varint that never ends.
    sqlx::query("UPDATE shootout.assets SET facts = '\\xffffffffffffffffffff' WHERE id = $1::uuid")
        .bind(&asset.id)
        .execute(&svc.db)
        .await
        .unwrap();
    let mut assets = AssetServiceClient::new(svc.channel.clone());
    let read = assets
        .get_asset(as_user(
            user,
            GetAssetRequest {
                asset_id: asset.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(read.code(), Code::Internal, "{read:?}");
    assert!(read.message().contains("damaged"), "{}", read.message());
    assert!(
        !read.message().contains("varint"),
        "no decoder detail leaks: {}",
        read.message()
    );
    let listed = assets
        .list_assets(as_user(user, ListAssetsRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(listed.code(), Code::Internal, "{listed:?}");
    svc.finish().await;
}
