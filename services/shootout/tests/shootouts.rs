//! ShootoutService over gRPC: create/read/update/list/delete, chain and block edits,
//! validation details, etags, and ownership.

#![allow(clippy::unwrap_used)]

mod common;

use common::{as_user, insert_asset, start, violation_fields};
use gts_proto::v1::{
    AddBlockRequest, AddChainRequest, Block, CabinetIrBlock, CreateShootoutRequest,
    DeleteShootoutRequest, DiTrackRef, EqBandType, EqBlock, GainBlock, GetShootoutRequest,
    HighPassBlock, ListShootoutsRequest, ModelSource, NamModelBlock, OutputOptions,
    RemoveBlockRequest, RemoveChainRequest, ReorderBlocksRequest, ReorderChainsRequest,
    ReverbBlock, ReverbPreset, Shootout, SignalChain, Tone3000ModelRef, UpdateBlockRequest,
    UpdateChainRequest, UpdateShootoutRequest, block::Kind, model_source::Source,
    shootout_service_client::ShootoutServiceClient,
};
use tonic::{Code, transport::Channel};
use uuid::Uuid;

fn library(tone_id: u64, model_id: u64) -> Option<ModelSource> {
    Some(ModelSource {
        source: Some(Source::Tone3000Model(Tone3000ModelRef {
            tone_id,
            model_id,
        })),
    })
}

fn uploaded(asset_id: &str) -> Option<ModelSource> {
    Some(ModelSource {
        source: Some(Source::AssetId(asset_id.to_owned())),
    })
}

fn block(kind: Kind) -> Block {
    Block {
        id: String::new(),
        kind: Some(kind),
    }
}

fn chain(name: &str, model: Option<ModelSource>, ir: Option<ModelSource>) -> SignalChain {
    SignalChain {
        id: String::new(),
        display_name: name.to_owned(),
        description: format!("{name} into a cab"),
        input_high_pass_hz: Some(80.0),
        input_level_mode: 0,
        blocks: vec![
            block(Kind::HighPass(HighPassBlock { frequency_hz: None })),
            block(Kind::NamModel(NamModelBlock {
                source: model,
                input_gain_db: 1.5,
            })),
            block(Kind::CabinetIr(CabinetIrBlock {
                source: ir,
                mix: Some(0.8),
            })),
            block(Kind::Reverb(ReverbBlock {
                preset: ReverbPreset::Room as i32,
                ..Default::default()
            })),
        ],
    }
}

struct Fixture {
    user: Uuid,
    di: [String; 2],
    nam: String,
    ir: String,
}

async fn fixture(db: &sqlx::PgPool) -> Fixture {
    let user = Uuid::new_v4();
    Fixture {
        user,
        di: [
            insert_asset(db, user, "di_track", "riff.wav").await,
            insert_asset(db, user, "di_track", "chords.wav").await,
        ],
        nam: insert_asset(db, user, "nam_model", "plexi.nam").await,
        ir: insert_asset(db, user, "impulse_response", "v30.wav").await,
    }
}

fn draft(f: &Fixture) -> Shootout {
    Shootout {
        name: "Plexi vs JCM".into(),
        description: "Four takes on British crunch".into(),
        guitar: "2009 Les Paul Standard".into(),
        pickup_notes: "bridge humbucker".into(),
        di_tracks: vec![
            DiTrackRef {
                asset_id: f.di[0].clone(),
                label: "Riff".into(),
            },
            DiTrackRef {
                asset_id: f.di[1].clone(),
                label: String::new(),
            },
        ],
        chains: vec![
            chain("Library Plexi", library(10, 100), library(20, 200)),
            chain("Uploaded Plexi", uploaded(&f.nam), uploaded(&f.ir)),
            chain("Library JCM", library(11, 110), uploaded(&f.ir)),
            chain("Mixed", uploaded(&f.nam), library(21, 210)),
        ],
        output_options: Some(OutputOptions {
            loudness_target_lufs: None,
            phrase_length_seconds: Some(3.5),
            video_enabled: true,
            input_level_dbfs: None,
            di_calibration_dbu: None,
        }),
        ..Default::default()
    }
}

