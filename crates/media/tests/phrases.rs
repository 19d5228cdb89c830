//! Phrase cutting on synthesised plucked-string DIs.

#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the point

mod common;

use common::{legato_plucks, plucks_with_gaps};
use gts_media::assembly::{Phrase, find_phrases};

const SR: u32 = 48_000;

fn assert_contiguous(phrases: &[Phrase], len: usize) {
    assert_eq!(phrases.first().map(|p| p.start), Some(0));
    assert_eq!(phrases.last().map(|p| p.end), Some(len));
    for pair in phrases.windows(2) {
        assert_eq!(pair[0].end, pair[1].start, "phrases must be contiguous");
    }
    assert!(phrases.iter().all(|p| !p.is_empty()));
}

/// 4 s target: 3–5 s phrases, except that the final two may be 2–5 s.
fn assert_lengths(phrases: &[Phrase], sample_rate: u32) {
    let full = phrases.len().saturating_sub(2);
    for (index, phrase) in phrases.iter().enumerate() {
        let len = seconds(phrase.len(), sample_rate);
        let range = if index < full { 3.0..=5.0 } else { 2.0..=5.0 };
        assert!(
            range.contains(&len),
            "phrase {index} of {len} s outside {range:?}"
        );
    }
}

fn seconds(samples: usize, sample_rate: u32) -> f32 {
    samples as f32 / sample_rate as f32
}

#[test]
fn cuts_fall_in_silent_gaps_between_notes() {
    // One run at full rate, two cheaper ones at 22.05 kHz.
    for (seed, sample_rate, seconds_long) in [(1, SR, 45.0), (2, 22_050, 30.0), (3, 22_050, 30.0)] {
        let (di, notes) = plucks_with_gaps(sample_rate, seconds_long, seed);
        let phrases = find_phrases(&di, sample_rate, 4.0);
        assert_contiguous(&phrases, di.len());
        assert!(phrases.len() >= 6, "at least 30 s / 5 s phrases");
        // Half of the 10 ms crossfade must stay in silence too.
        let margin = (0.005 * sample_rate as f32) as usize;
        for phrase in &phrases[1..] {
            let cut = phrase.start;
            for note in &notes {
                assert!(
                    cut + margin <= note.onset || cut >= note.end + margin,
                    "seed {seed}: cut at {:.3} s lies in note {:.3}..{:.3} s",
                    seconds(cut, sample_rate),
                    seconds(note.onset, sample_rate),
                    seconds(note.end, sample_rate)
                );
            }
        }
        assert_lengths(&phrases, sample_rate);
    }
}

#[test]
fn legato_cuts_land_just_before_an_attack() {
    for (seed, sample_rate) in [(7, SR), (8, 22_050), (9, 22_050), (12, 22_050)] {
        let (di, onsets) = legato_plucks(sample_rate, 40.0, seed);
        let phrases = find_phrases(&di, sample_rate, 4.0);
        assert_contiguous(&phrases, di.len());
        assert_lengths(&phrases, sample_rate);
        // Before the attack by more than half the crossfade (5 ms), and by
        // less than 100 ms, so the cut is in the dip, not in the ring-out.
        let earliest = (0.100 * sample_rate as f32) as usize;
        let latest = (0.005 * sample_rate as f32) as usize;
        for phrase in &phrases[1..] {
            let cut = phrase.start;
            let next_onset = onsets.iter().copied().find(|&o| o >= cut);
            assert!(
                next_onset.is_some_and(|o| o - cut <= earliest && o - cut >= latest),
                "seed {seed}: cut at {:.3} s is not 5..100 ms before an attack (next at {:?})",
                seconds(cut, sample_rate),
                next_onset.map(|o| seconds(o, sample_rate))
            );
        }
    }
}

#[test]
fn silence_is_cut_at_the_target_length() {
    let di = vec![0.0f32; 20 * SR as usize];
    let phrases = find_phrases(&di, SR, 4.0);
    assert_contiguous(&phrases, di.len());
    assert_eq!(phrases.len(), 5);
    for phrase in &phrases {
        let len = seconds(phrase.len(), SR);
        assert!((len - 4.0).abs() < 0.01, "silent phrase of {len} s");
    }
}

#[test]
fn non_finite_samples_are_treated_as_silence() {
    let mut di = vec![f32::NAN; 10 * SR as usize];
    di[1000] = f32::INFINITY;
    let phrases = find_phrases(&di, SR, 4.0);
    assert_contiguous(&phrases, di.len());
}

#[test]
fn short_input_is_one_phrase_and_empty_input_none() {
    let (di, _) = plucks_with_gaps(SR, 2.0, 5);
    assert_eq!(
        find_phrases(&di, SR, 4.0),
        vec![Phrase {
            start: 0,
            end: di.len()
        }]
    );
    assert_eq!(find_phrases(&di[..10], SR, 4.0).len(), 1);
    assert!(find_phrases(&[], SR, 4.0).is_empty());
    assert_eq!(find_phrases(&di, 0, 4.0).len(), 1);
}

#[test]
fn odd_targets_are_clamped_not_trusted() {
    let (di, _) = plucks_with_gaps(SR, 12.0, 9);
    for target in [f32::NAN, f32::INFINITY, -3.0, 0.0] {
        let phrases = find_phrases(&di, SR, target);
        assert_contiguous(&phrases, di.len());
    }
}

#[test]
fn long_input_keeps_every_phrase_near_the_target() {
    let sample_rate = 22_050;
    let (di, _) = plucks_with_gaps(sample_rate, 180.0, 11);
    let phrases = find_phrases(&di, sample_rate, 4.0);
    assert_contiguous(&phrases, di.len());
    assert_lengths(&phrases, sample_rate);
}
