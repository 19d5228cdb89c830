//! Error responses, in the shapes the real API uses.
//!
//! Contract: every error body is JSON `{"error": code, "error_description": text}` — the
//! OAuth-standard shape the token endpoint uses, which the `tone3000` client parses into
//! `Error::Oauth`. Resource endpoints use the same shape; clients only branch on the
//! status there (401, 403, 404, 429 + `Retry-After`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub(crate) enum ApiError {
    /// Missing, unknown, expired or revoked access token.
    Unauthorized,
    /// Private tone of another user.
    Forbidden,
    NotFound(&'static str),
    BadRequest(String),
    RateLimited {
        retry_after_secs: u64,
    },
    /// Injected by the failure-mode knob.
    Injected(StatusCode),
    /// Token-endpoint error (`invalid_grant`, `invalid_client`, ...).
    OAuth {
        status: StatusCode,
        error: &'static str,
        description: String,
    },
}

impl ApiError {
    pub(crate) fn invalid_grant(description: impl Into<String>) -> Self {
        ApiError::OAuth {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_grant",
            description: description.into(),
        }
    }

    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        ApiError::OAuth {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: description.into(),
        }
    }
}

fn body(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthorized => {
                let mut r = body(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "missing, invalid or expired access token",
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
                r
            }
            ApiError::Forbidden => body(StatusCode::FORBIDDEN, "forbidden", "this tone is private"),
            ApiError::NotFound(what) => body(StatusCode::NOT_FOUND, "not_found", what),
            ApiError::BadRequest(why) => body(StatusCode::BAD_REQUEST, "invalid_request", &why),
            ApiError::RateLimited { retry_after_secs } => {
                let mut r = body(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_exceeded",
                    &format!("too many requests; retry after {retry_after_secs} s"),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                r
            }
            ApiError::Injected(status) => body(
                status,
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    "temporarily_unavailable"
                } else {
                    "server_error"
                },
                "failure injected by the fake TONE3000",
            ),
            ApiError::OAuth {
                status,
                error,
                description,
            } => body(status, error, &description),
        }
    }
}
