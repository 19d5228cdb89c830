//! Chapters: one per intro card, A/B segment and outro card, on the video's timeline;
//! as YouTube's description format (`chapters.txt`) and as ffmpeg metadata (MP4 chapters).

use serde::{Deserialize, Serialize};

use super::VideoPlan;

/// One chapter, in milliseconds of the video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chapter {
    pub start_ms: f64,
    pub end_ms: f64,
    pub title: String,
}

/// The chapters of `plan` for an A/B audio of `audio_seconds`: intro from 0, each
/// segment shifted by the intro (gaps between segments join the previous chapter), then
/// the outro cards. Segments with non-finite times are skipped.
pub fn chapters(plan: &VideoPlan, audio_seconds: f64) -> Vec<Chapter> {
    let intro_ms = plan.intro_seconds() * 1000.0;
    let audio_ms = audio_seconds.max(0.0) * 1000.0;
    let mut result = Vec::new();
    if let Some(intro) = &plan.intro {
        result.push(Chapter {
            start_ms: 0.0,
            end_ms: intro_ms,
            title: intro.card.chapter_title(),
        });
    }
    let mut segments: Vec<_> = plan
        .segments
        .iter()
        .filter(|s| s.start_ms.is_finite() && s.end_ms.is_finite() && s.start_ms < audio_ms)
        .collect();
    segments.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    for (index, segment) in segments.iter().enumerate() {
        // The first chapter of the audio starts where the audio does, so the list has
        // no hole (YouTube needs the first chapter at 0:00).
        let start = if index == 0 {
            0.0
        } else {
            segment.start_ms.max(0.0)
        };
        let end = segments
            .get(index + 1)
            .map_or(audio_ms, |next| next.start_ms.min(audio_ms));
        let title = plan.chains.get(segment.chain).map_or_else(
            || format!("Chain {}", segment.chain + 1),
            |c| c.title.clone(),
        );
        result.push(Chapter {
            start_ms: intro_ms + start,
            end_ms: intro_ms + end,
            title: crate::text::clean(&title),
        });
    }
    let mut at = intro_ms + audio_ms;
    for card in &plan.outro {
        let end = at + card.seconds.max(0.0) * 1000.0;
        result.push(Chapter {
            start_ms: at,
            end_ms: end,
            title: crate::text::clean(&card.card.chapter_title()),
        });
        at = end;
    }
    result
}

/// `m:ss` (or `h:mm:ss` from an hour), rounded down to the second.
pub fn timestamp(ms: f64) -> String {
    let total = (ms.max(0.0) / 1000.0).floor() as u64;
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes}:{seconds:02}")
    }
}

/// YouTube's chapter list: one `m:ss Title` line per chapter.
pub fn chapters_txt(chapters: &[Chapter]) -> String {
    chapters
        .iter()
        .map(|c| format!("{} {}\n", timestamp(c.start_ms), c.title))
        .collect()
}

/// ffmpeg's metadata file with the chapters (1 ms time base).
pub(crate) fn ffmetadata(title: &str, chapters: &[Chapter]) -> String {
    let escape = |text: &str| {
        let mut out = String::new();
        for c in crate::text::clean(text).chars() {
            if matches!(c, '=' | ';' | '#' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out
    };
    let mut text = format!(";FFMETADATA1\ntitle={}\n", escape(title));
    for chapter in chapters {
        let start = chapter.start_ms.round().max(0.0) as u64;
        let end = (chapter.end_ms.round().max(0.0) as u64).max(start + 1);
        text.push_str(&format!(
            "[CHAPTER]\nTIMEBASE=1/1000\nSTART={start}\nEND={end}\ntitle={}\n",
            escape(&chapter.title)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::{Card, ChainCard, Segment, TimedCard};

    fn plan() -> VideoPlan {
        VideoPlan {
            header: String::new(),
            chains: vec![
                ChainCard {
                    title: "Clean".into(),
                    lines: vec![],
                    accent: 0,
                },
                ChainCard {
                    title: "Lead; #1 = loud".into(),
                    lines: vec![],
                    accent: 1,
                },
            ],
            segments: vec![
                Segment {
                    start_ms: 0.0,
                    end_ms: 4100.0,
                    chain: 0,
                },
                Segment {
                    start_ms: 4100.0,
                    end_ms: 8000.0,
                    chain: 1,
                },
            ],
            intro: Some(TimedCard {
                card: Card::Intro {
                    title: "t".into(),
                    description: String::new(),
                    note: String::new(),
                },
                seconds: 3.0,
            }),
            outro: vec![TimedCard {
                card: Card::Table {
                    heading: "Results".into(),
                    columns: vec![],
                    rows: vec![],
                },
                seconds: 5.0,
            }],
        }
    }

    #[test]
    fn chapters_follow_intro_segments_and_outro() {
        let list = chapters(&plan(), 8.0);
        let text = chapters_txt(&list);
        assert_eq!(
            text,
            "0:00 Intro\n0:03 Clean\n0:07 Lead; #1 = loud\n0:11 Results\n"
        );
        assert_eq!(list.last().map(|c| c.end_ms), Some(16_000.0));
        let meta = ffmetadata("x", &list);
        assert!(meta.contains("title=Lead\\; \\#1 \\= loud\n"), "{meta}");
        assert!(meta.contains("START=7100\nEND=11000\n"), "{meta}");
    }

    #[test]
    fn timestamps_round_down_and_grow_hours() {
        assert_eq!(timestamp(59_999.0), "0:59");
        assert_eq!(timestamp(3_725_000.0), "1:02:05");
        assert_eq!(timestamp(f64::NAN), "0:00");
    }
}
