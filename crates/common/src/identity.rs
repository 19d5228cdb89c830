//! Who is calling: the identity an authentication layer attaches to a request.
//!
//! Contract: handlers never parse tokens themselves. A tower layer in front of each
//! service verifies the bearer token (see the auth issue) and inserts a [`Caller`] into
//! the request's extensions; handlers ask for it with [`require_user`], which answers
//! UNAUTHENTICATED when no verified identity is present. Internal services are called
//! with a service credential and see [`Caller::Service`].

use tonic::{Request, Status};
use uuid::Uuid;

/// The verified identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A signed-in user, from a verified access token.
    User(UserIdentity),
    /// Another GTS service, from a verified service credential.
    Service(String),
}

/// A signed-in user and the session the token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserIdentity {
    /// The user's id (the token's `sub`).
    pub user_id: Uuid,
    /// The session's id (the token's `sid`).
    pub session_id: Uuid,
}

/// The signed-in user behind `request`, or UNAUTHENTICATED.
pub fn require_user<T>(request: &Request<T>) -> Result<UserIdentity, Status> {
    match request.extensions().get::<Caller>() {
        Some(Caller::User(user)) => Ok(*user),
        Some(Caller::Service(_)) => Err(Status::permission_denied(
            "this RPC acts for a user; call it with the user's access token",
        )),
        None => Err(Status::unauthenticated(
            "sign in first: this call needs a valid access token",
        )),
    }
}

/// The calling service behind `request`, or PERMISSION_DENIED.
pub fn require_service<T>(request: &Request<T>) -> Result<String, Status> {
    match request.extensions().get::<Caller>() {
        Some(Caller::Service(name)) => Ok(name.clone()),
        _ => Err(Status::permission_denied(
            "internal RPC: only GTS services with a service credential may call it",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_identity_is_unauthenticated() {
        let request = Request::new(());
        assert_eq!(
            require_user(&request).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        assert_eq!(
            require_service(&request).unwrap_err().code(),
            tonic::Code::PermissionDenied
        );
    }

    #[test]
    fn a_user_cannot_pass_as_a_service_and_vice_versa() {
        let user = UserIdentity {
            user_id: Uuid::new_v4(),
            session_id: Uuid::new_v4(),
        };
        let mut request = Request::new(());
        request.extensions_mut().insert(Caller::User(user));
        assert_eq!(require_user(&request).unwrap(), user);
        assert!(require_service(&request).is_err());

        let mut request = Request::new(());
        request
            .extensions_mut()
            .insert(Caller::Service("gts-worker".to_owned()));
        assert_eq!(require_service(&request).unwrap(), "gts-worker");
        assert_eq!(
            require_user(&request).unwrap_err().code(),
            tonic::Code::PermissionDenied
        );
    }
}
