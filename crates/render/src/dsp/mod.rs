//! Signal-processing building blocks: each works on a mono `f32` buffer at a given rate.
//!
//! Contract: every processor is deterministic, keeps internal state in `f64` where
//! feedback makes precision matter, and never produces NaN from finite input.

pub mod biquad;
pub mod convolution;
pub mod delay;
pub mod gate;
pub mod reverb;
