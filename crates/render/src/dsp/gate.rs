//! Noise gate.
//!
//! Contract: a peak envelope (1 ms attack, `release_ms` release, 100 ms unless given) opens
//! the gate above the
//! threshold and closes it 3 dB below (hysteresis) after a 20 ms hold; the gain moves
//! smoothly (1 ms open, 40 ms close) down to −80 dB, so the gate never clicks.

/// The envelope release when a block sets none, ms.
pub const DEFAULT_RELEASE_MS: f64 = 100.0;

/// Applies a gate with `threshold_db` (dBFS) and an envelope release of `release_ms`
/// (1..=1000) to `io`.
pub fn apply_gate(io: &mut [f32], sample_rate: u32, threshold_db: f64, release_ms: f64) {
    let rate = f64::from(sample_rate.max(1));
    let coefficient = |seconds: f64| 1.0 - (-1.0 / (seconds * rate)).exp();
    let threshold_db = if threshold_db.is_finite() {
        threshold_db.clamp(-120.0, 0.0)
    } else {
        -70.0
    };
    let open_level = 10f64.powf(threshold_db / 20.0);
    let close_level = 10f64.powf((threshold_db - 3.0) / 20.0);
    let floor = 10f64.powf(-80.0 / 20.0);
    let release_ms = if release_ms.is_finite() {
        release_ms.clamp(1.0, 1000.0)
    } else {
        DEFAULT_RELEASE_MS
    };
    let (env_attack, env_release) = (coefficient(0.001), coefficient(release_ms / 1000.0));
    let (gain_open, gain_close) = (coefficient(0.001), coefficient(0.040));
    let hold_samples = (0.020 * rate) as usize;

    let mut envelope = 0.0f64;
    let mut gain = floor;
    let mut open = false;
    let mut hold = 0usize;
    for sample in io.iter_mut() {
        let level = f64::from(sample.abs());
        let rate_of_change = if level > envelope {
            env_attack
        } else {
            env_release
        };
        envelope += rate_of_change * (level - envelope);
        if envelope >= open_level {
            open = true;
            hold = hold_samples;
        } else if envelope < close_level {
            if hold > 0 {
                hold -= 1;
            } else {
                open = false;
            }
        }
        let target = if open { 1.0 } else { floor };
        let speed = if target > gain { gain_open } else { gain_close };
        gain += speed * (target - gain);
        *sample = (f64::from(*sample) * gain) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_passes_loud_notes_and_mutes_hiss() {
        let rate = 48_000;
        let mut signal: Vec<f32> = (0..2 * rate as usize)
            .map(|i| {
                let tone = (i as f32 * 0.05).sin();
                if i < 24_000 { 0.5 * tone } else { 0.001 * tone }
            })
            .collect();
        apply_gate(&mut signal, rate, -40.0, DEFAULT_RELEASE_MS);
        let loud = signal[12_000..20_000]
            .iter()
            .fold(0.0f32, |m, s| m.max(s.abs()));
        let quiet = signal[72_000..].iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(loud > 0.49, "loud part kept: {loud}");
        // Envelope release, hold and gain fall take well under 1 s to reach the floor.
        assert!(quiet < 1e-6, "hiss removed: {quiet}");
    }
}
