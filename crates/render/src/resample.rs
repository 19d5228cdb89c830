//! High-quality sample-rate conversion (rubato's synchronous FFT resampler).
//!
//! Contract: `resample(x, from, to)` returns `round(len * to / from)` samples, aligned
//! in time with the input (rubato's start-up delay is trimmed), bit-identical across
//! runs. Equal rates return the input unchanged.

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

use crate::error::{RenderError, Result};

/// Resamples mono `samples` from `from_rate` to `to_rate` Hz.
pub fn resample(samples: &[f32], from_rate: u32, to_rate: u32) -> Result<Vec<f32>> {
    if from_rate == to_rate || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    if from_rate == 0 || to_rate == 0 {
        return Err(RenderError::Resample(format!(
            "invalid rates {from_rate} → {to_rate} Hz"
        )));
    }
    let mut resampler = Fft::<f32>::new(
        from_rate as usize,
        to_rate as usize,
        1024,
        1,
        FixedSync::Input,
    )
    .map_err(|e| RenderError::Resample(e.to_string()))?;
    let input = [samples.to_vec()];
    let adapter = SequentialSliceOfVecs::new(&input, 1, samples.len())
        .map_err(|e| RenderError::Resample(e.to_string()))?;
    let output = resampler
        .process_all(&adapter, samples.len(), None)
        .map_err(|e| RenderError::Resample(e.to_string()))?;
    let mut data = output.take_data();
    let expected = (samples.len() as u128 * u128::from(to_rate) / u128::from(from_rate)) as usize;
    data.resize(expected, 0.0);
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, seconds: f64) -> Vec<f32> {
        let n = (seconds * f64::from(rate)) as usize;
        (0..n)
            .map(|i| {
                (0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                    as f32
            })
            .collect()
    }

    #[test]
    fn upsampling_keeps_a_sine_in_phase_and_level() {
        let input = sine(1000.0, 44_100, 0.5);
        let output = resample(&input, 44_100, 48_000).unwrap();
        assert_eq!(output.len(), 24_000);
        let reference = sine(1000.0, 48_000, 0.5);
        // Compare the middle, away from the edges where the filter sees zeros.
        let worst = output[2000..22_000]
            .iter()
            .zip(&reference[2000..22_000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-3, "worst deviation {worst}");
    }

    #[test]
    fn equal_rates_are_identity() {
        let input = sine(440.0, 48_000, 0.1);
        assert_eq!(resample(&input, 48_000, 48_000).unwrap(), input);
    }
}
