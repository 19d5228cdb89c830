//! Validation of uploaded file contents and the facts measured from them.
//!
//! Contract: each validator reads a finished upload from a local file, never trusts a
//! header, bounds every allocation before making it, and answers either the facts to store
//! with the asset or a [`ContentError`] whose text tells a person what is wrong with the
//! file. They are synchronous (CPU-bound): call them from `spawn_blocking`. They use the
//! render engine's own checkers (`gts_render::nam::inspect`, `gts_render::decode`), so a
//! file accepted here loads in the render. Headers are validated before symphonia parses
//! them (absurd channel counts, zero block align), and each validator still runs under
//! [`guarded`], which turns a panic in third-party code into a refusal of the file.

pub mod audio;
pub mod nam;

/// Why a file was refused; the message is shown to the uploader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ContentError(pub String);

impl ContentError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Runs `check`, turning a panic inside a third-party decoder into a refusal.
pub fn guarded<T>(
    what: &str,
    check: impl FnOnce() -> Result<T, ContentError>,
) -> Result<T, ContentError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).unwrap_or_else(|_| {
        // User-caused (the file is refused): info, never ERROR, so uploads cannot flood it.
        tracing::info!(what, "a decoder panicked on an uploaded file");
        Err(ContentError::new(format!(
            "this {what} is malformed in a way GTS cannot decode safely; re-export it"
        )))
    })
}
