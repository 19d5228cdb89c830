//! The timeline video: ffprobe checks codec, profile, level, constant frame rate, audio,
//! chapters and `moov` first; frames extracted by ffmpeg at known times show the playhead
//! where the time says and the segment the cue list says; text is shaped with kerning and
//! long names are wrapped, never cut; cancellation and a missing ffmpeg give clean errors.
//! Needs Debian's ffmpeg installed.

#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the point

mod common;

use std::cell::Cell;
use std::path::{Path, PathBuf};

use common::tone;
use gts_media::MediaError;
use gts_media::assembly::{AbTrack, Phrase, assemble_ab};
use gts_media::encode::write_wav;
use gts_media::text::{Weight, clean, fonts};
use gts_media::video::{
    Card, ChainCard, StripGeometry, TableRow, TimedCard, VideoOptions, VideoPlan, chapters_txt,
    render_video,
};
use gts_testkit::media::{ffprobe, frame_at, number};

/// An A/B WAV at 44.1 kHz (so ffmpeg must resample to 48 kHz), its track and a plan.
fn ab_fixture(dir: &Path) -> (PathBuf, AbTrack, VideoPlan) {
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
    let names = ["Clean Fender", "Plexi crunch", "5150 lead"];
    let plan = VideoPlan {
        header: "Three amps".to_owned(),
        chains: names
            .iter()
            .enumerate()
            .map(|(accent, name)| ChainCard {
                title: (*name).to_owned(),
                lines: vec![format!("NAM: {name} capture"), "IR: 4x12 V30".to_owned()],
                accent,
            })
            .collect(),
        segments: VideoPlan::segments_from_cues(&track.cues),
        intro: None,
        outro: Vec::new(),
    };
    (wav, track, plan)
}

/// Top-level MP4 box names in file order.
fn top_level_boxes(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let mut at = 0usize;
    let mut names = Vec::new();
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        names.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        let size = if size == 1 {
            u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()) as usize
        } else {
            size
        };
        if size < 8 {
            break;
        }
        at += size;
    }
    names
}

