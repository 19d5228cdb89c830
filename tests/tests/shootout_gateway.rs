//! The shootout service through the gateway over grpc-web, as a signed-in browser uses it:
//! upload DI tracks and a model in chunks, create a shootout with 2 DI tracks and 4 chains
//! mixing library and uploaded models, read it back identical, update it by field mask,
//! list it with cursors, delete it.

#![allow(clippy::unwrap_used)]

use gts_e2e::{
    Stack, clients,
    shootouts::{cabinet, fixture, library, nam, plucked_wav, upload},
    stack::with_bearer,
};
use gts_proto::v1::{
    AssetKind, CreateShootoutRequest, DeleteShootoutRequest, DiTrackRef, GetShootoutRequest,
    ListShootoutsRequest, Shootout, SignalChain, UpdateShootoutRequest, model_source::Source,
    shootout_service_client::ShootoutServiceClient,
};
use tonic::Code;

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
    let model_bytes = fixture("nam/wavenet.nam");
    let model = upload(&stack, token, AssetKind::NamModel, "tiny.nam", &model_bytes).await;
    let ir_bytes = fixture("irs/4x12-classic.wav");
    let ir = upload(
        &stack,
        token,
        AssetKind::ImpulseResponse,
        "v30.wav",
        &ir_bytes,
    )
    .await;

    let cab = cabinet(Source::AssetId(ir.id.clone()));
    let chain = |name: &str, model: Source| SignalChain {
        id: String::new(),
        display_name: name.into(),
        description: String::new(),
        blocks: vec![nam(model), cab.clone()],
        // Set, as a read returns it (the server fills in 80 Hz when unset).
        input_high_pass_hz: Some(80.0),
        input_level_mode: 0,
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
