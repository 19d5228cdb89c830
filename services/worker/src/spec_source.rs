//! Where SubmitJob gets the render spec snapshot: the [`RenderSpecSource`] seam and its
//! real implementation, `ShootoutInternal.GetRenderSpec` over gRPC with a service
//! credential.

use gts_common::auth::ServiceCredential;
use gts_proto::v1::{
    GetRenderSpecRequest, RenderSpec, shootout_internal_client::ShootoutInternalClient,
};
use tonic::{Code, transport::Channel};
use uuid::Uuid;

/// Why no spec could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// No such shootout for this user.
    #[error("shootout not found")]
    NotFound,
    /// The shootout cannot be rendered as it is (the message says why).
    #[error("{0}")]
    NotRenderable(String),
    /// The shootout service could not answer; retry later.
    #[error("{0}")]
    Unavailable(String),
}

/// Resolves a shootout into the spec a job renders.
#[tonic::async_trait]
pub trait RenderSpecSource: Send + Sync + 'static {
    /// The spec of `shootout_id` as owned by `user_id`.
    async fn render_spec(&self, shootout_id: Uuid, user_id: Uuid) -> Result<RenderSpec, SpecError>;
}

/// `ShootoutInternal.GetRenderSpec` over gRPC.
pub struct GrpcRenderSpecSource {
    client: ShootoutInternalClient<Channel>,
    credential: Option<ServiceCredential>,
}

impl GrpcRenderSpecSource {
    /// A source calling the shootout service at `url` (connected lazily).
    pub fn new(url: &str, credential: Option<ServiceCredential>) -> Result<Self, String> {
        let endpoint = Channel::from_shared(url.to_owned())
            .map_err(|error| format!("GTS_SHOOTOUT_URL={url:?} is invalid: {error}"))?
            .connect_timeout(std::time::Duration::from_secs(2))
            .timeout(std::time::Duration::from_secs(10));
        Ok(Self {
            client: ShootoutInternalClient::new(endpoint.connect_lazy()),
            credential,
        })
    }
}

#[tonic::async_trait]
impl RenderSpecSource for GrpcRenderSpecSource {
    async fn render_spec(&self, shootout_id: Uuid, user_id: Uuid) -> Result<RenderSpec, SpecError> {
        let mut request = tonic::Request::new(GetRenderSpecRequest {
            shootout_id: shootout_id.to_string(),
            user_id: user_id.to_string(),
        });
        let Some(credential) = &self.credential else {
            return Err(SpecError::Unavailable(
                "the worker has no service credential (GTS_SERVICE_TOKEN) to read render specs"
                    .to_owned(),
            ));
        };
        credential
            .attach(&mut request)
            .map_err(|status| SpecError::Unavailable(status.message().to_owned()))?;
        gts_common::trace_context::inject_into(&mut request);
        let response = self.client.clone().get_render_spec(request).await;
        match response {
            Ok(response) => response.into_inner().spec.ok_or_else(|| {
                SpecError::Unavailable("the shootout service sent no render spec".to_owned())
            }),
            Err(status) => Err(match status.code() {
                Code::NotFound => SpecError::NotFound,
                Code::InvalidArgument | Code::FailedPrecondition => {
                    SpecError::NotRenderable(status.message().to_owned())
                }
                _ => {
                    tracing::warn!(code = ?status.code(), message = status.message(), "GetRenderSpec failed");
                    SpecError::Unavailable(
                        "the shootout service is unavailable; try again shortly".to_owned(),
                    )
                }
            }),
        }
    }
}
