//! The shootout description: DI tracks, chains of typed blocks, output options.
//!
//! Contract: a [`ShootoutSpec`] is plain serde data (TOML for the CLI, JSON in the
//! manifest) mirroring the gRPC contract's block kinds. [`ShootoutSpec::validate`]
//! checks every count and parameter range with a message naming the field, so the
//! pipeline only ever sees values inside documented bounds.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::display::{GearInfo, VideoStyle};
use crate::dsp::biquad::FilterShape;
use crate::dsp::delay::DelayParams;
use crate::dsp::reverb::{ReverbParams, ReverbPreset};
use crate::error::{RenderError, Result};
use crate::limits::{self, Limit};

/// A whole shootout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShootoutSpec {
    /// Display name.
    #[serde(default = "default_name")]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// DI (dry) recordings, played in order (1–8).
    pub di_tracks: Vec<DiTrack>,
    /// Signal chains (1–16).
    pub chains: Vec<ChainSpec>,
    /// Output options.
    #[serde(default)]
    pub output: OutputOptions,
}

/// One DI recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiTrack {
    /// Audio file (WAV, FLAC, MP3, AIFF, OGG).
    pub path: PathBuf,
    /// Optional display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// One signal chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    /// Display name (shown on title cards and plots).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The chain's input high-pass (before every block): on unless turned off.
    #[serde(default = "default_true")]
    pub high_pass: bool,
    /// Its corner frequency.
    #[serde(default = "default_high_pass_hz")]
    pub high_pass_hz: f64,
    /// How the DI's level into the chain is set: `auto` (calibrated when the chain's first
    /// NAM model has plausible `input_level_dbu`, else RMS) or `rms` (always the RMS target).
    #[serde(default)]
    pub input_level_mode: InputLevelMode,
    /// Ordered blocks.
    #[serde(default)]
    pub blocks: Vec<Block>,
}

/// How a chain's input level is chosen (what the user asked for).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputLevelMode {
    /// Calibrated when the model's metadata allows, else RMS (with a note).
    #[default]
    Auto,
    /// The RMS input level, whatever the model says.
    Rms,
}

/// Delay presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DelayPreset {
    /// 80 ms, 10 % feedback, 30 % mix.
    Slapback,
    /// 375 ms, 30 % feedback, 25 % mix.
    Quarter,
}

/// A typed processing block (the gRPC `oneof`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Block {
    /// A NAM amp/pedal capture.
    Nam {
        /// `.nam` file.
        path: PathBuf,
        /// Gain before the model, dB.
        #[serde(default)]
        input_gain_db: f64,
        /// What to call it (tone, model, author); the file name when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gear: Option<GearInfo>,
    },
    /// A cabinet impulse response.
    Cabinet {
        /// IR audio file.
        path: PathBuf,
        /// Wet mix 0..=1.
        #[serde(default = "default_one")]
        mix: f64,
        /// What to call it; the file name when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gear: Option<GearInfo>,
    },
    /// A high-pass filter.
    HighPass {
        /// Corner, Hz.
        frequency_hz: f64,
    },
    /// One EQ band (RBJ biquad).
    Eq {
        /// Filter shape.
        shape: FilterShape,
        /// Frequency, Hz.
        frequency_hz: f64,
        /// Gain, dB (shelves and peaking).
        #[serde(default)]
        gain_db: f64,
        /// Quality factor.
        #[serde(default = "default_q")]
        q: f64,
    },
    /// A plain gain.
    Gain {
        /// dB.
        gain_db: f64,
    },
    /// A feedback delay: a preset, optionally with fields overridden.
    Delay {
        /// Base preset (slapback if absent).
        #[serde(default)]
        preset: Option<DelayPreset>,
        /// Delay time, ms.
        #[serde(default)]
        time_ms: Option<f64>,
        /// Feedback 0..0.95.
        #[serde(default)]
        feedback: Option<f64>,
        /// Wet mix 0..=1.
        #[serde(default)]
        mix: Option<f64>,
    },
    /// A reverb: a preset, optionally with fields overridden.
    Reverb {
        /// Base preset (room if absent).
        #[serde(default)]
        preset: Option<ReverbPreset>,
        /// Room size 0..=1.
        #[serde(default)]
        room_size: Option<f64>,
        /// Damping 0..=1.
        #[serde(default)]
        damping: Option<f64>,
        /// Wet mix 0..=1.
        #[serde(default)]
        mix: Option<f64>,
        /// Pre-delay, ms.
        #[serde(default)]
        pre_delay_ms: Option<f64>,
    },
    /// A noise gate.
    NoiseGate {
        /// Threshold, dBFS.
        threshold_db: f64,
        /// Envelope release, ms (1..=1000; 100 if absent).
        #[serde(default)]
        release_ms: Option<f64>,
    },
}

