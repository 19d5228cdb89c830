//! A rendered shootout's files: every audio artifact, the DI's waveform and the spectra,
//! byte-identical across renders; the manifest reproduces the spec and refuses changed
//! inputs.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use gts_media::{Manifest, render_shootout};
use gts_render::loudness::{integrated_lufs, true_peak_dbtp};
use gts_render::{CancelToken, NoProgress, RenderError};
use gts_testkit::media::four_chain_spec;

#[test]
fn the_manifest_reproduces_the_spec_and_guards_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = four_chain_spec(dir.path(), 48_000, 48_000, 2.0);
    spec.chains.truncate(2);
    let out = dir.path().join("out");
    let report = render_shootout(&spec, &out, &NoProgress, &CancelToken::new()).unwrap();
    let manifest_text = std::fs::read_to_string(&report.manifest_path).unwrap();
    let manifest: Manifest = serde_json::from_str(&manifest_text).unwrap();
    assert_eq!(manifest.spec, spec);
    assert_eq!(manifest.engine_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        manifest.crates.get("nam-rs").map(String::as_str),
        Some("0.4.0")
    );
    // DI + two models + one IR per chain (the tiny WaveNet twice is hashed twice).
    assert_eq!(manifest.inputs.len(), 5);
    assert!(
        manifest
            .inputs
            .iter()
            .all(|i| i.sha256.len() == 64 && i.bytes > 0)
    );
    assert_eq!(manifest.chains, report.chains);
    assert_eq!(Manifest::load_spec(&report.manifest_path).unwrap(), spec);

    // Rendering again writes the same manifest, byte for byte.
    let again = render_shootout(&spec, &out, &NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(
        std::fs::read_to_string(&again.manifest_path).unwrap(),
        manifest_text
    );

    // A changed input is refused.
    std::fs::write(&spec.di_tracks[0].path, b"changed").unwrap();
    assert!(matches!(
        Manifest::load_spec(&report.manifest_path),
        Err(RenderError::InvalidSpec(message)) if message.contains("changed")
    ));
}

#[test]
fn render_shootout_writes_every_audio_artifact_reproducibly() {
    let dir = tempfile::tempdir().unwrap();
    let spec = four_chain_spec(dir.path(), 44_100, 48_000, 9.0);
    let first_dir = dir.path().join("first");
    let second_dir = dir.path().join("second");
    let report = render_shootout(&spec, &first_dir, &NoProgress, &CancelToken::new()).unwrap();
    render_shootout(&spec, &second_dir, &NoProgress, &CancelToken::new()).unwrap();

    let kinds: Vec<&str> = report.artifacts.iter().map(|a| a.kind.as_str()).collect();
    for kind in [
        "chain_flac",
        "chain_wav",
        "ab_flac",
        "ab_wav",
        "cues",
        "spectrum_png",
        "levels_png",
        "manifest",
        "di_waveform",
        "spectrum_json",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| **k == "chain_flac").count(), 4);
    assert!(!kinds.contains(&"video_mp4"), "video is off in this spec");
    for artifact in &report.artifacts {
        let a = std::fs::read(first_dir.join(&artifact.file)).unwrap();
        assert!(!a.is_empty(), "{} is empty", artifact.file);
        if artifact.file.ends_with(".flac")
            || artifact.file.ends_with(".wav")
            || artifact.file == "cues.json"
        {
            let b = std::fs::read(second_dir.join(&artifact.file)).unwrap();
            assert!(a == b, "{} differs between renders", artifact.file);
        }
    }

    // The DI's overview spans the chains' audio: the DI, then its silent ringing-out tail.
    let waveform: serde_json::Value = serde_json::from_slice(
        &std::fs::read(first_dir.join(gts_media::shootout::DI_WAVEFORM_FILE)).unwrap(),
    )
    .unwrap();
    let first_chain = report
        .artifacts
        .iter()
        .find(|a| a.kind == "chain_flac")
        .unwrap();
    let chain = gts_render::decode::decode_file(&first_dir.join(&first_chain.file), 60).unwrap();
    assert_eq!(
        waveform["frames"].as_u64().unwrap() as usize,
        chain.samples.len()
    );
    assert_eq!(waveform["sample_rate"], 48_000);
    let peaks: Vec<f64> = waveform["peaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    assert_eq!(peaks.len(), gts_media::waveform::WAVEFORM_COLUMNS);
    assert!(
        peaks.iter().take(10).any(|&p| p > 0.01),
        "the DI plays first: {peaks:?}"
    );
    assert_eq!(*peaks.last().unwrap(), 0.0, "the tail has no DI");

    // The spectra drawn in spectrum.png, one per chain in spec order, 20 Hz up.
    let spectra: serde_json::Value = serde_json::from_slice(
        &std::fs::read(first_dir.join(gts_media::shootout::SPECTRUM_DATA_FILE)).unwrap(),
    )
    .unwrap();
    let chains = spectra["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 4);
    for (index, chain) in chains.iter().enumerate() {
        assert_eq!(chain["chain"], index);
        let points = chain["points"].as_array().unwrap();
        assert_eq!(points[0][0].as_f64().unwrap(), 20.0);
        assert!(
            points.iter().all(|p| p[1].as_f64().unwrap() > -160.0),
            "chain {index} is silent somewhere"
        );
    }

    // The 24-bit files decode back to levelled audio: still on target, under the ceiling.
    for artifact in report.artifacts.iter().filter(|a| a.kind == "chain_flac") {
        let decoded = gts_render::decode::decode_file(&first_dir.join(&artifact.file), 60).unwrap();
        assert_eq!(decoded.sample_rate, 48_000);
        let lufs = integrated_lufs(&decoded.samples, 48_000).unwrap();
        let peak = true_peak_dbtp(&decoded.samples, 48_000).unwrap();
        assert!(
            (lufs + 14.0).abs() <= 0.1 && peak <= -1.0,
            "{}: {lufs} LUFS {peak} dBTP",
            artifact.file
        );
    }

    // The A/B track holds every chain for every phrase, and the manifest carries its cues.
    let manifest: Manifest =
        serde_json::from_str(&std::fs::read_to_string(&report.manifest_path).unwrap()).unwrap();
    let cues = manifest.cues.as_array().unwrap();
    assert!(
        cues.len() >= 8 && cues.len().is_multiple_of(4),
        "{} cues",
        cues.len()
    );
    let chains_in_order: Vec<u64> = cues
        .iter()
        .take(4)
        .map(|c| c["chain"].as_u64().unwrap())
        .collect();
    assert_eq!(chains_in_order, vec![0, 1, 2, 3]);
    let ab = gts_render::decode::decode_file(&first_dir.join("ab.flac"), 600).unwrap();
    let chain_len = gts_render::decode::decode_file(&first_dir.join(&report.artifacts[0].file), 60)
        .unwrap()
        .samples
        .len();
    assert_eq!(ab.samples.len(), 4 * chain_len);
    let last_end = cues.last().unwrap()["end_ms"].as_f64().unwrap();
    assert!((last_end - ab.duration_seconds() * 1000.0).abs() <= 1.0);
}
