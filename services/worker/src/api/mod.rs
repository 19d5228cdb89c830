//! gRPC handlers. Each RPC not implemented yet answers UNIMPLEMENTED (the generated
//! default); the worker issue fills them in.

use gts_common::infra::Infra;
use gts_proto::v1::job_service_server::JobService;

/// `gts.v1.JobService`: jobs, progress streams and artifacts.
pub struct JobApi {
    _infra: Infra,
}

impl JobApi {
    pub fn new(infra: Infra) -> Self {
        Self { _infra: infra }
    }
}

#[tonic::async_trait]
impl JobService for JobApi {}
