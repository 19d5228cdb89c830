//! What the engine hands back: every chain rendered, levelled and measured, in memory,
//! with the reports the packaging layer, the manifest and the worker read.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::input_level::InputLevelReport;
use crate::inputs::InputFile;
use crate::loudness::LevelReport;
use crate::metrics::ChainMetrics;

/// How one DI track entered the render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiReport {
    /// File.
    pub path: PathBuf,
    /// Its native rate.
    pub source_rate: u32,
    /// Its length, seconds.
    pub duration_seconds: f64,
    /// Its gated RMS before levelling, dBFS.
    pub measured_rms_dbfs: f64,
    /// Gain applied to reach the RMS input level (chains in `rms` input mode), dB.
    pub gain_db: f64,
    /// Where it starts on the shootout timeline, seconds.
    pub start_seconds: f64,
}

/// One rendered chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainReport {
    /// Index in the spec.
    pub index: usize,
    /// Display name.
    pub name: String,
    /// One line per block.
    pub blocks: Vec<String>,
    /// Rate its blocks ran at.
    pub processing_rate: u32,
    /// How the DI entered the chain (calibrated or RMS, with any fallback note).
    pub input: InputLevelReport,
    /// Levelling outcome.
    pub level: LevelReport,
    /// Measurements of the levelled audio.
    pub metrics: ChainMetrics,
    /// Comparison with the shootout's mean.
    pub evaluation: Vec<String>,
}

/// Every chain rendered and levelled, in memory.
#[derive(Debug, Clone)]
pub struct RenderedShootout {
    /// Output rate of every signal below.
    pub sample_rate: u32,
    /// The levelled DI timeline (input level, output rate), without the tail.
    pub di: Vec<f32>,
    /// Tail rendered after the DI, seconds.
    pub tail_seconds: f64,
    /// How each DI track entered.
    pub di_tracks: Vec<DiReport>,
    /// Levelled audio per chain (all the same length: DI + tail).
    pub chain_audio: Vec<Vec<f32>>,
    /// Reports per chain.
    pub chains: Vec<ChainReport>,
    /// SHA-256 of every input file.
    pub inputs: Vec<InputFile>,
}
