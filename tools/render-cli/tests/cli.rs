//! End to end through the CLI: the 4-chain demo shootout on the shared fixtures and a
//! synthesised DI produces every artifact, the MP4 is what the issue asks for, renders
//! are byte-identical, and the manifest reproduces the render. Needs Debian's ffmpeg
//! (installed by deploy/local/ensure-deps.sh).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use gts_media::shootout::presentation::{INTRO_SECONDS, OUTRO_SECONDS};
use gts_testkit::media::{ffprobe, fixtures, number};

const CLI: &str = env!("CARGO_BIN_EXE_gts-render");

fn run(args: &[&str]) -> String {
    let output = Command::new(CLI).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "gts-render {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_demo_shootout_renders_every_artifact_reproducibly() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo-shootout.toml");
    let fixtures = fixtures().canonicalize().unwrap();
    let toml = std::fs::read_to_string(demo)
        .unwrap()
        .replace("../../../tests/fixtures", fixtures.to_str().unwrap());
    let spec_path = dir.path().join("demo-shootout.toml");
    std::fs::write(&spec_path, toml).unwrap();
    let di = dir.path().join("demo-di.wav");
    run(&["synth-di", di.to_str().unwrap(), "8", "44100"]);

    let first = dir.path().join("first");
    let second = dir.path().join("second");
    let stdout = run(&[
        spec_path.to_str().unwrap(),
        "--out",
        first.to_str().unwrap(),
    ]);
    assert!(stdout.contains("Artifacts in"), "{stdout}");
    run(&[
        spec_path.to_str().unwrap(),
        "--out",
        second.to_str().unwrap(),
    ]);

    let mut audio_files = 0;
    for entry in std::fs::read_dir(&first).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".flac") || name.ends_with(".wav") {
            audio_files += 1;
            let a = std::fs::read(first.join(&name)).unwrap();
            let b = std::fs::read(second.join(&name)).unwrap();
            assert!(a == b, "{name} differs between two renders");
        }
    }
    assert_eq!(
        audio_files,
        4 * 2 + 2,
        "four chains in FLAC and WAV, plus the A/B pair"
    );
    for file in [
        "cues.json",
        "spectrum.png",
        "levels.png",
        "ab.mp4",
        "manifest.json",
    ] {
        assert!(first.join(file).metadata().unwrap().len() > 0, "{file}");
    }

    let probe = ffprobe(&first.join("ab.mp4"), &["-show_streams", "-show_format"]);
    let streams = probe["streams"].as_array().unwrap();
    let video = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    let audio = streams.iter().find(|s| s["codec_type"] == "audio").unwrap();
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64()),
        (Some(1920), Some(1080))
    );
    assert_eq!(audio["codec_name"], "aac");
    assert_eq!(audio["sample_rate"], "48000");
    let video_seconds = number(&probe["format"]["duration"]);
    // The A/B audio between the intro and the results cards.
    let ab = gts_render::decode::decode_file(&first.join("ab.wav"), 600).unwrap();
    let cards = INTRO_SECONDS + OUTRO_SECONDS;
    assert!(
        (video_seconds - (ab.duration_seconds() + cards)).abs() <= 0.05,
        "video {video_seconds} s vs audio {} s + {cards} s of cards",
        ab.duration_seconds()
    );

    // The manifest reproduces the render bit for bit.
    let again = dir.path().join("again");
    run(&[
        first.join("manifest.json").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--no-video",
    ]);
    for name in ["ab.flac", "chain-01-standard-wavenet-4x12-classic.flac"] {
        assert!(
            std::fs::read(first.join(name)).unwrap() == std::fs::read(again.join(name)).unwrap(),
            "{name}"
        );
    }
}
