//! What a finished engine render becomes: stored artifacts and per-chain results.
//!
//! Contract: every file the engine wrote that the contract has a kind for is stored under
//! the job's prefix with its own name (so a re-run overwrites, never duplicates), plus a
//! `metrics.json` of every chain's measurements and evaluation. The A/B WAV has no kind
//! (the A/B FLAC is the same audio, losslessly) and is not stored. The manifest names
//! inputs by their fetched file name (`di-1`, `chain-2-block-1`) and hash, never by the
//! worker's scratch path.

use std::path::Path;

use gts_media::RenderReport;
use gts_proto::v1::{
    AppliedInputMode, ArtifactKind, ChainInputLevel, ChainMetrics, ChainResult, JobProgress,
    RenderSpec, RenderStage,
};
use gts_render::{
    input_level::{InputLevelReport, InputMode},
    metrics::ChainMetrics as EngineMetrics,
};
use tokio_util::sync::CancellationToken;

use super::{scratch_failure, store_unavailable};
use crate::{
    artifact_store::{ArtifactError, JobArtifacts, StoredArtifact},
    render::{ProgressSink, RenderFailure, RenderOutput},
};

/// Share of the overall progress the upload stage starts at.
pub const UPLOAD_START: f64 = 0.95;

/// The contract's kind and content type of an engine artifact kind, if stored.
pub fn artifact_kind(engine_kind: &str) -> Option<(ArtifactKind, &'static str)> {
    Some(match engine_kind {
        "chain_flac" => (ArtifactKind::ChainFlac, "audio/flac"),
        "chain_wav" => (ArtifactKind::ChainWav, "audio/wav"),
        "ab_flac" => (ArtifactKind::AbFlac, "audio/flac"),
        "cues" => (ArtifactKind::CueList, "application/json"),
        "spectrum_png" => (ArtifactKind::SpectrumPlot, "image/png"),
        "levels_png" => (ArtifactKind::LevelChart, "image/png"),
        "video_mp4" => (ArtifactKind::Video, "video/mp4"),
        "manifest" => (ArtifactKind::Manifest, "application/json"),
        "chapters_txt" => (ArtifactKind::Chapters, "text/plain; charset=utf-8"),
        "di_waveform" => (ArtifactKind::DiWaveform, "application/json"),
        "spectrum_json" => (ArtifactKind::SpectrumData, "application/json"),
        _ => return None,
    })
}

