//! Synthetic guitar DI: Karplus–Strong plucked strings with note onsets and decays.
//!
//! Contract: deterministic for a given seed; notes start every 0.25–0.75 s on a
//! pentatonic pattern, each a damped plucked string with a soft pick transient,
//! peaking around −6 dBFS, with short rests between phrases. Used by tests, the bench
//! and demos (real DI recordings are not shipped).

/// Synthesises `seconds` of plucked-string DI at `sample_rate`.
pub fn plucked_di(sample_rate: u32, seconds: f64, seed: u64) -> Vec<f32> {
    let rate = f64::from(sample_rate.max(1));
    let len = (seconds.max(0.0) * rate) as usize;
    let mut out = vec![0.0f64; len];
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) | 1;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    // E minor pentatonic over two octaves, Hz.
    const NOTES: [f64; 10] = [
        82.41, 98.0, 110.0, 123.47, 146.83, 164.81, 196.0, 220.0, 246.94, 293.66,
    ];
    let mut time = 0.05;
    let mut note_index = 0usize;
    while time < seconds {
        let start = (time * rate) as usize;
        let frequency = NOTES[(note_index * 3 + (random() * 4.0) as usize) % NOTES.len()];
        let period = (rate / frequency).round().max(2.0) as usize;
        // Noise burst through a one-pole low-pass: a pick that is not too bright.
        let mut line: Vec<f64> = Vec::with_capacity(period);
        let mut smooth = 0.0;
        for _ in 0..period {
            smooth += 0.5 * ((random() * 2.0 - 1.0) - smooth);
            line.push(smooth);
        }
        let amplitude = 0.35 + 0.25 * random();
        let duration = ((1.5 + random()) * rate) as usize;
        let decay = 0.996 + 0.0035 * random();
        let mut position = 0usize;
        for i in 0..duration {
            let Some(slot) = out.get_mut(start + i) else {
                break;
            };
            let next = (position + 1) % period;
            let value = line[position];
            line[position] = decay * 0.5 * (value + line[next]);
            position = next;
            *slot += amplitude * value;
        }
        note_index += 1;
        let rest = if note_index.is_multiple_of(8) {
            0.6
        } else {
            0.0
        };
        time += 0.25 + 0.5 * random() + rest;
    }
    let peak = out.iter().fold(0.0f64, |m, s| m.max(s.abs()));
    let scale = if peak > 0.0 { 0.5 / peak } else { 0.0 };
    out.iter().map(|s| (s * scale) as f32).collect()
}
