//! The crate's single error type.
//!
//! Contract: every fallible public function returns `Result<_, MediaError>`;
//! nothing reachable from caller input panics.

use std::path::PathBuf;

/// Everything that can go wrong while assembling, encoding, plotting or muxing.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The caller passed something unusable (empty chain list, zero sample
    /// rate, a phrase whose end precedes its start, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A file could not be created, written or read.
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The WAV writer refused the data.
    #[error("wav encoding failed: {0}")]
    Wav(#[from] hound::Error),

    /// The FLAC encoder refused the data or its configuration.
    #[error("flac encoding failed: {0}")]
    Flac(String),

    /// Drawing a chart or a title card failed.
    #[error("drawing failed: {0}")]
    Draw(String),

    /// The `ffmpeg` binary is not on the PATH (install Debian's `ffmpeg`).
    #[error("ffmpeg not found ({0}); install it, e.g. `apt-get install -y ffmpeg`")]
    FfmpegMissing(String),

    /// `ffmpeg` ran but failed; `stderr_tail` holds the end of its log.
    #[error("ffmpeg failed ({status}): {stderr_tail}")]
    Ffmpeg { status: String, stderr_tail: String },

    /// The caller's cancellation callback returned true.
    #[error("cancelled")]
    Cancelled,
}

impl MediaError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
