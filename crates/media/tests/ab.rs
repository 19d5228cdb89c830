//! A/B assembly: cue accuracy, exact segment content, click-free switches.

#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the point

mod common;

use common::tone;
use gts_media::MediaError;
use gts_media::assembly::{AbTrack, Cue, Phrase, assemble_ab};

const SR: u32 = 48_000;
const CROSSFADE_MS: f32 = 10.0;

fn secs(s: f32) -> usize {
    (s * SR as f32) as usize
}

fn three_phrases() -> Vec<Phrase> {
    vec![
        Phrase {
            start: 0,
            end: secs(3.1),
        },
        Phrase {
            start: secs(3.1),
            end: secs(6.5),
        },
        Phrase {
            start: secs(6.5),
            end: secs(10.0),
        },
    ]
}

/// Power of `freq` in a Hann-windowed block centred on `centre` (Goertzel).
fn tone_power(signal: &[f32], centre: usize, freq: f32) -> f64 {
    let size = 240; // 5 ms: 10+ cycles of the test tones
    let coeff = 2.0 * (std::f64::consts::TAU * f64::from(freq) / f64::from(SR)).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for n in 0..size {
        let hann = 0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / size as f64).cos();
        let x = f64::from(signal[centre + n - size / 2]) * hann;
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

fn cue_sample(ms: f64) -> usize {
    (ms * f64::from(SR) / 1000.0).round() as usize
}

#[test]
fn cue_boundaries_match_the_audible_switch_within_one_ms() {
    let freqs = [2000.0, 3000.0, 4000.0];
    // The third chain has a 1 s tail: extra length must not shift anything.
    let chains: Vec<Vec<f32>> = freqs
        .iter()
        .enumerate()
        .map(|(i, &f)| tone(f, SR, secs(10.0) + if i == 2 { secs(1.0) } else { 0 }, 0.5))
        .collect();
    let refs: Vec<&[f32]> = chains.iter().map(Vec::as_slice).collect();
    let phrases = three_phrases();
    let track = assemble_ab(&refs, SR, &phrases, CROSSFADE_MS).unwrap();

    assert_eq!(track.samples.len(), 3 * secs(10.0));
    assert_eq!(track.cues.len(), 9);
    for (k, cue) in track.cues.iter().enumerate() {
        assert_eq!((cue.segment, cue.phrase, cue.chain), (k, k / 3, k % 3));
    }
    for pair in track.cues.windows(2) {
        assert_eq!(pair[0].end_ms, pair[1].start_ms);
    }
    assert_eq!(track.cues[0].start_ms, 0.0);
    assert!((track.cues[8].end_ms - 30_000.0).abs() < 1e-9);

    // Find where the incoming tone's power overtakes the outgoing one's.
    let one_ms = (SR / 1000) as usize;
    for pair in track.cues.windows(2) {
        let (out_freq, in_freq) = (freqs[pair[0].chain], freqs[pair[1].chain]);
        let expected = cue_sample(pair[1].start_ms);
        let crossing = (expected - 10 * one_ms..expected + 10 * one_ms)
            .find(|&n| {
                tone_power(&track.samples, n, in_freq) >= tone_power(&track.samples, n, out_freq)
            })
            .unwrap();
        assert!(
            crossing.abs_diff(expected) <= one_ms,
            "switch heard at sample {crossing}, cue says {expected}"
        );
    }
}

#[test]
fn segments_hold_the_exact_chain_audio_outside_the_crossfades() {
    let chains: Vec<Vec<f32>> = [2000.0, 3000.0]
        .iter()
        .map(|&f| tone(f, SR, secs(10.0), 0.5))
        .collect();
    let refs: Vec<&[f32]> = chains.iter().map(Vec::as_slice).collect();
    let phrases = three_phrases();
    let track = assemble_ab(&refs, SR, &phrases, CROSSFADE_MS).unwrap();
    let half = secs(CROSSFADE_MS / 2000.0);
    for cue in &track.cues {
        let start = cue_sample(cue.start_ms);
        let end = cue_sample(cue.end_ms);
        let phrase = phrases[cue.phrase];
        for n in start + half..end - half {
            let source = phrase.start + (n - start);
            assert_eq!(
                track.samples[n], chains[cue.chain][source],
                "segment {}",
                cue.segment
            );
        }
        // Inside the crossfade the output is a mix, not the pure chain.
        if cue.segment > 0 {
            let n = start;
            assert_ne!(track.samples[n], chains[cue.chain][phrase.start]);
        }
    }
}

/// Largest sample-to-sample step over the crossfade around each switch.
fn switch_jumps(track: &AbTrack, half: usize) -> Vec<f32> {
    track.cues[1..]
        .iter()
        .map(|cue| {
            let switch = cue_sample(cue.start_ms);
            track.samples[switch - half - 1..switch + half + 1]
                .windows(2)
                .map(|w| (w[1] - w[0]).abs())
                .fold(0.0, f32::max)
        })
        .collect()
}

#[test]
fn switches_are_click_free() {
    // Low tones with unrelated phases: a hard switch jumps by up to the sum
    // of the amplitudes, while each tone alone moves at most
    // 2·A·sin(πf/sr) per sample.
    let specs = [(101.3f32, 0.5f32), (153.7, 0.5), (231.1, 0.4)];
    let chains: Vec<Vec<f32>> = specs
        .iter()
        .map(|&(f, a)| tone(f, SR, secs(10.0), a))
        .collect();
    let refs: Vec<&[f32]> = chains.iter().map(Vec::as_slice).collect();
    let phrases = three_phrases();
    let width = secs(CROSSFADE_MS / 1000.0);
    let half = width / 2;
    let slope = |(f, a): (f32, f32)| 2.0 * a * (std::f32::consts::PI * f / SR as f32).sin();

    // Bound for y = a·g + b·h with g = cos, h = sin of (π/2)·x over `width`
    // samples: |Δy| ≤ |Δa| + |Δb| + (|a| + |b|)·(π/2)/width (each gain moves
    // at most (π/2)/width per sample). A small float allowance on top.
    let bound = |out: usize, inc: usize| {
        slope(specs[out])
            + slope(specs[inc])
            + (specs[out].1 + specs[inc].1) * std::f32::consts::FRAC_PI_2 / width as f32
            + 1e-6
    };
    let smooth = assemble_ab(&refs, SR, &phrases, CROSSFADE_MS).unwrap();
    let jumps = switch_jumps(&smooth, half);
    for (cue, jump) in smooth.cues[1..].iter().zip(&jumps) {
        let limit = bound(smooth.cues[cue.segment - 1].chain, cue.chain);
        assert!(
            *jump <= limit,
            "segment {}: jump {jump} > {limit}",
            cue.segment
        );
    }

    // The same check must catch a hard switch, or it proves nothing.
    let hard = assemble_ab(&refs, SR, &phrases, 0.0).unwrap();
    let hard_jumps = switch_jumps(&hard, half);
    let violations = hard.cues[1..]
        .iter()
        .zip(&hard_jumps)
        .filter(|(cue, jump)| **jump > bound(hard.cues[cue.segment - 1].chain, cue.chain))
        .count();
    assert!(
        violations >= 4,
        "hard switches should click: {hard_jumps:?}"
    );
}

#[test]
fn the_track_starts_and_ends_without_a_step() {
    let chains = [tone(1000.0, SR, secs(4.0), 0.5), vec![0.9; secs(4.0)]];
    let refs: Vec<&[f32]> = chains.iter().map(Vec::as_slice).collect();
    let phrases = [Phrase {
        start: secs(1.0),
        end: secs(3.0),
    }];
    let track = assemble_ab(&refs, SR, &phrases, CROSSFADE_MS).unwrap();
    assert!(track.samples[0].abs() < 0.01);
    assert!(track.samples[track.samples.len() - 1].abs() < 0.01);
}

#[test]
fn chains_of_different_lengths_are_padded_with_silence() {
    let long = tone(440.0, SR, secs(12.0), 0.5);
    let short = tone(660.0, SR, secs(8.0), 0.5);
    let empty: Vec<f32> = Vec::new();
    let refs: Vec<&[f32]> = vec![&long, &short, &empty];
    let phrases = three_phrases();
    let track = assemble_ab(&refs, SR, &phrases, CROSSFADE_MS).unwrap();
    assert_eq!(track.samples.len(), 3 * secs(10.0));
    assert!(track.samples.iter().all(|s| s.is_finite()));
    // Chain 1 in phrase 2 (segment 7) runs out 1.5 s in: silence from there.
    let cue = &track.cues[7];
    let runs_out = cue_sample(cue.start_ms) + secs(1.5);
    let before_fade = cue_sample(cue.end_ms) - secs(0.005);
    assert!(
        track.samples[runs_out + 1..before_fade]
            .iter()
            .all(|&s| s == 0.0)
    );
    assert!(
        track.samples[runs_out - 100..runs_out]
            .iter()
            .any(|&s| s != 0.0)
    );
    // The empty chain is silent except where the crossfades reach into it.
    let silent = &track.cues[8];
    let inner = cue_sample(silent.start_ms) + secs(0.005)..cue_sample(silent.end_ms);
    assert!(track.samples[inner].iter().all(|&s| s == 0.0));
}

#[test]
fn a_single_chain_plays_straight_through() {
    let chain = tone(440.0, SR, secs(10.0), 0.5);
    let refs: Vec<&[f32]> = vec![&chain];
    let track = assemble_ab(&refs, SR, &three_phrases(), CROSSFADE_MS).unwrap();
    let half = secs(0.005);
    assert_eq!(
        &track.samples[half..secs(10.0) - half],
        &chain[half..secs(10.0) - half]
    );
}

#[test]
fn non_finite_samples_never_reach_the_output() {
    let chains = [vec![f32::NAN; secs(8.0)], vec![f32::INFINITY; secs(8.0)]];
    let refs: Vec<&[f32]> = chains.iter().map(Vec::as_slice).collect();
    let phrases = [
        Phrase {
            start: 0,
            end: secs(4.0),
        },
        Phrase {
            start: secs(4.0),
            end: secs(8.0),
        },
    ];
    let track = assemble_ab(&refs, SR, &phrases, CROSSFADE_MS).unwrap();
    assert!(track.samples.iter().all(|&s| s == 0.0));
}

#[test]
fn bad_arguments_are_errors() {
    let chain = tone(440.0, SR, secs(1.0), 0.5);
    let refs: Vec<&[f32]> = vec![&chain];
    let ok = [Phrase {
        start: 0,
        end: secs(1.0),
    }];
    let invalid = |r: Result<AbTrack, MediaError>| matches!(r, Err(MediaError::InvalidInput(_)));
    assert!(invalid(assemble_ab(&[], SR, &ok, 10.0)));
    assert!(invalid(assemble_ab(&refs, 0, &ok, 10.0)));
    assert!(invalid(assemble_ab(&refs, SR, &ok, f32::NAN)));
    assert!(invalid(assemble_ab(&refs, SR, &ok, -1.0)));
    assert!(invalid(assemble_ab(
        &refs,
        SR,
        &[Phrase { start: 10, end: 5 }],
        10.0
    )));
    // Phrases beyond the chain, zero-length phrases, and no phrases are fine.
    let odd = [
        Phrase {
            start: secs(5.0),
            end: secs(6.0),
        },
        Phrase { start: 3, end: 3 },
    ];
    assert_eq!(
        assemble_ab(&refs, SR, &odd, 10.0).unwrap().samples.len(),
        secs(1.0)
    );
    assert!(
        assemble_ab(&refs, SR, &[], 10.0)
            .unwrap()
            .samples
            .is_empty()
    );
}

#[test]
fn cue_list_round_trips_through_json() {
    let chains = [
        tone(440.0, SR, secs(10.0), 0.5),
        tone(660.0, SR, secs(10.0), 0.5),
    ];
    let refs: Vec<&[f32]> = chains.iter().map(Vec::as_slice).collect();
    let track = assemble_ab(&refs, SR, &three_phrases(), CROSSFADE_MS).unwrap();
    let json = track.cues_json().unwrap();
    let back: Vec<Cue> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, track.cues);
    assert!(json.contains("\"start_ms\""));
}
