//! How a render is presented: the cards (gear names from the spec's
//! [`gts_render::display::GearInfo`]), the video's style (intro, outro, blind mode), the
//! seeded blind shuffle, the video plan and its chapters.
//!
//! Contract: everything here is a pure function of the spec, the chain reports and the
//! cue list, so the manifest can record exactly what the video showed and a render from
//! the manifest shows it again. Names come from the gear (TONE3000 tone and model, an
//! upload's file name), never from ids. Blind mode shuffles the play order with a seed:
//! the spec's, or one derived from the inputs' hashes and the chain names, so the same
//! spec always gives the same order and the manifest records the seed either way.

use gts_render::inputs::InputFile;
use gts_render::report::ChainReport;
use gts_render::spec::{Block, ShootoutSpec};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::assembly::Cue;
use crate::video::{Card, ChainCard, Chapter, TableRow, TimedCard, VideoPlan, chapters};

/// Intro card duration, seconds.
pub const INTRO_SECONDS: f64 = 4.0;
/// Results and reveal card durations, seconds.
pub const OUTRO_SECONDS: f64 = 6.0;

/// One letter of a blind render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlindLetter {
    pub letter: String,
    /// Index of the chain in the spec.
    pub chain: usize,
    pub name: String,
    /// The chain's gear: the lines of its NAM and IR blocks (effects left out).
    pub blocks: Vec<String>,
}

/// The blind shuffle: seed, play order and the letters' meaning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlindRecord {
    pub seed: u64,
    /// `order[k]` is the spec index of the chain played k-th (letter k).
    pub order: Vec<usize>,
    pub letters: Vec<BlindLetter>,
}

/// What the video and chapters showed, recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresentationRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blind: Option<BlindRecord>,
    /// The card of each chain, in spec order.
    pub cards: Vec<ChainCard>,
    pub chapters: Vec<Chapter>,
}

