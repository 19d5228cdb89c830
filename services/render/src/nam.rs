//! NAM model loading (validated) and inference with a pre-rolled start.
//!
//! Contract: [`NamAmp::load`] reads a `.nam` file, and before nam-rs allocates anything
//! proportional to the config it checks every dimension against fixed bounds (a real
//! capture is far below them), the weights for NaN/inf, the receptive field and the
//! sample rate; anything else is [`RenderError::InvalidModel`]. [`NamAmp::process`]
//! resets the model and pre-rolls it with the first input sample held for
//! `receptive_field + rate/4` samples, discarding that output, so no start-up
//! transient reaches the render. [`NamAmp::process_raw`] is the bare forward pass
//! (parity tests use it).

use std::path::{Path, PathBuf};

use nam_rs::{LayerArrayConfig, Model, ModelConfig, NamModel, WaveNetConfig};

use crate::error::{RenderError, Result};
use crate::progress::CancelToken;

/// Largest `.nam` file accepted (the standard WaveNet is ~300 KB).
pub const MAX_MODEL_FILE_BYTES: u64 = crate::limits::MAX_NAM_FILE_BYTES;
/// Largest channel / head / bottleneck width accepted.
pub const MAX_WIDTH: usize = 256;
/// Largest number of layers in one WaveNet layer array.
pub const MAX_LAYERS_PER_ARRAY: usize = 64;
/// Largest number of layer arrays, LSTM layers or slimmable submodels.
pub const MAX_STACK: usize = 8;
/// Largest dilation accepted.
pub const MAX_DILATION: usize = 16_384;
/// Largest convolution kernel accepted.
pub const MAX_KERNEL: usize = 64;
/// Largest receptive field accepted (about 5.5 s at 48 kHz).
pub const MAX_RECEPTIVE_FIELD: usize = 262_144;
/// Largest LSTM hidden size accepted.
pub const MAX_LSTM_HIDDEN: usize = 512;
/// Largest weight count accepted.
pub const MAX_WEIGHTS: usize = 8_000_000;
/// Samples processed between cancellation checks.
const BLOCK: usize = 4096;

/// A loaded, validated NAM model ready to process audio at [`Self::sample_rate`].
pub struct NamAmp {
    model: Model,
    sample_rate: u32,
    architecture: String,
    path: PathBuf,
}

impl std::fmt::Debug for NamAmp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamAmp")
            .field("path", &self.path)
            .field("architecture", &self.architecture)
            .field("sample_rate", &self.sample_rate)
            .finish_non_exhaustive()
    }
}

impl NamAmp {
    /// Reads, validates and builds the model at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let size = std::fs::metadata(path)
            .map_err(|e| RenderError::io(path, e))?
            .len();
        if size > MAX_MODEL_FILE_BYTES {
            return Err(invalid(
                path,
                format!("file is {size} bytes, over the {MAX_MODEL_FILE_BYTES}-byte limit"),
            ));
        }
        let json = std::fs::read_to_string(path).map_err(|e| RenderError::io(path, e))?;
        Self::from_json_str(&json, path)
    }

    /// Validates and builds a model from `.nam` JSON; `path` only labels errors.
    pub fn from_json_str(json: &str, path: &Path) -> Result<Self> {
        let parsed = NamModel::from_json_str(json).map_err(|e| invalid(path, e.to_string()))?;
        validate_model(&parsed, 0).map_err(|reason| invalid(path, reason))?;
        let sample_rate = model_sample_rate(&parsed).map_err(|reason| invalid(path, reason))?;
        let model = Model::from_nam(&parsed).map_err(|e| invalid(path, e.to_string()))?;
        Ok(Self {
            model,
            sample_rate,
            architecture: parsed.architecture,
            path: path.to_path_buf(),
        })
    }

    /// The rate the model was captured at; its input must be at this rate.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The architecture named in the file (`WaveNet`, `LSTM`, `SlimmableContainer`).
    pub fn architecture(&self) -> &str {
        &self.architecture
    }

    /// The model's receptive field (0 for recurrent models).
    pub fn receptive_field(&self) -> usize {
        self.model.receptive_field()
    }

    /// Samples fed before the real input so the output starts settled.
    pub fn preroll_len(&self) -> usize {
        self.receptive_field() + self.sample_rate as usize / 4
    }

    /// Bare forward pass, continuing from the current state.
    pub fn process_raw(&mut self, io: &mut [f32]) {
        self.model.process_buffer(io);
    }

    /// Resets, pre-rolls and processes `io` in place, checking `cancel` every block and
    /// reporting the fraction done through `on_progress`.
    pub fn process(
        &mut self,
        io: &mut [f32],
        cancel: &CancelToken,
        on_progress: &mut dyn FnMut(f32),
    ) -> Result<()> {
        self.model.reset();
        let held = io.first().copied().unwrap_or(0.0);
        let mut preroll = vec![held; self.preroll_len().min(BLOCK)];
        let mut remaining = self.preroll_len();
        while remaining > 0 {
            cancel.check()?;
            let n = remaining.min(preroll.len());
            preroll[..n].fill(held);
            self.model.process_buffer(&mut preroll[..n]);
            remaining -= n;
        }
        let total = io.len().max(1);
        let mut done = 0usize;
        for chunk in io.chunks_mut(BLOCK) {
            cancel.check()?;
            self.model.process_buffer(chunk);
            done += chunk.len();
            on_progress(done as f32 / total as f32);
        }
        Ok(())
    }
}

