//! gRPC handlers: they read the request, apply rate limits and the caller checks, and
//! delegate to the domain modules. Errors become statuses only through [`AuthError`].

use std::{net::IpAddr, sync::Arc};

use gts_common::identity::{Caller, require_service, require_user};
use gts_proto::v1::{
    CompleteLoginRequest, CompleteLoginResponse, GetMeRequest, GetMeResponse, GetPublicKeysRequest,
    GetPublicKeysResponse, GetTone3000AccessTokenRequest, GetTone3000AccessTokenResponse,
    JwtAlgorithm, LogoutAllRequest, LogoutAllResponse, LogoutRequest, LogoutResponse, PublicKey,
    RefreshRequest, RefreshResponse, StartLoginRequest, StartLoginResponse,
    auth_internal_server::AuthInternal, auth_service_server::AuthService,
};
use tonic::{Request, Response, Status};

use crate::{
    custody,
    error::{AuthError, AuthResult},
    login, sessions,
    state::AuthState,
    users::{self, timestamp},
};

/// The client address a rate limit counts against: the first `x-forwarded-for` hop
/// (set by the gateway from the TCP peer), else the peer itself.
fn client_ip<T>(request: &Request<T>) -> String {
    request
        .metadata()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok())
        .or_else(|| request.remote_addr().map(|a| a.ip()))
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// `gts.v1.AuthService`: login, sessions, the current user.
pub struct AuthApi {
    state: Arc<AuthState>,
}

impl AuthApi {
    pub fn new(state: Arc<AuthState>) -> Self {
        Self { state }
    }

    async fn limit_ip(&self, scope: &'static str, what: &'static str, ip: &str) -> AuthResult<()> {
        self.state
            .limiter
            .hit(scope, what, ip, self.state.limits.per_ip)
            .await
    }
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn start_login(
        &self,
        request: Request<StartLoginRequest>,
    ) -> Result<Response<StartLoginResponse>, Status> {
        self.limit_ip("start-login", "sign-in attempts", &client_ip(&request))
            .await?;
        let started = login::start(&self.state, &request.get_ref().return_to).await?;
        Ok(Response::new(StartLoginResponse {
            authorize_url: started.authorize_url,
            state: started.state,
            expires_at: Some(timestamp(started.expires_at)),
        }))
    }

    async fn complete_login(
        &self,
        request: Request<CompleteLoginRequest>,
    ) -> Result<Response<CompleteLoginResponse>, Status> {
        self.limit_ip("complete-login", "sign-in attempts", &client_ip(&request))
            .await?;
        let body = request.get_ref();
        let completed = login::complete(&self.state, &body.code, &body.state).await?;
        Ok(Response::new(CompleteLoginResponse {
            session: Some(completed.session.into_proto()),
            user: Some(completed.user.into_proto()),
            return_to: completed.return_to,
        }))
    }

    async fn refresh(
        &self,
        request: Request<RefreshRequest>,
    ) -> Result<Response<RefreshResponse>, Status> {
        self.limit_ip("refresh", "session refreshes", &client_ip(&request))
            .await?;
        let token = &request.get_ref().refresh_token;
        if token.is_empty() {
            return Err(AuthError::InvalidArgument("refresh_token is required".to_owned()).into());
        }
        if let Some(user_id) = sessions::owner_of(&self.state, token).await? {
            self.state
                .limiter
                .hit(
                    "refresh-user",
                    "session refreshes",
                    &user_id.to_string(),
                    self.state.limits.per_user,
                )
                .await?;
        }
        let session = sessions::rotate(&self.state, token).await?;
        Ok(Response::new(RefreshResponse {
            session: Some(session.into_proto()),
        }))
    }

    async fn logout(
        &self,
        request: Request<LogoutRequest>,
    ) -> Result<Response<LogoutResponse>, Status> {
        let identity = require_user(&request)?;
        sessions::require_live(&self.state, identity).await?;
        sessions::revoke(&self.state, identity).await?;
        Ok(Response::new(LogoutResponse {}))
    }

    async fn logout_all(
        &self,
        request: Request<LogoutAllRequest>,
    ) -> Result<Response<LogoutAllResponse>, Status> {
        let identity = require_user(&request)?;
        sessions::require_live(&self.state, identity).await?;
        let revoked = sessions::revoke_all(&self.state, identity.user_id).await?;
        Ok(Response::new(LogoutAllResponse {
            revoked_sessions: u32::try_from(revoked).unwrap_or(u32::MAX),
        }))
    }

    async fn get_me(
        &self,
        request: Request<GetMeRequest>,
    ) -> Result<Response<GetMeResponse>, Status> {
        let identity = require_user(&request)?;
        sessions::require_live(&self.state, identity).await?;
        let user = users::get(&self.state.infra.db, identity.user_id)
            .await?
            .ok_or_else(|| AuthError::Unauthenticated("this user no longer exists".to_owned()))?;
        Ok(Response::new(GetMeResponse {
            user: Some(user.into_proto()),
        }))
    }
}

/// `gts.v1.AuthInternal`: TONE3000 token custody and public keys for other services.
pub struct AuthInternalApi {
    state: Arc<AuthState>,
}

impl AuthInternalApi {
    pub fn new(state: Arc<AuthState>) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl AuthInternal for AuthInternalApi {
    async fn get_tone3000_access_token(
        &self,
        request: Request<GetTone3000AccessTokenRequest>,
    ) -> Result<Response<GetTone3000AccessTokenResponse>, Status> {
        let service = require_service(&request)?;
        let user_id = login::parse_user_id(&request.get_ref().user_id)?;
        tracing::debug!(%service, %user_id, "TONE3000 token requested");
        let token = custody::access_token(&self.state, user_id).await?;
        Ok(Response::new(GetTone3000AccessTokenResponse {
            access_token: token.token,
            expires_at: Some(timestamp(token.expires_at)),
        }))
    }

    /// Public keys are public: anonymous callers and services get them (verifiers fetch
    /// them at start-up); a user's token is refused like on every internal RPC.
    async fn get_public_keys(
        &self,
        request: Request<GetPublicKeysRequest>,
    ) -> Result<Response<GetPublicKeysResponse>, Status> {
        if let Some(Caller::User(_)) = request.extensions().get::<Caller>() {
            return Err(AuthError::PermissionDenied(
                "internal RPC: a user's access token cannot call it".to_owned(),
            )
            .into());
        }
        let keys = self
            .state
            .public_keys
            .iter()
            .map(|key| PublicKey {
                key_id: key.key_id.clone(),
                algorithm: JwtAlgorithm::Eddsa as i32,
                public_key_pem: key.pem(),
                public_key_der: key.spki_der.clone(),
                created_at: None,
            })
            .collect();
        Ok(Response::new(GetPublicKeysResponse { keys }))
    }
}
