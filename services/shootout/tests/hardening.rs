//! What an outside probe found: ids of any length answered with a small INVALID_ARGUMENT
//! (never an oversized reply), page tokens bound to their list, and a render spec that
//! never sees a half-deleted shootout however DeleteShootout races it.

#![allow(clippy::unwrap_used)]

mod common;

use common::{as_service, as_user, insert_asset, start};
use gts_proto::v1::{
    AssetKind, Block, CabinetIrBlock, CreateShootoutRequest, DeleteShootoutRequest, DiTrackRef,
    GainBlock, GetAssetRequest, GetRenderSpecRequest, GetShootoutRequest, GetUploadRequest,
    ListAssetsRequest, ListShootoutsRequest, ModelSource, NamModelBlock, ReorderChainsRequest,
    Shootout, SignalChain, UpdateBlockRequest, asset_service_client::AssetServiceClient,
    block::Kind, model_source::Source, shootout_internal_client::ShootoutInternalClient,
    shootout_service_client::ShootoutServiceClient, upload_service_client::UploadServiceClient,
};
use tonic::{Code, Status};
use uuid::Uuid;

fn uploaded(asset_id: &str) -> Option<ModelSource> {
    Some(ModelSource {
        source: Some(Source::AssetId(asset_id.to_owned())),
    })
}

