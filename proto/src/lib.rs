//! gts-proto: the GTS gRPC contract (package `gts.v1`, sources in `proto/gts/v1/`).
//!
//! Design contract:
//! - `v1` holds the prost messages and the tonic clients (`<service>_client`) and servers
//!   (`<service>_server`) generated at build time by protox + tonic-prost-build, so no
//!   system `protoc` is needed.
//! - Server trait methods have default bodies answering `UNIMPLEMENTED`, so a service
//!   implements only the RPCs it supports so far. Because of those defaults, the one
//!   server-streaming RPC (`JobService::watch_job`) returns
//!   `Response<tonic::codegen::BoxStream<WatchJobResponse>>` instead of an associated type.
//! - Every client and server encodes with [`codec::LeanCodec`] (prost, small encode
//!   buffers, so thousands of idle server streams stay cheap).
//! - [`FILE_DESCRIPTOR_SET`] is the encoded descriptor set of every file, for reflection.
//! - [`PUBLIC_SERVICES`] may be reached from browsers through the gateway;
//!   [`INTERNAL_SERVICES`] never may (the gateway's allowlist is built from these lists).

pub mod codec;

/// Generated types of package `gts.v1`.
pub mod v1 {
    // Generated code: doc comments come from the .proto files, lints are not ours to fix.
    #![allow(
        clippy::all,
        clippy::pedantic,
        clippy::unwrap_used,
        missing_docs,
        rustdoc::all
    )]
    tonic::include_proto!("gts.v1");
}

/// Encoded `google.protobuf.FileDescriptorSet` of every `gts.v1` file (and the well-known
/// types they import), for `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/gts_descriptor.bin"));

/// Fully-qualified names of the services browsers may call through the gateway.
pub const PUBLIC_SERVICES: &[&str] = &[
    "gts.v1.AuthService",
    "gts.v1.ShootoutService",
    "gts.v1.UploadService",
    "gts.v1.AssetService",
    "gts.v1.LibraryService",
    "gts.v1.JobService",
];

/// Fully-qualified names of the services only other GTS services may call; the gateway
/// refuses them whatever the token.
pub const INTERNAL_SERVICES: &[&str] = &[
    "gts.v1.AuthInternal",
    "gts.v1.ShootoutInternal",
    "gts.v1.OpsInternal",
];

#[cfg(test)]
mod contract_tests;

/// One RPC of the contract, as the descriptor set describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodInfo {
    /// `/gts.v1.Service/Method`, the HTTP/2 path of the call.
    pub path: String,
    /// Whether the client or the server streams messages (not a plain unary call).
    pub streaming: bool,
}

/// Every RPC of `gts.v1`, decoded once from [`FILE_DESCRIPTOR_SET`]. Callers that must
/// know the contract's methods (metric labels, the gateway's default deadline for unary
/// calls) read them here rather than keeping their own list.
pub fn methods() -> &'static [MethodInfo] {
    static METHODS: std::sync::OnceLock<Vec<MethodInfo>> = std::sync::OnceLock::new();
    METHODS.get_or_init(|| {
        use prost::Message as _;
        let Ok(set) = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET) else {
            return Vec::new();
        };
        set.file
            .iter()
            .filter(|file| file.package() == "gts.v1")
            .flat_map(|file| {
                file.service.iter().flat_map(move |service| {
                    service.method.iter().map(move |method| MethodInfo {
                        path: format!("/gts.v1.{}/{}", service.name(), method.name()),
                        streaming: method.client_streaming() || method.server_streaming(),
                    })
                })
            })
            .collect()
    })
}

/// The contract's method at `path`, if it is one.
pub fn method(path: &str) -> Option<&'static MethodInfo> {
    methods().iter().find(|method| method.path == path)
}

#[cfg(test)]
mod method_tests {
    #[test]
    fn the_catalog_knows_unary_and_streaming_calls() {
        let watch = super::method("/gts.v1.JobService/WatchJob").expect("WatchJob");
        assert!(watch.streaming);
        let submit = super::method("/gts.v1.JobService/SubmitJob").expect("SubmitJob");
        assert!(!submit.streaming);
        assert!(super::method("/gts.v1.JobService/Nope").is_none());
        assert!(super::methods().len() > 20, "{}", super::methods().len());
    }
}
