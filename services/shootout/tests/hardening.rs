//! What an outside probe found: ids of any length answered with a small INVALID_ARGUMENT
//! (never an oversized reply) and page tokens bound to their list. (The race of a render
//! spec with DeleteShootout is in `spec_race.rs`, alone in its binary.)

#![allow(clippy::unwrap_used)]

mod common;

use common::{as_service, as_user, create_uploaded_shootout, start, uploaded};
use gts_proto::v1::{
    AssetKind, Block, CreateShootoutRequest, DeleteShootoutRequest, DiTrackRef, GainBlock,
    GetAssetRequest, GetRenderSpecRequest, GetShootoutRequest, GetUploadRequest, ListAssetsRequest,
    ListShootoutsRequest, ReorderChainsRequest, UpdateBlockRequest,
    asset_service_client::AssetServiceClient, block::Kind,
    shootout_internal_client::ShootoutInternalClient,
    shootout_service_client::ShootoutServiceClient, upload_service_client::UploadServiceClient,
};
use tonic::{Code, Status};
use uuid::Uuid;

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
