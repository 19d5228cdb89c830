//! The A/B video: one title card per segment, muxed with the A/B audio by
//! the system `ffmpeg` (Debian's, with libx264 and the native AAC encoder).
//!
//! Contract: cards are drawn in Rust (plotters bitmap backend, embedded
//! font) to 1920×1080 PNGs; an ffconcat list gives each card its exact
//! duration (split into frames of at most `max_frame_seconds` so players can
//! seek), and ffmpeg encodes H.264 yuv420p at a variable frame rate with
//! `-tune stillimage` plus AAC at 48 kHz. The card timeline is clipped and
//! gap-filled to the audio's duration, so video and audio end together.
//! Output is written to a temporary file beside `out_mp4` and renamed only on
//! success; cancellation kills ffmpeg and leaves nothing behind.

mod card;
mod ffmpeg;
mod timeline;

pub use card::render_card_png;
pub use ffmpeg::render_video;
pub use timeline::cards_from_cues;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the screen shows from `start_ms` to `end_ms` of the A/B track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TitleCard {
    pub start_ms: f64,
    pub end_ms: f64,
    /// Large heading, e.g. the chain's name.
    pub title: String,
    /// Smaller lines under it, e.g. one per block of the chain.
    pub lines: Vec<String>,
    /// Picks the accent colour (use the chain index so each chain keeps its
    /// colour, matching the spectrum plot).
    #[serde(default)]
    pub accent: usize,
}

/// Knobs for [`render_video`]; `Default` gives the product's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoOptions {
    /// The ffmpeg binary (a bare name is looked up on PATH).
    pub ffmpeg: PathBuf,
    pub width: u32,
    pub height: u32,
    /// libx264 preset; still images encode fast at any preset.
    pub x264_preset: String,
    pub audio_bitrate_kbps: u32,
    /// Longest a single video frame may last (seconds), for seeking.
    pub max_frame_seconds: f64,
    /// Small text in the card's top-left corner (e.g. the shootout's name).
    pub header: Option<String>,
}

impl Default for VideoOptions {
    fn default() -> Self {
        Self {
            ffmpeg: PathBuf::from("ffmpeg"),
            width: 1920,
            height: 1080,
            x264_preset: "veryfast".to_owned(),
            audio_bitrate_kbps: 192,
            max_frame_seconds: 2.0,
            header: None,
        }
    }
}
