//! Every RPC called by user B with user A's ids answers NOT_FOUND, with exactly the message
//! a missing id gets; and the worker's GetRenderSpec resolves every source.

#![allow(clippy::unwrap_used)]

mod common;

use common::{
    FixedToken, as_service, as_user,
    audio::{Sample, plucked, wav},
    fixtures, start_custom, upload,
};
use fake_tone3000::{FakeConfig, FakeTone3000, TONE_JCM800, TONE_KLON};
use gts_proto::v1::{
    AbortUploadRequest, AddBlockRequest, AddChainRequest, AssetKind, BeginUploadRequest, Block,
    CabinetIrBlock, CreateShootoutRequest, DeleteAssetRequest, DeleteShootoutRequest, DiTrackRef,
    FinishUploadRequest, GainBlock, GetAssetRequest, GetRenderSpecRequest, GetShootoutRequest,
    GetUploadRequest, ModelSource, NamModelBlock, PutChunkRequest, RemoveBlockRequest,
    RemoveChainRequest, ReorderBlocksRequest, ReorderChainsRequest, Shootout, SignalChain,
    Tone3000ModelRef, UpdateBlockRequest, UpdateChainRequest, UpdateShootoutRequest,
    asset_service_client::AssetServiceClient, block::Kind, model_source::Source, resolved_source,
    shootout_internal_client::ShootoutInternalClient,
    shootout_service_client::ShootoutServiceClient, upload_service_client::UploadServiceClient,
};
use tonic::{Code, Status, transport::Channel};
use uuid::Uuid;

/// The ids one user's resources have.
#[derive(Clone)]
struct Ids {
    shootout: String,
    chain: String,
    block: String,
    asset: String,
    upload: String,
}

const RPCS: &[&str] = &[
    "GetShootout",
    "UpdateShootout",
    "DeleteShootout",
    "AddChain",
    "UpdateChain",
    "RemoveChain",
    "ReorderChains",
    "AddBlock",
    "UpdateBlock",
    "RemoveBlock",
    "ReorderBlocks",
    "PutChunk",
    "GetUpload",
    "FinishUpload",
    "AbortUpload",
    "GetAsset",
    "DeleteAsset",
    "GetRenderSpec",
];

