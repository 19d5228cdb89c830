//! One signal chain: load its resources, then run the DI through its blocks.
//!
//! Contract: [`PreparedChain::load`] opens every model and IR of a chain (so a bad file
//! fails before any audio is processed). [`PreparedChain::render`] takes the levelled
//! DI at the output rate, resamples it to the chain's processing rate (its first NAM
//! model's rate, else the output rate), appends the shootout's common tail of silence,
//! runs the input high-pass and the blocks in order (a NAM model with another rate is
//! wrapped in resampling), resamples back to the output rate and fades the last part of
//! the tail. Every block's output is checked for NaN/inf.

use std::path::PathBuf;

use crate::decode::decode_file;
use crate::dsp::biquad::{Biquad, FilterShape};
use crate::dsp::convolution::{PartitionedConvolver, normalise_ir};
use crate::dsp::delay::apply_delay;
use crate::dsp::gate::apply_gate;
use crate::dsp::reverb::apply_reverb;
use crate::error::{RenderError, Result};
use crate::nam::NamAmp;
use crate::progress::CancelToken;
use crate::resample::resample;
use crate::spec::{Block, ChainSpec};

/// Longest cabinet IR accepted, seconds.
pub const MAX_IR_SECONDS: u64 = 10;
/// Longest tail rendered after the DI, seconds.
pub const MAX_TAIL_SECONDS: f64 = 12.0;
/// Shortest tail (an amp alone still rings briefly).
pub const MIN_TAIL_SECONDS: f64 = 0.25;
/// Largest sample magnitude a block may produce (+80 dBFS).
const MAX_SANE_PEAK: f32 = 1e4;
/// DC blocker after each NAM model (the NAM plugin has one too).
const DC_BLOCKER_HZ: f64 = 10.0;

/// A chain's loaded resources, one per block.
enum Prepared {
    Nam(Box<NamAmp>),
    Cabinet {
        convolver: PartitionedConvolver,
        ir_seconds: f64,
    },
    Other,
}

/// A chain with its models and IRs loaded.
pub struct PreparedChain {
    /// The spec it came from.
    pub spec: ChainSpec,
    /// Rate the blocks run at.
    pub processing_rate: u32,
    prepared: Vec<Prepared>,
}

impl PreparedChain {
    /// Loads every model and IR; IRs are resampled to the processing rate and normalised.
    pub fn load(spec: &ChainSpec, output_rate: u32) -> Result<Self> {
        let mut amps: Vec<Option<NamAmp>> = Vec::with_capacity(spec.blocks.len());
        for block in &spec.blocks {
            amps.push(match block {
                Block::Nam { path, .. } => Some(NamAmp::load(path)?),
                _ => None,
            });
        }
        let processing_rate = amps
            .iter()
            .flatten()
            .map(NamAmp::sample_rate)
            .next()
            .unwrap_or(output_rate);
        let mut prepared = Vec::with_capacity(spec.blocks.len());
        for (block, amp) in spec.blocks.iter().zip(amps) {
            prepared.push(match (block, amp) {
                (_, Some(amp)) => Prepared::Nam(Box::new(amp)),
                (Block::Cabinet { path, .. }, None) => {
                    let ir = decode_file(path, MAX_IR_SECONDS)?;
                    let mut samples = resample(&ir.samples, ir.sample_rate, processing_rate)?;
                    if samples.iter().all(|&s| s == 0.0) {
                        return Err(RenderError::InvalidAudio {
                            path: path.clone(),
                            reason: "impulse response is all zeros".into(),
                        });
                    }
                    normalise_ir(&mut samples);
                    Prepared::Cabinet {
                        ir_seconds: samples.len() as f64 / f64::from(processing_rate),
                        convolver: PartitionedConvolver::new(&samples)?,
                    }
                }
                _ => Prepared::Other,
            });
        }
        Ok(Self {
            spec: spec.clone(),
            processing_rate,
            prepared,
        })
    }

    /// Seconds of tail this chain needs after the DI ends (IRs, delays, reverbs add up).
    pub fn tail_seconds(&self) -> f64 {
        let tail: f64 = self
            .spec
            .blocks
            .iter()
            .zip(&self.prepared)
            .map(|(block, prepared)| match (block, prepared) {
                (_, Prepared::Cabinet { ir_seconds, .. }) => *ir_seconds,
                (Block::Delay { .. }, _) => block.delay_params().map_or(0.0, |p| p.tail_seconds()),
                (Block::Reverb { .. }, _) => {
                    block.reverb_params().map_or(0.0, |p| p.tail_seconds())
                }
                _ => 0.0,
            })
            .sum();
        (tail + MIN_TAIL_SECONDS).min(MAX_TAIL_SECONDS)
    }

    /// Model file paths and architectures, for the manifest.
    pub fn models(&self) -> Vec<(PathBuf, String, u32)> {
        self.spec
            .blocks
            .iter()
            .zip(&self.prepared)
            .filter_map(|(block, prepared)| match (block, prepared) {
                (Block::Nam { path, .. }, Prepared::Nam(amp)) => Some((
                    path.clone(),
                    amp.architecture().to_string(),
                    amp.sample_rate(),
                )),
                _ => None,
            })
            .collect()
    }

