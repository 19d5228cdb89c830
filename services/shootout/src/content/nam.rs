//! `.nam` files: parse, bound-check, prove they would load, and read their facts.
//!
//! Contract: the file size is bounded before reading (50 MiB); after parsing, every
//! dimension nam-rs would allocate from (channels, layers, dilations, kernels, hidden
//! sizes, nesting) is checked against fixed limits far above any real capture BEFORE the
//! model is built, so a file claiming a million channels is refused without allocating
//! for them. Then the model is built with nam-rs, which checks the weight count against
//! the config; weights must be finite and the sample rate (when given) plausible.

use std::path::Path;

use gts_proto::v1::{ModelSize, NamArchitecture, NamFacts};
use nam_rs::{LayerArrayConfig, Model, ModelConfig, NamModel, WaveNetConfig};

use super::ContentError;

/// Largest `.nam` file accepted.
pub const MAX_NAM_BYTES: u64 = 50 * 1024 * 1024;
const MAX_WIDTH: usize = 256;
const MAX_LAYERS_PER_ARRAY: usize = 64;
const MAX_STACK: usize = 8;
const MAX_DILATION: usize = 16_384;
const MAX_KERNEL: usize = 64;
const MAX_LSTM_HIDDEN: usize = 512;
const MAX_WEIGHTS: usize = 8_000_000;
const MAX_NESTING: usize = 2;

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
    super::guarded(".nam model", || parse_and_check(text))
}

