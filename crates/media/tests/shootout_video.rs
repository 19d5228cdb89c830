//! The video through the engine: gear names on the cards, chapters.txt matching the cue
//! list to the second, blind mode (letters only, the seeded order recorded in the manifest
//! and kept by a render from it, the reveal card showing the manifest's mapping), and
//! progress that keeps moving while the video encodes. Needs Debian's ffmpeg.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::sync::Mutex;

use gts_media::shootout::presentation::INTRO_SECONDS;
use gts_media::video::{Card, TableRow, TimedCard, VideoOptions, VideoPlan, render_frame_png};
use gts_media::{Manifest, render_shootout};
use gts_render::synth::plucked_di;
use gts_render::{CancelToken, NoProgress, Progress, ProgressSink, ShootoutSpec, Stage};
use gts_testkit::media::{ffprobe, fixtures, frame_at, number, read_png, write_wav};

fn three_chain_spec(dir: &Path, blind: bool) -> ShootoutSpec {
    let di = dir.join("di.wav");
    write_wav(&di, &[plucked_di(48_000, 7.0, 7)], 48_000, 24, false);
    let fx = fixtures();
    let toml = format!(
        r#"
name = "Which one is the real amp?"
description = "Three captures, one DI."
[[di_tracks]]
path = "{di}"

[[chains]]
name = "Plexi"
blocks = [
  {{ kind = "nam", path = "{fx}/nam/wavenet.nam", gear = {{ name = "Marshall Super Lead 1959", model = "Plexi bright ch", author = "brucew", size = "nano", architecture = "A1" }} }},
  {{ kind = "cabinet", path = "{fx}/irs/4x12-classic.wav", gear = {{ name = "4x12 classic" }} }},
]

[[chains]]
name = "Deluxe"
blocks = [
  {{ kind = "nam", path = "{fx}/nam/lstm.nam", gear = {{ name = "Fender Deluxe Reverb Clean", model = "Deluxe Reverb vol 4 LSTM" }} }},
]

[[chains]]
name = "Just the DI"

[output]
video = true
video_style = {{ blind = {blind} }}
"#,
        di = di.display(),
        fx = fx.display(),
    );
    ShootoutSpec::from_toml_str(&toml, dir).unwrap()
}

struct Recorder(Mutex<Vec<Progress>>);

impl ProgressSink for Recorder {
    fn report(&self, progress: Progress) {
        self.0.lock().unwrap().push(progress);
    }
}

fn manifest(path: &Path) -> Manifest {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ffprobe_chapters(mp4: &Path) -> Vec<String> {
    ffprobe(mp4, &["-show_chapters"])["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tags"]["title"].as_str().unwrap().to_owned())
        .collect()
}

fn mean_difference(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from((i16::from(*x) - i16::from(*y)).unsigned_abs()))
        .sum::<f64>()
        / a.len() as f64
}