async fn call(channel: &Channel, rpc: &str, user: Uuid, ids: &Ids) -> Status {
    let mut shootouts = ShootoutServiceClient::new(channel.clone());
    let mut uploads = UploadServiceClient::new(channel.clone());
    let mut assets = AssetServiceClient::new(channel.clone());
    let gain = || Block {
        id: ids.block.clone(),
        kind: Some(Kind::Gain(GainBlock { gain_db: 1.0 })),
    };
    let mask = |p: &str| {
        Some(prost_types::FieldMask {
            paths: vec![p.to_owned()],
        })
    };
    let result = match rpc {
        "GetShootout" => shootouts
            .get_shootout(as_user(
                user,
                GetShootoutRequest {
                    shootout_id: ids.shootout.clone(),
                },
            ))
            .await
            .map(drop),
        "UpdateShootout" => shootouts
            .update_shootout(as_user(
                user,
                UpdateShootoutRequest {
                    shootout: Some(Shootout {
                        id: ids.shootout.clone(),
                        name: "mine now".into(),
                        ..Default::default()
                    }),
                    update_mask: mask("name"),
                },
            ))
            .await
            .map(drop),
        "DeleteShootout" => shootouts
            .delete_shootout(as_user(
                user,
                DeleteShootoutRequest {
                    shootout_id: ids.shootout.clone(),
                    etag: String::new(),
                },
            ))
            .await
            .map(drop),
        "AddChain" => shootouts
            .add_chain(as_user(
                user,
                AddChainRequest {
                    shootout_id: ids.shootout.clone(),
                    chain: Some(SignalChain {
                        display_name: "Intruder".into(),
                        ..Default::default()
                    }),
                    position: None,
                    etag: String::new(),
                },
            ))
            .await
            .map(drop),
        "UpdateChain" => shootouts
            .update_chain(as_user(
                user,
                UpdateChainRequest {
                    shootout_id: ids.shootout.clone(),
                    chain: Some(SignalChain {
                        id: ids.chain.clone(),
                        display_name: "Renamed".into(),
                        ..Default::default()
                    }),
                    update_mask: mask("display_name"),
                    etag: String::new(),
                },
            ))
            .await
            .map(drop),
        "RemoveChain" => shootouts
            .remove_chain(as_user(
                user,
                RemoveChainRequest {
                    shootout_id: ids.shootout.clone(),
                    chain_id: ids.chain.clone(),
                    etag: String::new(),
                },
            ))
            .await
            .map(drop),
        "ReorderChains" => shootouts
            .reorder_chains(as_user(
                user,
                ReorderChainsRequest {
                    shootout_id: ids.shootout.clone(),
                    chain_ids: vec![ids.chain.clone()],
                    etag: String::new(),
                },
            ))
            .await
            .map(drop),
        "AddBlock" => shootouts
            .add_block(as_user(
                user,
                AddBlockRequest {
                    shootout_id: ids.shootout.clone(),
                    chain_id: ids.chain.clone(),
                    block: Some(gain()),
                    position: None,
                    etag: String::new(),
                },
            ))
            .await
            .map(drop),
        "UpdateBlock" => shootouts
            .update_block(as_user(
                user,
                UpdateBlockRequest {
                    shootout_id: ids.shootout.clone(),
                    chain_id: ids.chain.clone(),
                    block: Some(gain()),
                    etag: String::new(),
                },
            ))
            .await
            .map(drop),
        "RemoveBlock" => shootouts
            .remove_block(as_user(
                user,
                RemoveBlockRequest {
                    shootout_id: ids.shootout.clone(),
                    chain_id: ids.chain.clone(),
                    block_id: ids.block.clone(),
                    etag: String::new(),
                },
            ))
            .await
            .map(drop),
        "ReorderBlocks" => shootouts
            .reorder_blocks(as_user(
                user,
                ReorderBlocksRequest {
                    shootout_id: ids.shootout.clone(),
                    chain_id: ids.chain.clone(),
                    block_ids: vec![ids.block.clone()],
                    etag: String::new(),
                },
            ))
            .await
            .map(drop),
        "PutChunk" => uploads
            .put_chunk(as_user(
                user,
                PutChunkRequest {
                    upload_id: ids.upload.clone(),
                    offset: 0,
                    data: vec![1],
                },
            ))
            .await
            .map(drop),
        "GetUpload" => uploads
            .get_upload(as_user(
                user,
                GetUploadRequest {
                    upload_id: ids.upload.clone(),
                },
            ))
            .await
            .map(drop),
        "FinishUpload" => uploads
            .finish_upload(as_user(
                user,
                FinishUploadRequest {
                    upload_id: ids.upload.clone(),
                },
            ))
            .await
            .map(drop),
        "AbortUpload" => uploads
            .abort_upload(as_user(
                user,
                AbortUploadRequest {
                    upload_id: ids.upload.clone(),
                },
            ))
            .await
            .map(drop),
        "GetAsset" => assets
            .get_asset(as_user(
                user,
                GetAssetRequest {
                    asset_id: ids.asset.clone(),
                },
            ))
            .await
            .map(drop),
        "DeleteAsset" => assets
            .delete_asset(as_user(
                user,
                DeleteAssetRequest {
                    asset_id: ids.asset.clone(),
                },
            ))
            .await
            .map(drop),
        "GetRenderSpec" => ShootoutInternalClient::new(channel.clone())
            .get_render_spec(as_service(GetRenderSpecRequest {
                shootout_id: ids.shootout.clone(),
                user_id: user.to_string(),
            }))
            .await
            .map(drop),
        other => panic!("unknown rpc {other}"),
    };
    result.expect_err(rpc)
}

fn library(tone_id: u64, model_id: u64) -> Option<ModelSource> {
    Some(ModelSource {
        source: Some(Source::Tone3000Model(Tone3000ModelRef {
            tone_id,
            model_id,
        })),
    })
}

