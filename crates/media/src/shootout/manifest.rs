//! The render manifest: everything needed to reproduce a render.
//!
//! Contract: the manifest holds the engine and crate versions, the full spec (with the
//! paths used), the SHA-256 and size of every input file, the derived values (DI gains,
//! tail, processing rates), the levelling outcome, metrics, evaluation, cue list and
//! artifact list, and what the video presented (cards, chapters, the blind shuffle's seed
//! and letters). It holds no timestamps, so the same render writes the same manifest.
//! [`Manifest::load_spec`] reads one back and refuses it if any input file changed.

use std::collections::BTreeMap;
use std::path::Path;

use gts_render::inputs::{InputFile, hash_file};
use gts_render::report::{ChainReport, DiReport, RenderedShootout};
use gts_render::spec::ShootoutSpec;
use gts_render::versions::{CRATE_VERSIONS, ENGINE_VERSION};
use gts_render::{RenderError, Result};
use serde::{Deserialize, Serialize};

use super::Artifact;
use super::presentation::PresentationRecord;
use crate::assembly::Cue;

/// File name of the manifest inside the output directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The manifest document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format version.
    pub format: u32,
    /// `gts-render`.
    pub engine: String,
    /// Engine version.
    pub engine_version: String,
    /// Versions of the crates that shape the audio.
    pub crates: BTreeMap<String, String>,
    /// The spec rendered.
    pub spec: ShootoutSpec,
    /// Every input file.
    pub inputs: Vec<InputFile>,
    /// Output rate.
    pub sample_rate: u32,
    /// Tail after the DI, seconds.
    pub tail_seconds: f64,
    /// DI tracks and their gains.
    pub di_tracks: Vec<DiReport>,
    /// Chains with levelling, metrics and evaluation.
    pub chains: Vec<ChainReport>,
    /// Artifacts written.
    pub artifacts: Vec<Artifact>,
    /// The A/B cue list, when one was assembled.
    #[serde(default)]
    pub cues: serde_json::Value,
    /// What the video and chapters showed (cards, chapters, blind letters and seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentation: Option<PresentationRecord>,
}

impl Manifest {
    /// The manifest of a finished render: `artifacts` it wrote, with the A/B `cues` and
    /// the `presentation` as the artifacts were written from them.
    pub fn of(
        spec: &ShootoutSpec,
        rendered: &RenderedShootout,
        artifacts: &[Artifact],
        cues: &[Cue],
        presentation: PresentationRecord,
    ) -> Result<Self> {
        let cues = serde_json::to_value(cues)
            .map_err(|e| RenderError::InvalidSpec(format!("cue list not serialisable: {e}")))?;
        Ok(Manifest {
            format: 1,
            engine: "gts-render".into(),
            engine_version: ENGINE_VERSION.into(),
            crates: CRATE_VERSIONS
                .iter()
                .map(|(name, version)| (name.to_string(), version.to_string()))
                .collect(),
            spec: spec.clone(),
            inputs: rendered.inputs.clone(),
            sample_rate: rendered.sample_rate,
            tail_seconds: rendered.tail_seconds,
            di_tracks: rendered.di_tracks.clone(),
            chains: rendered.chains.clone(),
            artifacts: artifacts.to_vec(),
            cues,
            presentation: Some(presentation),
        })
    }

    /// Writes the manifest to `path`.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| RenderError::InvalidSpec(format!("manifest not serialisable: {e}")))?;
        std::fs::write(path, text).map_err(|e| RenderError::io(path, e))
    }

    /// Reads a manifest and returns its spec if every input still has its recorded hash.
    pub fn load_spec(path: &Path) -> Result<ShootoutSpec> {
        let text = std::fs::read_to_string(path).map_err(|e| RenderError::io(path, e))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| RenderError::InvalidSpec(format!("{}: {e}", path.display())))?;
        for input in &manifest.inputs {
            let (sha256, _) = hash_file(&input.path)?;
            if sha256 != input.sha256 {
                return Err(RenderError::InvalidSpec(format!(
                    "{} changed since the manifest was written (sha256 {sha256}, recorded {})",
                    input.path.display(),
                    input.sha256
                )));
            }
        }
        let mut spec = manifest.spec;
        // A blind render from the manifest shuffles as the recorded one did.
        if let Some(blind) = manifest.presentation.and_then(|p| p.blind) {
            spec.output.video_style.blind_seed = Some(blind.seed);
        }
        Ok(spec)
    }
}
