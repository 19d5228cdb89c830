//! `.nam` files: the engine's one checker, worded for the uploader.
//!
//! Contract: the file size is bounded before reading (the engine's limit); the text is
//! handed to `gts_render::nam::inspect`, the checker the render itself loads models with
//! (every dimension bounded before allocation, finite weights, a usable rate, a model that
//! builds), and its findings (architecture, size class, rate, metadata including the
//! `input_level_dbu` calibration and loudness) become the asset's facts.

use std::path::Path;

use gts_proto::v1::{ModelSize, NamArchitecture, NamFacts};
use gts_render::{RenderError, nam::ModelInfo};

use super::ContentError;

/// Largest `.nam` file accepted (the engine's limit).
pub const MAX_NAM_BYTES: u64 = gts_render::limits::MAX_NAM_FILE_BYTES;

/// Reads and validates the `.nam` file at `path`.
pub fn analyze(path: &Path) -> Result<NamFacts, ContentError> {
    let size = std::fs::metadata(path)
        .map_err(|e| ContentError::new(format!("the uploaded file cannot be read: {e}")))?
        .len();
    if size > MAX_NAM_BYTES {
        return Err(ContentError::new(format!(
            "the .nam file is {} MiB; at most {} MiB is accepted",
            size / (1024 * 1024),
            MAX_NAM_BYTES / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| ContentError::new(format!("the uploaded file cannot be read: {e}")))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ContentError::new("this is not a .nam file: it is not UTF-8 JSON text"))?;
    analyze_json(text)
}

/// Validates `.nam` JSON text already in memory.
pub fn analyze_json(text: &str) -> Result<NamFacts, ContentError> {
    super::guarded(".nam model", || {
        gts_render::nam::inspect(text)
            .map(|info| facts(&info))
            .map_err(|error| refusal(text, error))
    })
}

fn refusal(text: &str, error: RenderError) -> ContentError {
    let reason = match error {
        RenderError::InvalidModel { reason, .. } => reason,
        other => other.to_string(),
    };
    if has_non_finite_literal(text) {
        ContentError::new(
            "this .nam file has NaN or infinite weights (written as NaN/Infinity, which is \
             not valid JSON); the model is broken, re-export it",
        )
    } else if reason.contains("number out of range") || reason.contains("NaN or infinite") {
        // A literal like 1e39 overflows a 32-bit weight: it would load as infinity.
        ContentError::new(
            "this .nam file has NaN or infinite weights (a number too large for a 32-bit \
             weight); the model is broken, re-export it",
        )
    } else if reason.contains("exceeds the limit")
        || reason.contains("is not 1")
        || reason.contains("sample rate")
        || reason.contains("no layer")
        || reason.contains("zero")
        || reason.contains("nested")
        || reason.contains("no submodels")
    {
        ContentError::new(format!("this .nam model cannot be used: {reason}"))
    } else if reason.contains("mismatch") {
        ContentError::new(format!("this .nam model would not load: {reason}"))
    } else {
        ContentError::new(format!(
            "this is not a valid .nam file (malformed JSON or missing fields): {reason}"
        ))
    }
}

/// Whether the text holds a bare `NaN` / `Infinity` token, as Python's json module writes.
fn has_non_finite_literal(text: &str) -> bool {
    ["NaN", "Infinity"].iter().any(|token| {
        text.match_indices(token).any(|(at, _)| {
            let before = text.get(..at).and_then(|s| s.trim_end().chars().last());
            matches!(before, Some('[' | ',' | ':' | '-'))
        })
    })
}

fn facts(info: &ModelInfo) -> NamFacts {
    let architecture = match info.architecture.as_str() {
        "WaveNet" => NamArchitecture::Wavenet,
        "LSTM" => NamArchitecture::Lstm,
        _ => NamArchitecture::Slimmable,
    };
    let size_class = match info.size_class {
        "standard" => ModelSize::Standard,
        "lite" => ModelSize::Lite,
        "feather" => ModelSize::Feather,
        "nano" => ModelSize::Nano,
        _ => ModelSize::Custom,
    };
    let metadata = &info.metadata;
    NamFacts {
        architecture: architecture as i32,
        size_class: size_class as i32,
        nam_version: info.version.clone(),
        sample_rate_hz: info.declares_sample_rate.then_some(info.sample_rate),
        weight_count: info.weight_count as u64,
        name: metadata.name.clone().unwrap_or_default(),
        modeled_by: metadata.modeled_by.clone().unwrap_or_default(),
        gear_type: metadata.gear_type.clone().unwrap_or_default(),
        gear_make: metadata.gear_make.clone().unwrap_or_default(),
        gear_model: metadata.gear_model.clone().unwrap_or_default(),
        tone_type: metadata.tone_type.clone().unwrap_or_default(),
        loudness_db: metadata.loudness_db,
        gain: metadata.gain,
        input_level_dbu: metadata.input_level_dbu,
        output_level_dbu: metadata.output_level_dbu,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_files_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.nam");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(60 * 1024 * 1024).unwrap();
        let err = analyze(&path).unwrap_err();
        assert!(err.0.contains("60 MiB"), "{err}");
    }

    #[test]
    fn garbage_json_never_panics() {
        let fixture = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/nam/wavenet.nam"),
        )
        .unwrap();
        assert!(analyze_json(&fixture).is_ok());
        let mut json: serde_json::Value = serde_json::from_str(&fixture).unwrap();
        for (path, value) in [
            (
                "/config/layers/0/dilations/0",
                serde_json::json!(1_000_000_000u64),
            ),
            ("/config/layers/0/kernel_size", serde_json::json!(1_000_000)),
            ("/config/layers/0/head_size", serde_json::json!(100_000)),
            ("/config/layers", serde_json::json!([])),
            ("/config/head_scale", serde_json::json!("loud")),
            ("/sample_rate", serde_json::json!(1.5)),
            ("/architecture", serde_json::json!("LSTM")),
        ] {
            let mut edited = json.clone();
            if let Some(slot) = edited.pointer_mut(path) {
                *slot = value;
            }
            let result = analyze_json(&edited.to_string());
            assert!(result.is_err(), "{path} accepted");
        }
        json["weights"] = serde_json::json!([]);
        assert!(analyze_json(&json.to_string()).is_err());
        for text in ["", "[]", "null", "{\"version\": 5}", "{{{{", "\u{0}"] {
            assert!(analyze_json(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn non_finite_literals_are_recognised() {
        assert!(has_non_finite_literal(r#"{"weights": [0.1, NaN]}"#));
        assert!(has_non_finite_literal(r#"{"weights": [-Infinity]}"#));
        assert!(!has_non_finite_literal(r#"{"name": "NaN fan"}"#));
    }
}
