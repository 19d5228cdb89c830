//! Freeverb-style (Schroeder–Moorer) mono reverb with room, hall and spring presets.
//!
//! Contract: eight damped feedback combs in parallel, then four series allpasses, with
//! Jezar's Freeverb tunings scaled to the sample rate; a pre-delay; `mix` blends wet
//! into dry. The spring preset band-limits the wet path (300 Hz–4 kHz) and adds a
//! chain of dispersive allpasses for its metallic "drip". [`ReverbParams::tail_seconds`]
//! is the RT60 of the slowest comb, which the pipeline renders on.

use serde::{Deserialize, Serialize};

use super::biquad::{Biquad, FilterShape};
use super::delay::finite_or;

const COMB_TUNINGS: [usize; 8] = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
const ALLPASS_TUNINGS: [usize; 4] = [556, 441, 341, 225];
const TUNING_RATE: f64 = 44_100.0;
const INPUT_GAIN: f64 = 0.015;

/// Reverb presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReverbPreset {
    /// A small room.
    Room,
    /// A large hall.
    Hall,
    /// An amp's spring tank.
    Spring,
}

/// Reverb parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReverbParams {
    /// Room size 0..=1 (comb feedback 0.7..0.98).
    pub room_size: f64,
    /// High-frequency damping 0..=1.
    pub damping: f64,
    /// Wet mix 0..=1.
    pub mix: f64,
    /// Pre-delay in milliseconds (0..=200).
    pub pre_delay_ms: f64,
    /// Spring character (band-limited, dispersive wet path).
    #[serde(default)]
    pub spring: bool,
}

impl ReverbPreset {
    /// The preset's parameters.
    pub fn params(self) -> ReverbParams {
        match self {
            Self::Room => ReverbParams {
                room_size: 0.55,
                damping: 0.5,
                mix: 0.18,
                pre_delay_ms: 8.0,
                spring: false,
            },
            Self::Hall => ReverbParams {
                room_size: 0.88,
                damping: 0.3,
                mix: 0.25,
                pre_delay_ms: 25.0,
                spring: false,
            },
            Self::Spring => ReverbParams {
                room_size: 0.7,
                damping: 0.1,
                mix: 0.22,
                pre_delay_ms: 0.0,
                spring: true,
            },
        }
    }
}

impl ReverbParams {
    fn clamped(self) -> Self {
        Self {
            room_size: finite_or(self.room_size, 0.5).clamp(0.0, 1.0),
            damping: finite_or(self.damping, 0.5).clamp(0.0, 1.0),
            mix: finite_or(self.mix, 0.0).clamp(0.0, 1.0),
            pre_delay_ms: finite_or(self.pre_delay_ms, 0.0).clamp(0.0, 200.0),
            spring: self.spring,
        }
    }

    fn feedback(&self) -> f64 {
        self.room_size * 0.28 + 0.7
    }

    /// The room size whose longest comb decays 60 dB in `rt60_seconds` (the inverse of
    /// [`Self::tail_seconds`] without pre-delay), clamped to the size range, so a decay
    /// time from the API maps onto this reverb's one size control.
    pub fn room_size_for_rt60(rt60_seconds: f64) -> f64 {
        if !rt60_seconds.is_finite() || rt60_seconds <= 0.0 {
            return 0.0;
        }
        let longest = COMB_TUNINGS[7] as f64 / TUNING_RATE;
        let feedback = 10f64.powf(-3.0 * longest / rt60_seconds);
        ((feedback - 0.7) / 0.28).clamp(0.0, 1.0)
    }

    /// RT60 of the longest comb plus the pre-delay, in seconds.
    pub fn tail_seconds(&self) -> f64 {
        let p = self.clamped();
        if p.mix == 0.0 {
            return 0.0;
        }
        let longest = COMB_TUNINGS[7] as f64 / TUNING_RATE;
        p.pre_delay_ms / 1000.0 + 3.0 * longest / -p.feedback().log10()
    }
}

struct Comb {
    buffer: Vec<f64>,
    position: usize,
    filter_state: f64,
}

impl Comb {
    fn tick(&mut self, input: f64, feedback: f64, damping: f64) -> f64 {
        let output = self.buffer[self.position];
        self.filter_state = output * (1.0 - damping) + self.filter_state * damping;
        self.buffer[self.position] = input + self.filter_state * feedback;
        self.position = (self.position + 1) % self.buffer.len();
        output
    }
}

struct Allpass {
    buffer: Vec<f64>,
    position: usize,
    gain: f64,
}

impl Allpass {
    fn tick(&mut self, input: f64) -> f64 {
        let delayed = self.buffer[self.position];
        let output = delayed - input;
        self.buffer[self.position] = input + delayed * self.gain;
        self.position = (self.position + 1) % self.buffer.len();
        output
    }
}

