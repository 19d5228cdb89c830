//! NAM model loading (validated) and inference with a pre-rolled start.
//!
//! Contract: [`NamAmp::load`] reads a `.nam` file, and before anything is allocated
//! in proportion to the config it checks every dimension against fixed bounds (a real
//! capture is far below them), the weights for NaN/inf, the receptive field and the
//! sample rate; nam-rs then parses and checks the structure (weight counts, widths);
//! anything else is [`RenderError::InvalidModel`]. The forward pass is our own kernel
//! (`nam/`: WaveNet A1/A2 and LSTM, the last submodel of a slimmable container, on
//! AVX2+FMA where the CPU has it, else portable); a WaveNet using a feature the kernel
//! does not implement (FiLM, grouped convolutions, a conditioning DSP, a post-stack
//! head) runs on nam-rs, which matches NeuralAmpModelerCore. [`NamAmp::process`]
//! resets the model and pre-rolls it with the first input sample held for
//! `receptive_field + rate/4` samples, discarding that output, so no start-up transient
//! reaches the render; a WaveNet's input is cut into fixed segments (the boundaries
//! depend only on the model and the length, never on the core count) rendered in
//! parallel, each warmed up on the receptive field before it, so the output equals the
//! one-piece render sample for sample. [`NamAmp::process_raw`] is the bare forward
//! pass (parity tests use it).

mod history;
mod lstm;
mod matmul;
pub mod simd;
mod wavenet;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use nam_rs::{LayerArrayConfig, Model, ModelConfig, NamModel, WaveNetConfig};
use rayon::prelude::*;

use crate::error::{RenderError, Result};
use crate::progress::CancelToken;
pub use simd::KernelVariant;
use simd::{Lanes, WithLanes, dispatch};

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
/// Shortest segment of a parallel WaveNet render; a segment is also at least
/// [`SEGMENT_RF_MULTIPLE`] receptive fields long, so warm-up costs at most 1/16 more.
const MIN_SEGMENT: usize = 65_536;
const SEGMENT_RF_MULTIPLE: usize = 16;

/// Which forward pass runs a model.
enum Engine {
    WaveNet(Box<wavenet::WaveNet>),
    Lstm(Box<lstm::Lstm>),
    /// nam-rs, for WaveNet features our kernel leaves to it.
    Reference(Box<Model>),
}

impl Engine {
    /// Our kernel for `parsed`, else `reference` (nam-rs, already built from it).
    fn build(parsed: &NamModel, reference: Model) -> Self {
        let active = active_model(parsed);
        if let Some(net) = wavenet::WaveNet::build(active) {
            return Self::WaveNet(Box::new(net));
        }
        if let Some(net) = lstm::Lstm::build(active) {
            return Self::Lstm(Box::new(net));
        }
        Self::Reference(Box::new(reference))
    }

    fn reset(&mut self) {
        match self {
            Self::WaveNet(net) => net.reset(),
            Self::Lstm(net) => net.reset(),
            Self::Reference(model) => model.reset(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::WaveNet(_) => "gts_wavenet",
            Self::Lstm(_) => "gts_lstm",
            Self::Reference(_) => "nam_rs",
        }
    }
}

/// The model a slimmable container runs at full width (its last submodel, as
/// NeuralAmpModelerCore and nam-rs default to), else the model itself.
fn active_model(model: &NamModel) -> &NamModel {
    match &model.config {
        ModelConfig::Slimmable(config) => config
            .submodels
            .last()
            .map_or(model, |sub| active_model(&sub.model)),
        _ => model,
    }
}

struct Run<'a> {
    engine: &'a mut Engine,
    io: &'a mut [f32],
}

impl WithLanes for Run<'_> {
    type Output = ();
    #[inline(always)]
    fn run<L: Lanes>(self, lanes: L) {
        match self.engine {
            Engine::WaveNet(net) => net.process(lanes, self.io),
            Engine::Lstm(net) => net.process(lanes, self.io),
            Engine::Reference(model) => model.process_buffer(self.io),
        }
    }
}

/// A loaded, validated NAM model ready to process audio at [`Self::sample_rate`].
pub struct NamAmp {
    engine: Engine,
    variant: KernelVariant,
    receptive_field: usize,
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
            .field("kernel", &self.kernel())
            .finish_non_exhaustive()
    }
}

