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

use super::{
    revocation::RevocationList, service::SERVICE_TOKEN_HEADER, service::ServiceVerifier,
    verifier::JwtVerifier,
};

/// What a caller with a revoked session's access token is told.
pub const REVOKED_MESSAGE: &str = "this session has been signed out or revoked; sign in again";
use crate::identity::Caller;

/// The auth RPCs that need no access token (login and refresh): a stale token sent along
/// is ignored there rather than refused, at the gateway and at auth alike.
pub const ANONYMOUS_AUTH_PATHS: &[&str] = &[
    "/gts.v1.AuthService/StartLogin",
    "/gts.v1.AuthService/CompleteLogin",
    "/gts.v1.AuthService/Refresh",
];

/// Turns request headers into a [`Caller`].
#[derive(Clone)]
pub struct Authenticator {
    users: JwtVerifier,
    services: Option<ServiceVerifier>,
    revocations: Option<Arc<RevocationList>>,
}

impl Authenticator {
    /// Users verified by `users`; services by `services` (none: every service credential
    /// is refused).
    pub fn new(users: JwtVerifier, services: Option<ServiceVerifier>) -> Self {
        Self {
            users,
            services,
            revocations: None,
        }
    }

    /// Also refuses access tokens of the sessions in `revocations` (signed out, revoked,
    /// user deleted), kept current by [`super::revocation::poll`].
    pub fn with_revocations(mut self, revocations: Arc<RevocationList>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// The revocation list this authenticator checks, if any.
    pub fn revocations(&self) -> Option<&Arc<RevocationList>> {
        self.revocations.as_ref()
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
        let user = self.users.verify(token).map_err(|e| e.status())?;
        if self
            .revocations
            .as_ref()
            .is_some_and(|list| list.is_revoked(user.session_id))
        {
            return Err(Status::unauthenticated(REVOKED_MESSAGE));
        }
        Ok(Some(Caller::User(user)))
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
    /// Paths the layer looks at; `None`: all.
    applies_to: Option<fn(&str) -> bool>,
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

    /// Only look at requests whose path satisfies `applies`; others pass untouched (the
    /// gateway: calls it refuses anyway get that refusal, whatever their token).
    pub fn applies_to(mut self, applies: fn(&str) -> bool) -> Self {
        Arc::make_mut(&mut self.policy).applies_to = Some(applies);
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
        if policy
            .applies_to
            .is_some_and(|applies| !applies(request.uri().path()))
        {
            return Either::Right(self.inner.call(request));
        }
        if policy.refuse_service_credentials && request.headers().contains_key(SERVICE_TOKEN_HEADER)
        {
            let status = Status::permission_denied("service credentials are not accepted here");
            return Either::Left(ready(Ok(status.into_http())));
        }
        if let Some(authenticator) = &self.layer.authenticator {
            match authenticator.authenticate(request.headers()) {
                Ok(Some(caller)) => {
                    crate::trace_context::record_caller(&caller);
                    request.extensions_mut().insert(caller);
                }
                Ok(None) => {}
                Err(_)
                    if policy
                        .lenient_paths
                        .iter()
                        .any(|p| p == request.uri().path()) => {}
                Err(status) => return Either::Left(ready(Ok(status.into_http()))),
            }
        }
        Either::Right(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::convert::Infallible;

    use tower::{ServiceExt, service_fn};

    use super::*;
    use crate::auth::{
        AccessClaims, JwtSigner, ServiceCredential, ServiceSecret, SigningKey, testing,
    };

    const LOGIN: &str = "/gts.v1.AuthService/StartLogin";

    fn secret() -> ServiceSecret {
        ServiceSecret::new(&"s".repeat(40)).unwrap()
    }

    fn setup() -> (JwtSigner, AuthLayer) {
        let signer = JwtSigner::new(SigningKey::generate("k1").unwrap());
        let users = JwtVerifier::new(&[signer.key().public_key().clone()], "iss", "aud", 5);
        let layer = AuthLayer::new(Authenticator::new(
            users,
            Some(ServiceVerifier::new(&secret(), 5)),
        ))
        .lenient_on(&[LOGIN]);
        (signer, layer)
    }

    fn token(signer: &JwtSigner, exp_offset: i64) -> String {
        let now = testing::unix_now();
        signer
            .sign(&AccessClaims {
                sub: uuid::Uuid::new_v4().to_string(),
                sid: uuid::Uuid::new_v4().to_string(),
                iat: now,
                nbf: now,
                exp: now + exp_offset,
                iss: "iss".to_owned(),
                aud: "aud".to_owned(),
            })
            .unwrap()
    }

    /// Runs one request through `layer`; returns the grpc-status it answered (if the layer
    /// refused) or the caller the inner service saw.
    async fn call(
        layer: &AuthLayer,
        path: &str,
        headers: &[(&str, String)],
    ) -> Result<Option<Caller>, String> {
        let inner = service_fn(|request: Request<()>| async move {
            let caller = request.extensions().get::<Caller>().cloned();
            let mut response = Response::new(String::new());
            response.extensions_mut().insert(caller);
            Ok::<_, Infallible>(response)
        });
        let mut request = Request::builder().uri(path);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let response = layer
            .layer(inner)
            .oneshot(request.body(()).unwrap())
            .await
            .unwrap();
        if let Some(status) = response.headers().get("grpc-status") {
            return Err(status.to_str().unwrap().to_owned());
        }
        Ok(response
            .extensions()
            .get::<Option<Caller>>()
            .cloned()
            .flatten())
    }

    #[tokio::test]
    async fn callers_are_identified_or_refused() {
        let (signer, layer) = setup();
        let path = "/gts.v1.JobService/ListJobs";
        assert_eq!(call(&layer, path, &[]).await, Ok(None));

        let valid = format!("Bearer {}", token(&signer, 60));
        assert!(matches!(
            call(&layer, path, &[("authorization", valid)]).await,
            Ok(Some(Caller::User(_)))
        ));

        let expired = format!("Bearer {}", token(&signer, -60));
        let unauthenticated = Err("16".to_owned());
        assert_eq!(
            call(&layer, path, &[("authorization", expired.clone())]).await,
            unauthenticated
        );
        assert_eq!(
            call(&layer, path, &[("authorization", "Basic abc".to_owned())]).await,
            unauthenticated
        );
        // On a lenient path the stale token is ignored.
        assert_eq!(
            call(&layer, LOGIN, &[("authorization", expired)]).await,
            Ok(None)
        );

        let credential = ServiceCredential::new("gts-worker", &secret())
            .token()
            .unwrap();
        let seen = call(&layer, path, &[(SERVICE_TOKEN_HEADER, credential.clone())]).await;
        assert_eq!(seen, Ok(Some(Caller::Service("gts-worker".to_owned()))));
        let edge = layer.clone().refusing_service_credentials();
        assert_eq!(
            call(&edge, path, &[(SERVICE_TOKEN_HEADER, credential)]).await,
            Err("7".to_owned())
        );
        let user_as_service = token(&signer, 60);
        assert_eq!(
            call(&layer, path, &[(SERVICE_TOKEN_HEADER, user_as_service)]).await,
            unauthenticated
        );
    }

    #[tokio::test]
    async fn revoked_sessions_are_refused() {
        let (signer, _) = setup();
        let users = JwtVerifier::new(&[signer.key().public_key().clone()], "iss", "aud", 5);
        let list = RevocationList::new();
        let authenticator = Authenticator::new(users, None).with_revocations(list.clone());
        let token = token(&signer, 60);
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        let Ok(Some(Caller::User(user))) = authenticator.authenticate(&headers) else {
            panic!("a live session is accepted");
        };
        list.replace_for_tests([user.session_id]);
        let status = authenticator.authenticate(&headers).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(status.message(), REVOKED_MESSAGE);
    }

    #[tokio::test]
    async fn paths_outside_its_scope_pass_untouched() {
        let (_, layer) = setup();
        let scoped = layer.applies_to(|path| path.starts_with("/gts.v1.Job"));
        let bad = ("authorization", "Bearer not-a-jwt".to_owned());
        assert_eq!(
            call(
                &scoped,
                "/gts.v1.OpsInternal/Ping",
                std::slice::from_ref(&bad)
            )
            .await,
            Ok(None)
        );
        assert_eq!(
            call(&scoped, "/gts.v1.JobService/ListJobs", &[bad]).await,
            Err("16".to_owned())
        );
    }
}
