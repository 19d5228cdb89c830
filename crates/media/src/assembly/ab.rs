//! A/B track assembly: every chain plays each phrase in turn, with an
//! equal-power crossfade centred on every switch.
//!
//! Contract: segment `k` plays phrase `k / n` of chain `k % n` (n chains) and
//! occupies exactly `phrase.len()` output samples, so the output is
//! `n × Σ phrase lengths` long and cue boundaries are exact sample positions
//! (reported in ms as `f64`, far inside ±1 ms). At a switch at output sample
//! `t` the outgoing chain keeps playing past its phrase end and the incoming
//! one starts before its phrase start, over `t - h .. t + h` (h = half the
//! crossfade, shrunk to half the shorter neighbouring segment), with gains
//! `cos(πx/2)` and `sin(πx/2)` (x from 0 to 1): the sum of squared gains is 1,
//! so uncorrelated tones keep constant power and the gains cross at −3 dB
//! exactly on the cue boundary. The track opens and closes with a half-width
//! raised-cosine fade so it never starts or stops on a step. Chains shorter
//! than a phrase read as silence past their end; samples past the last phrase
//! (tails) are used only inside crossfades. NaN/infinite samples read as 0.

use serde::{Deserialize, Serialize};

use super::Phrase;
use crate::MediaError;

/// Longest accepted crossfade; longer requests are almost surely unit errors.
const MAX_CROSSFADE_MS: f32 = 1000.0;

/// One entry of the cue list: which chain plays which phrase, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    /// Position in the A/B track (0-based).
    pub segment: usize,
    /// Index into the phrase list.
    pub phrase: usize,
    /// Index into the chain list.
    pub chain: usize,
    /// Start in the A/B track, milliseconds (the crossfade midpoint).
    pub start_ms: f64,
    /// End in the A/B track, milliseconds (the next crossfade midpoint).
    pub end_ms: f64,
}

/// The assembled A/B comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbTrack {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    pub cues: Vec<Cue>,
}

impl AbTrack {
    /// The cue list as pretty-printed JSON.
    pub fn cues_json(&self) -> Result<String, MediaError> {
        serde_json::to_string_pretty(&self.cues)
            .map_err(|e| MediaError::InvalidInput(format!("cue list not serialisable: {e}")))
    }
}

/// A segment's placement: source chain, source range and output position.
struct Segment<'a> {
    chain: usize,
    source: &'a [f32],
    source_start: usize,
    output_start: usize,
    len: usize,
}

impl Segment<'_> {
    /// Source sample at `offset` from the segment's source start (may lie
    /// outside the segment or the chain; outside the chain reads 0).
    fn read(&self, offset: isize) -> f32 {
        self.source_start
            .checked_add_signed(offset)
            .and_then(|i| self.source.get(i))
            .copied()
            .filter(|s| s.is_finite())
            .unwrap_or(0.0)
    }
}