/// A shootout of `chains` chains of uploaded files only (no TONE3000 call to resolve it).
async fn create_uploaded_shootout(
    svc: &common::TestService,
    user: Uuid,
    chains: usize,
) -> Shootout {
    let di = insert_asset(&svc.db, user, "di_track", "riff.wav").await;
    let nam = insert_asset(&svc.db, user, "nam_model", "plexi.nam").await;
    let ir = insert_asset(&svc.db, user, "impulse_response", "v30.wav").await;
    let shootout = Shootout {
        name: "Race".into(),
        di_tracks: vec![DiTrackRef {
            asset_id: di,
            label: "Riff".into(),
        }],
        chains: (0..chains)
            .map(|i| SignalChain {
                display_name: format!("Chain {i}"),
                blocks: vec![
                    Block {
                        id: String::new(),
                        kind: Some(Kind::NamModel(NamModelBlock {
                            source: uploaded(&nam),
                            input_gain_db: 0.0,
                        })),
                    },
                    Block {
                        id: String::new(),
                        kind: Some(Kind::CabinetIr(CabinetIrBlock {
                            source: uploaded(&ir),
                            mix: None,
                        })),
                    },
                ],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    ShootoutServiceClient::new(svc.channel.clone())
        .create_shootout(as_user(
            user,
            CreateShootoutRequest {
                shootout: Some(shootout),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap()
}

/// The reply is INVALID_ARGUMENT and small (message and details together).
fn assert_small_invalid_argument(rpc: &str, result: Result<(), Status>) {
    let status = result.expect_err(rpc);
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "{rpc}: {:?}",
        status.message().get(..200)
    );
    let size = status.message().len() + status.details().len();
    assert!(size < 6 * 1024, "{rpc}: a {size}-byte error reply");
}

#[tokio::test]
async fn ten_kilobyte_ids_get_a_small_invalid_argument() {
    let svc = start().await;
    let user = Uuid::new_v4();
    let shootout = create_uploaded_shootout(&svc, user, 2).await;
    let long = "7".repeat(10 * 1024);
    let mut shootouts = ShootoutServiceClient::new(svc.channel.clone());
    let mut assets = AssetServiceClient::new(svc.channel.clone());
    let mut uploads = UploadServiceClient::new(svc.channel.clone());
    let mut internal = ShootoutInternalClient::new(svc.channel.clone());

    let result = shootouts
        .get_shootout(as_user(
            user,
            GetShootoutRequest {
                shootout_id: long.clone(),
            },
        ))
        .await;
    assert_small_invalid_argument("GetShootout", result.map(drop));
    let result = shootouts
        .delete_shootout(as_user(
            user,
            DeleteShootoutRequest {
                shootout_id: shootout.id.clone(),
                etag: long.clone(),
            },
        ))
        .await;
    assert_small_invalid_argument("DeleteShootout etag", result.map(drop));
    let result = shootouts
        .reorder_chains(as_user(
            user,
            ReorderChainsRequest {
                shootout_id: shootout.id.clone(),
                chain_ids: vec![long.clone(); 50],
                etag: String::new(),
            },
        ))
        .await;
    assert_small_invalid_argument("ReorderChains", result.map(drop));
    let result = shootouts
        .update_block(as_user(
            user,
            UpdateBlockRequest {
                shootout_id: shootout.id.clone(),
                chain_id: shootout.chains[0].id.clone(),
                block: Some(Block {
                    id: long.clone(),
                    kind: Some(Kind::Gain(GainBlock { gain_db: 1.0 })),
                }),
                etag: String::new(),
            },
        ))
        .await;
    assert_small_invalid_argument("UpdateBlock", result.map(drop));
    // Every DI track and block naming a 10 KB asset id: 40 violations, all of them echo.
    let mut bad = shootout.clone();
    bad.id = String::new();
    bad.di_tracks = vec![
        DiTrackRef {
            asset_id: long.clone(),
            label: String::new(),
        };
        8
    ];
    for chain in &mut bad.chains {
        for block in &mut chain.blocks {
            if let Some(Kind::NamModel(nam)) = &mut block.kind {
                nam.source = uploaded(&long);
            }
        }
    }
    let result = shootouts
        .create_shootout(as_user(
            user,
            CreateShootoutRequest {
                shootout: Some(bad),
            },
        ))
        .await;
    assert_small_invalid_argument("CreateShootout", result.map(drop));
    let result = assets
        .get_asset(as_user(
            user,
            GetAssetRequest {
                asset_id: long.clone(),
            },
        ))
        .await;
    assert_small_invalid_argument("GetAsset", result.map(drop));
    let result = uploads
        .get_upload(as_user(
            user,
            GetUploadRequest {
                upload_id: long.clone(),
            },
        ))
        .await;
    assert_small_invalid_argument("GetUpload", result.map(drop));
    let result = internal
        .get_render_spec(as_service(GetRenderSpecRequest {
            shootout_id: long.clone(),
            user_id: long.clone(),
        }))
        .await;
    assert_small_invalid_argument("GetRenderSpec", result.map(drop));
    svc.finish().await;
}

#[tokio::test]
async fn a_page_token_of_one_list_is_refused_by_another() {
    let svc = start().await;
    let user = Uuid::new_v4();
    for _ in 0..2 {
        create_uploaded_shootout(&svc, user, 1).await;
    }
    let mut shootouts = ShootoutServiceClient::new(svc.channel.clone());
    let mut assets = AssetServiceClient::new(svc.channel.clone());
    let shootouts_token = shootouts
        .list_shootouts(as_user(
            user,
            ListShootoutsRequest {
                page_size: 1,
                page_token: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    let assets_token = assets
        .list_assets(as_user(
            user,
            ListAssetsRequest {
                kind: AssetKind::Unspecified as i32,
                page_size: 1,
                page_token: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    assert!(!shootouts_token.is_empty() && !assets_token.is_empty());

    let status = assets
        .list_assets(as_user(
            user,
            ListAssetsRequest {
                kind: AssetKind::Unspecified as i32,
                page_size: 1,
                page_token: shootouts_token.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("another list"), "{status:?}");
    let status = shootouts
        .list_shootouts(as_user(
            user,
            ListShootoutsRequest {
                page_size: 1,
                page_token: assets_token,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    // Each list still takes its own token.
    shootouts
        .list_shootouts(as_user(
            user,
            ListShootoutsRequest {
                page_size: 1,
                page_token: shootouts_token,
            },
        ))
        .await
        .unwrap();
    svc.finish().await;
}

/// The worker snapshots the shootout at SubmitJob through GetRenderSpec. Raced against
/// DeleteShootout (truly concurrently, many times), every spec it gets must be the whole
/// shootout; otherwise the shootout is NOT_FOUND. Never a shootout without its chains.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_render_spec_is_never_a_half_deleted_shootout() {
    const CHAINS: usize = 16;
    const ROUNDS: usize = 150;
    let svc = start().await;
    let user = Uuid::new_v4();
    let (mut complete, mut not_found) = (0, 0);
    for _ in 0..ROUNDS {
        let shootout = create_uploaded_shootout(&svc, user, CHAINS).await;
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(3));
        let spec = |barrier: std::sync::Arc<tokio::sync::Barrier>| {
            let mut client = ShootoutInternalClient::new(svc.channel.clone());
            let id = shootout.id.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                client
                    .get_render_spec(as_service(GetRenderSpecRequest {
                        shootout_id: id,
                        user_id: user.to_string(),
                    }))
                    .await
            })
        };
        let specs = [spec(barrier.clone()), spec(barrier.clone())];
        let mut client = ShootoutServiceClient::new(svc.channel.clone());
        let id = shootout.id.clone();
        let delete = tokio::spawn(async move {
            barrier.wait().await;
            client
                .delete_shootout(as_user(
                    user,
                    DeleteShootoutRequest {
                        shootout_id: id,
                        etag: String::new(),
                    },
                ))
                .await
        });
        delete.await.unwrap().unwrap();
        for spec in specs {
            match spec.await.unwrap() {
                Ok(reply) => {
                    let spec = reply.into_inner().spec.unwrap();
                    let seen = spec.shootout.unwrap();
                    assert_eq!(seen.chains.len(), CHAINS, "a half-deleted shootout");
                    assert_eq!(spec.di_tracks.len(), 1, "a half-deleted shootout");
                    assert_eq!(spec.block_sources.len(), 2 * CHAINS);
                    complete += 1;
                }
                Err(status) => {
                    assert_eq!(status.code(), Code::NotFound, "{status:?}");
                    not_found += 1;
                }
            }
        }
    }
    // Both outcomes happened, so the calls really raced.
    assert!(
        complete > 0 && not_found > 0,
        "{complete} complete, {not_found} not found"
    );
    svc.finish().await;
}
