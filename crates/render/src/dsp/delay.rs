//! Feedback delay with presets (slapback, quarter note).
//!
//! Contract: `out = (1 − mix)·dry + mix·wet`, where `wet[n] = x[n−D] + feedback·wet[n−D]`.
//! Feedback is clamped below 0.95 so the loop always decays; [`DelayParams::tail_seconds`]
//! is the time for the echoes to fall 60 dB, which the pipeline renders on.

use serde::{Deserialize, Serialize};

/// Delay parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DelayParams {
    /// Delay time in milliseconds (1..=2000).
    pub time_ms: f64,
    /// Feedback, 0..0.95.
    pub feedback: f64,
    /// Wet mix, 0..=1.
    pub mix: f64,
}

impl DelayParams {
    /// Slapback: 80 ms, 10 % feedback, 30 % mix.
    pub const SLAPBACK: Self = Self {
        time_ms: 80.0,
        feedback: 0.10,
        mix: 0.30,
    };
    /// Quarter note at 160 BPM: 375 ms, 30 % feedback, 25 % mix.
    pub const QUARTER: Self = Self {
        time_ms: 375.0,
        feedback: 0.30,
        mix: 0.25,
    };

    fn clamped(self) -> Self {
        Self {
            time_ms: finite_or(self.time_ms, 80.0).clamp(1.0, 2000.0),
            feedback: finite_or(self.feedback, 0.0).clamp(0.0, 0.95),
            mix: finite_or(self.mix, 0.0).clamp(0.0, 1.0),
        }
    }

    /// Seconds until the echoes have decayed by 60 dB.
    pub fn tail_seconds(&self) -> f64 {
        let p = self.clamped();
        let time = p.time_ms / 1000.0;
        if p.mix == 0.0 {
            0.0
        } else if p.feedback <= 1e-3 {
            time
        } else {
            time * (1.0 + (1e-3f64).ln() / p.feedback.ln())
        }
    }
}

pub(crate) fn finite_or(value: f64, fallback: f64) -> f64 {
    if value.is_finite() { value } else { fallback }
}

/// Applies the delay to `io` in place.
pub fn apply_delay(io: &mut [f32], sample_rate: u32, params: DelayParams) {
    let p = params.clamped();
    let length = ((p.time_ms / 1000.0) * f64::from(sample_rate))
        .round()
        .max(1.0) as usize;
    let mut line = vec![0.0f64; length];
    let mut position = 0usize;
    for sample in io.iter_mut() {
        let dry = f64::from(*sample);
        let wet = line[position];
        line[position] = dry + p.feedback * wet;
        position = (position + 1) % length;
        *sample = ((1.0 - p.mix) * dry + p.mix * wet) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slapback_echo_arrives_after_80_ms_at_the_mix_level() {
        let rate = 48_000;
        let mut impulse = vec![0.0f32; rate as usize / 2];
        impulse[0] = 1.0;
        apply_delay(&mut impulse, rate, DelayParams::SLAPBACK);
        assert!((impulse[0] - 0.7).abs() < 1e-6);
        assert!((impulse[3840] - 0.3).abs() < 1e-6);
        assert!((impulse[7680] - 0.03).abs() < 1e-6);
        assert!(DelayParams::QUARTER.tail_seconds() > 2.0);
    }
}
