//! A waveform overview for players: the peak level of each of a fixed number of columns.
//!
//! Design contract: `columns` equal slices of the signal (the last ones may be empty for a
//! signal shorter than `columns` samples), each the largest |sample| in it, clamped to
//! 0..=1 with NaN read as 0; rounded to 1/1000 so the JSON stays small (a few kB).

use serde::Serialize;

/// Columns in the overview the render writes: more than a desktop player is wide.
pub const WAVEFORM_COLUMNS: usize = 1000;

/// The overview of one signal, as written to JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waveform {
    /// Samples the overview spans.
    pub frames: usize,
    pub sample_rate: u32,
    /// Peak |sample| of each column, 0..=1.
    pub peaks: Vec<f32>,
}

impl Waveform {
    /// The overview of `samples` in `columns` columns.
    pub fn of(samples: &[f32], sample_rate: u32, columns: usize) -> Self {
        let columns = columns.max(1);
        let peaks = (0..columns)
            .map(|column| {
                let start = column * samples.len() / columns;
                let end = (column + 1) * samples.len() / columns;
                let peak = samples[start..end]
                    .iter()
                    .map(|s| if s.is_nan() { 0.0 } else { s.abs().min(1.0) })
                    .fold(0.0f32, f32::max);
                (peak * 1000.0).round() / 1000.0
            })
            .collect();
        Self {
            frames: samples.len(),
            sample_rate,
            peaks,
        }
    }

    /// The overview as JSON.
    pub fn to_json(&self) -> String {
        // A struct of numbers always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_column_holds_its_slice_peak() {
        let mut signal = vec![0.0f32; 1000];
        signal[5] = -0.5;
        signal[950] = 2.0;
        signal[500] = f32::NAN;
        let waveform = Waveform::of(&signal, 48_000, 10);
        assert_eq!(waveform.frames, 1000);
        assert_eq!(
            waveform.peaks,
            vec![0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
        );
    }

    #[test]
    fn short_and_empty_signals_give_every_column() {
        assert_eq!(
            Waveform::of(&[0.25; 3], 44_100, 6).peaks,
            vec![0.0, 0.25, 0.0, 0.25, 0.0, 0.25]
        );
        assert_eq!(Waveform::of(&[], 44_100, 4).peaks, vec![0.0; 4]);
        let json = Waveform::of(&[0.1234], 44_100, 1).to_json();
        assert_eq!(json, r#"{"frames":1,"sample_rate":44100,"peaks":[0.123]}"#);
    }
}
