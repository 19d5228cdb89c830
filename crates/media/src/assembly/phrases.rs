//! Phrase cutting: split the DI into phrases of about the target length,
//! cutting in a quiet point just before a note onset.
//!
//! Rule: phrases cover the input contiguously from 0 to its end. Each cut is
//! searched in `[0.75 T, 1.25 T]` after the previous one (T = target length,
//! so 3–5 s for 4 s). Candidates are the 5 ms frames that are quiet points
//! (40 dB or more below the 95th-percentile frame level) or lie within
//! 80 ms before a spectral-flux onset; among them the cut is the frame
//! minimising `level_dBFS + 12 dB × |distance from target| / T`: silence
//! beats a decaying note, the dip just before an attack beats the ring-out
//! before it, and among equally quiet points the one nearest the target
//! wins. Only when the window holds no candidate (one note sustained for
//! seconds) does the rule fall back to the quietest frame overall. The last phrase takes the
//! remainder when it is at most 1.25 T. When less than 1.5 T would remain
//! after a full-length phrase, the rest is instead split in two balanced
//! phrases (target: half the remainder, each at least 0.5 T), so no phrase
//! is ever a scrap: every phrase is 0.5 T–1.25 T long, all but the last two
//! 0.75 T–1.25 T.

use serde::{Deserialize, Serialize};

use super::onset;

/// Search window for a cut, as fractions of the target length.
const MIN_FRACTION: f64 = 0.75;
const MAX_FRACTION: f64 = 1.25;
/// The last phrase should be at least this fraction of the target.
const MIN_TAIL_FRACTION: f64 = 0.5;
/// Cost of being one full target length away from the target, in dB.
const DISTANCE_PENALTY_DB: f32 = 12.0;
/// A frame this far below the loud frames (95th percentile) is a quiet point.
const QUIET_BELOW_LOUD_DB: f32 = 40.0;
/// How far before an onset a cut still counts as "just before" it.
const PRE_ONSET_MS: f64 = 80.0;
/// Accepted range for `target_seconds`; outside it the value is clamped
/// (non-finite values fall back to the default).
const TARGET_RANGE_S: (f32, f32) = (0.5, 60.0);
/// Phrase length used when the caller's target is NaN or infinite.
pub const DEFAULT_TARGET_SECONDS: f32 = 4.0;

/// A half-open sample range `[start, end)` of the DI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phrase {
    pub start: usize,
    pub end: usize,
}

impl Phrase {
    /// Length in samples.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// True when the phrase holds no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Cuts `di` into phrases of about `target_seconds` (see the module docs).
///
/// Empty input gives no phrase; input no longer than 1.25 × target (or a
/// sample rate of 0) gives a single phrase covering everything.
pub fn find_phrases(di: &[f32], sample_rate: u32, target_seconds: f32) -> Vec<Phrase> {
    let len = di.len();
    if len == 0 {
        return Vec::new();
    }
    let target_seconds = if target_seconds.is_finite() {
        target_seconds.clamp(TARGET_RANGE_S.0, TARGET_RANGE_S.1)
    } else {
        DEFAULT_TARGET_SECONDS
    };
    let target_len = f64::from(target_seconds) * f64::from(sample_rate);
    let max_len = (target_len * MAX_FRACTION) as usize;
    if sample_rate == 0 || len <= max_len {
        return vec![Phrase { start: 0, end: len }];
    }
    let min_len = ((target_len * MIN_FRACTION) as usize).max(1);
    let min_tail = (target_len * MIN_TAIL_FRACTION) as usize;

    let hop = onset::hop_for(sample_rate);
    let energy = onset::energy_db(di, hop);
    let analysis = Analysis {
        quiet_threshold_db: quiet_threshold_db(&energy),
        onsets: onset::onsets(di, sample_rate, hop, &energy),
        energy,
        hop,
        pre_onset: ((PRE_ONSET_MS / 1000.0 * f64::from(sample_rate)) as usize).max(1),
    };

    let mut cuts = Vec::new();
    let mut current = 0usize;
    while len - current > max_len {
        let remaining = len - current;
        let (lo, hi, target) = if remaining >= 2 * min_len {
            // Room for at least two full phrases: aim at the target length.
            let hi = max_len.min(remaining - min_tail).max(min_len);
            (min_len, hi, target_len as usize)
        } else {
            // The final split: two balanced phrases, each at least the
            // minimum tail, instead of one full phrase and a scrap.
            let lo = min_tail.max(remaining.saturating_sub(max_len));
            let hi = max_len.min(remaining.saturating_sub(min_tail)).max(lo);
            (lo, hi, remaining / 2)
        };
        let cut = analysis
            .best_cut(current + lo, current + hi, current + target, target_len)
            .clamp(current + lo, current + hi);
        cuts.push(cut);
        current = cut;
    }

    let mut phrases = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts {
        phrases.push(Phrase { start, end: cut });
        start = cut;
    }
    phrases.push(Phrase { start, end: len });
    phrases
}

/// [`QUIET_BELOW_LOUD_DB`] under the 95th-percentile frame level.
fn quiet_threshold_db(energy: &[f32]) -> f32 {
    let mut sorted = energy.to_vec();
    sorted.sort_by(f32::total_cmp);
    let loud_index = sorted.len() * 95 / 100;
    let loud = sorted
        .get(loud_index)
        .copied()
        .unwrap_or(onset::ENERGY_FLOOR_DB);
    loud - QUIET_BELOW_LOUD_DB
}

struct Analysis {
    energy: Vec<f32>,
    /// Sorted onset frames.
    onsets: Vec<usize>,
    hop: usize,
    /// [`PRE_ONSET_MS`] in samples.
    pre_onset: usize,
    /// Frames at or below this level count as quiet points.
    quiet_threshold_db: f32,
}

impl Analysis {
    /// Sample position in `[lo, hi]` with the lowest cut cost, among the
    /// preferred points (quiet, or just before an onset) when there are any.
    fn best_cut(&self, lo: usize, hi: usize, target: usize, target_len: f64) -> usize {
        let first = lo.div_ceil(self.hop);
        let last = (hi / self.hop).min(self.energy.len().saturating_sub(1));
        let cost = |frame: usize, level: f32| {
            let distance = (frame * self.hop).abs_diff(target) as f64 / target_len;
            level + DISTANCE_PENALTY_DB * distance as f32
        };
        let mut preferred: Option<(f32, usize)> = None;
        let mut any: Option<(f32, usize)> = None;
        for frame in first..=last {
            let Some(&level) = self.energy.get(frame) else {
                break;
            };
            let candidate = (cost(frame, level), frame * self.hop);
            let is_better = |best: &Option<(f32, usize)>| best.is_none_or(|b| candidate.0 < b.0);
            if is_better(&any) {
                any = Some(candidate);
            }
            let is_preferred =
                level <= self.quiet_threshold_db || self.onset_follows(frame * self.hop);
            if is_preferred && is_better(&preferred) {
                preferred = Some(candidate);
            }
        }
        preferred.or(any).map_or(lo, |(_, position)| position)
    }

    /// True when an onset lies in `[position, position + PRE_ONSET_MS]`.
    fn onset_follows(&self, position: usize) -> bool {
        let first_after = self
            .onsets
            .partition_point(|&frame| frame * self.hop < position);
        self.onsets
            .get(first_after)
            .is_some_and(|&frame| frame * self.hop - position <= self.pre_onset)
    }
}
