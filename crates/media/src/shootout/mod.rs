//! A shootout from spec to files: the engine renders every chain in memory
//! ([`gts_render::render_chains_with`]), then this layer writes the artifacts and the
//! manifest into the output directory.
//!
//! Contract: progress runs through one bar. The engine reports up to
//! [`ARTIFACTS_START`]; the artifacts take the rest, and with a video (drawing and encoding
//! it is most of the wall time) the bar is re-weighted so the encode gets
//! [`VIDEO_ARTIFACTS_SHARE`] of it. The manifest is written last, so a directory with a
//! manifest holds every file the manifest lists.

mod files;
pub mod manifest;
pub mod presentation;

use std::path::{Path, PathBuf};

use gts_render::progress::{ARTIFACTS_START, Reweighted, VIDEO_ARTIFACTS_SHARE};
use gts_render::report::{ChainReport, DiReport};
use gts_render::{
    CancelToken, Progress, ProgressSink, RenderError, RenderOptions, Result, ShootoutSpec, Stage,
    render_chains_with,
};
use serde::{Deserialize, Serialize};

pub use files::{CHAPTERS_FILE, CROSSFADE_MS, CUES_FILE, DI_WAVEFORM_FILE, SPECTRUM_DATA_FILE};
pub use manifest::{MANIFEST_FILE, Manifest};

/// Files written by a render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// What it is (`chain_wav`, `chain_flac`, `ab_flac`, `cues`, `spectrum_png`, ...).
    pub kind: String,
    /// Chain index for per-chain files.
    pub chain: Option<usize>,
    /// File name inside the output directory.
    pub file: String,
}

/// What [`render_shootout`] hands back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderReport {
    /// Directory holding every artifact.
    pub out_dir: PathBuf,
    /// Output sample rate.
    pub sample_rate: u32,
    /// Length of every chain's audio, seconds.
    pub duration_seconds: f64,
    /// Tail after the DI, seconds.
    pub tail_seconds: f64,
    /// DI tracks.
    pub di_tracks: Vec<DiReport>,
    /// Chains.
    pub chains: Vec<ChainReport>,
    /// Files written.
    pub artifacts: Vec<Artifact>,
    /// The manifest (also listed in `artifacts`).
    pub manifest_path: PathBuf,
}

/// Renders the shootout and writes its artifacts and manifest into `out_dir`.
pub fn render_shootout(
    spec: &ShootoutSpec,
    out_dir: &Path,
    progress: &dyn ProgressSink,
    cancel: &CancelToken,
) -> Result<RenderReport> {
    render_shootout_with(spec, out_dir, progress, cancel, &RenderOptions::default())
}

/// [`render_shootout`] with explicit [`RenderOptions`].
pub fn render_shootout_with(
    spec: &ShootoutSpec,
    out_dir: &Path,
    progress: &dyn ProgressSink,
    cancel: &CancelToken,
    options: &RenderOptions,
) -> Result<RenderReport> {
    let weighted = Reweighted::new(progress, ARTIFACTS_START, VIDEO_ARTIFACTS_SHARE);
    let progress: &dyn ProgressSink = if spec.output.video {
        &weighted
    } else {
        progress
    };
    let rendered = render_chains_with(spec, progress, cancel, options)?;
    std::fs::create_dir_all(out_dir).map_err(|e| RenderError::io(out_dir, e))?;
    let chain_count = spec.chains.len();
    let stage = |stage: Stage, fraction: f32, overall: f32| {
        progress.report(Progress::stage(stage, chain_count, fraction, overall));
    };
    stage(Stage::Artifacts, 0.0, ARTIFACTS_START);
    let on_progress = |fraction: f32| {
        let overall = ARTIFACTS_START + (1.0 - ARTIFACTS_START) * fraction;
        stage(Stage::Artifacts, fraction, overall);
    };
    let written = files::write_artifacts(spec, &rendered, out_dir, &on_progress, cancel)?;
    let mut artifacts = written.artifacts;
    artifacts.push(Artifact {
        kind: "manifest".into(),
        chain: None,
        file: MANIFEST_FILE.into(),
    });
    let manifest_path = out_dir.join(MANIFEST_FILE);
    let report = RenderReport {
        out_dir: out_dir.to_path_buf(),
        sample_rate: rendered.sample_rate,
        duration_seconds: rendered
            .chain_audio
            .first()
            .map_or(0.0, |a| a.len() as f64 / f64::from(rendered.sample_rate)),
        tail_seconds: rendered.tail_seconds,
        di_tracks: rendered.di_tracks.clone(),
        chains: rendered.chains.clone(),
        artifacts,
        manifest_path: manifest_path.clone(),
    };
    let manifest = Manifest::of(
        spec,
        &rendered,
        &report.artifacts,
        &written.cues,
        written.presentation,
    )?;
    manifest.write(&manifest_path)?;
    stage(Stage::Done, 1.0, 1.0);
    Ok(report)
}
