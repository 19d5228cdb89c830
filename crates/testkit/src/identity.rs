//! What the real auth layer inserts after verifying a token, taken from test headers, so a
//! service's own tests call its routes as a user (`x-test-user: <uuid>`) or as another
//! service (`x-test-service: <name>`) without minting tokens.

use gts_common::identity::{Caller, UserIdentity};
use tonic::Request;
use uuid::Uuid;

/// The header naming the calling user.
pub const USER_HEADER: &str = "x-test-user";
/// The header naming the calling service.
pub const SERVICE_HEADER: &str = "x-test-service";

/// The layer to put in front of a service's routes in its tests.
pub fn layer() -> tower::util::MapRequestLayer<
    fn(http::Request<tonic::body::Body>) -> http::Request<tonic::body::Body>,
> {
    tower::util::MapRequestLayer::new(from_headers)
}

fn from_headers(mut request: http::Request<tonic::body::Body>) -> http::Request<tonic::body::Body> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let caller = if let Some(user) = header(USER_HEADER).and_then(|u| Uuid::parse_str(&u).ok()) {
        Some(Caller::User(UserIdentity {
            user_id: user,
            session_id: Uuid::nil(),
        }))
    } else {
        header(SERVICE_HEADER).map(Caller::Service)
    };
    if let Some(caller) = caller {
        request.extensions_mut().insert(caller);
    }
    request
}

/// `message` as a call by `user`.
pub fn as_user<T>(user: Uuid, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        USER_HEADER,
        user.to_string().parse().expect("a UUID fits a header"),
    );
    request
}

/// `message` as a call by the service `name`.
pub fn as_service<T>(name: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        SERVICE_HEADER,
        name.parse().expect("a service name fits a header"),
    );
    request
}
