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
