//! The web console's static files, served by the gateway next to grpc-web.
//!
//! Contract:
//! - Only `GET` and `HEAD` requests that no explicit route took (health, reflection,
//!   `/artifacts/...`) reach the console; every other method goes on to the gRPC proxy,
//!   so grpc-web and gRPC `POST`s are never shadowed.
//! - A path whose last segment has an extension (`/assets/app.js`) is a file: served from
//!   the console directory with its content type, 404 when missing. Any other path
//!   (`/`, `/auth/callback`, `/shootouts/…`) is a page of the single-page app and gets
//!   `index.html` (the SPA fallback).
//! - Only the console's own routes are pages ([`is_console_page`], mirroring the routes
//!   of `web/src/main.ts` and `web/src/workspace.ts`). Any other GET path with no
//!   extension (`/metrics`, `/healthz`, a typo) is 404, so an unknown path is never
//!   mistaken for a working endpoint. A new console route is added there.
//! - Paths are resolved by tower-http's `ServeDir`, which refuses `..` and other escapes.
//! - When the directory has no `index.html` (the console was not built) the gateway still
//!   serves gRPC; console requests get 503 with a plain message saying how to build it.
//!   The check is made per request, so a build finished later is picked up without a
//!   restart.
//! - Files are sent with `cache-control: no-cache` (revalidated by `last-modified`), so a
//!   new build is seen at the next load.

use std::{
    convert::Infallible,
    future::Future,
    path::{Path, PathBuf},
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    body::Body as AxumBody,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, Method, Request, StatusCode, header};
use tower::{Service, ServiceExt};
use tower_http::services::{ServeDir, ServeFile};

/// The message sent while the console is not built.
pub const NOT_BUILT: &str = "The GTS web console is not built. Build it with \
`npm ci && npm run build` in web/ (deploy/local/ensure-deps.sh does this), or point \
GTS_GATEWAY_CONSOLE_DIR at a built console.\n";

/// Whether `path` is a page of the single-page app (served `index.html`): `/`,
/// `/auth/callback`, `/s/<share token>`, `/shootouts/new`, `/shootouts/<uuid>` and
/// `/shootouts/<uuid>/renders/<uuid>`.
pub fn is_console_page(path: &str) -> bool {
    let uuid = |part: &str| uuid::Uuid::try_parse(part).is_ok();
    let token = |part: &str| {
        !part.is_empty()
            && part.len() <= 128
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        [""] | ["index.html"] | ["auth", "callback"] => true,
        ["s", share] => token(share),
        ["shootouts", "new"] => true,
        ["shootouts", id] => uuid(id),
        ["shootouts", id, "renders", job] => uuid(id) && uuid(job),
        _ => false,
    }
}

/// The plain 404 of a path that is neither a console page nor a file.
fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found\n",
    )
        .into_response()
}

/// The built console's directory.
#[derive(Debug, Clone)]
pub struct Console {
    dir: PathBuf,
}

impl Console {
    /// Serves `dir`; warns now when it holds no built console.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        if !dir.join("index.html").is_file() {
            tracing::warn!(
                dir = %dir.display(),
                "the web console is not built (no index.html); GET / answers 503 until it is: \
                 run `npm ci && npm run build` in web/"
            );
        }
        Self { dir }
    }

    /// Answers one GET/HEAD request.
    pub async fn serve<B>(&self, request: Request<B>) -> Response
    where
        B: Send + 'static,
    {
        let path = request.uri().path();
        if !is_file_path(path) && !is_console_page(path) {
            return not_found();
        }
        let index = self.dir.join("index.html");
        if !tokio::fs::metadata(&index)
            .await
            .map(|m| m.is_file())
            .unwrap_or(false)
        {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                NOT_BUILT,
            )
                .into_response();
        }
        let (parts, _) = request.into_parts();
        let request = Request::from_parts(parts, AxumBody::empty());
        let result = if is_file_path(request.uri().path()) {
            ServeDir::new(&self.dir)
                .append_index_html_on_directories(false)
                .oneshot(request)
                .await
                .map(IntoResponse::into_response)
        } else {
            ServeFile::new(&index)
                .oneshot(request)
                .await
                .map(IntoResponse::into_response)
        };
        let mut response = match result {
            Ok(response) => response,
            Err(error) => {
                tracing::warn!(%error, "console file could not be read");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the file could not be read\n",
                )
                    .into_response();
            }
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }

    /// The directory served.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Whether `path` names a file (its last segment has an extension) rather than a page.
