//! # gts-media: A/B assembly, encoders, plots and title-card video
//!
//! Works on plain mono `f32` buffers (nominal range [-1, 1)); it knows
//! nothing about NAM, IRs or levelling. Every fallible function returns
//! [`MediaError`]; no input makes it panic, and NaN/infinite samples are read
//! as 0 (audio) or clamped (encoders).
//!
//! ## API at a glance
//!
//! ```text
//! assembly::find_phrases(di: &[f32], sample_rate: u32, target_seconds: f32) -> Vec<Phrase>
//!     Phrase { start: usize, end: usize }          // samples, half-open, contiguous from 0 to di.len()
//!     3–5 s phrases for a 4 s target; cuts in quiet points or 5–100 ms before an attack.
//!     Empty input -> []; input <= 1.25 × target -> one phrase.
//! assembly::assemble_ab(chains: &[&[f32]], sample_rate: u32, phrases: &[Phrase], crossfade_ms: f32)
//!     -> Result<AbTrack, MediaError>
//!     AbTrack { samples: Vec<f32>, sample_rate: u32, cues: Vec<Cue> }   // serde; AbTrack::cues_json()
//!     Cue { segment, phrase, chain: usize, start_ms: f64, end_ms: f64 } // exact sample positions
//!     Segment k = phrase k / n of chain k % n. Length = n × Σ phrase lengths.
//!     Equal-power (cos/sin) crossfade of `crossfade_ms` centred on each cue boundary.
//!     Chains may differ in length (shorter = silence, longer = tail only used in crossfades).
//! encode::write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), MediaError>    // 24-bit PCM
//! encode::write_flac24(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), MediaError> // 24-bit FLAC
//! encode::encode_flac24(samples: &[f32], sample_rate: u32) -> Result<Vec<u8>, MediaError>
//! encode::to_i24(f32) -> i32 / encode::from_i24(i32) -> f32    // the quantiser both encoders use
//! plot::spectrum_plot(path: &Path, curves: &[(String, &[f32])], sample_rate: u32) -> Result<(), MediaError>
//! plot::level_chart(path: &Path, rows: &[LevelRow]) -> Result<(), MediaError>
//!     LevelRow { name: String, integrated_lufs: f64, true_peak_dbtp: f64, rms_dbfs: f64 }
//! video::render_video(out_mp4: &Path, ab_wav: &Path, cards: &[TitleCard], opts: &VideoOptions,
//!                     cancel: &dyn Fn() -> bool) -> Result<(), MediaError>
//!     TitleCard { start_ms: f64, end_ms: f64, title: String, lines: Vec<String>, accent: usize }
//!         (accent = chain index: same colour as that chain's spectrum curve)
//!     VideoOptions { ffmpeg: PathBuf, width, height: u32, x264_preset: String,
//!                    audio_bitrate_kbps: u32, max_frame_seconds: f64, header: Option<String> }
//!     VideoOptions::default(): "ffmpeg" on PATH, 1920×1080, veryfast, 192 kb/s, 2 s, no header.
//!     Output: H.264 yuv420p VFR + AAC 48 kHz stereo; as long as the WAV; written atomically.
//!     Errors: FfmpegMissing (with the apt-get hint), Ffmpeg { status, stderr_tail }, Cancelled.
//! video::cards_from_cues(cues: &[Cue], chain_titles: &[String], chain_lines: &[Vec<String>])
//!     -> Vec<TitleCard>                                 // one card per cue
//! video::render_card_png(path: &Path, card: &TitleCard, opts: &VideoOptions) -> Result<(), MediaError>
//! plot::smoothed_spectrum(signal: &[f32], sample_rate: u32) -> Vec<(f64, f64)>  // (Hz, dB) points
//! ```
//!
//! Typical use from the render engine:
//!
//! ```text
//! let phrases = find_phrases(&di, sr, 4.0);
//! let track = assemble_ab(&[&a, &b, &c], sr, &phrases, 10.0)?;
//! write_flac24(&dir.join("ab.flac"), &track.samples, sr)?;
//! write_wav(&dir.join("ab.wav"), &track.samples, sr)?;   // ffmpeg's audio input
//! render_video(&dir.join("ab.mp4"), &dir.join("ab.wav"), &cards, &VideoOptions::default(), &|| token.is_cancelled())?;
//! ```
//!
//! `examples/ab_demo.rs` does all of it end to end:
//! `cargo run -p gts-media --example ab_demo -- /tmp/ab-demo`.
//! Design notes (cut rule, crossfade law, font licence): `docs/media.md`.

pub mod assembly;
pub mod encode;
pub mod error;
mod font;
pub mod plot;
pub mod video;

pub use error::MediaError;