    /// Renders the chain. `di` is at `output_rate`; the result is at `output_rate` and
    /// `di.len() + tail` samples long. `on_progress` receives 0..=1.
    pub fn render(
        &mut self,
        di: &[f32],
        output_rate: u32,
        tail_seconds: f64,
        cancel: &CancelToken,
        on_progress: &(dyn Fn(f32) + Sync),
    ) -> Result<Vec<f32>> {
        let at_rate = resample(di, output_rate, self.processing_rate)?;
        let signal = self.start(&at_rate, tail_seconds);
        let signal = self.run_blocks(signal, 0..self.spec.blocks.len(), cancel, on_progress)?;
        let output = self.finish(&signal, di.len(), output_rate, tail_seconds, cancel)?;
        on_progress(1.0);
        Ok(output)
    }

    /// Blocks whose work another chain can share: up to and including the first NAM
    /// model (the expensive part), or none when the chain has no model.
    pub fn shared_prefix_len(&self) -> usize {
        self.prepared
            .iter()
            .position(|p| matches!(p, Prepared::Nam(_)))
            .map_or(0, |at| at + 1)
    }

    /// What the signal after [`Self::shared_prefix_len`] blocks depends on, besides
    /// the DI that enters: two chains with equal keys (and the same DI) produce the
    /// same samples there.
    pub fn prefix_key(&self) -> String {
        let blocks = &self.spec.blocks[..self.shared_prefix_len()];
        let blocks = serde_json::to_string(blocks).unwrap_or_else(|_| format!("{blocks:?}"));
        format!(
            "{}|{}|{}|{blocks}",
            self.processing_rate,
            self.spec.high_pass,
            self.spec.high_pass_hz.to_bits()
        )
    }

    /// The DI at the processing rate with the common tail of silence, through the
    /// chain's input high-pass: what the first block hears.
    pub fn start(&self, di_at_rate: &[f32], tail_seconds: f64) -> Vec<f32> {
        let rate = self.processing_rate;
        let tail_samples = (tail_seconds * f64::from(rate)).round() as usize;
        let mut signal = Vec::with_capacity(di_at_rate.len() + tail_samples);
        signal.extend_from_slice(di_at_rate);
        signal.resize(di_at_rate.len() + tail_samples, 0.0);
        if self.spec.high_pass {
            Biquad::new(
                FilterShape::HighPass,
                rate,
                self.spec.high_pass_hz,
                std::f64::consts::FRAC_1_SQRT_2,
                0.0,
            )
            .process(&mut signal);
        }
        signal
    }

    /// Runs `signal` through the blocks in `blocks` (a range of the chain's blocks).
    /// `on_progress` receives the whole chain's fraction (0..=1) as blocks finish.
    pub fn run_blocks(
        &mut self,
        mut signal: Vec<f32>,
        blocks: std::ops::Range<usize>,
        cancel: &CancelToken,
        on_progress: &(dyn Fn(f32) + Sync),
    ) -> Result<Vec<f32>> {
        let rate = self.processing_rate;
        let name = self.spec.name.clone();
        let block_count = self.spec.blocks.len().max(1) as f32;
        for index in blocks {
            let (Some(block), Some(prepared)) =
                (self.spec.blocks.get(index), self.prepared.get_mut(index))
            else {
                break;
            };
            cancel.check()?;
            let base = index as f32 / block_count;
            let inner = |f: f32| on_progress(base + f / block_count);
            signal = apply_block(block, prepared, signal, rate, cancel, &inner)?;
            check_sane(&signal, &name, &format!("block {index} ({})", block.kind()))?;
            on_progress((index + 1) as f32 / block_count);
        }
        Ok(signal)
    }

    /// The processed signal back at `output_rate`, `di_len` + tail samples long, with
    /// the tail's fade-out.
    pub fn finish(
        &self,
        signal: &[f32],
        di_len: usize,
        output_rate: u32,
        tail_seconds: f64,
        cancel: &CancelToken,
    ) -> Result<Vec<f32>> {
        cancel.check()?;
        let mut output = resample(signal, self.processing_rate, output_rate)?;
        let expected = di_len + (tail_seconds * f64::from(output_rate)).round() as usize;
        output.resize(expected, 0.0);
        fade_out(&mut output, output_rate, tail_seconds);
        Ok(output)
    }
}

