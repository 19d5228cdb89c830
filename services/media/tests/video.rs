//! Title-card video: ffprobe checks streams and duration; cancellation and
//! a missing ffmpeg give clean errors. Needs Debian's ffmpeg installed.

#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the point

mod common;

use std::cell::Cell;
use std::path::Path;
use std::process::Command;

use common::tone;
use gts_media::MediaError;
use gts_media::assembly::{Phrase, assemble_ab};
use gts_media::encode::write_wav;
use gts_media::video::{TitleCard, VideoOptions, cards_from_cues, render_card_png, render_video};

/// An A/B WAV at 44.1 kHz (so ffmpeg must resample to 48 kHz) and its cards.
fn ab_fixture(dir: &Path) -> (std::path::PathBuf, Vec<TitleCard>, f64) {
    let sr = 44_100;
    let chains: Vec<Vec<f32>> = [220.0, 330.0, 440.0]
        .iter()
        .map(|&f| tone(f, sr, 3 * sr as usize, 0.3))
        .collect();
    let refs: Vec<&[f32]> = chains.iter().map(Vec::as_slice).collect();
    let phrases = [
        Phrase {
            start: 0,
            end: 44_100 + 11_025,
        },
        Phrase {
            start: 44_100 + 11_025,
            end: 3 * 44_100,
        },
    ];
    let track = assemble_ab(&refs, sr, &phrases, 10.0).unwrap();
    let wav = dir.join("ab.wav");
    write_wav(&wav, &track.samples, sr).unwrap();
    let titles: Vec<String> = ["Clean Fender", "Plexi crunch", "5150 lead"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let lines = vec![
        vec![
            "NAM: Twin Reverb (clean)".to_owned(),
            "IR: 1x12 open back".to_owned(),
        ],
        vec![
            "NAM: JCM800 2203".to_owned(),
            "IR: 4x12 V30 SM57".to_owned(),
            "Delay: slapback".to_owned(),
        ],
        vec![
            "NAM: 5150 lead channel".to_owned(),
            "Reverb: hall".to_owned(),
        ],
    ];
    let cards = cards_from_cues(&track.cues, &titles, &lines);
    let seconds = track.samples.len() as f64 / f64::from(sr);
    (wav, cards, seconds)
}

fn ffprobe(path: &Path) -> serde_json::Value {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(output.status.success(), "ffprobe failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn video_is_1080p_h264_with_48k_aac_as_long_as_the_audio() {
    let dir = tempfile::tempdir().unwrap();
    let (wav, cards, seconds) = ab_fixture(dir.path());
    assert_eq!(cards.len(), 6);
    let mp4 = dir.path().join("ab.mp4");
    render_video(&mp4, &wav, &cards, &VideoOptions::default(), &|| false).unwrap();

    let probe = ffprobe(&mp4);
    let streams = probe["streams"].as_array().unwrap();
    let video = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(video["width"], 1920);
    assert_eq!(video["height"], 1080);
    assert_eq!(video["pix_fmt"], "yuv420p");
    let audio = streams.iter().find(|s| s["codec_type"] == "audio").unwrap();
    assert_eq!(audio["codec_name"], "aac");
    assert_eq!(audio["sample_rate"], "48000");
    let number = |v: &serde_json::Value| v.as_str().unwrap().parse::<f64>().unwrap();
    let container = number(&probe["format"]["duration"]);
    assert!(
        (container - seconds).abs() <= 0.05,
        "mp4 lasts {container} s, audio {seconds} s"
    );
    let video_seconds = number(&video["duration"]);
    assert!(
        (video_seconds - seconds).abs() <= 0.1,
        "video lasts {video_seconds} s"
    );
    // Nothing left behind but the input and the output.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["ab.mp4", "ab.wav"]);
}

#[test]
fn cards_render_with_long_text_and_many_lines() {
    let dir = tempfile::tempdir().unwrap();
    let card = TitleCard {
        start_ms: 0.0,
        end_ms: 1000.0,
        title: "A title far too long to fit on one line of a 1080p card, really very long"
            .repeat(2),
        lines: (0..30)
            .map(|i| format!("Block {i}: a long description\twith a tab"))
            .collect(),
        accent: 3,
    };
    let opts = VideoOptions {
        header: Some("Shootout: hostile text".to_owned()),
        ..VideoOptions::default()
    };
    let path = dir.path().join("card.png");
    render_card_png(&path, &card, &opts).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    if let Ok(keep) = std::env::var("GTS_MEDIA_KEEP_PLOTS") {
        std::fs::copy(&path, Path::new(&keep).join("card_long.png")).unwrap();
    }
}

#[test]
fn cancelling_kills_ffmpeg_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let (wav, cards, _) = ab_fixture(dir.path());
    let mp4 = dir.path().join("ab.mp4");
    // One call per shot while drawing the cards (6 cards, no gaps), then the
    // first poll right after ffmpeg starts: cancel there.
    let calls = Cell::new(0);
    let cancel = || {
        calls.set(calls.get() + 1);
        calls.get() > cards.len()
    };
    let result = render_video(&mp4, &wav, &cards, &VideoOptions::default(), &cancel);
    assert!(matches!(result, Err(MediaError::Cancelled)), "{result:?}");
    assert_eq!(calls.get(), cards.len() + 1, "cancelled while ffmpeg ran");
    assert!(!mp4.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only ab.wav remains"
    );
}

#[test]
fn a_missing_ffmpeg_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (wav, cards, _) = ab_fixture(dir.path());
    let opts = VideoOptions {
        ffmpeg: "/nonexistent/ffmpeg".into(),
        ..VideoOptions::default()
    };
    let result = render_video(&dir.path().join("x.mp4"), &wav, &cards, &opts, &|| false);
    let Err(error @ MediaError::FfmpegMissing(_)) = result else {
        panic!("expected FfmpegMissing, got {result:?}");
    };
    assert!(error.to_string().contains("apt-get install"));
}

#[test]
fn bad_audio_and_odd_cards_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    let not_wav = dir.path().join("noise.wav");
    std::fs::write(&not_wav, b"not a wav file").unwrap();
    let result = render_video(
        &dir.path().join("x.mp4"),
        &not_wav,
        &[],
        &VideoOptions::default(),
        &|| false,
    );
    assert!(matches!(result, Err(MediaError::Wav(_))), "{result:?}");

    // Cards out of order, overlapping, past the end, NaN: still a valid video
    // exactly as long as the audio.
    let (wav, _, seconds) = ab_fixture(dir.path());
    let card = |start_ms: f64, end_ms: f64| TitleCard {
        start_ms,
        end_ms,
        title: format!("{start_ms}"),
        lines: Vec::new(),
        accent: 0,
    };
    let cards = [
        card(4000.0, 99_000.0),
        card(500.0, 2500.0),
        card(2000.0, 3000.0),
        card(f64::NAN, 1.0),
    ];
    let mp4 = dir.path().join("odd.mp4");
    render_video(&mp4, &wav, &cards, &VideoOptions::default(), &|| false).unwrap();
    let probe = ffprobe(&mp4);
    let duration: f64 = probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (duration - seconds).abs() <= 0.05,
        "{duration} vs {seconds}"
    );
}