/// What the one `.nam` checker found in a valid model (see [`inspect`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The architecture named in the file (`WaveNet`, `LSTM`, `SlimmableContainer`).
    pub architecture: String,
    /// The file's `version` field.
    pub version: String,
    /// The rate the model runs at, Hz.
    pub sample_rate: u32,
    /// Whether the file states its rate (older files do not; 48 kHz is assumed).
    pub declares_sample_rate: bool,
    /// Receptive field in samples (0 for recurrent models).
    pub receptive_field: usize,
    /// Number of weights.
    pub weight_count: usize,
    /// TONE3000's size class of a standard two-array WaveNet (`standard`, `lite`,
    /// `feather`, `nano`), else `custom`.
    pub size_class: &'static str,
    /// The `metadata` object (names, loudness, calibration).
    pub metadata: crate::nam_metadata::NamMetadata,
}

/// The one `.nam` checker: validates `json` exactly as [`NamAmp::from_json_str`] does
/// (bounds before allocation, finite weights, a usable rate, a model that builds) and
/// reports what it found. The shootout service calls this when a model is uploaded.
pub fn inspect(json: &str) -> Result<ModelInfo> {
    let label = Path::new("model.nam");
    let parsed = NamModel::from_json_str(json).map_err(|e| invalid(label, e.to_string()))?;
    validate_model(&parsed, 0).map_err(|reason| invalid(label, reason))?;
    let sample_rate = model_sample_rate(&parsed).map_err(|reason| invalid(label, reason))?;
    let model = Model::from_nam(&parsed).map_err(|e| invalid(label, e.to_string()))?;
    let size_class = match &parsed.config {
        ModelConfig::WaveNet(config) if config.layers.len() == 2 => {
            match config.layers.first().map(|a| a.channels) {
                Some(16) => "standard",
                Some(12) => "lite",
                Some(8) => "feather",
                Some(4) => "nano",
                _ => "custom",
            }
        }
        _ => "custom",
    };
    Ok(ModelInfo {
        architecture: parsed.architecture.clone(),
        version: parsed.version.clone(),
        sample_rate,
        declares_sample_rate: parsed.sample_rate.is_some(),
        receptive_field: model.receptive_field(),
        weight_count: parsed.weights.len(),
        size_class,
        metadata: crate::nam_metadata::read_metadata(json),
    })
}

/// [`inspect`] for a file, whose size is bounded before it is read.
pub fn inspect_file(path: &Path) -> Result<ModelInfo> {
    let size = std::fs::metadata(path)
        .map_err(|e| RenderError::io(path, e))?
        .len();
    if size > MAX_MODEL_FILE_BYTES {
        return Err(invalid(
            path,
            format!("file is {size} bytes, over the {MAX_MODEL_FILE_BYTES}-byte limit"),
        ));
    }
    let json = std::fs::read_to_string(path).map_err(|e| RenderError::io(path, e))?;
    inspect(&json)
}

fn invalid(path: &Path, reason: String) -> RenderError {
    RenderError::InvalidModel {
        path: path.to_path_buf(),
        reason,
    }
}

fn model_sample_rate(model: &NamModel) -> std::result::Result<u32, String> {
    let rate = model.expected_sample_rate();
    let valid = rate.is_finite()
        && rate.fract() == 0.0
        && (f64::from(crate::decode::MIN_SAMPLE_RATE)..=f64::from(crate::decode::MAX_SAMPLE_RATE))
            .contains(&rate);
    if valid {
        Ok(rate as u32)
    } else {
        Err(format!(
            "sample rate {rate} is not a whole number of Hz in range"
        ))
    }
}

