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

/// Share of the overall progress taken by loading, chains and analysis; the artifacts
/// (written by the packaging layer above the engine) take the rest from [`ARTIFACTS_START`].
pub(crate) const LOAD_SHARE: f32 = 0.05;
pub(crate) const CHAIN_SHARE: f32 = 0.80;
pub(crate) const ANALYSE_SHARE: f32 = 0.05;
/// Where the artifacts stage starts on the overall bar.
pub const ARTIFACTS_START: f32 = LOAD_SHARE + CHAIN_SHARE + ANALYSE_SHARE;

impl Progress {
    /// A report about the whole render (no chain in particular); fractions are clamped.
    pub fn stage(stage: Stage, chain_count: usize, fraction: f32, overall: f32) -> Self {
        Self {
            stage,
            chain: None,
            chain_count,
            fraction: fraction.clamp(0.0, 1.0),
            overall: overall.clamp(0.0, 1.0),
        }
    }
}

/// Share of the overall bar the artifacts stage gets when a video is written: drawing
/// and encoding it takes about four fifths of a render's wall time (docs/benchmarks.md),
/// so the bar keeps moving at an even pace through the encode.
pub const VIDEO_ARTIFACTS_SHARE: f32 = 0.75;

/// Forwards to `sink` with `overall` re-weighted so that the artifacts stage, which the
/// render starts at `artifacts_start`, takes `artifacts_share` of the bar (monotonic,
/// 0 and 1 kept).
pub struct Reweighted<'a> {
    sink: &'a dyn ProgressSink,
    artifacts_start: f32,
    artifacts_share: f32,
}

impl<'a> Reweighted<'a> {
    pub fn new(sink: &'a dyn ProgressSink, artifacts_start: f32, artifacts_share: f32) -> Self {
        Self {
            sink,
            artifacts_start: artifacts_start.clamp(0.01, 0.99),
            artifacts_share: artifacts_share.clamp(0.01, 0.99),
        }
    }

    fn map(&self, overall: f32) -> f32 {
        let before = 1.0 - self.artifacts_share;
        let overall = overall.clamp(0.0, 1.0);
        if overall <= self.artifacts_start {
            overall / self.artifacts_start * before
        } else {
            before
                + (overall - self.artifacts_start) / (1.0 - self.artifacts_start)
                    * self.artifacts_share
        }
    }
}

impl ProgressSink for Reweighted<'_> {
    fn report(&self, mut progress: Progress) {
        progress.overall = self.map(progress.overall);
        self.sink.report(progress);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Last(Mutex<Vec<f32>>);

    impl ProgressSink for Last {
        fn report(&self, progress: Progress) {
            self.0.lock().unwrap().push(progress.overall);
        }
    }

    #[test]
    fn reweighting_gives_the_artifacts_their_share_and_stays_monotonic() {
        let last = Last(Mutex::new(Vec::new()));
        let sink = Reweighted::new(&last, 0.9, 0.75);
        let inputs: Vec<f32> = (0..=100).map(|i| i as f32 / 100.0).collect();
        for &overall in &inputs {
            sink.report(Progress {
                stage: Stage::Artifacts,
                chain: None,
                chain_count: 1,
                fraction: 0.0,
                overall,
            });
        }
        let seen = last.0.lock().unwrap();
        assert_eq!(seen.first().copied(), Some(0.0));
        assert!(
            (seen[90] - 0.25).abs() < 1e-6,
            "artifacts start at 25 %: {}",
            seen[90]
        );
        assert!((seen[95] - 0.625).abs() < 1e-5, "{}", seen[95]);
        assert_eq!(seen.last().copied(), Some(1.0));
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
    }
}
