//! gRPC handlers. Each RPC not implemented yet answers UNIMPLEMENTED (the generated
//! default); the auth issue fills them in.

use gts_common::infra::Infra;
use gts_proto::v1::{auth_internal_server::AuthInternal, auth_service_server::AuthService};

/// `gts.v1.AuthService`: login, sessions, the current user.
pub struct AuthApi {
    _infra: Infra,
}

impl AuthApi {
    pub fn new(infra: Infra) -> Self {
        Self { _infra: infra }
    }
}

#[tonic::async_trait]
impl AuthService for AuthApi {}

/// `gts.v1.AuthInternal`: TONE3000 token custody and public keys for other services.
pub struct AuthInternalApi {
    _infra: Infra,
}

impl AuthInternalApi {
    pub fn new(infra: Infra) -> Self {
        Self { _infra: infra }
    }
}

#[tonic::async_trait]
impl AuthInternal for AuthInternalApi {}