#[test]
fn video_is_cfr_1080p_high_profile_with_aac_chapters_and_moov_first() {
    let dir = tempfile::tempdir().unwrap();
    let (wav, track, mut plan) = ab_fixture(dir.path());
    plan.intro = Some(TimedCard {
        card: Card::Intro {
            title: "Three amps".into(),
            description: "Which one would you record?".into(),
            note: "Every tone levelled to −14 LUFS, same DI, same input level".into(),
        },
        seconds: 2.0,
    });
    plan.outro = vec![TimedCard {
        card: Card::Table {
            heading: "Results".into(),
            columns: vec!["Tone".into(), "Loudness".into()],
            rows: vec![TableRow {
                accent: 0,
                cells: vec!["Clean Fender".into(), "−14.0 LUFS".into()],
            }],
        },
        seconds: 3.0,
    }];
    let mp4 = dir.path().join("ab.mp4");
    let progress = std::sync::Mutex::new(Vec::new());
    let report = render_video(
        &mp4,
        &wav,
        &plan,
        &VideoOptions::default(),
        &|f| progress.lock().unwrap().push(f),
        &|| false,
    )
    .unwrap();
    let audio_seconds = track.samples.len() as f64 / 44_100.0;
    let seconds = 2.0 + audio_seconds + 3.0;

    let probe = ffprobe(&mp4, &["-show_streams", "-show_format", "-show_chapters"]);
    let streams = probe["streams"].as_array().unwrap();
    let video = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(video["profile"], "High");
    assert!(video["level"].as_i64().unwrap() <= 42, "{}", video["level"]);
    assert_eq!(video["width"], 1920);
    assert_eq!(video["height"], 1080);
    assert_eq!(video["pix_fmt"], "yuv420p");
    assert_eq!(video["r_frame_rate"], "25/1");
    assert_eq!(video["avg_frame_rate"], "25/1", "constant frame rate");
    let frames = number(&video["nb_frames"]);
    assert_eq!(frames as u64, report.frames);
    assert!((frames / 25.0 - seconds).abs() <= 0.05, "{frames} frames");
    let audio = streams.iter().find(|s| s["codec_type"] == "audio").unwrap();
    assert_eq!(audio["codec_name"], "aac");
    assert_eq!(audio["sample_rate"], "48000");
    let container = number(&probe["format"]["duration"]);
    assert!(
        (container - seconds).abs() <= 0.05,
        "mp4 lasts {container} s, intro + audio + outro {seconds} s"
    );

    // Chapters: intro, one per segment, results; the same as chapters.txt.
    let chapters = probe["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 1 + track.cues.len() + 1);
    assert_eq!(chapters[0]["tags"]["title"], "Intro");
    for (chapter, cue) in chapters[1..].iter().zip(&track.cues) {
        assert_eq!(chapter["tags"]["title"], plan.chains[cue.chain].title);
        let start = number(&chapter["start_time"]);
        let expected = if cue.segment == 0 {
            0.0
        } else {
            cue.start_ms / 1000.0
        };
        assert!(
            (start - 2.0 - expected).abs() < 0.002,
            "{start} vs {expected}"
        );
    }
    assert_eq!(chapters.last().unwrap()["tags"]["title"], "Results");
    let text = chapters_txt(&report.chapters);
    assert!(
        text.starts_with("0:00 Intro\n0:02 Clean Fender\n"),
        "{text}"
    );
    assert_eq!(text.lines().count(), chapters.len());

    let boxes = top_level_boxes(&mp4);
    let moov = boxes.iter().position(|b| b == "moov").unwrap();
    let mdat = boxes.iter().position(|b| b == "mdat").unwrap();
    assert!(moov < mdat, "moov first: {boxes:?}");

    let progress = progress.into_inner().unwrap();
    assert!(progress.len() >= 3, "progress moves during the encode");
    assert!(progress.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(progress.last(), Some(&1.0));

    // Nothing left behind but the input and the output.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["ab.mp4", "ab.wav"]);
}

#[test]
fn frames_show_the_playhead_moving_and_the_cued_segment_highlighted() {
    let dir = tempfile::tempdir().unwrap();
    let (wav, track, plan) = ab_fixture(dir.path());
    let mp4 = dir.path().join("ab.mp4");
    let opts = VideoOptions::default();
    render_video(&mp4, &wav, &plan, &opts, &|_| {}, &|| false).unwrap();
    let audio_ms = track.samples.len() as f64 / 44.1;
    let strip = StripGeometry::new(1920, 1080);
    let background = [18u8, 20, 26];
    let differs = |p: [u8; 3], q: [u8; 3]| {
        p.iter()
            .zip(&q)
            .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
            .max()
            .unwrap()
            > 40
    };

    let mut playheads = Vec::new();
    for (index, cue) in track.cues.iter().enumerate() {
        // A third of the way into each segment, on a frame boundary.
        let at_ms = ((cue.start_ms + (cue.end_ms - cue.start_ms) / 3.0) / 40.0).round() * 40.0;
        let frame = frame_at(
            &mp4,
            at_ms / 1000.0,
            &dir.path().join(format!("f{index}.png")),
        );
        assert_eq!((frame.width, frame.height), (1920, 1080));

        // The playhead: the white bar above the strip.
        let row = (strip.y0 - strip.playhead / 2.0 - strip.highlight / 2.0) as u32;
        let white: Vec<u32> = (0..1920)
            .filter(|&x| frame.pixel(x, row).iter().all(|&c| c > 200))
            .collect();
        assert!(!white.is_empty(), "no playhead at {at_ms} ms");
        let x = f64::from(white.iter().sum::<u32>()) / white.len() as f64;
        let expected = strip.x_at(at_ms, audio_ms);
        assert!(
            (x - expected).abs() <= 4.0,
            "playhead at {x}, expected {expected}"
        );
        playheads.push(x);

        // The highlighted segment reaches below the strip; only the cued one does.
        let below = (strip.y1 + strip.highlight / 2.0) as u32;
        let lit: Vec<usize> = track
            .cues
            .iter()
            .enumerate()
            .filter(|(_, other)| {
                let x0 = strip.x_at(other.start_ms, audio_ms);
                let x1 = strip.x_at(other.end_ms, audio_ms);
                let probe_x = (x0 + (x1 - x0) * 0.8) as u32;
                differs(frame.pixel(probe_x, below), background)
            })
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            lit,
            [index],
            "at {at_ms} ms the cue list says segment {index}"
        );
        // In the chain's accent colour.
        let x0 = strip.x_at(cue.start_ms, audio_ms);
        let x1 = strip.x_at(cue.end_ms, audio_ms);
        let lit_pixel = frame.pixel((x0 + (x1 - x0) * 0.8) as u32, below);
        let c = gts_media::plot::palette_colour(cue.chain);
        assert!(!differs(lit_pixel, c), "{lit_pixel:?} vs accent {c:?}");
    }
    assert!(
        playheads.windows(2).all(|w| w[1] > w[0] + 50.0),
        "the playhead moves: {playheads:?}"
    );
}

#[test]
fn text_is_shaped_with_kerning_and_long_names_wrap_instead_of_being_cut() {
    let fonts = fonts().unwrap();
    // DejaVu kerns "AV" and "To": the second glyph sits left of the first's advance.
    for pair in ["AV", "To"] {
        let shaped = fonts.shape(pair, Weight::Bold, 100.0);
        let first: String = pair.chars().take(1).collect();
        let alone = fonts.shape(&first, Weight::Bold, 100.0).width;
        assert_eq!(shaped.glyphs.len(), 2);
        assert!(
            shaped.glyphs[1].x < alone - 1.0,
            "{pair}: second glyph at {} vs advance {alone}",
            shaped.glyphs[1].x
        );
    }
    // No stray gaps (the old cards drew "N AM", "dB TP"): glyphs advance by their own
    // widths, give or take a kerning adjustment.
    for word in ["NAM", "dBTP"] {
        let shaped = fonts.shape(word, Weight::Regular, 50.0);
        let advances: Vec<f32> = word
            .chars()
            .map(|c| fonts.shape(&c.to_string(), Weight::Regular, 50.0).width)
            .collect();
        let mut expected = 0.0;
        for (glyph, advance) in shaped.glyphs.iter().zip(&advances) {
            assert!(
                (glyph.x - expected).abs() <= 3.0,
                "{word}: {} vs {expected}",
                glyph.x
            );
            expected += advance;
        }
    }
    // A long name wraps onto two lines at full size when it can...
    let name = "Tiny WaveNet, vintage 4x12 with SM57";
    let block = fonts.fit(name, Weight::Bold, 112.0, 60.0, 1500.0, 2);
    assert_eq!(block.lines.len(), 2);
    assert_eq!(block.size, 112.0);
    assert_eq!(block.joined(), clean(name));
    assert!(block.lines.iter().all(|l| l.width <= 1500.0));
    // ...shrinks when two lines are not enough, and never drops a character.
    let longer = name.repeat(3);
    let block = fonts.fit(&longer, Weight::Bold, 112.0, 60.0, 1500.0, 2);
    assert!(block.size < 112.0);
    assert_eq!(block.joined(), clean(&longer));
    let one_word = "x".repeat(500);
    let block = fonts.fit(&one_word, Weight::Bold, 112.0, 60.0, 1500.0, 2);
    assert_eq!(block.joined().replace(' ', ""), one_word);
}

#[test]
fn cancelling_kills_ffmpeg_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let (wav, _, plan) = ab_fixture(dir.path());
    let mp4 = dir.path().join("ab.mp4");
    // Cancel after ten frames were written.
    let calls = Cell::new(0);
    let cancel = || {
        calls.set(calls.get() + 1);
        calls.get() > 10
    };
    let result = render_video(
        &mp4,
        &wav,
        &plan,
        &VideoOptions::default(),
        &|_| {},
        &cancel,
    );
    assert!(matches!(result, Err(MediaError::Cancelled)), "{result:?}");
    assert_eq!(calls.get(), 11, "cancelled while frames were written");
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
    let (wav, _, plan) = ab_fixture(dir.path());
    let opts = VideoOptions {
        ffmpeg: "/nonexistent/ffmpeg".into(),
        ..VideoOptions::default()
    };
    let result = render_video(
        &dir.path().join("x.mp4"),
        &wav,
        &plan,
        &opts,
        &|_| {},
        &|| false,
    );
    let Err(error @ MediaError::FfmpegMissing(_)) = result else {
        panic!("expected FfmpegMissing, got {result:?}");
    };
    assert!(error.to_string().contains("apt-get install"));
}