/// "A", "B", … "Z", "AA", …
pub fn letter(index: usize) -> String {
    let mut n = index;
    let mut out = Vec::new();
    loop {
        out.push(char::from(b'A' + (n % 26) as u8));
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    out.iter().rev().collect()
}

/// The blind seed: the spec's, or SHA-256 of the inputs' hashes and the chain names.
pub fn blind_seed(spec: &ShootoutSpec, inputs: &[InputFile]) -> u64 {
    if let Some(seed) = spec.output.video_style.blind_seed {
        return seed;
    }
    let mut hasher = Sha256::new();
    for input in inputs {
        hasher.update(input.sha256.as_bytes());
    }
    for chain in &spec.chains {
        hasher.update(chain.name.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(bytes)
}

/// A Fisher–Yates shuffle of `0..count` driven by SplitMix64 from `seed`.
pub fn shuffled_order(count: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..count).collect();
    for i in (1..count).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// The play order: the blind shuffle, or the spec's order.
pub fn play_order(spec: &ShootoutSpec, inputs: &[InputFile]) -> Vec<usize> {
    if spec.output.video_style.blind {
        shuffled_order(spec.chains.len(), blind_seed(spec, inputs))
    } else {
        (0..spec.chains.len()).collect()
    }
}

/// The character words of a chain for the results card: brightness, mids and
/// compression ("Brighter, forward mids, more compressed"), or "Balanced".
fn character_words(evaluation: &[String]) -> String {
    let words: Vec<String> = evaluation
        .iter()
        .map(|s| character_word(s))
        .filter(|w| {
            let w = w.to_lowercase();
            w == "brighter" || w == "darker" || w.ends_with(" mids") || w.ends_with(" compressed")
        })
        .collect();
    if words.is_empty() {
        return "Balanced".to_owned();
    }
    let mut text = words.join(", ").to_lowercase();
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + text.get(1..).unwrap_or_default();
    }
    text
}

/// A short word for an evaluation sentence ("Brighter", "Forward mids", ...).
fn character_word(sentence: &str) -> String {
    let head = sentence
        .split([':', '.', '('])
        .next()
        .unwrap_or_default()
        .trim();
    let head = head.split(" than ").next().unwrap_or(head).trim();
    if head.to_lowercase().contains("close to") || head.to_lowercase().contains("only one") {
        "Balanced".to_owned()
    } else {
        head.to_owned()
    }
}

fn minus(value: f64) -> String {
    format!("{value:.1}").replace('-', "−")
}

/// The lines of chain `index`'s NAM and IR blocks (a report has one line per block).
fn gear_lines(spec: &ShootoutSpec, chains: &[ChainReport], index: usize) -> Vec<String> {
    let (Some(chain), Some(report)) = (spec.chains.get(index), chains.get(index)) else {
        return Vec::new();
    };
    chain
        .blocks
        .iter()
        .zip(&report.blocks)
        .filter(|(block, _)| matches!(block, Block::Nam { .. } | Block::Cabinet { .. }))
        .map(|(_, line)| line.clone())
        .collect()
}

/// The video plan and the record of what it shows.
pub fn plan(
    spec: &ShootoutSpec,
    chains: &[ChainReport],
    inputs: &[InputFile],
    cues: &[Cue],
) -> (VideoPlan, PresentationRecord) {
    let style = &spec.output.video_style;
    let order = play_order(spec, inputs);
    // Letter of each spec chain (its position in the play order).
    let mut letter_of = vec![0usize; spec.chains.len()];
    for (position, &chain) in order.iter().enumerate() {
        if let Some(slot) = letter_of.get_mut(chain) {
            *slot = position;
        }
    }
    let title_of = |index: usize| -> String {
        if style.blind {
            format!(
                "Tone {}",
                letter(letter_of.get(index).copied().unwrap_or(index))
            )
        } else {
            chains
                .get(index)
                .map_or_else(|| format!("Chain {}", index + 1), |c| c.name.clone())
        }
    };
    let cards: Vec<ChainCard> = (0..spec.chains.len())
        .map(|index| ChainCard {
            title: title_of(index),
            lines: if style.blind {
                Vec::new()
            } else {
                chains
                    .get(index)
                    .map(|c| {
                        let mut lines = if c.blocks.is_empty() {
                            vec!["DI only".to_owned()]
                        } else {
                            c.blocks.clone()
                        };
                        // Typographic minus signs, like the rest of the cards.
                        lines.push(
                            c.input
                                .describe(spec.output.input_level_dbfs)
                                .replace('-', "−"),
                        );
                        lines
                    })
                    .unwrap_or_default()
            },
            // Blind: colours follow the letters, so they give nothing away.
            accent: if style.blind {
                letter_of.get(index).copied().unwrap_or(index)
            } else {
                index
            },
        })
        .collect();
    let o = &spec.output;
    let intro = style.intro.then(|| TimedCard {
        card: Card::Intro {
            title: spec.name.clone(),
            description: spec.description.clone(),
            note: format!(
                "Every tone levelled to {:.0} LUFS, same DI, same input level ({:.0} dBFS)",
                o.loudness_target_lufs, o.input_level_dbfs
            )
            .replace('-', "−"),
        },
        seconds: INTRO_SECONDS,
    });
    let mut outro = Vec::new();
    if style.outro {
        let rows = order
            .iter()
            .filter_map(|&index| {
                let report = chains.get(index)?;
                Some(TableRow {
                    accent: cards.get(index).map_or(index, |c| c.accent),
                    cells: vec![
                        title_of(index),
                        format!("{} LUFS", minus(report.level.output_lufs)),
                        format!("{} dBTP", minus(report.level.true_peak_dbtp)),
                        character_words(&report.evaluation),
                    ],
                })
            })
            .collect();
        outro.push(TimedCard {
            card: Card::Table {
                heading: "Results".to_owned(),
                columns: ["Tone", "Loudness", "True peak", "Character"]
                    .map(str::to_owned)
                    .to_vec(),
                rows,
            },
            seconds: OUTRO_SECONDS,
        });
    }
    let blind = style.blind.then(|| BlindRecord {
        seed: blind_seed(spec, inputs),
        order: order.clone(),
        letters: order
            .iter()
            .enumerate()
            .map(|(position, &chain)| BlindLetter {
                letter: letter(position),
                chain,
                name: chains
                    .get(chain)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                blocks: gear_lines(spec, chains, chain),
            })
            .collect(),
    });
    if let Some(record) = &blind {
        outro.push(TimedCard {
            card: Card::Table {
                heading: "The reveal".to_owned(),
                columns: vec!["Tone".to_owned(), "Gear".to_owned()],
                rows: record
                    .letters
                    .iter()
                    .map(|l| TableRow {
                        accent: cards.get(l.chain).map_or(l.chain, |c| c.accent),
                        cells: vec![
                            format!("Tone {}", l.letter),
                            if l.blocks.is_empty() {
                                l.name.clone()
                            } else {
                                format!("{}: {}", l.name, l.blocks.join(" → "))
                            },
                        ],
                    })
                    .collect(),
            },
            seconds: OUTRO_SECONDS,
        });
    }
    let plan = VideoPlan {
        header: spec.name.clone(),
        chains: cards.clone(),
        segments: VideoPlan::segments_from_cues(cues),
        intro: if spec.output.video { intro } else { None },
        outro: if spec.output.video { outro } else { Vec::new() },
    };
    let audio_seconds = cues.last().map_or(0.0, |c| c.end_ms / 1000.0);
    let record = PresentationRecord {
        blind,
        cards,
        chapters: chapters(&plan, audio_seconds),
    };
    (plan, record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_run_past_z() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
    }

    #[test]
    fn the_shuffle_is_a_seeded_permutation() {
        let a = shuffled_order(8, 42);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..8).collect::<Vec<_>>());
        assert_eq!(a, shuffled_order(8, 42));
        assert_ne!(a, shuffled_order(8, 43));
        assert_ne!(a, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn character_words_summarise_the_evaluation() {
        assert_eq!(
            character_word("Brighter than the average by 300 Hz (x)."),
            "Brighter"
        );
        assert_eq!(character_word("Forward mids: 1.2 dB more"), "Forward mids");
        let evaluation = [
            "Brighter than the average by 300 Hz (spectral centroid 2000 Hz).",
            "Heavier low end: 2.0 dB more energy below 250 Hz.",
            "Scooped mids: 1.5 dB less 250 Hz–2 kHz energy than the average.",
            "More compressed: crest factor 1.2 dB lower than the average.",
            "Narrower dynamic range: 3.0 dB less between loud and quiet passages.",
        ]
        .map(str::to_owned);
        assert_eq!(
            character_words(&evaluation),
            "Brighter, scooped mids, more compressed"
        );
        assert_eq!(
            character_words(&["Close to the shootout's average in brightness.".to_owned()]),
            "Balanced"
        );
    }
}
