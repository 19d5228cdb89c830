//! A/B assembly: phrase cutting of the DI ([`find_phrases`]) and the
//! back-to-back comparison track with its cue list ([`assemble_ab`]).

mod ab;
mod onset;
mod phrases;

pub use ab::{AbTrack, Cue, assemble_ab};
pub use phrases::{DEFAULT_TARGET_SECONDS, Phrase, find_phrases};