#[test]
fn bad_audio_bad_options_and_odd_segments_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    let not_wav = dir.path().join("noise.wav");
    std::fs::write(&not_wav, b"not a wav file").unwrap();
    let plan = VideoPlan::default();
    let result = render_video(
        &dir.path().join("x.mp4"),
        &not_wav,
        &plan,
        &VideoOptions::default(),
        &|_| {},
        &|| false,
    );
    assert!(matches!(result, Err(MediaError::Wav(_))), "{result:?}");
    let (wav, track, mut plan) = ab_fixture(dir.path());
    let opts = VideoOptions {
        fps: 60,
        ..VideoOptions::default()
    };
    let result = render_video(
        &dir.path().join("x.mp4"),
        &wav,
        &plan,
        &opts,
        &|_| {},
        &|| false,
    );
    assert!(
        matches!(result, Err(MediaError::InvalidInput(_))),
        "{result:?}"
    );

    // Segments out of order, overlapping, past the end, NaN, naming a missing chain:
    // still a valid video exactly as long as the audio.
    plan.segments.reverse();
    plan.segments[0].end_ms = 99_000.0;
    plan.segments[1].start_ms = f64::NAN;
    plan.segments[2].chain = 40;
    let mp4 = dir.path().join("odd.mp4");
    render_video(
        &mp4,
        &wav,
        &plan,
        &VideoOptions::default(),
        &|_| {},
        &|| false,
    )
    .unwrap();
    let probe = ffprobe(&mp4, &["-show_streams", "-show_format", "-show_chapters"]);
    let duration = number(&probe["format"]["duration"]);
    let seconds = track.samples.len() as f64 / 44_100.0;
    assert!(
        (duration - seconds).abs() <= 0.05,
        "{duration} vs {seconds}"
    );
}
