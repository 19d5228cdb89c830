//! Test audio: plucked-string DI signals (Karplus-Strong) written as WAV with hound.

use std::io::Cursor;

/// Sample formats the tests write.
#[derive(Debug, Clone, Copy)]
pub enum Sample {
    Int16,
    Int24,
    Float32,
}

/// A plucked-string performance: a note every half second, each decaying.
pub fn plucked(seconds: f64, rate: u32) -> Vec<f32> {
    let frames = (seconds * f64::from(rate)) as usize;
    let mut out = vec![0.0f32; frames];
    let notes = [82.41, 110.0, 146.83, 196.0, 246.94, 329.63];
    let step = (rate / 2) as usize;
    let mut seed: u32 = 12345;
    for (n, start) in (0..frames).step_by(step.max(1)).enumerate() {
        let freq = notes[n % notes.len()];
        let period = (f64::from(rate) / freq) as usize;
        let mut delay: Vec<f32> = (0..period.max(2))
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((seed >> 16) as f32 / 32768.0 - 1.0) * 0.5
            })
            .collect();
        let len = delay.len();
        for i in 0..(2 * step).min(frames - start) {
            let a = delay[i % len];
            let b = delay[(i + 1) % len];
            let value = 0.996 * 0.5 * (a + b);
            delay[i % len] = value;
            out[start + i] += a;
        }
    }
    out.iter().map(|s| s.clamp(-0.95, 0.95)).collect()
}

/// A WAV file of `samples` (mono) duplicated over `channels`.
pub fn wav(samples: &[f32], rate: u32, channels: u16, format: Sample) -> Vec<u8> {
    let (bits, sample_format) = match format {
        Sample::Int16 => (16, hound::SampleFormat::Int),
        Sample::Int24 => (24, hound::SampleFormat::Int),
        Sample::Float32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format,
    };
    let mut cursor = Cursor::new(Vec::new());
    {
        let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
        for &s in samples {
            for _ in 0..channels {
                match format {
                    Sample::Int16 => writer.write_sample((s * 32767.0) as i16).unwrap(),
                    Sample::Int24 => writer.write_sample((s * 8_388_607.0) as i32).unwrap(),
                    Sample::Float32 => writer.write_sample(s).unwrap(),
                }
            }
        }
        writer.finalize().unwrap();
    }
    cursor.into_inner()
}