#[test]
fn cards_name_the_gear_and_chapters_match_the_cue_list_to_the_second() {
    let dir = tempfile::tempdir().unwrap();
    let spec = three_chain_spec(dir.path(), false);
    let out = dir.path().join("out");
    let recorder = Recorder(Mutex::new(Vec::new()));
    let report = render_shootout(&spec, &out, &recorder, &CancelToken::new()).unwrap();
    let kinds: Vec<&str> = report.artifacts.iter().map(|a| a.kind.as_str()).collect();
    assert!(
        kinds.contains(&"video_mp4") && kinds.contains(&"chapters_txt"),
        "{kinds:?}"
    );

    let manifest = manifest(&report.manifest_path);
    let presentation = manifest.presentation.clone().unwrap();
    assert!(presentation.blind.is_none());
    let plexi = &presentation.cards[0];
    assert_eq!(plexi.title, "Plexi");
    assert_eq!(
        plexi.lines,
        [
            "NAM: Marshall Super Lead 1959 · Plexi bright ch (nano, A1) · by brucew",
            "Cab IR: 4x12 classic",
            // The fixture model is calibrated (input_level_dbu +18.3).
            "Input calibrated: model +18.3 dBu, DI +12.0 dBu (−6.3 dB)",
        ]
    );
    assert_eq!(
        presentation.cards[2].lines,
        ["DI only", "Input RMS −18 dBFS"]
    );
    // The chain reports (metrics, manifest) name the gear too, never a file.
    assert!(manifest.chains[1].blocks[0].contains("Fender Deluxe Reverb Clean"));
    assert!(!manifest.chains[1].blocks[0].contains("lstm.nam"));

    // chapters.txt: Intro at 0:00, then each segment at intro + cue start, then Results.
    let chapters = std::fs::read_to_string(out.join("chapters.txt")).unwrap();
    let lines: Vec<&str> = chapters.lines().collect();
    let cues: Vec<gts_media::assembly::Cue> =
        serde_json::from_value(manifest.cues.clone()).unwrap();
    assert_eq!(lines.len(), 1 + cues.len() + 1, "{chapters}");
    assert_eq!(lines[0], "0:00 Intro");
    for (line, cue) in lines[1..].iter().zip(&cues) {
        let start = if cue.segment == 0 { 0.0 } else { cue.start_ms };
        let seconds = ((INTRO_SECONDS * 1000.0 + start) / 1000.0).floor() as u64;
        let expected = format!(
            "{}:{:02} {}",
            seconds / 60,
            seconds % 60,
            spec.chains[cue.chain].name
        );
        assert_eq!(*line, expected);
    }
    assert!(lines.last().unwrap().ends_with(" Results"));
    // The MP4 carries the same chapters.
    let titles = ffprobe_chapters(&out.join("ab.mp4"));
    let from_text: Vec<String> = lines
        .iter()
        .map(|l| l.split_once(' ').unwrap().1.to_owned())
        .collect();
    assert_eq!(titles, from_text);

    // The bar keeps moving while the video encodes.
    let seen = recorder.0.lock().unwrap();
    let artifacts: Vec<f32> = seen
        .iter()
        .filter(|p| p.stage == Stage::Artifacts)
        .map(|p| p.overall)
        .collect();
    let mut distinct = artifacts.clone();
    distinct.dedup();
    assert!(distinct.len() >= 10, "artifact progress: {artifacts:?}");
    // ... and has most of the bar to move through, not the last tenth of it.
    assert!(artifacts[0] <= 0.3, "artifacts start at {}", artifacts[0]);
    assert_eq!(seen.last().map(|p| p.overall), Some(1.0));
    assert!(artifacts.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn a_blind_render_shows_letters_only_and_reveals_the_manifests_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let spec = three_chain_spec(dir.path(), true);
    let out = dir.path().join("out");
    let report = render_shootout(&spec, &out, &NoProgress, &CancelToken::new()).unwrap();
    let manifest = manifest(&report.manifest_path);
    let presentation = manifest.presentation.clone().unwrap();
    let blind = presentation.blind.clone().unwrap();
    let mut sorted = blind.order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 1, 2], "the order is a permutation");

    // Cards: "Tone A/B/C" and nothing else; no chain name or gear anywhere on them.
    let names: Vec<&str> = spec.chains.iter().map(|c| c.name.as_str()).collect();
    for (index, card) in presentation.cards.iter().enumerate() {
        let position = blind.order.iter().position(|&c| c == index).unwrap();
        assert_eq!(card.title, format!("Tone {}", ["A", "B", "C"][position]));
        assert!(card.lines.is_empty(), "{card:?}");
    }
    // The A/B plays the letters in order, and the cue list names the real chains.
    let cues: Vec<gts_media::assembly::Cue> =
        serde_json::from_value(manifest.cues.clone()).unwrap();
    let first_round: Vec<usize> = cues.iter().take(3).map(|c| c.chain).collect();
    assert_eq!(first_round, blind.order);
    // Chapters (text and MP4) are letters and cards only.
    let titles = ffprobe_chapters(&out.join("ab.mp4"));
    assert_eq!(titles.last().map(String::as_str), Some("The reveal"));
    let chapters = std::fs::read_to_string(out.join("chapters.txt")).unwrap();
    for name in &names {
        assert!(!chapters.contains(name), "{name} in {chapters}");
        assert!(titles.iter().all(|t| !t.contains(name)));
    }
    for letter in &blind.letters {
        assert_eq!(letter.name, names[letter.chain]);
    }

    // The reveal card on screen is the manifest's mapping, not another one: compare the
    // decoded frame with the card drawn from the manifest and from a rotated mapping.
    let reveal = |rotate: usize| {
        let rows = (0..blind.letters.len())
            .map(|k| {
                let shown = &blind.letters[(k + rotate) % blind.letters.len()];
                TableRow {
                    accent: k,
                    cells: vec![
                        format!("Tone {}", blind.letters[k].letter),
                        if shown.blocks.is_empty() {
                            shown.name.clone()
                        } else {
                            format!("{}: {}", shown.name, shown.blocks.join(" → "))
                        },
                    ],
                }
            })
            .collect();
        VideoPlan {
            outro: vec![TimedCard {
                card: Card::Table {
                    heading: "The reveal".into(),
                    columns: vec!["Tone".into(), "Gear".into()],
                    rows,
                },
                seconds: 6.0,
            }],
            ..VideoPlan::default()
        }
    };
    let duration = number(&ffprobe(&out.join("ab.mp4"), &["-show_format"])["format"]["duration"]);
    let shown = frame_at(
        &out.join("ab.mp4"),
        duration - 2.0,
        &dir.path().join("shown.png"),
    )
    .rgb;
    let expected: Vec<Vec<u8>> = (0..3)
        .map(|rotate| {
            let path = dir.path().join(format!("expected-{rotate}.png"));
            render_frame_png(&path, &reveal(rotate), &VideoOptions::default(), 0.001, 1.0).unwrap();
            read_png(&path).rgb
        })
        .collect();
    assert!(
        mean_difference(&shown, &expected[0]) < 2.0,
        "the frame is the reveal card"
    );
    for other in &expected[1..] {
        // Where the two mappings draw differently, the frame looks like the manifest's.
        let mask: Vec<usize> = (0..other.len())
            .filter(|&i| (i16::from(other[i]) - i16::from(expected[0][i])).abs() > 60)
            .collect();
        assert!(mask.len() > 1000, "the mappings differ visibly");
        let near = |picture: &[u8]| {
            mask.iter()
                .map(|&i| f64::from((i16::from(shown[i]) - i16::from(picture[i])).unsigned_abs()))
                .sum::<f64>()
                / mask.len() as f64
        };
        let (right, wrong) = (near(&expected[0]), near(other));
        assert!(
            right * 3.0 < wrong,
            "reveal: {right} vs a wrong mapping {wrong}"
        );
    }

    // A render from the manifest keeps the seed and so the order.
    let again = Manifest::load_spec(&report.manifest_path).unwrap();
    assert_eq!(again.output.video_style.blind_seed, Some(blind.seed));
    assert_eq!(
        gts_media::shootout::presentation::play_order(&again, &manifest.inputs),
        blind.order
    );
    // An explicit seed is the seed.
    let mut seeded = spec.clone();
    seeded.output.video_style.blind_seed = Some(1234);
    assert_eq!(
        gts_media::shootout::presentation::blind_seed(&seeded, &manifest.inputs),
        1234
    );
}
