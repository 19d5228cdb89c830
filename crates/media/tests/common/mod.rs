//! Deterministic test signals: Karplus–Strong plucks, tones, PRNG.
#![allow(dead_code)]

/// Small deterministic PRNG (xorshift), so tests need no rand crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next_f32()
    }
}

/// A Karplus–Strong pluck of `len` samples at `freq`, peak about `amp`,
/// with a 20 ms damping ramp at the end so it stops exactly at `len`.
pub fn pluck(rng: &mut Rng, freq: f32, sample_rate: u32, len: usize, amp: f32) -> Vec<f32> {
    let period = ((sample_rate as f32 / freq) as usize).max(2);
    let mut line: Vec<f32> = (0..period).map(|_| rng.range(-1.0, 1.0)).collect();
    let mut out = Vec::with_capacity(len);
    let mut index = 0;
    for _ in 0..len {
        let next = (index + 1) % period;
        let value = line[index];
        line[index] = 0.996 * 0.5 * (line[index] + line[next]);
        out.push(value * amp);
        index = next;
    }
    let ramp = (sample_rate as usize / 50).min(len);
    for i in 0..ramp {
        let gain = i as f32 / ramp as f32;
        out[len - 1 - i] *= gain;
    }
    out
}

/// One note of a synthesised DI: where it starts and where it is silent again.
#[derive(Debug, Clone, Copy)]
pub struct Note {
    pub onset: usize,
    pub end: usize,
}

const FREQS: [f32; 8] = [82.4, 110.0, 146.8, 196.0, 246.9, 329.6, 220.0, 164.8];

/// Plucks separated by silent gaps: returns the signal and each note's span.
pub fn plucks_with_gaps(sample_rate: u32, seconds: f32, seed: u64) -> (Vec<f32>, Vec<Note>) {
    let mut rng = Rng::new(seed);
    let total = (seconds * sample_rate as f32) as usize;
    let mut signal = vec![0.0f32; total];
    let mut notes = Vec::new();
    let mut position = (0.05 * sample_rate as f32) as usize;
    let mut i = 0;
    loop {
        let note_len = (rng.range(0.35, 0.9) * sample_rate as f32) as usize;
        let gap = (rng.range(0.12, 0.3) * sample_rate as f32) as usize;
        if position + note_len >= total {
            break;
        }
        let amp = rng.range(0.2, 0.6);
        let note = pluck(&mut rng, FREQS[i % FREQS.len()], sample_rate, note_len, amp);
        signal[position..position + note_len].copy_from_slice(&note);
        notes.push(Note {
            onset: position,
            end: position + note_len,
        });
        position += note_len + gap;
        i += 1;
    }
    (signal, notes)
}

/// Overlapping plucks with no quiet point: each note rings on under the
/// next (different strings), so only the attacks mark the phrase structure.
pub fn legato_plucks(sample_rate: u32, seconds: f32, seed: u64) -> (Vec<f32>, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let total = (seconds * sample_rate as f32) as usize;
    let mut signal = vec![0.0f32; total];
    let mut onsets = Vec::new();
    let mut position = 0usize;
    let mut i = 0;
    while position < total {
        let ring = (1.5 * sample_rate as f32) as usize;
        let amp = rng.range(0.3, 0.6);
        let note = pluck(
            &mut rng,
            FREQS[(i * 3) % FREQS.len()],
            sample_rate,
            ring,
            amp,
        );
        for (offset, value) in note.iter().enumerate() {
            if let Some(slot) = signal.get_mut(position + offset) {
                *slot += value;
            }
        }
        onsets.push(position);
        position += (rng.range(0.25, 0.6) * sample_rate as f32) as usize;
        i += 1;
    }
    (signal, onsets)
}

/// A sine of `len` samples.
pub fn tone(freq: f32, sample_rate: u32, len: usize, amp: f32) -> Vec<f32> {
    (0..len)
        .map(|n| amp * (std::f32::consts::TAU * freq * n as f32 / sample_rate as f32).sin())
        .collect()
}
