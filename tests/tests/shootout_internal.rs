//! The worker's view of the shootout service: `GetRenderSpec` with a real service
//! credential through the real auth layer, and refused for a user's access token.

#![allow(clippy::unwrap_used)]

use gts_e2e::{Stack, stack::with_bearer};
use gts_proto::v1::{
    CreateShootoutRequest, GetRenderSpecRequest, Shootout, SignalChain,
    shootout_internal_client::ShootoutInternalClient,
    shootout_service_client::ShootoutServiceClient,
};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_specs_are_for_services_only() {
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
    let channel = stack.shootout.channel().await;

    // A shootout needs a DI track; without uploads the create is refused field by field,
    // which is enough to prove the user token works against the service directly.
    let refused = ShootoutServiceClient::new(channel.clone())
        .create_shootout(with_bearer(
            CreateShootoutRequest {
                shootout: Some(Shootout {
                    name: "No DI yet".into(),
                    chains: vec![SignalChain {
                        display_name: "Clean".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
            token,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("di_tracks"),
        "{}",
        refused.message()
    );

    let request = GetRenderSpecRequest {
        shootout_id: uuid::Uuid::new_v4().to_string(),
        user_id: signed_in.user.id.clone(),
    };
    // The worker's credential passes the auth layer and require_service: an unknown
    // shootout is then NOT_FOUND.
    let mut as_worker = tonic::Request::new(request.clone());
    stack
        .service_credential("gts-worker")
        .attach(&mut as_worker)
        .unwrap();
    let missing = ShootoutInternalClient::new(channel.clone())
        .get_render_spec(as_worker)
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");

    // A user's token is not a service credential.
    let denied = ShootoutInternalClient::new(channel)
        .get_render_spec(with_bearer(request, token))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    stack.stop().await;
}
