//! # gts-media: A/B assembly, encoders, plots, the timeline video, and a shootout's files
//!
//! The layer above the render engine. Its lower modules (assembly, encode, plot, video,
//! text, waveform) work on plain mono `f32` buffers (nominal range [-1, 1)) and know
//! nothing about NAM, IRs or levelling; every fallible function there returns
//! [`MediaError`], no input makes it panic, and NaN/infinite samples are read as 0
//! (audio) or clamped (encoders). [`shootout`] drives them for a rendered shootout:
//! [`shootout::render_shootout`] runs the engine ([`gts_render::render_chains`]) and
//! writes every artifact and the manifest.
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
//! plot::plot_spectra(path, &[(String, Vec<(f64, f64)>)], sample_rate)   // the same from measured spectra
//! plot::SpectrumData::of(&[Vec<(f64, f64)>]).to_json()   // every chain's points, for players
//! plot::level_chart(path: &Path, rows: &[LevelRow]) -> Result<(), MediaError>
//!     LevelRow { name: String, integrated_lufs: f64, true_peak_dbtp: f64, rms_dbfs: f64 }
//! video::render_video(out_mp4: &Path, ab_wav: &Path, plan: &VideoPlan, opts: &VideoOptions,
//!                     on_progress: &dyn Fn(f32), cancel: &dyn Fn() -> bool) -> Result<VideoReport, MediaError>
//!     VideoPlan { header, chains: Vec<ChainCard { title, lines, accent }>,
//!                 segments: Vec<Segment { start_ms, end_ms, chain }>,      // the cue list
//!                 intro: Option<TimedCard>, outro: Vec<TimedCard> }       // Card::Intro / Card::Table
//!     VideoOptions::default(): "ffmpeg" on PATH, 1920×1080, 25 fps, veryfast, crf 20, 192 kb/s.
//!     Output: CFR H.264 High@4.1 yuv420p + AAC 48 kHz stereo, chapters, +faststart; lasts
//!     intro + audio + outro; written atomically. VideoReport { frames, fps, duration_seconds, chapters }.
//!     Errors: FfmpegMissing (with the apt-get hint), Ffmpeg { status, stderr_tail }, Cancelled.
//! video::chapters(plan, audio_seconds) -> Vec<Chapter>; video::chapters_txt(&[Chapter]) -> String
//! video::render_frame_png(path, plan, opts, audio_seconds, at_seconds)   // one frame, for previews
//! text::fonts()?.fit(text, weight, size, min_size, max_width, max_lines) -> TextBlock  // shaped, never cut
//! plot::smoothed_spectrum(signal: &[f32], sample_rate: u32) -> Vec<(f64, f64)>  // (Hz, dB) points
//! waveform::Waveform::of(samples, sample_rate, columns).to_json()  // peak per column, for players
//! ```
//!
//! Typical use (what [`shootout`] does with the engine's levelled chains):
//!
//! ```text
//! let phrases = find_phrases(&di, sr, 4.0);
//! let track = assemble_ab(&[&a, &b, &c], sr, &phrases, 10.0)?;
//! write_flac24(&dir.join("ab.flac"), &track.samples, sr)?;
//! write_wav(&dir.join("ab.wav"), &track.samples, sr)?;   // ffmpeg's audio input
//! render_video(&dir.join("ab.mp4"), &dir.join("ab.wav"), &plan, &VideoOptions::default(), &|_| {}, &|| token.is_cancelled())?;
//! ```
//!
//! `examples/ab_demo.rs` does all of it end to end:
//! `cargo run -p gts-media --example ab_demo -- /tmp/ab-demo`.
//! Design notes (cut rule, crossfade law, font licence): `docs/media.md`.

pub mod assembly;
pub mod canvas;
pub mod encode;
pub mod error;
mod font;
pub mod plot;
pub mod shootout;
pub mod text;
pub mod video;
pub mod waveform;

pub use error::MediaError;
pub use shootout::{Artifact, Manifest, RenderReport, render_shootout, render_shootout_with};
