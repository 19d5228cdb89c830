//! RBJ "Audio EQ Cookbook" biquads: high-pass, low-pass, shelves and peaking.
//!
//! Contract: coefficients follow Robert Bristow-Johnson's cookbook exactly; the filter
//! runs in transposed direct form II with `f64` state. Frequencies are clamped into
//! (0, 0.49·rate) so any spec value yields a stable filter.

use serde::{Deserialize, Serialize};

/// The filter shapes available to EQ blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterShape {
    /// 12 dB/oct high-pass.
    HighPass,
    /// 12 dB/oct low-pass.
    LowPass,
    /// Low shelf (gain below the corner).
    LowShelf,
    /// High shelf (gain above the corner).
    HighShelf,
    /// Peaking bell.
    Peaking,
}

/// A second-order IIR section.
#[derive(Debug, Clone, Copy)]
pub struct Biquad {
    b0: f64,
    b1: f64,
    b2: f64,
    a1: f64,
    a2: f64,
    z1: f64,
    z2: f64,
}

impl Biquad {
    /// Designs a filter; `gain_db` is ignored by the pass filters, `q` > 0.
    pub fn new(shape: FilterShape, sample_rate: u32, freq_hz: f64, q: f64, gain_db: f64) -> Self {
        let rate = f64::from(sample_rate.max(1));
        let freq = freq_hz.clamp(1.0, 0.49 * rate);
        let q = if q.is_finite() && q > 0.01 { q } else { 0.707 };
        let a = 10f64.powf(gain_db.clamp(-48.0, 48.0) / 40.0);
        let w0 = 2.0 * std::f64::consts::PI * freq / rate;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        let (b0, b1, b2, a0, a1, a2) = match shape {
            FilterShape::HighPass => (
                (1.0 + cos) / 2.0,
                -(1.0 + cos),
                (1.0 + cos) / 2.0,
                1.0 + alpha,
                -2.0 * cos,
                1.0 - alpha,
            ),
            FilterShape::LowPass => (
                (1.0 - cos) / 2.0,
                1.0 - cos,
                (1.0 - cos) / 2.0,
                1.0 + alpha,
                -2.0 * cos,
                1.0 - alpha,
            ),
            FilterShape::Peaking => (
                1.0 + alpha * a,
                -2.0 * cos,
                1.0 - alpha * a,
                1.0 + alpha / a,
                -2.0 * cos,
                1.0 - alpha / a,
            ),
            FilterShape::LowShelf => {
                let k = 2.0 * a.sqrt() * alpha;
                (
                    a * ((a + 1.0) - (a - 1.0) * cos + k),
                    2.0 * a * ((a - 1.0) - (a + 1.0) * cos),
                    a * ((a + 1.0) - (a - 1.0) * cos - k),
                    (a + 1.0) + (a - 1.0) * cos + k,
                    -2.0 * ((a - 1.0) + (a + 1.0) * cos),
                    (a + 1.0) + (a - 1.0) * cos - k,
                )
            }
            FilterShape::HighShelf => {
                let k = 2.0 * a.sqrt() * alpha;
                (
                    a * ((a + 1.0) + (a - 1.0) * cos + k),
                    -2.0 * a * ((a - 1.0) + (a + 1.0) * cos),
                    a * ((a + 1.0) + (a - 1.0) * cos - k),
                    (a + 1.0) - (a - 1.0) * cos + k,
                    2.0 * ((a - 1.0) - (a + 1.0) * cos),
                    (a + 1.0) - (a - 1.0) * cos - k,
                )
            }
        };
        Self {
            b0: b0 / a0,
            b1: b1 / a0,
            b2: b2 / a0,
            a1: a1 / a0,
            a2: a2 / a0,
            z1: 0.0,
            z2: 0.0,
        }
    }

    /// Filters one sample.
    pub fn tick(&mut self, x: f64) -> f64 {
        let y = self.b0 * x + self.z1;
        self.z1 = self.b1 * x - self.a1 * y + self.z2;
        self.z2 = self.b2 * x - self.a2 * y;
        y
    }

    /// Runs the filter on `count` copies of `value`, discarding the output, so a signal
    /// starting at `value` (e.g. a DC offset) causes no start-up step.
    pub fn settle(&mut self, value: f32, count: usize) {
        for _ in 0..count {
            self.tick(f64::from(value));
        }
    }

    /// Filters a buffer in place.
    pub fn process(&mut self, io: &mut [f32]) {
        for sample in io {
            *sample = self.tick(f64::from(*sample)) as f32;
        }
    }

    /// Magnitude response in dB at `freq_hz` (for tests and plots).
    pub fn magnitude_db(&self, sample_rate: u32, freq_hz: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * freq_hz / f64::from(sample_rate.max(1));
        let (z1r, z1i) = (w.cos(), -w.sin());
        let (z2r, z2i) = ((2.0 * w).cos(), -(2.0 * w).sin());
        let nr = self.b0 + self.b1 * z1r + self.b2 * z2r;
        let ni = self.b1 * z1i + self.b2 * z2i;
        let dr = 1.0 + self.a1 * z1r + self.a2 * z2r;
        let di = self.a1 * z1i + self.a2 * z2i;
        let magnitude = ((nr * nr + ni * ni) / (dr * dr + di * di).max(1e-300)).sqrt();
        20.0 * magnitude.max(1e-12).log10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookbook_shapes_have_the_designed_response() {
        let rate = 48_000;
        let hp = Biquad::new(
            FilterShape::HighPass,
            rate,
            80.0,
            std::f64::consts::FRAC_1_SQRT_2,
            0.0,
        );
        assert!((hp.magnitude_db(rate, 80.0) + 3.01).abs() < 0.05);
        assert!(hp.magnitude_db(rate, 20.0) < -20.0);
        assert!(hp.magnitude_db(rate, 2000.0).abs() < 0.05);
        let peak = Biquad::new(FilterShape::Peaking, rate, 1000.0, 1.0, 6.0);
        assert!((peak.magnitude_db(rate, 1000.0) - 6.0).abs() < 0.01);
        let shelf = Biquad::new(FilterShape::HighShelf, rate, 3000.0, 0.707, -4.0);
        assert!((shelf.magnitude_db(rate, 20_000.0) + 4.0).abs() < 0.3);
        assert!(shelf.magnitude_db(rate, 100.0).abs() < 0.1);
        let low_shelf = Biquad::new(FilterShape::LowShelf, rate, 200.0, 0.707, 5.0);
        assert!((low_shelf.magnitude_db(rate, 20.0) - 5.0).abs() < 0.3);
        let lp = Biquad::new(FilterShape::LowPass, rate, 5000.0, 0.707, 0.0);
        assert!((lp.magnitude_db(rate, 5000.0) + 3.01).abs() < 0.05);
    }

    #[test]
    fn processing_matches_the_analytic_response() {
        let rate = 48_000;
        let mut filter = Biquad::new(FilterShape::Peaking, rate, 1000.0, 1.0, -9.0);
        let mut tone: Vec<f32> = (0..48_000)
            .map(|i| (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 48_000.0).sin() as f32)
            .collect();
        filter.process(&mut tone);
        let peak = tone[24_000..].iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!((20.0 * f64::from(peak).log10() + 9.0).abs() < 0.05);
    }
}