impl Block {
    /// Short kind name (for progress, title cards and errors).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Nam { .. } => "nam",
            Self::Cabinet { .. } => "cabinet",
            Self::HighPass { .. } => "high_pass",
            Self::Eq { .. } => "eq",
            Self::Gain { .. } => "gain",
            Self::Delay { .. } => "delay",
            Self::Reverb { .. } => "reverb",
            Self::NoiseGate { .. } => "noise_gate",
        }
    }

    /// A one-line human description, e.g. for a title card.
    pub fn describe(&self) -> String {
        let file = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        match self {
            Self::Nam {
                path,
                input_gain_db,
                gear,
            } => {
                let name = gear.as_ref().map_or_else(|| file(path), GearInfo::line);
                let kind = gear
                    .as_ref()
                    .map_or_else(|| "NAM".into(), |g| g.kind_label("NAM"));
                if *input_gain_db == 0.0 {
                    format!("{kind}: {name}")
                } else {
                    format!("{kind}: {name} (input {input_gain_db:+.1} dB)")
                }
            }
            Self::Cabinet { path, mix, gear } => {
                let name = gear.as_ref().map_or_else(|| file(path), GearInfo::line);
                if *mix >= 1.0 {
                    format!("Cab IR: {name}")
                } else {
                    format!("Cab IR: {name} ({:.0}% wet)", mix * 100.0)
                }
            }
            Self::HighPass { frequency_hz } => format!("High-pass {frequency_hz:.0} Hz"),
            Self::Eq {
                shape,
                frequency_hz,
                gain_db,
                q,
            } => format!("EQ {shape:?} {frequency_hz:.0} Hz {gain_db:+.1} dB Q {q:.2}"),
            Self::Gain { gain_db } => format!("Gain {gain_db:+.1} dB"),
            Self::Delay { .. } => {
                let p = self.delay_params().unwrap_or(DelayParams::SLAPBACK);
                format!(
                    "Delay {:.0} ms, {:.0}% feedback, {:.0}% mix",
                    p.time_ms,
                    p.feedback * 100.0,
                    p.mix * 100.0
                )
            }
            Self::Reverb { preset, .. } => {
                format!("Reverb {:?}", preset.unwrap_or(ReverbPreset::Room))
            }
            Self::NoiseGate { threshold_db, .. } => format!("Noise gate {threshold_db:.0} dB"),
        }
    }

    /// Resolved delay parameters (preset + overrides), for delay blocks.
    pub fn delay_params(&self) -> Option<DelayParams> {
        match self {
            Self::Delay {
                preset,
                time_ms,
                feedback,
                mix,
            } => {
                let base = match preset {
                    Some(DelayPreset::Quarter) => DelayParams::QUARTER,
                    Some(DelayPreset::Slapback) | None => DelayParams::SLAPBACK,
                };
                Some(DelayParams {
                    time_ms: time_ms.unwrap_or(base.time_ms),
                    feedback: feedback.unwrap_or(base.feedback),
                    mix: mix.unwrap_or(base.mix),
                })
            }
            _ => None,
        }
    }

    /// Resolved reverb parameters (preset + overrides), for reverb blocks.
    pub fn reverb_params(&self) -> Option<ReverbParams> {
        match self {
            Self::Reverb {
                preset,
                room_size,
                damping,
                mix,
                pre_delay_ms,
            } => {
                let base = preset.unwrap_or(ReverbPreset::Room).params();
                Some(ReverbParams {
                    room_size: room_size.unwrap_or(base.room_size),
                    damping: damping.unwrap_or(base.damping),
                    mix: mix.unwrap_or(base.mix),
                    pre_delay_ms: pre_delay_ms.unwrap_or(base.pre_delay_ms),
                    spring: base.spring,
                })
            }
            _ => None,
        }
    }
}