fn apply_block(
    block: &Block,
    prepared: &mut Prepared,
    mut signal: Vec<f32>,
    rate: u32,
    cancel: &CancelToken,
    on_progress: &(dyn Fn(f32) + Sync),
) -> Result<Vec<f32>> {
    match (block, prepared) {
        (
            Block::Nam {
                input_gain_db,
                path: _model_path,
                ..
            },
            Prepared::Nam(amp),
        ) => {
            let gain = 10f64.powf(*input_gain_db / 20.0) as f32;
            let model_rate = amp.sample_rate();
            let mut at_model_rate = resample(&signal, rate, model_rate)?;
            at_model_rate.iter_mut().for_each(|s| *s *= gain);
            #[cfg(test)]
            model_input_tap::record(_model_path, &at_model_rate);
            amp.process(&mut at_model_rate, cancel, on_progress)?;
            let mut dc_blocker = Biquad::new(
                FilterShape::HighPass,
                model_rate,
                DC_BLOCKER_HZ,
                std::f64::consts::FRAC_1_SQRT_2,
                0.0,
            );
            // Settle on the model's first output so its DC offset makes no step.
            dc_blocker.settle(
                at_model_rate.first().copied().unwrap_or(0.0),
                model_rate as usize,
            );
            dc_blocker.process(&mut at_model_rate);
            let len = signal.len();
            signal = resample(&at_model_rate, model_rate, rate)?;
            signal.resize(len, 0.0);
        }
        (Block::Cabinet { mix, .. }, Prepared::Cabinet { convolver, .. }) => {
            let wet = convolver.process(&signal, cancel)?;
            let mix = *mix as f32;
            for (dry, wet) in signal.iter_mut().zip(wet) {
                *dry = (1.0 - mix) * *dry + mix * wet;
            }
        }
        (Block::HighPass { frequency_hz }, _) => {
            Biquad::new(
                FilterShape::HighPass,
                rate,
                *frequency_hz,
                std::f64::consts::FRAC_1_SQRT_2,
                0.0,
            )
            .process(&mut signal);
        }
        (
            Block::Eq {
                shape,
                frequency_hz,
                gain_db,
                q,
            },
            _,
        ) => Biquad::new(*shape, rate, *frequency_hz, *q, *gain_db).process(&mut signal),
        (Block::Gain { gain_db }, _) => {
            let gain = 10f64.powf(*gain_db / 20.0) as f32;
            signal.iter_mut().for_each(|s| *s *= gain);
        }
        (Block::Delay { .. }, _) => {
            if let Some(params) = block.delay_params() {
                apply_delay(&mut signal, rate, params);
            }
        }
        (Block::Reverb { .. }, _) => {
            if let Some(params) = block.reverb_params() {
                apply_reverb(&mut signal, rate, params);
            }
        }
        (
            Block::NoiseGate {
                threshold_db,
                release_ms,
            },
            _,
        ) => apply_gate(
            &mut signal,
            rate,
            *threshold_db,
            release_ms.unwrap_or(crate::dsp::gate::DEFAULT_RELEASE_MS),
        ),
        // A model or IR block whose resource failed to prepare never reaches here
        // (loading fails first); pass the audio through unchanged.
        (Block::Nam { .. } | Block::Cabinet { .. }, _) => {}
    }
    Ok(signal)
}

/// Refuses NaN/inf and absurd levels (above +80 dBFS no real chain goes: a model that
/// blew up). Levelling could scale such audio back down, but it would be garbage.
fn check_sane(signal: &[f32], chain: &str, stage: &str) -> Result<()> {
    let mut peak = 0.0f32;
    for &sample in signal {
        if !sample.is_finite() {
            return Err(RenderError::NonFiniteAudio {
                chain: chain.to_string(),
                stage: stage.to_string(),
            });
        }
        peak = peak.max(sample.abs());
    }
    if peak > MAX_SANE_PEAK {
        return Err(RenderError::ExplodedAudio {
            chain: chain.to_string(),
            stage: stage.to_string(),
            peak_dbfs: 20.0 * f64::from(peak).log10(),
        });
    }
    Ok(())
}

/// Raised-cosine fade over the last part of the tail (a quarter of it, 20–500 ms).
fn fade_out(signal: &mut [f32], rate: u32, tail_seconds: f64) {
    let fade_seconds = (tail_seconds / 4.0).clamp(0.02, 0.5);
    let fade = ((fade_seconds * f64::from(rate)) as usize).min(signal.len());
    let start = signal.len() - fade;
    for (i, sample) in signal[start..].iter_mut().enumerate() {
        let t = (i + 1) as f64 / fade as f64;
        *sample *= (0.5 + 0.5 * (std::f64::consts::PI * t).cos()) as f32;
    }
}

/// Test-only record of the samples entering each model (keyed by model file), so tests
/// check levels where the model hears them.
#[cfg(test)]
pub(crate) mod model_input_tap {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    static TAPS: Mutex<Vec<(PathBuf, Vec<f32>)>> = Mutex::new(Vec::new());

    pub(crate) fn record(model: &Path, samples: &[f32]) {
        if let Ok(mut taps) = TAPS.lock() {
            taps.push((model.to_path_buf(), samples.to_vec()));
        }
    }

    /// How many times samples entered `model`, forgetting them.
    pub(crate) fn drain(model: &Path) -> usize {
        TAPS.lock().map_or(0, |mut taps| {
            let before = taps.len();
            taps.retain(|(path, _)| path != model);
            before - taps.len()
        })
    }

    /// The last samples that entered `model`.
    pub(crate) fn take(model: &Path) -> Option<Vec<f32>> {
        let mut taps = TAPS.lock().ok()?;
        let at = taps.iter().rposition(|(path, _)| path == model)?;
        Some(taps.remove(at).1)
    }
}