impl NamAmp {
    /// Reads, validates and builds the model at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        Self::from_json_str(&read_bounded(path)?, path)
    }

    /// Validates and builds a model from `.nam` JSON; `path` only labels errors.
    pub fn from_json_str(json: &str, path: &Path) -> Result<Self> {
        let parsed = NamModel::from_json_str(json).map_err(|e| invalid(path, e.to_string()))?;
        validate_model(&parsed, 0).map_err(|reason| invalid(path, reason))?;
        let sample_rate = model_sample_rate(&parsed).map_err(|reason| invalid(path, reason))?;
        // nam-rs's build checks the structure (weight counts, widths) of every submodel.
        let reference = Model::from_nam(&parsed).map_err(|e| invalid(path, e.to_string()))?;
        let receptive_field = reference.receptive_field();
        let engine = Engine::build(&parsed, reference);
        Ok(Self {
            engine,
            variant: KernelVariant::detect(),
            receptive_field,
            sample_rate,
            architecture: parsed.architecture,
            path: path.to_path_buf(),
        })
    }

    /// Runs on `variant` from now on (tests force the portable path with it).
    pub fn with_variant(mut self, variant: KernelVariant) -> Self {
        self.variant = variant;
        self
    }

    /// The instruction set the kernel runs on.
    pub fn variant(&self) -> KernelVariant {
        self.variant
    }

    /// Which forward pass runs this model and on what, e.g. `gts_wavenet/avx2_fma`,
    /// for manifests: outputs are reproducible bit for bit on the same kernel.
    pub fn kernel(&self) -> String {
        match self.engine {
            Engine::Reference(_) => self.engine.name().to_string(),
            _ => format!("{}/{}", self.engine.name(), self.variant.name()),
        }
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
        self.receptive_field
    }

    /// Samples fed before the real input so the output starts settled.
    pub fn preroll_len(&self) -> usize {
        self.receptive_field() + self.sample_rate as usize / 4
    }

    /// Bare forward pass, continuing from the current state.
    pub fn process_raw(&mut self, io: &mut [f32]) {
        let variant = self.variant;
        dispatch(
            variant,
            Run {
                engine: &mut self.engine,
                io,
            },
        );
    }

    /// Resets, pre-rolls and processes `io` in place, checking `cancel` every block and
    /// reporting the fraction done through `on_progress`. A WaveNet's segments run on
    /// the current rayon pool.
    pub fn process(
        &mut self,
        io: &mut [f32],
        cancel: &CancelToken,
        on_progress: &(dyn Fn(f32) + Sync),
    ) -> Result<()> {
        let segment = self.segment_len();
        let total = io.len();
        let done = AtomicUsize::new(0);
        let progress = |n: usize| {
            let finished = done.fetch_add(n, Ordering::Relaxed) + n;
            on_progress(finished as f32 / total.max(1) as f32);
        };
        let Engine::WaveNet(net) = &self.engine else {
            return self.process_from_start(io, cancel, &progress);
        };
        if total <= segment {
            return self.process_from_start(io, cancel, &progress);
        }
        let input = io.to_vec();
        let (first, rest) = io.split_at_mut(segment);
        let net: &wavenet::WaveNet = net;
        let variant = self.variant;
        let overlap = self.receptive_field;
        let later = |(index, out): (usize, &mut [f32])| -> Result<()> {
            let start = (index + 1) * segment;
            let mut engine = Engine::WaveNet(Box::new(net.clone()));
            engine.reset();
            let mut warm = input[start - overlap..start].to_vec();
            run_chunks(&mut engine, variant, &mut warm, cancel, &|_| {})?;
            run_chunks(&mut engine, variant, out, cancel, &progress)
        };
        let mut head = Engine::WaveNet(Box::new(net.clone()));
        let preroll = self.preroll_len();
        let (head_result, rest_result) = rayon::join(
            || preroll_then_run(&mut head, variant, preroll, first, cancel, &progress),
            || rest.par_chunks_mut(segment).enumerate().try_for_each(later),
        );
        head_result.and(rest_result)
    }

    /// [`Self::process`] in one piece on the calling thread: the reference the
    /// segmented render is checked against, and the one-core figure of the benchmark.
    pub fn process_unsegmented(
        &mut self,
        io: &mut [f32],
        cancel: &CancelToken,
        on_progress: &(dyn Fn(f32) + Sync),
    ) -> Result<()> {
        let total = io.len().max(1) as f32;
        let done = AtomicUsize::new(0);
        self.process_from_start(io, cancel, &|n| {
            on_progress((done.fetch_add(n, Ordering::Relaxed) + n) as f32 / total);
        })
    }

    /// Segment length of a parallel render: fixed by the model alone.
    fn segment_len(&self) -> usize {
        MIN_SEGMENT.max(SEGMENT_RF_MULTIPLE * self.receptive_field)
    }

    /// Reset, pre-roll with the first sample held, then `io`.
    fn process_from_start(
        &mut self,
        io: &mut [f32],
        cancel: &CancelToken,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<()> {
        let preroll = self.preroll_len();
        preroll_then_run(
            &mut self.engine,
            self.variant,
            preroll,
            io,
            cancel,
            progress,
        )
    }
}

/// Resets `engine`, feeds it `preroll` copies of `io`'s first sample, then `io`.
fn preroll_then_run(
    engine: &mut Engine,
    variant: KernelVariant,
    preroll: usize,
    io: &mut [f32],
    cancel: &CancelToken,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<()> {
    engine.reset();
    let held = io.first().copied().unwrap_or(0.0);
    let mut warm = vec![held; preroll.min(BLOCK)];
    let mut remaining = preroll;
    while remaining > 0 {
        cancel.check()?;
        let n = remaining.min(warm.len());
        warm[..n].fill(held);
        dispatch(
            variant,
            Run {
                engine,
                io: &mut warm[..n],
            },
        );
        remaining -= n;
    }
    run_chunks(engine, variant, io, cancel, progress)
}

/// Runs `io` in blocks, checking `cancel` and reporting samples done between them.
fn run_chunks(
    engine: &mut Engine,
    variant: KernelVariant,
    io: &mut [f32],
    cancel: &CancelToken,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<()> {
    for chunk in io.chunks_mut(BLOCK) {
        cancel.check()?;
        dispatch(variant, Run { engine, io: chunk });
        progress(chunk.len());
    }
    Ok(())
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
    inspect(&read_bounded(path)?)
}

/// A `.nam` file's text, refused before reading when it is over the size limit.
fn read_bounded(path: &Path) -> Result<String> {
    let size = std::fs::metadata(path)
        .map_err(|e| RenderError::io(path, e))?
        .len();
    if size > MAX_MODEL_FILE_BYTES {
        return Err(invalid(
            path,
            format!("file is {size} bytes, over the {MAX_MODEL_FILE_BYTES}-byte limit"),
        ));
    }
    std::fs::read_to_string(path).map_err(|e| RenderError::io(path, e))
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
