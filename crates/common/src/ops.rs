//! `gts.v1.OpsInternal`: the drain-check RPC every service hosts.
//!
//! `Ping` answers after an optional delay (capped at 10 s), which lets operators and tests
//! verify that a shutdown lets in-flight calls complete. It is internal: the gateway never
//! routes it, and like every internal RPC it needs a service credential
//! ([`require_service`]), so an anonymous caller cannot hold calls open on a service port.

use std::time::Duration;

use gts_proto::v1::{
    PingRequest, PingResponse,
    ops_internal_server::{OpsInternal, OpsInternalServer},
};
use tonic::{Request, Response, Status};

use crate::identity::require_service;

/// The longest delay a caller may ask for.
pub const MAX_PING_DELAY: Duration = Duration::from_secs(10);

/// Implementation of `OpsInternal` for a named service.
#[derive(Debug, Clone)]
pub struct Ops {
    service: &'static str,
}

impl Ops {
    /// The tonic server for `service` (e.g. `gts-auth`).
    pub fn server(service: &'static str) -> OpsInternalServer<Ops> {
        OpsInternalServer::new(Ops { service })
    }
}

#[tonic::async_trait]
impl OpsInternal for Ops {
    async fn ping(&self, request: Request<PingRequest>) -> Result<Response<PingResponse>, Status> {
        require_service(&request)?;
        let request = request.into_inner();
        let delay = Duration::from_millis(u64::from(request.delay_ms)).min(MAX_PING_DELAY);
        tokio::time::sleep(delay).await;
        Ok(Response::new(PingResponse {
            message: request.message,
            service: self.service.to_owned(),
        }))
    }
}
