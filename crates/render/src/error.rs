//! Typed errors of the render engine.
//!
//! Contract: every failure caused by an input (audio file, model, IR, spec) surfaces as
//! one of these variants with a message a person can act on; nothing input-derived panics.

use std::path::PathBuf;

/// Every way a render can fail.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// An audio file is not decodable (unknown format, corrupt data, no audio track).
    #[error("cannot decode audio {path}: {reason}")]
    Decode {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Audio decoded fine but is unusable (empty, too long, silent, absurd rate).
    #[error("unusable audio {path}: {reason}")]
    InvalidAudio {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A `.nam` model file is malformed, hostile or unsupported.
    #[error("invalid NAM model {path}: {reason}")]
    InvalidModel {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A processing stage produced non-finite samples (a model that exploded or NaN'd).
    #[error("chain {chain:?}: {stage} produced non-finite audio")]
    NonFiniteAudio {
        /// Chain name.
        chain: String,
        /// Which stage failed.
        stage: String,
    },
    /// A stage's output is absurdly loud (a model that exploded), so it is not rendered.
    #[error("chain {chain:?}: {stage} exploded (peak {peak_dbfs:.0} dBFS)")]
    ExplodedAudio {
        /// Chain name.
        chain: String,
        /// Which stage failed.
        stage: String,
        /// Its peak level.
        peak_dbfs: f64,
    },
    /// The chain's output is silent, so it cannot be levelled.
    #[error("chain {chain:?} produced silence ({loudness_lufs:.1} LUFS); nothing to level")]
    SilentOutput {
        /// Chain name.
        chain: String,
        /// Measured integrated loudness.
        loudness_lufs: f64,
    },
    /// The shootout spec is inconsistent or out of bounds.
    #[error("invalid shootout spec: {0}")]
    InvalidSpec(String),
    /// Resampling failed (should only happen for absurd rates, which are validated first).
    #[error("resampling failed: {0}")]
    Resample(String),
    /// Loudness measurement failed.
    #[error("loudness measurement failed: {0}")]
    Loudness(String),
    /// The artifact stage (gts-media) failed.
    #[error("artifact {artifact} failed: {reason}")]
    Artifact {
        /// Which artifact.
        artifact: String,
        /// What went wrong.
        reason: String,
    },
    /// The render was cancelled through its [`crate::CancelToken`].
    #[error("render cancelled")]
    Cancelled,
}

/// Result alias used across the crate.
pub type Result<T, E = RenderError> = std::result::Result<T, E>;

impl RenderError {
    /// An I/O failure on `path` (the engine's and the packaging layer's files alike).
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