fn bounded(name: &str, value: usize, max: usize) -> std::result::Result<(), String> {
    if value > max {
        Err(format!("{name} = {value} exceeds the limit of {max}"))
    } else {
        Ok(())
    }
}

/// Checks every dimension nam-rs will allocate from, recursively.
fn validate_model(model: &NamModel, depth: usize) -> std::result::Result<(), String> {
    if depth > 2 {
        return Err("models nested more than two levels deep".into());
    }
    bounded("weight count", model.weights.len(), MAX_WEIGHTS)?;
    if model.weights.iter().any(|w| !w.is_finite()) {
        return Err("weights contain NaN or infinite values".into());
    }
    match &model.config {
        ModelConfig::WaveNet(config) => validate_wavenet(config, depth),
        ModelConfig::Lstm(config) => {
            if config.input_size != 1 {
                return Err(format!("LSTM input_size {} is not 1", config.input_size));
            }
            bounded("LSTM hidden_size", config.hidden_size, MAX_LSTM_HIDDEN)?;
            bounded("LSTM num_layers", config.num_layers, MAX_STACK)
        }
        ModelConfig::Slimmable(config) => {
            if config.submodels.is_empty() {
                return Err("slimmable container has no submodels".into());
            }
            bounded("submodel count", config.submodels.len(), MAX_STACK)?;
            config
                .submodels
                .iter()
                .try_for_each(|sub| validate_model(&sub.model, depth + 1))
        }
    }
}

fn validate_wavenet(config: &WaveNetConfig, depth: usize) -> std::result::Result<(), String> {
    if config.layers.is_empty() {
        return Err("WaveNet has no layer arrays".into());
    }
    bounded("layer array count", config.layers.len(), MAX_STACK)?;
    if config.in_channels != 1 {
        return Err(format!("in_channels {} is not 1", config.in_channels));
    }
    if !config.head_scale.is_finite() {
        return Err("head_scale is not finite".into());
    }
    let mut receptive_field: usize = 1;
    for array in &config.layers {
        receptive_field = receptive_field.saturating_add(validate_array(array)?);
    }
    if let Some(head) = &config.post_stack_head {
        bounded("post-stack head channels", head.channels, MAX_WIDTH)?;
        bounded("post-stack head out_channels", head.out_channels, MAX_WIDTH)?;
        bounded("post-stack head convs", head.kernel_sizes.len(), MAX_STACK)?;
        for &kernel in &head.kernel_sizes {
            bounded("post-stack head kernel", kernel, MAX_KERNEL)?;
            receptive_field = receptive_field.saturating_add(kernel.saturating_sub(1));
        }
    }
    bounded("receptive field", receptive_field, MAX_RECEPTIVE_FIELD)?;
    if let Some(condition) = &config.condition_dsp {
        validate_model(condition, depth + 1)?;
    }
    Ok(())
}

/// Returns the array's contribution to the receptive field.
fn validate_array(array: &LayerArrayConfig) -> std::result::Result<usize, String> {
    bounded("input_size", array.input_size, MAX_WIDTH)?;
    bounded("condition_size", array.condition_size, MAX_WIDTH)?;
    bounded("channels", array.channels, MAX_WIDTH)?;
    bounded("bottleneck", array.bottleneck, MAX_WIDTH)?;
    bounded("head_size", array.head_size, MAX_WIDTH)?;
    bounded("head kernel size", array.head_kernel_size, MAX_KERNEL)?;
    bounded(
        "layers in an array",
        array.dilations.len(),
        MAX_LAYERS_PER_ARRAY,
    )?;
    bounded("groups_input", array.groups_input, MAX_WIDTH)?;
    bounded("groups_input_mixin", array.groups_input_mixin, MAX_WIDTH)?;
    if array.channels == 0 || array.dilations.is_empty() {
        return Err("layer array with zero channels or no layers".into());
    }
    let mut contribution = array.head_kernel_size.saturating_sub(1);
    for (&kernel, &dilation) in array.kernel_sizes.iter().zip(&array.dilations) {
        bounded("kernel size", kernel, MAX_KERNEL)?;
        bounded("dilation", dilation, MAX_DILATION)?;
        if kernel == 0 || dilation == 0 {
            return Err("zero kernel size or dilation".into());
        }
        contribution = contribution.saturating_add((kernel - 1).saturating_mul(dilation));
    }
    Ok(contribution)
}