#[tokio::test]
async fn another_users_ids_are_not_found_like_missing_ones() {
    let fake = FakeTone3000::start(FakeConfig::for_workspace_tests())
        .await
        .unwrap();
    let svc = start_custom(
        &[("GTS_TONE3000_URL", fake.base_url().to_owned())],
        Some(FixedToken::new(
            fake.state().issue_tokens_for_test_user().access_token,
        )),
    )
    .await;
    let alice = Uuid::new_v4();
    let jcm_model =
        gts_proto::v1::library_service_client::LibraryServiceClient::new(svc.channel.clone())
            .list_models(as_user(
                alice,
                gts_proto::v1::ListModelsRequest {
                    tone_id: TONE_JCM800,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .models
            .remove(0);
    let bob = Uuid::new_v4();
    let di_bytes = wav(&plucked(1.2, 44_100), 44_100, 1, Sample::Int16);
    let di = upload(
        &svc.channel,
        alice,
        AssetKind::DiTrack,
        "riff.wav",
        &di_bytes,
    )
    .await
    .unwrap();
    let ir_bytes = std::fs::read(fixtures().join("irs/1x12-ac15.wav")).unwrap();
    let ir = upload(
        &svc.channel,
        alice,
        AssetKind::ImpulseResponse,
        "ac15.wav",
        &ir_bytes,
    )
    .await
    .unwrap();
    let shootout = ShootoutServiceClient::new(svc.channel.clone())
        .create_shootout(as_user(
            alice,
            CreateShootoutRequest {
                shootout: Some(Shootout {
                    name: "Alice's".into(),
                    di_tracks: vec![DiTrackRef {
                        asset_id: di.id.clone(),
                        label: String::new(),
                    }],
                    chains: vec![SignalChain {
                        display_name: "JCM".into(),
                        blocks: vec![
                            Block {
                                id: String::new(),
                                kind: Some(Kind::NamModel(NamModelBlock {
                                    source: library(TONE_JCM800, jcm_model.id),
                                    input_gain_db: 0.0,
                                })),
                            },
                            Block {
                                id: String::new(),
                                kind: Some(Kind::CabinetIr(CabinetIrBlock {
                                    source: Some(ModelSource {
                                        source: Some(Source::AssetId(ir.id.clone())),
                                    }),
                                    mix: None,
                                })),
                            },
                        ],
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    let open_upload = UploadServiceClient::new(svc.channel.clone())
        .begin_upload(as_user(
            alice,
            BeginUploadRequest {
                kind: AssetKind::DiTrack as i32,
                filename: "later.wav".into(),
                size_bytes: 10,
                sha256: common::sha256_hex(b"0123456789"),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .upload
        .unwrap();
    let alices = Ids {
        shootout: shootout.id.clone(),
        chain: shootout.chains[0].id.clone(),
        block: shootout.chains[0].blocks[0].id.clone(),
        asset: ir.id.clone(),
        upload: open_upload.upload_id.clone(),
    };
    let missing = Ids {
        shootout: Uuid::new_v4().to_string(),
        chain: Uuid::new_v4().to_string(),
        block: Uuid::new_v4().to_string(),
        asset: Uuid::new_v4().to_string(),
        upload: Uuid::new_v4().to_string(),
    };

    for rpc in RPCS {
        let stolen = call(&svc.channel, rpc, bob, &alices).await;
        let absent = call(&svc.channel, rpc, bob, &missing).await;
        assert_eq!(stolen.code(), Code::NotFound, "{rpc}: {stolen:?}");
        assert_eq!(
            stolen.message(),
            absent.message(),
            "{rpc}: indistinguishable"
        );
        assert_eq!(absent.code(), Code::NotFound, "{rpc}");
    }

    // Nothing of Alice's changed, and the worker resolves her shootout.
    let spec = ShootoutInternalClient::new(svc.channel.clone())
        .get_render_spec(as_service(GetRenderSpecRequest {
            shootout_id: shootout.id.clone(),
            user_id: alice.to_string(),
        }))
        .await
        .unwrap()
        .into_inner()
        .spec
        .unwrap();
    assert_eq!(spec.shootout.as_ref().unwrap(), &shootout);
    assert_eq!(spec.di_tracks.len(), 1);
    assert_eq!(
        spec.di_tracks[0].label, "riff.wav",
        "the file name stands in for a label"
    );
    let di_blob = spec.di_tracks[0].object.clone().unwrap();
    assert_eq!(di_blob.sha256, di.sha256);
    assert_eq!(di_blob.key, gts_storage::content_key(&di.sha256));
    assert_eq!(spec.block_sources.len(), 2);
    match spec.block_sources[0]
        .source
        .clone()
        .unwrap()
        .source
        .unwrap()
    {
        resolved_source::Source::Tone3000Download(download) => {
            assert_eq!(
                (download.tone_id, download.model_id),
                (TONE_JCM800, jcm_model.id)
            );
            assert_eq!(download.download_url, jcm_model.model_url);
        }
        other => panic!("expected a TONE3000 download, got {other:?}"),
    }
    match spec.block_sources[1]
        .source
        .clone()
        .unwrap()
        .source
        .unwrap()
    {
        resolved_source::Source::ObjectStoreKey(object) => {
            assert_eq!(object.sha256, ir.sha256);
            assert_eq!(object.size_bytes, ir_bytes.len() as u64);
        }
        other => panic!("expected an object-store key, got {other:?}"),
    }
    assert_eq!(
        spec.block_sources[1].block_id,
        shootout.chains[0].blocks[1].id
    );

    // A user token cannot call the internal RPC.
    let denied = ShootoutInternalClient::new(svc.channel.clone())
        .get_render_spec(as_user(
            alice,
            GetRenderSpecRequest {
                shootout_id: shootout.id.clone(),
                user_id: alice.to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // A block naming a model under the wrong tone cannot be rendered.
    let mut wrong = shootout.clone();
    wrong.name = "Wrong tone".into();
    if let Some(Kind::NamModel(nam)) = wrong.chains[0].blocks[0].kind.as_mut() {
        nam.source = library(TONE_KLON, jcm_model.id);
    }
    let wrong = ShootoutServiceClient::new(svc.channel.clone())
        .create_shootout(as_user(
            alice,
            CreateShootoutRequest {
                shootout: Some(wrong),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    let mismatch = ShootoutInternalClient::new(svc.channel.clone())
        .get_render_spec(as_service(GetRenderSpecRequest {
            shootout_id: wrong.id.clone(),
            user_id: alice.to_string(),
        }))
        .await
        .unwrap_err();
    assert_eq!(mismatch.code(), Code::FailedPrecondition);
    assert!(
        mismatch.message().contains("belongs to tone"),
        "{}",
        mismatch.message()
    );
    svc.finish().await;
    fake.shutdown().await.unwrap();
}
