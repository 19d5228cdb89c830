//! Clients as the outside world uses them.
//!
//! [`GrpcWebChannel`] speaks grpc-web over HTTP/1.1 to the gateway, as a browser's
//! grpc-web transport does: tonic-web's client layer encodes each call as
//! `application/grpc-web+proto` and decodes trailers from the body. Any generated client
//! works on it: `AuthServiceClient::with_origin(web, gateway_uri)`.

use http::Uri;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use tonic::transport::{Channel, Endpoint};
use tonic_web::{GrpcWebCall, GrpcWebClientLayer, GrpcWebClientService};

/// A grpc-web "channel" to the gateway over HTTP/1.1.
pub type GrpcWebChannel =
    GrpcWebClientService<Client<HttpConnector, GrpcWebCall<tonic::body::Body>>>;

/// A grpc-web transport for any generated client (use with `with_origin`).
pub fn grpc_web() -> GrpcWebChannel {
    // HTTP/1.1 only, as a browser's fetch to a grpc-web endpoint behaves.
    let client = Client::builder(TokioExecutor::new()).build_http();
    tower::ServiceBuilder::new()
        .layer(GrpcWebClientLayer::new())
        .service(client)
}

/// The origin URI of an address, for `with_origin`.
pub fn origin(addr: std::net::SocketAddr) -> Uri {
    format!("http://{addr}")
        .parse()
        .expect("socket address forms a URI")
}

/// A plain gRPC (HTTP/2) channel to an address, connected now.
pub async fn grpc(addr: std::net::SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("socket address forms a URI")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"))
}
