//! Plain-language comparison of each chain against the shootout's mean.
//!
//! Contract: for every chain, [`evaluate`] returns sentences built from metric
//! differences against the mean of all chains, each naming the difference with its
//! number (Hz, dB, LU). Thresholds are set near just-noticeable differences, and a
//! chain with nothing notable gets one sentence saying it sits close to the average.

use crate::metrics::ChainMetrics;

/// Sentences per chain, in chain order.
pub fn evaluate(metrics: &[ChainMetrics]) -> Vec<Vec<String>> {
    if metrics.len() < 2 {
        return metrics
            .iter()
            .map(|_| vec!["Only one chain: there is nothing to compare it with.".to_string()])
            .collect();
    }
    let count = metrics.len() as f64;
    let mean = |f: fn(&ChainMetrics) -> f64| metrics.iter().map(f).sum::<f64>() / count;
    let centroid = mean(|m| m.spectral_centroid_hz);
    let low = mean(|m| m.low_band_db);
    let mid = mean(|m| m.mid_band_db);
    let high = mean(|m| m.high_band_db);
    let crest = mean(|m| m.crest_factor_db);
    let range = mean(|m| m.dynamic_range_db);
    let flatness = mean(|m| m.spectral_flatness);

    metrics
        .iter()
        .map(|m| {
            let mut sentences = Vec::new();
            let brightness = m.spectral_centroid_hz - centroid;
            if brightness.abs() >= (0.05 * centroid).max(50.0) {
                sentences.push(format!(
                    "{} than the average by {:.0} Hz (spectral centroid {:.0} Hz).",
                    if brightness > 0.0 {
                        "Brighter"
                    } else {
                        "Darker"
                    },
                    brightness.abs(),
                    m.spectral_centroid_hz
                ));
            }
            let mids = m.mid_band_db - mid;
            if mids.abs() >= 1.0 {
                sentences.push(format!(
                    "{} mids: {:.1} dB {} 250 Hz–2 kHz energy than the average.",
                    if mids > 0.0 { "Forward" } else { "Scooped" },
                    mids.abs(),
                    if mids > 0.0 { "more" } else { "less" }
                ));
            }
            let bass = m.low_band_db - low;
            if bass.abs() >= 1.5 {
                sentences.push(format!(
                    "{} low end: {:.1} dB {} energy below 250 Hz.",
                    if bass > 0.0 { "Heavier" } else { "Tighter" },
                    bass.abs(),
                    if bass > 0.0 { "more" } else { "less" }
                ));
            }
            let treble = m.high_band_db - high;
            if treble.abs() >= 1.5 {
                sentences.push(format!(
                    "{} presence above 2 kHz ({:+.1} dB).",
                    if treble > 0.0 { "More" } else { "Less" },
                    treble
                ));
            }
            let squash = m.crest_factor_db - crest;
            if squash.abs() >= 1.0 {
                sentences.push(format!(
                    "{} compressed: crest factor {:.1} dB {} than the average.",
                    if squash < 0.0 { "More" } else { "Less" },
                    squash.abs(),
                    if squash < 0.0 { "lower" } else { "higher" }
                ));
            }
            let dynamics = m.dynamic_range_db - range;
            if dynamics.abs() >= 2.0 {
                sentences.push(format!(
                    "{} dynamic range: {:.1} dB {} between loud and quiet passages than the average.",
                    if dynamics > 0.0 { "Wider" } else { "Narrower" },
                    dynamics.abs(),
                    if dynamics > 0.0 { "more" } else { "less" }
                ));
            }
            if flatness > 0.0 && m.spectral_flatness > 1.5 * flatness && m.spectral_flatness > 0.01
            {
                sentences.push(format!(
                    "Noisier, more saturated spectrum (flatness {:.3} vs {:.3} on average).",
                    m.spectral_flatness, flatness
                ));
            }
            if sentences.is_empty() {
                sentences.push(
                    "Close to the shootout's average in brightness, mids and dynamics.".into(),
                );
            }
            sentences
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(centroid: f64, mid: f64, crest: f64) -> ChainMetrics {
        ChainMetrics {
            rms_dbfs: -20.0,
            peak_dbfs: -20.0 + crest,
            true_peak_dbtp: -1.0,
            crest_factor_db: crest,
            integrated_lufs: -14.0,
            loudness_range_lu: 5.0,
            dynamic_range_db: 10.0,
            spectral_centroid_hz: centroid,
            spectral_rolloff_hz: 4000.0,
            spectral_flatness: 0.01,
            spectral_bandwidth_hz: 1500.0,
            low_band_db: -6.0,
            mid_band_db: mid,
            high_band_db: -10.0,
            transient_density_per_s: 2.0,
            attack_time_ms: 10.0,
            decay_rate_db_per_s: 30.0,
        }
    }

    #[test]
    fn sentences_name_direction_and_size() {
        let all = [
            metrics(2000.0, -3.0, 12.0),
            metrics(1600.0, -5.0, 16.0),
            metrics(1800.0, -4.0, 14.0),
        ];
        let sentences = evaluate(&all);
        assert!(
            sentences[0]
                .iter()
                .any(|s| s.starts_with("Brighter than the average by 200 Hz")),
            "{:?}",
            sentences[0]
        );
        assert!(
            sentences[0]
                .iter()
                .any(|s| s.starts_with("Forward mids: 1.0 dB"))
        );
        assert!(
            sentences[0]
                .iter()
                .any(|s| s.starts_with("More compressed: crest factor 2.0 dB lower"))
        );
        assert!(
            sentences[1]
                .iter()
                .any(|s| s.starts_with("Darker than the average by 200 Hz"))
        );
        assert!(sentences[1].iter().any(|s| s.starts_with("Scooped mids")));
        assert!(
            sentences[1]
                .iter()
                .any(|s| s.starts_with("Less compressed"))
        );
        assert_eq!(
            sentences[2],
            vec!["Close to the shootout's average in brightness, mids and dynamics.".to_string()]
        );
        assert_eq!(evaluate(&all[..1])[0].len(), 1);
    }
}