/// Output options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputOptions {
    /// Integrated loudness every chain is levelled to, LUFS (−40..=−5).
    #[serde(default = "default_target")]
    pub loudness_target_lufs: f64,
    /// True-peak ceiling, dBTP (−6..=0).
    #[serde(default = "default_ceiling")]
    pub true_peak_ceiling_dbtp: f64,
    /// DI level into every chain in `rms` input mode, dBFS gated RMS (−40..=−6).
    #[serde(default = "default_input_level")]
    pub input_level_dbfs: f64,
    /// The DI's calibration: 0 dBFS on the recording interface = this many dBu
    /// (−10..=+30, default +12). Calibrated chains raise the DI by this minus the model's
    /// `input_level_dbu`.
    #[serde(default = "default_di_calibration")]
    pub di_calibration_dbu: f64,
    /// A/B phrase length, seconds (3..=5).
    #[serde(default = "default_phrase")]
    pub phrase_seconds: f64,
    /// Render the MP4.
    #[serde(default = "default_true")]
    pub video: bool,
    /// Output sample rate (44100, 48000, 88200 or 96000).
    #[serde(default = "default_rate")]
    pub sample_rate: u32,
    /// Silence between consecutive DI tracks, seconds (0..=5).
    #[serde(default = "default_gap")]
    pub di_gap_seconds: f64,
    /// How the video is presented: intro, outro, blind mode.
    #[serde(default)]
    pub video_style: VideoStyle,
}

impl Default for OutputOptions {
    fn default() -> Self {
        Self {
            loudness_target_lufs: default_target(),
            true_peak_ceiling_dbtp: default_ceiling(),
            input_level_dbfs: default_input_level(),
            di_calibration_dbu: default_di_calibration(),
            phrase_seconds: default_phrase(),
            video: true,
            sample_rate: default_rate(),
            di_gap_seconds: default_gap(),
            video_style: VideoStyle::default(),
        }
    }
}

fn default_name() -> String {
    "Shootout".into()
}
fn default_true() -> bool {
    true
}
fn default_one() -> f64 {
    1.0
}
fn default_q() -> f64 {
    limits::DEFAULT_EQ_Q
}
fn default_high_pass_hz() -> f64 {
    limits::DEFAULT_HIGH_PASS_HZ
}
fn default_target() -> f64 {
    limits::DEFAULT_LOUDNESS_TARGET_LUFS
}
fn default_ceiling() -> f64 {
    limits::DEFAULT_TRUE_PEAK_CEILING_DBTP
}
fn default_input_level() -> f64 {
    limits::DEFAULT_INPUT_LEVEL_DBFS
}
fn default_di_calibration() -> f64 {
    limits::DEFAULT_DI_CALIBRATION_DBU
}
fn default_phrase() -> f64 {
    limits::DEFAULT_PHRASE_SECONDS
}
fn default_rate() -> u32 {
    48_000
}
fn default_gap() -> f64 {
    1.0
}

pub use crate::limits::{MAX_BLOCKS, MAX_CHAINS, MAX_DI_TRACKS};

fn check_range(field: &str, value: f64, limit: Limit) -> Result<()> {
    match limit.violation(value) {
        None => Ok(()),
        Some(message) => Err(RenderError::InvalidSpec(format!("{field} {message}"))),
    }
}

fn check_optional(field: &str, value: Option<f64>, limit: Limit) -> Result<()> {
    value.map_or(Ok(()), |v| check_range(field, v, limit))
}

impl ShootoutSpec {
    /// Parses TOML and resolves relative paths against `base_dir`.
    pub fn from_toml_str(text: &str, base_dir: &Path) -> Result<Self> {
        let mut spec: Self =
            toml::from_str(text).map_err(|e| RenderError::InvalidSpec(e.to_string()))?;
        spec.resolve_paths(base_dir);
        Ok(spec)
    }

