//! gts-render: the Guitar Tone Shootout render engine.
//!
//! decode → mono → input level → per chain: resample to the model's rate → high-pass →
//! blocks (NAM, cabinet IR, EQ, gain, delay, reverb, gate) with tails → output rate →
//! loudness levelling with a true-peak limiter → metrics and evaluation → artifacts.
//! See `docs/render-engine.md` for the design and the rules it follows.
//!
//! The worker calls [`render_shootout`] with a [`ShootoutSpec`], an output directory, a
//! [`ProgressSink`] and a [`CancelToken`].

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod artifacts;
pub mod chain;
pub mod chain_cache;
pub mod decode;
pub mod dsp;
pub mod error;
pub mod evaluation;
pub mod input_level;
pub mod limits;
pub mod loudness;
pub mod manifest;
pub mod metrics;
pub mod nam;
pub mod nam_metadata;
pub mod pipeline;
pub mod presentation;
pub mod progress;
pub mod resample;
pub mod spec;
pub mod synth;
pub mod versions;

pub use chain_cache::{CachedChain, ChainCache, ChainKey};
pub use error::{RenderError, Result};
pub use manifest::Manifest;
pub use pipeline::{
    ChainReport, RenderOptions, RenderReport, RenderedShootout, render_chains, render_chains_with,
    render_shootout, render_shootout_with,
};
pub use progress::{CancelToken, NoProgress, Progress, ProgressSink, Stage};
pub use spec::{
    Block, ChainSpec, DiTrack, GearInfo, InputLevelMode, OutputOptions, ShootoutSpec, VideoStyle,
};
