//! Card timeline: turn cue lists into cards and cards into an ffconcat list
//! whose durations add up exactly to the audio's length.

use super::TitleCard;
use crate::assembly::Cue;

/// One card per cue: the chain's title and lines, accent = chain index.
/// Cues naming a chain without a title get "Chain N".
pub fn cards_from_cues(
    cues: &[Cue],
    chain_titles: &[String],
    chain_lines: &[Vec<String>],
) -> Vec<TitleCard> {
    cues.iter()
        .map(|cue| TitleCard {
            start_ms: cue.start_ms,
            end_ms: cue.end_ms,
            title: chain_titles
                .get(cue.chain)
                .cloned()
                .unwrap_or_else(|| format!("Chain {}", cue.chain + 1)),
            lines: chain_lines.get(cue.chain).cloned().unwrap_or_default(),
            accent: cue.chain,
        })
        .collect()
}

/// A stretch of the video showing one card (`None` = blank filler).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shot {
    pub card: Option<usize>,
    pub start_us: u64,
    pub end_us: u64,
}

/// Covers `0..duration_us` with the cards (sorted by start, clipped, later
/// cards win overlaps) and blank filler in the gaps. Non-finite times drop
/// the card.
pub(crate) fn shots(cards: &[TitleCard], duration_us: u64) -> Vec<Shot> {
    let to_us = |ms: f64| (ms * 1000.0).round().clamp(0.0, duration_us as f64) as u64;
    let mut order: Vec<usize> = (0..cards.len())
        .filter(|&i| {
            cards
                .get(i)
                .is_some_and(|c| c.start_ms.is_finite() && c.end_ms.is_finite())
        })
        .collect();
    order.sort_by(|&a, &b| {
        let start = |i: usize| cards.get(i).map_or(0.0, |c| c.start_ms);
        start(a).total_cmp(&start(b))
    });
    let mut result: Vec<Shot> = Vec::new();
    let mut cursor = 0u64;
    for index in order {
        let Some(card) = cards.get(index) else {
            continue;
        };
        let start = to_us(card.start_ms).max(cursor);
        let end = to_us(card.end_ms);
        if end <= start {
            continue;
        }
        if start > cursor {
            result.push(Shot {
                card: None,
                start_us: cursor,
                end_us: start,
            });
        }
        result.push(Shot {
            card: Some(index),
            start_us: start,
            end_us: end,
        });
        cursor = end;
    }
    if cursor < duration_us {
        result.push(Shot {
            card: None,
            start_us: cursor,
            end_us: duration_us,
        });
    }
    result
}

/// Opens each image at 1000 fps, so the stream's time base is 1 ms: at the
/// image demuxer's default 25 fps every switch would snap to 40 ms steps.
const FRAMERATE_OPTION: &str = "option framerate 1000";

/// ffconcat text: each shot split into frames of at most `max_frame_us`.
/// `file_for(shot)` names the PNG. The last file is listed twice, as the
/// concat demuxer otherwise ignores the final duration.
pub(crate) fn ffconcat(
    shots: &[Shot],
    max_frame_us: u64,
    file_for: impl Fn(&Shot) -> String,
) -> String {
    let mut text = String::from("ffconcat version 1.0\n");
    let max_frame_us = max_frame_us.max(1000);
    let mut last_file = None;
    for shot in shots {
        let file = file_for(shot);
        let mut at = shot.start_us;
        while at < shot.end_us {
            let next = (at + max_frame_us).min(shot.end_us);
            text.push_str(&format!(
                "file '{file}'\n{FRAMERATE_OPTION}\nduration {}.{:06}\n",
                (next - at) / 1_000_000,
                (next - at) % 1_000_000
            ));
            at = next;
        }
        last_file = Some(file);
    }
    if let Some(file) = last_file {
        text.push_str(&format!("file '{file}'\n{FRAMERATE_OPTION}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(start_ms: f64, end_ms: f64) -> TitleCard {
        TitleCard {
            start_ms,
            end_ms,
            title: String::new(),
            lines: Vec::new(),
            accent: 0,
        }
    }

    #[test]
    fn shots_cover_the_audio_exactly_and_fill_gaps() {
        let cards = [card(1000.0, 2000.0), card(0.0, 500.0), card(1500.0, 9000.0)];
        let timeline = shots(&cards, 4_000_000);
        let spans: Vec<(Option<usize>, u64, u64)> = timeline
            .iter()
            .map(|s| (s.card, s.start_us, s.end_us))
            .collect();
        assert_eq!(
            spans,
            [
                (Some(1), 0, 500_000),
                (None, 500_000, 1_000_000),
                (Some(0), 1_000_000, 2_000_000),
                (Some(2), 2_000_000, 4_000_000),
            ]
        );
    }

    #[test]
    fn ffconcat_durations_add_up_and_long_shots_are_split() {
        let timeline = shots(&[card(0.0, 4500.0)], 5_000_000);
        let text = ffconcat(&timeline, 2_000_000, |s| format!("{:?}.png", s.card));
        let total_us: u64 = text
            .lines()
            .filter_map(|line| line.strip_prefix("duration "))
            .map(|d| (d.parse::<f64>().unwrap_or(0.0) * 1e6).round() as u64)
            .sum();
        assert_eq!(total_us, 5_000_000);
        // 4.5 s card in 2 s frames (3) + 0.5 s blank (1) + the repeated last file.
        assert_eq!(text.matches("file '").count(), 5);
        assert!(text.ends_with("file 'None.png'\noption framerate 1000\n"));
    }
}