    /// Reads a TOML file; relative paths are taken from the file's directory.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| RenderError::io(path, e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml_str(&text, base)
    }

    /// Makes every relative input path absolute-from `base_dir`.
    pub fn resolve_paths(&mut self, base_dir: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base_dir.join(&*p);
            }
        };
        self.di_tracks.iter_mut().for_each(|d| resolve(&mut d.path));
        for chain in &mut self.chains {
            for block in &mut chain.blocks {
                match block {
                    Block::Nam { path, .. } | Block::Cabinet { path, .. } => resolve(path),
                    _ => {}
                }
            }
        }
    }

    /// Checks counts and every parameter's range.
    pub fn validate(&self) -> Result<()> {
        let spec_error = |m: String| Err(RenderError::InvalidSpec(m));
        if self.di_tracks.is_empty() || self.di_tracks.len() > MAX_DI_TRACKS {
            return spec_error(format!(
                "di_tracks: need 1..={MAX_DI_TRACKS}, got {}",
                self.di_tracks.len()
            ));
        }
        if self.chains.is_empty() || self.chains.len() > MAX_CHAINS {
            return spec_error(format!(
                "chains: need 1..={MAX_CHAINS}, got {}",
                self.chains.len()
            ));
        }
        let o = &self.output;
        check_range(
            "output.loudness_target_lufs",
            o.loudness_target_lufs,
            limits::LOUDNESS_TARGET_LUFS,
        )?;
        check_range(
            "output.true_peak_ceiling_dbtp",
            o.true_peak_ceiling_dbtp,
            limits::TRUE_PEAK_CEILING_DBTP,
        )?;
        check_range(
            "output.input_level_dbfs",
            o.input_level_dbfs,
            limits::INPUT_LEVEL_DBFS,
        )?;
        check_range(
            "output.di_calibration_dbu",
            o.di_calibration_dbu,
            limits::DI_CALIBRATION_DBU,
        )?;
        check_range(
            "output.phrase_seconds",
            o.phrase_seconds,
            limits::PHRASE_SECONDS,
        )?;
        check_range(
            "output.di_gap_seconds",
            o.di_gap_seconds,
            limits::DI_GAP_SECONDS,
        )?;
        if !limits::OUTPUT_SAMPLE_RATES.contains(&o.sample_rate) {
            return spec_error(format!(
                "output.sample_rate {} is not 44100, 48000, 88200 or 96000",
                o.sample_rate
            ));
        }
        for (index, chain) in self.chains.iter().enumerate() {
            let at = |field: &str| format!("chains[{index}].{field}");
            if chain.name.trim().is_empty() {
                return spec_error(format!("{}: a chain needs a name", at("name")));
            }
            check_range(
                &at("high_pass_hz"),
                chain.high_pass_hz,
                limits::CHAIN_HIGH_PASS_HZ,
            )?;
            if chain.blocks.len() > MAX_BLOCKS {
                return spec_error(format!("{}: at most {MAX_BLOCKS} blocks", at("blocks")));
            }
            for (b, block) in chain.blocks.iter().enumerate() {
                let field = |name: &str| at(&format!("blocks[{b}].{name}"));
                match block {
                    Block::Nam { input_gain_db, .. } => check_range(
                        &field("input_gain_db"),
                        *input_gain_db,
                        limits::NAM_INPUT_GAIN_DB,
                    )?,
                    Block::Cabinet { mix, .. } => check_range(&field("mix"), *mix, limits::MIX)?,
                    Block::HighPass { frequency_hz } => {
                        check_range(&field("frequency_hz"), *frequency_hz, limits::HIGH_PASS_HZ)?
                    }
                    Block::Eq {
                        frequency_hz,
                        gain_db,
                        q,
                        ..
                    } => {
                        check_range(
                            &field("frequency_hz"),
                            *frequency_hz,
                            limits::EQ_FREQUENCY_HZ,
                        )?;
                        check_range(&field("gain_db"), *gain_db, limits::EQ_GAIN_DB)?;
                        check_range(&field("q"), *q, limits::EQ_Q)?;
                    }
                    Block::Gain { gain_db } => {
                        check_range(&field("gain_db"), *gain_db, limits::GAIN_DB)?
                    }
                    Block::Delay {
                        time_ms,
                        feedback,
                        mix,
                        ..
                    } => {
                        check_optional(&field("time_ms"), *time_ms, limits::DELAY_TIME_MS)?;
                        check_optional(&field("feedback"), *feedback, limits::DELAY_FEEDBACK)?;
                        check_optional(&field("mix"), *mix, limits::MIX)?;
                    }
                    Block::Reverb {
                        room_size,
                        damping,
                        mix,
                        pre_delay_ms,
                        ..
                    } => {
                        check_optional(&field("room_size"), *room_size, limits::REVERB_ROOM_SIZE)?;
                        check_optional(&field("damping"), *damping, limits::REVERB_DAMPING)?;
                        check_optional(&field("mix"), *mix, limits::MIX)?;
                        check_optional(
                            &field("pre_delay_ms"),
                            *pre_delay_ms,
                            limits::REVERB_PRE_DELAY_MS,
                        )?;
                    }
                    Block::NoiseGate {
                        threshold_db,
                        release_ms,
                    } => {
                        check_range(
                            &field("threshold_db"),
                            *threshold_db,
                            limits::GATE_THRESHOLD_DB,
                        )?;
                        check_optional(&field("release_ms"), *release_ms, limits::GATE_RELEASE_MS)?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
name = "Cleans"
[[di_tracks]]
path = "di.wav"

[[chains]]
name = "Clean"
blocks = [
  { kind = "nam", path = "models/clean.nam", input_gain_db = 2.0 },
  { kind = "cabinet", path = "irs/4x12.wav", mix = 0.8 },
  { kind = "eq", shape = "peaking", frequency_hz = 800.0, gain_db = -3.0 },
  { kind = "delay", preset = "quarter" },
  { kind = "reverb", preset = "spring", mix = 0.3 },
  { kind = "noise_gate", threshold_db = -60.0 },
]

[[chains]]
name = "Bypass"
high_pass = false

[output]
loudness_target_lufs = -16.0
video = false
"#;

    #[test]
    fn toml_parses_with_defaults_and_resolved_paths() {
        let spec = ShootoutSpec::from_toml_str(EXAMPLE, Path::new("/base")).unwrap();
        spec.validate().unwrap();
        assert_eq!(spec.di_tracks[0].path, Path::new("/base/di.wav"));
        assert!(spec.chains[0].high_pass);
        assert_eq!(spec.chains[0].high_pass_hz, 80.0);
        assert!(!spec.chains[1].high_pass);
        assert_eq!(spec.output.phrase_seconds, 4.0);
        assert_eq!(spec.output.input_level_dbfs, -18.0);
        assert_eq!(spec.output.loudness_target_lufs, -16.0);
        assert_eq!(
            spec.chains[0].blocks[3].delay_params(),
            Some(DelayParams::QUARTER)
        );
        let reverb = spec.chains[0].blocks[4].reverb_params().unwrap();
        assert!(reverb.spring && reverb.mix == 0.3);
        assert!(
            matches!(&spec.chains[0].blocks[1], Block::Cabinet { path, mix, .. } if *mix == 0.8 && path.ends_with("irs/4x12.wav"))
        );
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        let mut spec = ShootoutSpec::from_toml_str(EXAMPLE, Path::new("/")).unwrap();
        spec.output.phrase_seconds = 9.0;
        let message = spec.validate().unwrap_err().to_string();
        assert!(message.contains("output.phrase_seconds"), "{message}");
        let mut spec = ShootoutSpec::from_toml_str(EXAMPLE, Path::new("/")).unwrap();
        spec.chains[0].blocks[2] = Block::Eq {
            shape: FilterShape::Peaking,
            frequency_hz: f64::NAN,
            gain_db: 0.0,
            q: 1.0,
        };
        let message = spec.validate().unwrap_err().to_string();
        assert!(
            message.contains("chains[0].blocks[2].frequency_hz"),
            "{message}"
        );
        assert!(ShootoutSpec::from_toml_str("name = 3", Path::new("/")).is_err());
        assert!(
            ShootoutSpec::from_toml_str(&EXAMPLE.replace("noise_gate", "fuzz"), Path::new("/"))
                .is_err()
        );
    }
}