fn is_file_path(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.') && !last.ends_with('.'))
}

/// The gateway's fallback: GET/HEAD to the console, everything else to `grpc`.
#[derive(Clone)]
pub struct ConsoleOrGrpc<G> {
    console: Console,
    grpc: G,
}

impl<G> ConsoleOrGrpc<G> {
    pub fn new(console: Console, grpc: G) -> Self {
        Self { console, grpc }
    }
}

impl<G, B, RB> Service<Request<B>> for ConsoleOrGrpc<G>
where
    G: Service<Request<B>, Response = http::Response<RB>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    G::Future: Send + 'static,
    B: Send + 'static,
    http::Response<RB>: IntoResponse,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.grpc.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if request.method() == Method::GET || request.method() == Method::HEAD {
            let console = self.console.clone();
            return Box::pin(async move { Ok(console.serve(request).await) });
        }
        // The ready service goes to this call; a fresh clone waits for the next one.
        let clone = self.grpc.clone();
        let mut grpc = std::mem::replace(&mut self.grpc, clone);
        Box::pin(async move {
            let response = grpc.call(request).await?;
            Ok(response.into_response())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_pages_are_told_apart() {
        assert!(is_file_path("/assets/app.js"));
        assert!(is_file_path("/index.html"));
        assert!(!is_file_path("/"));
        assert!(!is_file_path("/auth/callback"));
        assert!(!is_file_path("/shootouts/0193-abc"));
        assert!(!is_file_path("/weird."));
    }

    #[tokio::test]
    async fn a_missing_console_answers_503_with_how_to_build_it() {
        let console = Console::new("/nonexistent/gts-console");
        let response = console.serve(Request::get("/").body(()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("npm run build"));
    }

    #[tokio::test]
    async fn pages_fall_back_to_index_and_missing_files_are_404() {
        let dir = std::env::temp_dir().join(format!("gts-console-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html><title>GTS</title>").unwrap();
        std::fs::write(dir.join("assets/app.js"), "console.log(1)").unwrap();
        let console = Console::new(&dir);

        let page = console
            .serve(Request::get("/auth/callback?code=x").body(()).unwrap())
            .await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(
            page.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );

        let script = console
            .serve(Request::get("/assets/app.js").body(()).unwrap())
            .await;
        assert_eq!(script.status(), StatusCode::OK);
        assert!(
            script.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .contains("javascript")
        );

        let missing = console
            .serve(Request::get("/assets/missing.js").body(()).unwrap())
            .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);

        for page in [
            "/auth/callback",
            "/s/AbC-d_9",
            "/shootouts/new",
            "/shootouts/0193b7a8-0000-7000-8000-000000000001",
            "/shootouts/0193b7a8-0000-7000-8000-000000000001/renders/0193b7a8-0000-7000-8000-000000000002",
        ] {
            let response = console.serve(Request::get(page).body(()).unwrap()).await;
            assert_eq!(response.status(), StatusCode::OK, "{page}");
        }
        for unknown in [
            "/metrics",
            "/healthz",
            "/readyz",
            "/shootouts/0193-abc",
            "/shootouts/0193b7a8-0000-7000-8000-000000000001/extra",
            "/s/",
        ] {
            let response = console.serve(Request::get(unknown).body(()).unwrap()).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{unknown}");
        }

        let escape = console
            .serve(Request::get("/../Cargo.toml").body(()).unwrap())
            .await;
        assert_ne!(escape.status(), StatusCode::OK);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
