//! The one table of what can be rendered: every parameter range, count and default.
//!
//! Contract: these constants are the only place a limit or a default is written. The
//! engine's [`crate::spec::ShootoutSpec::validate`] checks against them, the shootout
//! service validates API requests against them (it links this crate), and the contract's
//! comments in `proto/gts/v1/shootout.proto` quote the same numbers. So nothing the API
//! accepts is refused by the render. A range is inclusive and refuses NaN and infinities.

/// An inclusive range of a numeric setting, with its unit for messages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Smallest accepted value.
    pub min: f64,
    /// Largest accepted value.
    pub max: f64,
    /// Unit as shown after a number (" dB", " Hz", "" for ratios).
    pub unit: &'static str,
}

impl Limit {
    const fn new(min: f64, max: f64, unit: &'static str) -> Self {
        Self { min, max, unit }
    }

    /// Whether `value` is finite and inside the range.
    pub fn contains(&self, value: f64) -> bool {
        value.is_finite() && (self.min..=self.max).contains(&value)
    }

    /// A sentence a person can act on when `value` is out of range.
    pub fn violation(&self, value: f64) -> Option<String> {
        (!self.contains(value)).then(|| {
            format!(
                "must be between {} and {}{} (got {value})",
                self.min, self.max, self.unit
            )
        })
    }
}

// ----- Shootout-wide options -----

/// Integrated loudness every chain is levelled to, LUFS.
pub const LOUDNESS_TARGET_LUFS: Limit = Limit::new(-30.0, -6.0, " LUFS");
/// Default loudness target, LUFS.
pub const DEFAULT_LOUDNESS_TARGET_LUFS: f64 = -14.0;
/// True-peak ceiling of every chain, dBTP (engine/CLI only).
pub const TRUE_PEAK_CEILING_DBTP: Limit = Limit::new(-6.0, 0.0, " dBTP");
/// Default true-peak ceiling, dBTP.
pub const DEFAULT_TRUE_PEAK_CEILING_DBTP: f64 = -1.0;
/// RMS level of the DI into a chain in `rms` input mode, dBFS (gated RMS).
pub const INPUT_LEVEL_DBFS: Limit = Limit::new(-40.0, -6.0, " dBFS");
/// Default RMS input level, dBFS.
pub const DEFAULT_INPUT_LEVEL_DBFS: f64 = -18.0;
/// DI calibration: the dBu of a sine at 0 dBFS peak on the interface the DI was recorded on.
pub const DI_CALIBRATION_DBU: Limit = Limit::new(-10.0, 30.0, " dBu");
/// Default DI calibration, dBu (the NAM plugin's default input calibration).
pub const DEFAULT_DI_CALIBRATION_DBU: f64 = 12.0;
/// A model's `input_level_dbu` that is plausible for a reamp calibration; outside it the
/// chain falls back to the RMS input level with a note.
pub const PLAUSIBLE_MODEL_INPUT_DBU: Limit = Limit::new(-10.0, 30.0, " dBu");
/// A/B phrase length, seconds.
pub const PHRASE_SECONDS: Limit = Limit::new(3.0, 5.0, " s");
/// Default phrase length, seconds.
pub const DEFAULT_PHRASE_SECONDS: f64 = 4.0;
/// Silence between DI tracks, seconds (engine/CLI only).
pub const DI_GAP_SECONDS: Limit = Limit::new(0.0, 5.0, " s");
/// Output sample rates.
pub const OUTPUT_SAMPLE_RATES: [u32; 4] = [44_100, 48_000, 88_200, 96_000];

// ----- Counts -----

/// DI tracks per shootout (at least 1).
pub const MAX_DI_TRACKS: usize = 8;
/// Chains per shootout (at least 1).
pub const MAX_CHAINS: usize = 16;
/// Blocks per chain.
pub const MAX_BLOCKS: usize = 32;

// ----- Per chain -----

/// The input high-pass of a chain, Hz (the API also takes 0 for off).
pub const CHAIN_HIGH_PASS_HZ: Limit = Limit::new(20.0, 500.0, " Hz");
/// Default input high-pass corner, Hz, everywhere a high-pass has no frequency.
pub const DEFAULT_HIGH_PASS_HZ: f64 = 80.0;

// ----- Blocks -----

/// NAM block: gain before the model, dB (an offset on top of the chain's input mode).
pub const NAM_INPUT_GAIN_DB: Limit = Limit::new(-24.0, 24.0, " dB");
/// Wet/dry mixes (cabinet, delay, reverb).
pub const MIX: Limit = Limit::new(0.0, 1.0, "");
/// High-pass block corner, Hz.
pub const HIGH_PASS_HZ: Limit = Limit::new(20.0, 500.0, " Hz");
/// EQ band frequency, Hz.
pub const EQ_FREQUENCY_HZ: Limit = Limit::new(20.0, 20_000.0, " Hz");
/// EQ band gain, dB.
pub const EQ_GAIN_DB: Limit = Limit::new(-24.0, 24.0, " dB");
/// EQ band quality factor.
pub const EQ_Q: Limit = Limit::new(0.1, 10.0, "");
/// Default EQ Q (Butterworth).
pub const DEFAULT_EQ_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// Gain block, dB.
pub const GAIN_DB: Limit = Limit::new(-40.0, 24.0, " dB");
/// Delay time, ms.
pub const DELAY_TIME_MS: Limit = Limit::new(1.0, 2000.0, " ms");
/// Delay feedback.
pub const DELAY_FEEDBACK: Limit = Limit::new(0.0, 0.95, "");
/// Reverb RT60 (API), seconds.
pub const REVERB_DECAY_SECONDS: Limit = Limit::new(0.1, 10.0, " s");
/// Reverb room size (engine/CLI).
pub const REVERB_ROOM_SIZE: Limit = Limit::new(0.0, 1.0, "");
/// Reverb damping.
pub const REVERB_DAMPING: Limit = Limit::new(0.0, 1.0, "");
/// Reverb pre-delay, ms.
pub const REVERB_PRE_DELAY_MS: Limit = Limit::new(0.0, 200.0, " ms");
/// Noise-gate threshold, dBFS. Above −30 dBFS a gate closes on ordinary playing and
/// leaves the chain silent, so higher thresholds are refused.
pub const GATE_THRESHOLD_DB: Limit = Limit::new(-96.0, -30.0, " dBFS");
/// Noise-gate release, ms.
pub const GATE_RELEASE_MS: Limit = Limit::new(1.0, 1000.0, " ms");

// ----- Uploaded files -----

/// Largest `.nam` file accepted, bytes.
pub const MAX_NAM_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Lowest gated RMS a DI track may have, dBFS: quieter takes are refused at upload (a
/// near-silent DI cannot be levelled fairly).
pub const MIN_DI_RMS_DBFS: f64 = -60.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_refuse_nan_and_name_their_bounds() {
        assert!(EQ_Q.contains(10.0) && !EQ_Q.contains(10.01) && !EQ_Q.contains(f64::NAN));
        let message = GAIN_DB.violation(-48.0).unwrap();
        assert_eq!(message, "must be between -40 and 24 dB (got -48)");
        assert!(GAIN_DB.violation(-40.0).is_none());
    }
}
