//! A user's TONE3000 access token, as the services that act for a user get it.
//!
//! Contract: [`Tone3000TokenSource::access_token`] answers a token valid for at least the
//! next minute, or a status a person can act on: FAILED_PRECONDITION when the user must
//! sign in to TONE3000 again (their grant is gone or was revoked), UNAVAILABLE when the
//! auth service cannot answer now (worth retrying). The production source is the auth
//! service's `AuthInternal.GetTone3000AccessToken`, called with a service credential; the
//! token itself is never logged.

use std::time::Duration;

use gts_proto::v1::{GetTone3000AccessTokenRequest, auth_internal_client::AuthInternalClient};
use tonic::{
    Code, Status,
    transport::{Channel, Endpoint},
};
use uuid::Uuid;

use crate::auth::service::ServiceCredential;

/// Where a user's TONE3000 access token comes from.
#[tonic::async_trait]
pub trait Tone3000TokenSource: Send + Sync {
    /// A TONE3000 access token of `user`, valid for at least the next minute.
    async fn access_token(&self, user: Uuid) -> Result<String, Status>;
}

/// Asks the auth service (`AuthInternal.GetTone3000AccessToken`) with a service credential.
pub struct AuthServiceTokenSource {
    channel: Channel,
    credential: Option<ServiceCredential>,
}

impl AuthServiceTokenSource {
    /// Connects lazily to `auth_url`; without a credential every call is refused by auth.
    pub fn new(auth_url: &str, credential: Option<ServiceCredential>) -> Result<Self, String> {
        let channel = Endpoint::from_shared(auth_url.to_owned())
            .map_err(|e| format!("GTS_AUTH_URL {auth_url:?} is invalid: {e}"))?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .connect_lazy();
        Ok(Self {
            channel,
            credential,
        })
    }
}

#[tonic::async_trait]
impl Tone3000TokenSource for AuthServiceTokenSource {
    async fn access_token(&self, user: Uuid) -> Result<String, Status> {
        let Some(credential) = &self.credential else {
            return Err(Status::unavailable(
                "TONE3000 is not configured on this server (no service credential)",
            ));
        };
        let mut request = tonic::Request::new(GetTone3000AccessTokenRequest {
            user_id: user.to_string(),
        });
        credential.attach(&mut request)?;
        crate::trace_context::inject_into(&mut request);
        match AuthInternalClient::new(self.channel.clone())
            .get_tone3000_access_token(request)
            .await
        {
            Ok(response) => Ok(response.into_inner().access_token),
            Err(status) if status.code() == Code::FailedPrecondition => Err(status),
            Err(status) if status.code() == Code::NotFound => Err(Status::failed_precondition(
                "your TONE3000 sign-in is missing; sign in with TONE3000 again",
            )),
            Err(status) => {
                tracing::warn!(%status, "auth service could not give a TONE3000 token");
                Err(Status::unavailable(
                    "cannot reach your TONE3000 sign-in right now; try again shortly",
                ))
            }
        }
    }
}