fn parse_and_check(text: &str) -> Result<NamFacts, ContentError> {
    let model = NamModel::from_json_str(text).map_err(|e| {
        if has_non_finite_literal(text) {
            ContentError::new(
                "this .nam file has NaN or infinite weights (written as NaN/Infinity, which is \
                 not valid JSON); the model is broken, re-export it",
            )
        } else if e.to_string().contains("number out of range") {
            // A literal like 1e39 overflows a 32-bit weight: it would load as infinity.
            ContentError::new(
                "this .nam file has NaN or infinite weights (a number too large for a 32-bit \
                 weight); the model is broken, re-export it",
            )
        } else {
            ContentError::new(format!(
                "this is not a valid .nam file (malformed JSON or missing fields): {e}"
            ))
        }
    })?;
    check_model(&model, 0)
        .map_err(|reason| ContentError::new(format!("this .nam model cannot be used: {reason}")))?;
    let sample_rate = sample_rate(&model)?;
    Model::from_nam(&model)
        .map_err(|e| ContentError::new(format!("this .nam model would not load: {e}")))?;
    Ok(facts(&model, sample_rate))
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

fn sample_rate(model: &NamModel) -> Result<Option<u32>, ContentError> {
    match model.sample_rate {
        None => Ok(None),
        Some(rate)
            if rate.is_finite() && rate.fract() == 0.0 && (8_000.0..=384_000.0).contains(&rate) =>
        {
            Ok(Some(rate as u32))
        }
        Some(rate) => Err(ContentError::new(format!(
            "this .nam model declares a sample rate of {rate} Hz, which is not a usable rate"
        ))),
    }
}

fn bounded(name: &str, value: usize, max: usize) -> Result<(), String> {
    if value > max {
        Err(format!("{name} is {value}, more than the limit of {max}"))
    } else {
        Ok(())
    }
}

fn check_model(model: &NamModel, depth: usize) -> Result<(), String> {
    if depth > MAX_NESTING {
        return Err(format!(
            "models are nested more than {MAX_NESTING} levels deep"
        ));
    }
    bounded("the weight count", model.weights.len(), MAX_WEIGHTS)?;
    if let Some(index) = model.weights.iter().position(|w| !w.is_finite()) {
        return Err(format!("weight {index} is NaN or infinite"));
    }
    match &model.config {
        ModelConfig::WaveNet(config) => check_wavenet(config, depth),
        ModelConfig::Lstm(config) => {
            if config.input_size != 1 {
                return Err(format!(
                    "LSTM input_size is {}, expected 1",
                    config.input_size
                ));
            }
            bounded("LSTM hidden_size", config.hidden_size, MAX_LSTM_HIDDEN)?;
            bounded("LSTM num_layers", config.num_layers, MAX_STACK)
        }
        ModelConfig::Slimmable(config) => {
            if config.submodels.is_empty() {
                return Err("the slimmable container holds no models".into());
            }
            bounded("the number of submodels", config.submodels.len(), MAX_STACK)?;
            config
                .submodels
                .iter()
                .try_for_each(|sub| check_model(&sub.model, depth + 1))
        }
    }
}

fn check_wavenet(config: &WaveNetConfig, depth: usize) -> Result<(), String> {
    if config.layers.is_empty() {
        return Err("the WaveNet has no layer arrays".into());
    }
    bounded("the number of layer arrays", config.layers.len(), MAX_STACK)?;
    if config.in_channels != 1 {
        return Err(format!(
            "in_channels is {}, expected 1 (mono guitar input)",
            config.in_channels
        ));
    }
    if !config.head_scale.is_finite() {
        return Err("head_scale is NaN or infinite".into());
    }
    config.layers.iter().try_for_each(check_array)?;
    if let Some(head) = &config.post_stack_head {
        bounded("post-stack head channels", head.channels, MAX_WIDTH)?;
        bounded("post-stack head out_channels", head.out_channels, MAX_WIDTH)?;
        bounded(
            "post-stack head convolutions",
            head.kernel_sizes.len(),
            MAX_STACK,
        )?;
        for &kernel in &head.kernel_sizes {
            bounded("post-stack head kernel size", kernel, MAX_KERNEL)?;
        }
    }
    if let Some(condition) = &config.condition_dsp {
        check_model(condition, depth + 1)?;
    }
    Ok(())
}

fn check_array(array: &LayerArrayConfig) -> Result<(), String> {
    bounded("input_size", array.input_size, MAX_WIDTH)?;
    bounded("condition_size", array.condition_size, MAX_WIDTH)?;
    bounded("channels", array.channels, MAX_WIDTH)?;
    bounded("bottleneck", array.bottleneck, MAX_WIDTH)?;
    bounded("head_size", array.head_size, MAX_WIDTH)?;
    bounded("head kernel size", array.head_kernel_size, MAX_KERNEL)?;
    bounded(
        "the number of layers in an array",
        array.dilations.len(),
        MAX_LAYERS_PER_ARRAY,
    )?;
    bounded(
        "the number of kernel sizes",
        array.kernel_sizes.len(),
        MAX_LAYERS_PER_ARRAY,
    )?;
    bounded("groups_input", array.groups_input, MAX_WIDTH)?;
    bounded("groups_input_mixin", array.groups_input_mixin, MAX_WIDTH)?;
    if array.channels == 0 || array.dilations.is_empty() {
        return Err("a layer array has zero channels or no layers".into());
    }
    for &dilation in &array.dilations {
        bounded("a dilation", dilation, MAX_DILATION)?;
    }
    for &kernel in &array.kernel_sizes {
        bounded("a kernel size", kernel, MAX_KERNEL)?;
    }
    Ok(())
}

/// TONE3000's size classes of the standard two-array WaveNet, by the first array's width.
fn size_class(model: &NamModel) -> ModelSize {
    match &model.config {
        ModelConfig::WaveNet(config) if config.layers.len() == 2 => {
            match config.layers.first().map(|a| a.channels) {
                Some(16) => ModelSize::Standard,
                Some(12) => ModelSize::Lite,
                Some(8) => ModelSize::Feather,
                Some(4) => ModelSize::Nano,
                _ => ModelSize::Custom,
            }
        }
        _ => ModelSize::Custom,
    }
}

fn facts(model: &NamModel, sample_rate: Option<u32>) -> NamFacts {
    let architecture = match &model.config {
        ModelConfig::WaveNet(_) => NamArchitecture::Wavenet,
        ModelConfig::Lstm(_) => NamArchitecture::Lstm,
        ModelConfig::Slimmable(_) => NamArchitecture::Slimmable,
    };
    let metadata = model.metadata_typed();
    NamFacts {
        architecture: architecture as i32,
        size_class: size_class(model) as i32,
        nam_version: model.version.clone(),
        sample_rate_hz: sample_rate,
        weight_count: model.weights.len() as u64,
        name: metadata.name.unwrap_or_default(),
        modeled_by: metadata.modeled_by.unwrap_or_default(),
        gear_type: metadata.gear_type.unwrap_or_default(),
        gear_make: metadata.gear_make.unwrap_or_default(),
        gear_model: metadata.gear_model.unwrap_or_default(),
        tone_type: metadata.tone_type.unwrap_or_default(),
        loudness_db: metadata.loudness.map(f64::from),
        gain: metadata.gain.map(f64::from),
        input_level_dbu: metadata.input_level_dbu.map(f64::from),
        output_level_dbu: metadata.output_level_dbu.map(f64::from),
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