fn scaled(tuning: usize, sample_rate: u32) -> usize {
    ((tuning as f64) * f64::from(sample_rate) / TUNING_RATE)
        .round()
        .max(1.0) as usize
}

/// Applies the reverb to `io` in place.
pub fn apply_reverb(io: &mut [f32], sample_rate: u32, params: ReverbParams) {
    let p = params.clamped();
    let size_scale = if p.spring { 0.6 } else { 1.0 };
    let mut combs: Vec<Comb> = COMB_TUNINGS
        .iter()
        .map(|&t| Comb {
            buffer: vec![0.0; scaled((t as f64 * size_scale) as usize, sample_rate)],
            position: 0,
            filter_state: 0.0,
        })
        .collect();
    let mut allpasses: Vec<Allpass> = ALLPASS_TUNINGS
        .iter()
        .map(|&t| Allpass {
            buffer: vec![0.0; scaled(t, sample_rate)],
            position: 0,
            gain: 0.5,
        })
        .collect();
    // Spring "drip": a dense chain of short allpasses disperses high frequencies.
    let mut dispersion: Vec<Allpass> = if p.spring {
        (0..12)
            .map(|i| Allpass {
                buffer: vec![0.0; scaled(23 + 7 * i, sample_rate)],
                position: 0,
                gain: 0.6,
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut band = p.spring.then(|| {
        (
            Biquad::new(FilterShape::HighPass, sample_rate, 300.0, 0.707, 0.0),
            Biquad::new(FilterShape::LowPass, sample_rate, 4000.0, 0.707, 0.0),
        )
    });
    let pre_delay = ((p.pre_delay_ms / 1000.0) * f64::from(sample_rate)).round() as usize;
    let mut pre_line = vec![0.0f64; pre_delay.max(1)];
    let mut pre_position = 0usize;
    let feedback = p.feedback();
    let damping = p.damping * 0.4;
    // Freeverb's wet gain of 3 for its 0.015 input scaling keeps the wet level near unity.
    let wet_gain = 3.0 * p.mix;

    for sample in io.iter_mut() {
        let dry = f64::from(*sample);
        let delayed = if pre_delay == 0 {
            dry
        } else {
            let out = pre_line[pre_position];
            pre_line[pre_position] = dry;
            pre_position = (pre_position + 1) % pre_line.len();
            out
        };
        let input = delayed * INPUT_GAIN;
        let mut wet: f64 = combs
            .iter_mut()
            .map(|comb| comb.tick(input, feedback, damping))
            .sum();
        for allpass in allpasses.iter_mut().chain(dispersion.iter_mut()) {
            wet = allpass.tick(wet);
        }
        if let Some((high_pass, low_pass)) = band.as_mut() {
            wet = low_pass.tick(high_pass.tick(wet));
        }
        *sample = ((1.0 - p.mix) * dry + wet_gain * wet) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decay_time_maps_to_the_size_that_gives_it() {
        for size in [0.1, 0.5, 0.9] {
            let params = ReverbParams {
                room_size: size,
                mix: 0.5,
                pre_delay_ms: 0.0,
                ..ReverbPreset::Room.params()
            };
            let rt60 = params.tail_seconds();
            assert!((ReverbParams::room_size_for_rt60(rt60) - size).abs() < 1e-9);
        }
        assert_eq!(ReverbParams::room_size_for_rt60(0.01), 0.0);
        assert_eq!(ReverbParams::room_size_for_rt60(1e6), 1.0);
        assert_eq!(ReverbParams::room_size_for_rt60(f64::NAN), 0.0);
    }

    #[test]
    fn presets_decay_within_their_tail_and_stay_finite() {
        let rate = 48_000;
        for preset in [ReverbPreset::Room, ReverbPreset::Hall, ReverbPreset::Spring] {
            let params = preset.params();
            let tail = params.tail_seconds();
            assert!(tail > 0.2 && tail < 8.0, "{preset:?} tail {tail}");
            let mut signal = vec![0.0f32; ((tail + 0.5) * rate as f64) as usize];
            signal[0] = 1.0;
            apply_reverb(&mut signal, rate, params);
            assert!(signal.iter().all(|s| s.is_finite()));
            let early = signal[..rate as usize / 4]
                .iter()
                .fold(0.0f32, |m, s| m.max(s.abs()));
            let end = ((tail * rate as f64) as usize).min(signal.len());
            let late = signal[end..].iter().fold(0.0f32, |m, s| m.max(s.abs()));
            assert!(early > 0.01, "{preset:?} has a reverb: {early}");
            assert!(
                late < early * 2e-3,
                "{preset:?} decayed 54 dB by its tail: {late} vs {early}"
            );
        }
    }
}
