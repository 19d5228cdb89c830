//! gts-render: the Guitar Tone Shootout render engine.
//!
//! decode → mono → input level → per chain: resample to the model's rate → high-pass →
//! blocks (NAM, cabinet IR, EQ, gain, delay, reverb, gate) with tails → output rate →
//! loudness levelling with a true-peak limiter → metrics and evaluation, all in memory.
//! See `docs/render-engine.md` for the design and the rules it follows.
//!
//! This is the lowest layer of the render: [`render_chains`] takes a [`ShootoutSpec`], a
//! [`ProgressSink`] and a [`CancelToken`] and hands back a [`RenderedShootout`]. Writing
//! the files (audio, plots, video, manifest) is gts-media's, the layer above.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod chain;
pub mod chain_cache;
pub mod decode;
pub mod display;
pub mod dsp;
pub mod error;
pub mod evaluation;
pub mod input_level;
pub mod inputs;
pub mod limits;
pub mod loudness;
pub mod metrics;
pub mod nam;
pub mod nam_metadata;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod resample;
pub mod spec;
pub mod synth;
pub mod versions;

pub use chain_cache::{CachedChain, ChainCache, ChainKey};
pub use error::{RenderError, Result};
pub use pipeline::{RenderOptions, render_chains, render_chains_with};
pub use progress::{CancelToken, NoProgress, Progress, ProgressSink, Stage};
pub use report::{ChainReport, DiReport, RenderedShootout};
pub use spec::{
    Block, ChainSpec, DiTrack, GearInfo, InputLevelMode, OutputOptions, ShootoutSpec, VideoStyle,
};
