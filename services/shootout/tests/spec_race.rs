//! A render spec never sees a half-deleted shootout, however DeleteShootout races it:
//! GetRenderSpec answers the whole shootout or NOT_FOUND. Alone in its binary, so no
//! sibling test skews which side of the race wins.

#![allow(clippy::unwrap_used)]

mod common;

use common::{as_service, as_user, create_uploaded_shootout, start};
use gts_proto::v1::{
    DeleteShootoutRequest, GetRenderSpecRequest, shootout_internal_client::ShootoutInternalClient,
    shootout_service_client::ShootoutServiceClient,
};
use tonic::Code;
use uuid::Uuid;

/// The worker snapshots the shootout at SubmitJob through GetRenderSpec. Raced against
/// DeleteShootout (truly concurrently, many times), every spec it gets must be the whole
/// shootout; otherwise the shootout is NOT_FOUND. Never a shootout without its chains.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_render_spec_is_never_a_half_deleted_shootout() {
    const CHAINS: usize = 16;
    // At least this many rounds, and more until both outcomes were seen (which outcome wins
    // a round depends on the scheduler), up to the most.
    const ROUNDS: usize = 150;
    const MOST_ROUNDS: usize = 1500;
    let svc = start().await;
    let user = Uuid::new_v4();
    let (mut complete, mut not_found) = (0, 0);
    for round in 0..MOST_ROUNDS {
        if round >= ROUNDS && complete > 0 && not_found > 0 {
            break;
        }
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
