//! Progress reporting and cancellation.
//!
//! Contract: the pipeline reports `(stage, chain, fraction)` through a [`ProgressSink`]
//! often enough for a live bar (at least once per processed block of audio), and checks
//! its [`CancelToken`] between blocks and inside every loop that can run longer than
//! a few milliseconds, returning [`crate::RenderError::Cancelled`] promptly.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::error::{RenderError, Result};

/// The stages of a render, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Decoding DI tracks, models and IRs.
    Load,
    /// Running a chain's blocks (NAM, IR, effects).
    Process,
    /// Loudness levelling and true-peak limiting.
    Level,
    /// Per-chain metrics and evaluation.
    Analyse,
    /// Writing audio, plots, video and manifest.
    Artifacts,
    /// Everything finished.
    Done,
}

/// One progress report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    /// Current stage.
    pub stage: Stage,
    /// Chain index (0-based) the report is about, if any.
    pub chain: Option<usize>,
    /// Number of chains in the shootout.
    pub chain_count: usize,
    /// Fraction of the stage done for this chain (or overall), 0..=1.
    pub fraction: f32,
    /// Overall fraction of the whole render, 0..=1 (monotonic per chain).
    pub overall: f32,
}

/// Receives progress; called from the rendering threads, so it must be `Sync`.
pub trait ProgressSink: Sync {
    /// Called on every progress step. Must be cheap.
    fn report(&self, progress: Progress);
}

/// A sink that discards everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn report(&self, _progress: Progress) {}
}

/// A cheap, clonable cancellation flag shared with whoever may cancel the render.
#[derive(Debug, Default, Clone)]
pub struct CancelToken {
    cancelled: Arc<AtomicBool>,
    /// The token this one was derived from: cancelling it cancels this one too.
    parent: Option<Arc<AtomicBool>>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the render to stop; it returns `Err(Cancelled)` at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// Whether [`Self::cancel`] has been called (here or on the parent).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
            || self
                .parent
                .as_ref()
                .is_some_and(|p| p.load(Ordering::SeqCst))
    }

    /// A token cancelled by this one or by its own [`Self::cancel`], which leaves this
    /// one alone (a render stops its other chains without reporting a user's cancel).
    pub fn child(&self) -> Self {
        Self {
            cancelled: Arc::default(),
            parent: Some(Arc::clone(&self.cancelled)),
        }
    }

    /// `Err(Cancelled)` once cancelled: the `?`-friendly check used inside loops.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(RenderError::Cancelled)
        } else {
            Ok(())
        }
    }
}