async fn create(client: &mut ShootoutServiceClient<Channel>, user: Uuid, s: Shootout) -> Shootout {
    client
        .create_shootout(as_user(user, CreateShootoutRequest { shootout: Some(s) }))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap()
}

#[tokio::test]
async fn create_read_update_list_delete() {
    let svc = start().await;
    let f = fixture(&svc.db).await;
    let mut client = ShootoutServiceClient::new(svc.channel.clone());

    let created = create(&mut client, f.user, draft(&f)).await;
    assert_eq!(created.owner_user_id, f.user.to_string());
    assert_eq!(created.chains.len(), 4);
    assert_eq!(created.di_tracks.len(), 2);
    assert!(
        created
            .chains
            .iter()
            .all(|c| Uuid::parse_str(&c.id).is_ok())
    );
    assert!(
        created
            .chains
            .iter()
            .flat_map(|c| &c.blocks)
            .all(|b| Uuid::parse_str(&b.id).is_ok())
    );
    let options = created.output_options.unwrap();
    assert_eq!(
        options.loudness_target_lufs,
        Some(-14.0),
        "default filled in"
    );
    assert_eq!(options.phrase_length_seconds, Some(3.5));
    assert_eq!(options.input_level_dbfs, Some(-18.0));
    // Everything sent comes back, in order, apart from the server-assigned ids.
    let mut expected = draft(&f);
    for (sent, got) in expected.chains.iter_mut().zip(&created.chains) {
        sent.id.clone_from(&got.id);
        for (b, g) in sent.blocks.iter_mut().zip(&got.blocks) {
            b.id.clone_from(&g.id);
        }
    }
    assert_eq!(created.chains, expected.chains);
    assert_eq!(created.di_tracks, expected.di_tracks);

    let read = client
        .get_shootout(as_user(
            f.user,
            GetShootoutRequest {
                shootout_id: created.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    assert_eq!(read, created, "read back identical");

    let updated = client
        .update_shootout(as_user(
            f.user,
            UpdateShootoutRequest {
                shootout: Some(Shootout {
                    id: created.id.clone(),
                    etag: created.etag.clone(),
                    name: "Renamed".into(),
                    guitar: "ignored: not in the mask".into(),
                    output_options: Some(OutputOptions {
                        loudness_target_lufs: Some(-16.0),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into(), "output_options.loudness_target_lufs".into()],
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    assert_eq!(updated.name, "Renamed");
    assert_eq!(updated.guitar, created.guitar);
    let options = updated.output_options.unwrap();
    assert_eq!(options.loudness_target_lufs, Some(-16.0));
    assert_eq!(options.phrase_length_seconds, Some(3.5), "untouched");
    assert_ne!(updated.etag, created.etag);
    assert_eq!(updated.chains, created.chains);

    // The old etag is now stale.
    let stale = client
        .update_shootout(as_user(
            f.user,
            UpdateShootoutRequest {
                shootout: Some(Shootout {
                    id: created.id.clone(),
                    etag: created.etag.clone(),
                    name: "Lost update".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()],
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);

    client
        .delete_shootout(as_user(
            f.user,
            DeleteShootoutRequest {
                shootout_id: created.id.clone(),
                etag: String::new(),
            },
        ))
        .await
        .unwrap();
    let gone = client
        .get_shootout(as_user(
            f.user,
            GetShootoutRequest {
                shootout_id: created.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    svc.finish().await;
}

#[tokio::test]
async fn list_pages_newest_first_with_cursors() {
    let svc = start().await;
    let f = fixture(&svc.db).await;
    let mut client = ShootoutServiceClient::new(svc.channel.clone());
    let mut ids = vec![];
    for i in 0..5 {
        let mut s = draft(&f);
        s.name = format!("Shootout {i}");
        ids.push(create(&mut client, f.user, s).await.id);
    }
    // Someone else's shootouts never show up.
    let other = fixture(&svc.db).await;
    create(&mut client, other.user, draft(&other)).await;

    let mut seen = vec![];
    let mut token = String::new();
    loop {
        let page = client
            .list_shootouts(as_user(
                f.user,
                ListShootoutsRequest {
                    page_size: 2,
                    page_token: token.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.shootouts.len() <= 2);
        seen.extend(page.shootouts.into_iter().map(|s| s.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    ids.reverse();
    assert_eq!(seen, ids, "newest first, each once");

    for (size, token) in [(101, ""), (10, "not-a-token")] {
        let err = client
            .list_shootouts(as_user(
                f.user,
                ListShootoutsRequest {
                    page_size: size,
                    page_token: token.into(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
    }
    svc.finish().await;
}

#[tokio::test]
async fn invalid_shootouts_are_rejected_field_by_field() {
    let svc = start().await;
    let f = fixture(&svc.db).await;
    let other = fixture(&svc.db).await;
    let mut client = ShootoutServiceClient::new(svc.channel.clone());

    let mut bad = draft(&f);
    bad.name = String::new();
    bad.di_tracks[1].asset_id = other.di[0].clone(); // someone else's asset
    bad.di_tracks.push(DiTrackRef {
        asset_id: f.nam.clone(), // not a DI track
        label: String::new(),
    });
    bad.chains[1].display_name = "library plexi".into(); // duplicate name
    bad.chains[2]
        .blocks
        .push(block(Kind::Gain(GainBlock { gain_db: f64::NAN })));
    bad.chains[3].blocks.push(Block {
        id: String::new(),
        kind: None,
    });
    bad.output_options = Some(OutputOptions {
        phrase_length_seconds: Some(10.0),
        ..Default::default()
    });
    let err = client
        .create_shootout(as_user(
            f.user,
            CreateShootoutRequest {
                shootout: Some(bad),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let mut fields = violation_fields(&err);
    fields.sort();
    assert_eq!(
        fields,
        [
            "shootout.chains[1].display_name",
            "shootout.chains[2].blocks[4].gain.gain_db",
            "shootout.chains[3].blocks[4]",
            "shootout.di_tracks[1].asset_id",
            "shootout.di_tracks[2].asset_id",
            "shootout.name",
            "shootout.output_options.phrase_length_seconds",
        ]
    );
    assert!(err.message().contains("shootout.") && err.message().contains("more problems"));

    let mut empty = draft(&f);
    empty.chains.clear();
    empty.di_tracks.clear();
    let err = client
        .create_shootout(as_user(
            f.user,
            CreateShootoutRequest {
                shootout: Some(empty),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violation_fields(&err),
        ["shootout.di_tracks", "shootout.chains"]
    );

    let created = create(&mut client, f.user, draft(&f)).await;
    let err = client
        .update_shootout(as_user(
            f.user,
            UpdateShootoutRequest {
                shootout: Some(Shootout {
                    id: created.id.clone(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["owner_user_id".into(), "chains".into()],
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violation_fields(&err),
        ["update_mask.paths[0]", "update_mask.paths[1]"]
    );
    svc.finish().await;
}

#[tokio::test]
async fn chains_and_blocks_are_added_updated_reordered_and_removed() {
    let svc = start().await;
    let f = fixture(&svc.db).await;
    let mut client = ShootoutServiceClient::new(svc.channel.clone());
    let mut s = draft(&f);
    s.chains.truncate(1);
    let created = create(&mut client, f.user, s).await;
    let first = created.chains[0].id.clone();

    let added = client
        .add_chain(as_user(
            f.user,
            AddChainRequest {
                shootout_id: created.id.clone(),
                chain: Some(chain("Second", library(1, 2), uploaded(&f.ir))),
                position: Some(0),
                etag: created.etag.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let second = added.chain_id.clone();
    let order: Vec<_> = added
        .shootout
        .as_ref()
        .unwrap()
        .chains
        .iter()
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(order, [second.clone(), first.clone()]);

    let reordered = client
        .reorder_chains(as_user(
            f.user,
            ReorderChainsRequest {
                shootout_id: created.id.clone(),
                chain_ids: vec![first.clone(), second.clone()],
                etag: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    assert_eq!(reordered.chains[0].id, first);
    let bad_order = client
        .reorder_chains(as_user(
            f.user,
            ReorderChainsRequest {
                shootout_id: created.id.clone(),
                chain_ids: vec![first.clone(), first.clone()],
                etag: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violation_fields(&bad_order), ["chain_ids[1]"]);

    let with_block = client
        .add_block(as_user(
            f.user,
            AddBlockRequest {
                shootout_id: created.id.clone(),
                chain_id: first.clone(),
                block: Some(block(Kind::Eq(EqBlock {
                    band_type: EqBandType::Peaking as i32,
                    frequency_hz: 800.0,
                    gain_db: -3.0,
                    q: None,
                }))),
                position: None,
                etag: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let eq_id = with_block.block_id.clone();
    let blocks = &with_block.shootout.unwrap().chains[0].blocks;
    assert_eq!(blocks.len(), 5);
    assert_eq!(blocks[4].id, eq_id);

    let updated = client
        .update_block(as_user(
            f.user,
            UpdateBlockRequest {
                shootout_id: created.id.clone(),
                chain_id: first.clone(),
                block: Some(Block {
                    id: eq_id.clone(),
                    kind: Some(Kind::Gain(GainBlock { gain_db: 6.0 })),
                }),
                etag: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    assert_eq!(
        updated.chains[0].blocks[4].kind,
        Some(Kind::Gain(GainBlock { gain_db: 6.0 }))
    );
    assert_eq!(updated.chains[0].blocks[4].id, eq_id, "id kept");

    let bad_block = client
        .update_block(as_user(
            f.user,
            UpdateBlockRequest {
                shootout_id: created.id.clone(),
                chain_id: first.clone(),
                block: Some(Block {
                    id: eq_id.clone(),
                    kind: Some(Kind::HighPass(HighPassBlock {
                        frequency_hz: Some(5000.0),
                    })),
                }),
                etag: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violation_fields(&bad_block),
        ["block.high_pass.frequency_hz"]
    );

    let mut ids: Vec<String> = updated.chains[0]
        .blocks
        .iter()
        .map(|b| b.id.clone())
        .collect();
    ids.reverse();
    let reversed = client
        .reorder_blocks(as_user(
            f.user,
            ReorderBlocksRequest {
                shootout_id: created.id.clone(),
                chain_id: first.clone(),
                block_ids: ids.clone(),
                etag: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    let got: Vec<String> = reversed.chains[0]
        .blocks
        .iter()
        .map(|b| b.id.clone())
        .collect();
    assert_eq!(got, ids);

    let removed = client
        .remove_block(as_user(
            f.user,
            RemoveBlockRequest {
                shootout_id: created.id.clone(),
                chain_id: first.clone(),
                block_id: eq_id.clone(),
                etag: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    assert_eq!(removed.chains[0].blocks.len(), 4);

    let renamed = client
        .update_chain(as_user(
            f.user,
            UpdateChainRequest {
                shootout_id: created.id.clone(),
                chain: Some(SignalChain {
                    id: second.clone(),
                    display_name: "Renamed".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name".into(), "blocks".into()],
                }),
                etag: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    assert_eq!(renamed.chains[1].display_name, "Renamed");
    assert!(renamed.chains[1].blocks.is_empty());

    client
        .remove_chain(as_user(
            f.user,
            RemoveChainRequest {
                shootout_id: created.id.clone(),
                chain_id: second.clone(),
                etag: String::new(),
            },
        ))
        .await
        .unwrap();
    let last = client
        .remove_chain(as_user(
            f.user,
            RemoveChainRequest {
                shootout_id: created.id.clone(),
                chain_id: first.clone(),
                etag: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(last.code(), Code::FailedPrecondition);
    svc.finish().await;
}

#[tokio::test]
async fn calls_without_identity_are_unauthenticated() {
    let svc = start().await;
    let mut client = ShootoutServiceClient::new(svc.channel.clone());
    let err = client
        .list_shootouts(ListShootoutsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    svc.finish().await;
}
