//! Audio and video helpers for the render, media and CLI suites: the shared fixtures, a
//! WAV writer for any layout, a spec with four contrasting chains, ffprobe's view of a
//! file and a frame decoded by ffmpeg. The video helpers need Debian's ffmpeg.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use gts_render::ShootoutSpec;
use gts_render::synth::plucked_di;

/// `tests/fixtures` at the workspace root (NAM models, IRs, reference outputs).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Writes a WAV with hound: one `Vec` per channel, integer PCM of `bits` or 32-bit float.
pub fn write_wav(path: &Path, channels: &[Vec<f32>], rate: u32, bits: u16, float: bool) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    let frames = channels.first().map_or(0, Vec::len);
    for i in 0..frames {
        for channel in channels {
            let s = channel[i];
            if float {
                writer.write_sample(s).unwrap();
            } else {
                let max = (1i64 << (bits - 1)) as f32 - 1.0;
                writer
                    .write_sample((s.clamp(-1.0, 1.0) * max).round() as i32)
                    .unwrap();
            }
        }
    }
    writer.finalize().unwrap();
}

/// Four chains that differ in every way levelling must absorb (a tiny WaveNet with a
/// 4x12 and a cut, a hot LSTM with a mixed IR and slapback, a gated WaveNet with +20 dB
/// and a hall, the bare DI with spring reverb) over `seconds` of synthesised DI recorded
/// at `di_rate`, rendered at `output_rate`, without video.
pub fn four_chain_spec(dir: &Path, di_rate: u32, output_rate: u32, seconds: f64) -> ShootoutSpec {
    let di = dir.join(format!("di_{di_rate}.wav"));
    write_wav(&di, &[plucked_di(di_rate, seconds, 42)], di_rate, 24, false);
    let toml = format!(
        r#"
name = "Levelling test"
[[di_tracks]]
path = "{di}"

[[chains]]
name = "Tiny WaveNet + 4x12"
blocks = [
  {{ kind = "nam", path = "{fx}/nam/wavenet.nam" }},
  {{ kind = "cabinet", path = "{fx}/irs/4x12-classic.wav" }},
  {{ kind = "eq", shape = "peaking", frequency_hz = 800.0, gain_db = -4.0, q = 1.2 }},
]

[[chains]]
name = "LSTM + AC15 + slapback"
blocks = [
  {{ kind = "nam", path = "{fx}/nam/lstm.nam", input_gain_db = 6.0 }},
  {{ kind = "cabinet", path = "{fx}/irs/1x12-ac15.wav", mix = 0.7 }},
  {{ kind = "delay", preset = "slapback" }},
]

[[chains]]
name = "Hot WaveNet + hall"
blocks = [
  {{ kind = "noise_gate", threshold_db = -70.0 }},
  {{ kind = "nam", path = "{fx}/nam/wavenet.nam", input_gain_db = 12.0 }},
  {{ kind = "gain", gain_db = 20.0 }},
  {{ kind = "reverb", preset = "hall" }},
]

[[chains]]
name = "DI + spring"
high_pass = false
blocks = [
  {{ kind = "eq", shape = "high_shelf", frequency_hz = 3000.0, gain_db = 3.0 }},
  {{ kind = "delay", preset = "quarter" }},
  {{ kind = "reverb", preset = "spring" }},
]

[output]
sample_rate = {output_rate}
video = false
"#,
        di = di.display(),
        fx = fixtures().display(),
    );
    ShootoutSpec::from_toml_str(&toml, dir).unwrap()
}

/// ffprobe's JSON for `path` with the given sections (`-show_streams`, `-show_chapters`, …).
pub fn ffprobe(path: &Path, sections: &[&str]) -> serde_json::Value {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json"])
        .args(sections)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "ffprobe failed on {}",
        path.display()
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A number from ffprobe's JSON, which writes them as strings.
pub fn number(value: &serde_json::Value) -> f64 {
    value.as_str().unwrap().parse::<f64>().unwrap()
}

/// One decoded video frame, RGB 8-bit.
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Frame {
    /// The pixel at (`x`, `y`).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let at = ((y * self.width + x) * 3) as usize;
        [self.rgb[at], self.rgb[at + 1], self.rgb[at + 2]]
    }
}

/// The frame shown at `seconds`, decoded by ffmpeg (BT.709, as encoded) into `out` (PNG).
pub fn frame_at(mp4: &Path, seconds: f64, out: &Path) -> Frame {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-ss"])
        .arg(format!("{seconds:.3}"))
        .arg("-i")
        .arg(mp4)
        .args(["-frames:v", "1", "-vf", "scale=in_color_matrix=bt709"])
        .args(["-pix_fmt", "rgb24"])
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg could not extract a frame");
    read_png(out)
}

/// An RGB PNG's pixels.
pub fn read_png(path: &Path) -> Frame {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut rgb = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut rgb).unwrap();
    rgb.truncate(info.buffer_size());
    Frame {
        width: info.width,
        height: info.height,
        rgb,
    }
}