/// Builds the A/B track (see the module docs).
///
/// Errors: no chains, a sample rate of 0, a crossfade that is negative,
/// non-finite or over 1 s, or a phrase with `end < start`.
pub fn assemble_ab(
    chains: &[&[f32]],
    sample_rate: u32,
    phrases: &[Phrase],
    crossfade_ms: f32,
) -> Result<AbTrack, MediaError> {
    if chains.is_empty() {
        return Err(MediaError::InvalidInput("no chains to assemble".into()));
    }
    if sample_rate == 0 {
        return Err(MediaError::InvalidInput("sample rate is 0".into()));
    }
    if !crossfade_ms.is_finite() || !(0.0..=MAX_CROSSFADE_MS).contains(&crossfade_ms) {
        return Err(MediaError::InvalidInput(format!(
            "crossfade of {crossfade_ms} ms is outside 0..={MAX_CROSSFADE_MS} ms"
        )));
    }
    if let Some((index, bad)) = phrases.iter().enumerate().find(|(_, p)| p.end < p.start) {
        return Err(MediaError::InvalidInput(format!(
            "phrase {index} ends ({}) before it starts ({})",
            bad.end, bad.start
        )));
    }

    let mut segments = Vec::with_capacity(phrases.len() * chains.len());
    let mut cues = Vec::with_capacity(segments.capacity());
    let mut output_len = 0usize;
    let to_ms = |sample: usize| sample as f64 * 1000.0 / f64::from(sample_rate);
    for (phrase_index, phrase) in phrases.iter().enumerate() {
        for (chain_index, chain) in chains.iter().enumerate() {
            let segment = Segment {
                chain: chain_index,
                source: chain,
                source_start: phrase.start,
                output_start: output_len,
                len: phrase.len(),
            };
            output_len += segment.len;
            cues.push(Cue {
                segment: segments.len(),
                phrase: phrase_index,
                chain: chain_index,
                start_ms: to_ms(segment.output_start),
                end_ms: to_ms(output_len),
            });
            segments.push(segment);
        }
    }

    let mut samples = vec![0.0f32; output_len];
    for segment in &segments {
        if let Some(out) = samples.get_mut(segment.output_start..segment.output_start + segment.len)
        {
            for (offset, slot) in out.iter_mut().enumerate() {
                *slot = segment.read(offset as isize);
            }
        }
    }

    let crossfade_len = (f64::from(crossfade_ms) / 1000.0 * f64::from(sample_rate)).round();
    let half_crossfade = (crossfade_len / 2.0) as usize;
    for pair in segments.windows(2) {
        if let [outgoing, incoming] = pair {
            // One chain running straight on into its next phrase (a single
            // chain) is already continuous; a crossfade would add +3 dB.
            let seamless = outgoing.chain == incoming.chain
                && outgoing.source_start + outgoing.len == incoming.source_start;
            if seamless {
                continue;
            }
            let half = half_crossfade.min(outgoing.len / 2).min(incoming.len / 2);
            crossfade(&mut samples, outgoing, incoming, half);
        }
    }
    if let (Some(first), Some(last)) = (segments.first(), segments.last()) {
        fade_edges(
            &mut samples,
            half_crossfade.min(first.len / 2),
            half_crossfade.min(last.len / 2),
        );
    }

    Ok(AbTrack {
        samples,
        sample_rate,
        cues,
    })
}

/// Equal-power crossfade over `2 × half` samples centred on the switch.
fn crossfade(samples: &mut [f32], outgoing: &Segment, incoming: &Segment, half: usize) {
    if half == 0 {
        return;
    }
    let switch = incoming.output_start;
    let width = 2 * half;
    for step in 0..width {
        // Offset relative to the switch, from -half to half - 1.
        let offset = step as isize - half as isize;
        // Sample-centred so the gains are symmetric about the switch.
        let x = (step as f64 + 0.5) / width as f64;
        let angle = std::f64::consts::FRAC_PI_2 * x;
        let from = outgoing.read(outgoing.len as isize + offset);
        let to = incoming.read(offset);
        let mixed = f64::from(from) * angle.cos() + f64::from(to) * angle.sin();
        if let Some(slot) = switch
            .checked_add_signed(offset)
            .and_then(|i| samples.get_mut(i))
        {
            *slot = mixed as f32;
        }
    }
}

/// Raised-cosine fade-in over the first `fade_in` and fade-out over the last
/// `fade_out` samples.
fn fade_edges(samples: &mut [f32], fade_in: usize, fade_out: usize) {
    let ramp = |step: usize, width: usize| {
        let x = (step as f64 + 0.5) / width as f64;
        (0.5 - 0.5 * (std::f64::consts::PI * x).cos()) as f32
    };
    for (step, slot) in samples.iter_mut().take(fade_in).enumerate() {
        *slot *= ramp(step, fade_in);
    }
    for (step, slot) in samples.iter_mut().rev().take(fade_out).enumerate() {
        *slot *= ramp(step, fade_out);
    }
}
