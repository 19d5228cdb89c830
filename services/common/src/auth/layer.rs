//! The tower layer that authenticates every request before a handler runs.
//!
//! It reads `x-gts-service-token` (a service credential) or `authorization: Bearer …`
//! (a user's access JWT), verifies it and inserts the resulting [`Caller`] into the HTTP
//! request's extensions, where tonic hands it to the handler. No credential → no `Caller`.
//! A bad credential → UNAUTHENTICATED right here, except on "lenient" paths (login and
//! refresh), where the credential is ignored instead.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use futures::future::{Either, Ready, ready};
use http::{HeaderMap, Request, Response};
use tonic::Status;
use tower::{Layer, Service};

use super::{service::SERVICE_TOKEN_HEADER, service::ServiceVerifier, verifier::JwtVerifier};
use crate::identity::Caller;

/// Turns request headers into a [`Caller`].
#[derive(Clone)]
pub struct Authenticator {
    users: JwtVerifier,
    services: Option<ServiceVerifier>,
}

impl Authenticator {
    /// Users verified by `users`; services by `services` (none: every service credential
    /// is refused).
    pub fn new(users: JwtVerifier, services: Option<ServiceVerifier>) -> Self {
        Self { users, services }
    }

    /// The user-token verifier.
    pub fn users(&self) -> &JwtVerifier {
        &self.users
    }

    /// The caller named by `headers`; `Ok(None)` when there is no credential.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Caller>, Status> {
        if let Some(value) = headers.get(SERVICE_TOKEN_HEADER) {
            let verifier = self.services.as_ref().ok_or_else(|| {
                Status::unauthenticated("this service accepts no service credentials")
            })?;
            let token = value
                .to_str()
                .map_err(|_| Status::unauthenticated("the service credential is malformed"))?;
            return verifier
                .verify(token)
                .map(|name| Some(Caller::Service(name)))
                .map_err(|e| Status::unauthenticated(format!("invalid service credential: {e}")));
        }
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = bearer_token(value).ok_or_else(|| {
            Status::unauthenticated("the authorization header must be \"Bearer <access token>\"")
        })?;
        self.users
            .verify(token)
            .map(|user| Some(Caller::User(user)))
            .map_err(|e| e.status())
    }
}

fn bearer_token(value: &http::HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let (scheme, token) = text.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

#[derive(Clone, Default)]
struct Policy {
    lenient_paths: Vec<String>,
    refuse_service_credentials: bool,
}

/// The layer; without an authenticator it lets everything through with no `Caller`
/// (handlers that need one then refuse the call).
#[derive(Clone, Default)]
pub struct AuthLayer {
    authenticator: Option<Arc<Authenticator>>,
    policy: Arc<Policy>,
}

impl AuthLayer {
    /// A layer authenticating with `authenticator`.
    pub fn new(authenticator: Authenticator) -> Self {
        Self {
            authenticator: Some(Arc::new(authenticator)),
            policy: Arc::default(),
        }
    }

    /// A layer that authenticates nobody.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// Paths (`/package.Service/Method`) where a bad credential is ignored, not refused.
    pub fn lenient_on(mut self, paths: &[&str]) -> Self {
        let policy = Arc::make_mut(&mut self.policy);
        policy.lenient_paths = paths.iter().map(|p| (*p).to_owned()).collect();
        self
    }

    /// Refuse any request carrying a service credential (the gateway: they never come
    /// from outside).
    pub fn refusing_service_credentials(mut self) -> Self {
        Arc::make_mut(&mut self.policy).refuse_service_credentials = true;
        self
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthMiddleware<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AuthMiddleware {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service the layer wraps around.
#[derive(Clone)]
pub struct AuthMiddleware<S> {
    inner: S,
    layer: AuthLayer,
}

impl<S, B, ResBody> Service<Request<B>> for AuthMiddleware<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response<ResBody>, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The authenticated caller is decided here only; never trust one sent in.
        request.extensions_mut().remove::<Caller>();
        let policy = &self.layer.policy;
        if policy.refuse_service_credentials && request.headers().contains_key(SERVICE_TOKEN_HEADER)
        {
            let status = Status::permission_denied("service credentials are not accepted here");
            return Either::Left(ready(Ok(status.into_http())));
        }
        if let Some(authenticator) = &self.layer.authenticator {
            match authenticator.authenticate(request.headers()) {
                Ok(Some(caller)) => {
                    request.extensions_mut().insert(caller);
                }
                Ok(None) => {}
                Err(_) if policy.lenient_paths.iter().any(|p| p == request.uri().path()) => {}
                Err(status) => return Either::Left(ready(Ok(status.into_http()))),
            }
        }
        Either::Right(self.inner.call(request))
    }
}