/// Stores the artifacts of `report` and builds the job's output.
pub async fn store(
    report: &RenderReport,
    spec: &RenderSpec,
    inputs_dir: &Path,
    artifacts: &JobArtifacts,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<RenderOutput, RenderFailure> {
    scrub_manifest(&report.manifest_path, inputs_dir).await?;
    let chain_results = chain_results(report, spec);
    let metrics_path = report.out_dir.join("metrics.json");
    let metrics = serde_json::to_vec_pretty(&metrics_document(report, &chain_results))
        .map_err(|error| RenderFailure::Transient(format!("cannot write metrics: {error}")))?;
    tokio::fs::write(&metrics_path, metrics)
        .await
        .map_err(|_| scratch_failure())?;

    let mut files: Vec<(ArtifactKind, &str, Option<u32>, String)> = report
        .artifacts
        .iter()
        .filter_map(|artifact| {
            let (kind, content_type) = artifact_kind(&artifact.kind)?;
            let chain = artifact.chain.and_then(|c| u32::try_from(c).ok());
            Some((kind, content_type, chain, artifact.file.clone()))
        })
        .collect();
    files.push((
        ArtifactKind::Metrics,
        "application/json",
        None,
        "metrics.json".to_owned(),
    ));

    let chain_count = u32::try_from(report.chains.len()).unwrap_or(u32::MAX);
    let mut stored: Vec<StoredArtifact> = Vec::with_capacity(files.len());
    for (done, (kind, content_type, chain, file)) in files.iter().enumerate() {
        if cancel.is_cancelled() {
            return Err(RenderFailure::Cancelled);
        }
        let fraction = done as f64 / files.len() as f64;
        progress.report(JobProgress {
            stage: RenderStage::Uploading as i32,
            chain_index: None,
            chain_count,
            stage_fraction: fraction,
            overall_fraction: UPLOAD_START + (1.0 - UPLOAD_START) * fraction,
        });
        let path = report.out_dir.join(file);
        let artifact = artifacts
            .put_file(*kind, *chain, file, content_type, &path)
            .await
            .map_err(|error| match error {
                ArtifactError::BadFilename(name) => {
                    RenderFailure::Input(format!("the engine wrote an unusable file name {name:?}"))
                }
                ArtifactError::Store(error) => {
                    tracing::warn!(%error, "artifact upload failed");
                    store_unavailable()
                }
            })?;
        stored.push(artifact);
    }
    Ok(RenderOutput {
        artifacts: stored,
        chain_results,
    })
}

fn chain_results(report: &RenderReport, spec: &RenderSpec) -> Vec<ChainResult> {
    let chains = spec
        .shootout
        .as_ref()
        .map(|shootout| shootout.chains.as_slice())
        .unwrap_or_default();
    report
        .chains
        .iter()
        .map(|chain| ChainResult {
            chain_index: u32::try_from(chain.index).unwrap_or(u32::MAX),
            chain_id: chains
                .get(chain.index)
                .map(|c| c.id.clone())
                .unwrap_or_default(),
            display_name: chain.name.clone(),
            metrics: Some(metrics(&chain.metrics)),
            evaluation: chain.evaluation.clone(),
            input_level: Some(input_level(&chain.input)),
            loudness_target_reached: chain.level.reached_target,
            levelling_note: chain.level.note.clone().unwrap_or_default(),
        })
        .collect()
}

/// The contract's view of how the DI entered a chain.
pub fn input_level(input: &InputLevelReport) -> ChainInputLevel {
    ChainInputLevel {
        mode: match input.mode {
            InputMode::Calibrated => AppliedInputMode::Calibrated,
            InputMode::Rms => AppliedInputMode::Rms,
        } as i32,
        di_calibration_dbu: input.di_calibration_dbu,
        model_input_level_dbu: input.model_input_level_dbu,
        calibration_gain_db: input.calibration_gain_db,
        note: input.note.clone().unwrap_or_default(),
    }
}

/// The contract's metrics: band shares as ratios (the engine reports them in dB).
pub fn metrics(m: &EngineMetrics) -> ChainMetrics {
    let ratio = |db: f64| {
        let value = 10f64.powf(db / 10.0);
        if value.is_finite() {
            value.clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    ChainMetrics {
        rms_dbfs: m.rms_dbfs,
        peak_dbfs: m.peak_dbfs,
        true_peak_dbtp: m.true_peak_dbtp,
        crest_factor_db: m.crest_factor_db,
        integrated_lufs: m.integrated_lufs,
        loudness_range_lu: m.loudness_range_lu,
        dynamic_range_db: m.dynamic_range_db,
        spectral_centroid_hz: m.spectral_centroid_hz,
        spectral_rolloff_hz: m.spectral_rolloff_hz,
        spectral_flatness: m.spectral_flatness,
        spectral_bandwidth_hz: m.spectral_bandwidth_hz,
        low_band_energy_ratio: ratio(m.low_band_db),
        mid_band_energy_ratio: ratio(m.mid_band_db),
        high_band_energy_ratio: ratio(m.high_band_db),
        transient_density_per_second: m.transient_density_per_s,
        attack_time_ms: m.attack_time_ms,
        decay_rate_db_per_second: m.decay_rate_db_per_s,
    }
}

fn metrics_document(report: &RenderReport, results: &[ChainResult]) -> serde_json::Value {
    let chains: Vec<serde_json::Value> = report
        .chains
        .iter()
        .zip(results)
        .map(|(chain, result)| {
            serde_json::json!({
                "chain_index": chain.index,
                "chain_id": result.chain_id,
                "name": chain.name,
                "metrics": chain.metrics,
                "input_level": chain.input,
                "level": chain.level,
                "evaluation": chain.evaluation,
            })
        })
        .collect();
    serde_json::json!({ "sample_rate": report.sample_rate, "chains": chains })
}

/// Rewrites the manifest's input paths to their file names.
async fn scrub_manifest(manifest: &Path, inputs_dir: &Path) -> Result<(), RenderFailure> {
    let text = tokio::fs::read_to_string(manifest)
        .await
        .map_err(|_| scratch_failure())?;
    let prefix = format!("{}/", inputs_dir.display());
    let escaped = serde_json::to_string(&prefix).unwrap_or_default();
    let escaped = escaped.trim_matches('"');
    tokio::fs::write(manifest, text.replace(escaped, ""))
        .await
        .map_err(|_| scratch_failure())
}
