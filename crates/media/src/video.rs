//! The A/B video: frames drawn in Rust at a constant frame rate and piped as raw
//! YUV 4:2:0 to the system `ffmpeg` (Debian's, with libx264 and the native AAC encoder).
//!
//! Contract: every frame shows the current chain's name large with its gear lines, a strip
//! of all segments with the current one highlighted, a moving playhead, the time and a
//! level meter of what is playing. An optional intro card comes before the audio and
//! optional outro cards (results, blind reveal) after it; the audio is padded with
//! silence under them, so the MP4's duration is intro + A/B audio + outro (± one frame).
//! Output: 1920×1080 H.264 High profile, level 4.1, yuv420p BT.709, constant
//! [`VideoOptions::fps`], AAC 48 kHz stereo, chapters (one per card and segment) and
//! `moov` first (`+faststart`). Written to a temporary directory beside `out_mp4` and
//! renamed only on success; `cancel` is polled every frame, and cancelling kills ffmpeg
//! and leaves nothing behind. `on_progress` gets 0..=1 as frames are encoded.

mod chapters;
mod encoder;
mod scene;

pub use chapters::{Chapter, chapters, chapters_txt};
pub use encoder::render_video;
pub use scene::{StripGeometry, render_frame_png};

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the screen shows while a chain plays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainCard {
    /// Large heading: the chain's name, or "Tone A" in blind mode.
    pub title: String,
    /// Smaller lines under it, e.g. one per block (gear names). Empty in blind mode.
    pub lines: Vec<String>,
    /// Accent colour index (the chain's colour on the plots).
    pub accent: usize,
}

/// One stretch of the A/B audio played by one chain.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start_ms: f64,
    pub end_ms: f64,
    /// Index into [`VideoPlan::chains`].
    pub chain: usize,
}

/// A row of a results or reveal table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    pub accent: usize,
    pub cells: Vec<String>,
}

/// A full-screen card shown with silence, before or after the A/B audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Card {
    /// Title, description and a note (e.g. how the tones were levelled).
    Intro {
        title: String,
        description: String,
        note: String,
    },
    /// A heading over a table (results, or the blind reveal).
    Table {
        heading: String,
        columns: Vec<String>,
        rows: Vec<TableRow>,
    },
}

impl Card {
    /// The chapter title for this card.
    pub fn chapter_title(&self) -> String {
        match self {
            Self::Intro { .. } => "Intro".to_owned(),
            Self::Table { heading, .. } => heading.clone(),
        }
    }
}

/// A card and how long it stays up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedCard {
    pub card: Card,
    pub seconds: f64,
}

/// Everything the video shows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VideoPlan {
    /// Small text at the top of every chain frame (the shootout's name).
    pub header: String,
    pub chains: Vec<ChainCard>,
    /// The cue list of the A/B audio (times within it).
    pub segments: Vec<Segment>,
    /// Shown before the audio.
    pub intro: Option<TimedCard>,
    /// Shown after the audio, in order.
    pub outro: Vec<TimedCard>,
}

impl VideoPlan {
    /// The segments of an A/B cue list.
    pub fn segments_from_cues(cues: &[crate::assembly::Cue]) -> Vec<Segment> {
        cues.iter()
            .map(|cue| Segment {
                start_ms: cue.start_ms,
                end_ms: cue.end_ms,
                chain: cue.chain,
            })
            .collect()
    }

    /// Seconds of the intro (0 without one).
    pub fn intro_seconds(&self) -> f64 {
        self.intro.as_ref().map_or(0.0, |c| c.seconds.max(0.0))
    }

    /// Seconds of all outro cards.
    pub fn outro_seconds(&self) -> f64 {
        self.outro.iter().map(|c| c.seconds.max(0.0)).sum()
    }
}

/// Knobs for [`render_video`]; `Default` gives the product's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoOptions {
    /// The ffmpeg binary (a bare name is looked up on PATH).
    pub ffmpeg: PathBuf,
    pub width: u32,
    pub height: u32,
    /// Frames per second (constant), 25..=30.
    pub fps: u32,
    /// libx264 preset.
    pub x264_preset: String,
    /// libx264 constant rate factor.
    pub crf: u32,
    pub audio_bitrate_kbps: u32,
}

impl Default for VideoOptions {
    fn default() -> Self {
        Self {
            ffmpeg: PathBuf::from("ffmpeg"),
            width: 1920,
            height: 1080,
            fps: 25,
            x264_preset: "veryfast".to_owned(),
            crf: 20,
            audio_bitrate_kbps: 192,
        }
    }
}

/// What [`render_video`] produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoReport {
    pub frames: u64,
    pub fps: u32,
    pub duration_seconds: f64,
    pub chapters: Vec<Chapter>,
}
