//! Whole-pipeline tests: levelling, true peak, determinism, cancellation, progress.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::sync::Mutex;

use gts_render::loudness::{integrated_lufs, true_peak_dbtp};
use gts_render::synth::plucked_di;
use gts_render::{
    CancelToken, NoProgress, Progress, ProgressSink, RenderError, ShootoutSpec, Stage,
    render_chains,
};

fn assert_levelled(spec: &ShootoutSpec) {
    let rendered = render_chains(spec, &NoProgress, &CancelToken::new()).unwrap();
    let rate = spec.output.sample_rate;
    assert_eq!(rendered.chain_audio.len(), 4);
    let length = rendered.chain_audio[0].len();
    for (audio, report) in rendered.chain_audio.iter().zip(&rendered.chains) {
        assert_eq!(audio.len(), length, "all chains have the same length");
        // Measured independently of the levelling loop's own numbers.
        let lufs = integrated_lufs(audio, rate).unwrap();
        let peak = true_peak_dbtp(audio, rate).unwrap();
        assert!((lufs - -14.0).abs() <= 0.1, "{}: {lufs} LUFS", report.name);
        assert!(peak <= -1.0, "{}: {peak} dBTP", report.name);
        assert!(audio.iter().all(|s| s.is_finite() && s.abs() < 1.0));
        assert_eq!(report.level.output_lufs, lufs);
    }
    // Plucked strings peak well above −14 LUFS + 13 dB, so the limiter really worked.
    let reductions: Vec<f64> = rendered
        .chains
        .iter()
        .map(|c| c.level.max_limiter_reduction_db)
        .collect();
    assert!(
        reductions.iter().any(|&r| r > 0.5),
        "limiter reductions {reductions:?}"
    );
    // The DI was brought to −18 dBFS gated RMS.
    let di_level = gts_render::loudness::gated_rms_dbfs(&rendered.di, rate).unwrap();
    assert!((di_level - -18.0).abs() < 0.1, "DI level {di_level}");
}

#[test]
fn every_chain_lands_on_target_at_48k() {
    let dir = tempfile::tempdir().unwrap();
    assert_levelled(&common::four_chain_spec(dir.path(), 48_000, 48_000, 6.0));
}

#[test]
fn every_chain_lands_on_target_at_44k1() {
    let dir = tempfile::tempdir().unwrap();
    assert_levelled(&common::four_chain_spec(dir.path(), 44_100, 44_100, 6.0));
}

/// A chain cache in memory that counts what the pipeline asked of it.
#[derive(Default)]
struct MemoryChainCache {
    entries: Mutex<std::collections::HashMap<gts_render::ChainKey, gts_render::CachedChain>>,
    hits: Mutex<Vec<usize>>,
    stored: Mutex<Vec<usize>>,
}

impl gts_render::ChainCache for MemoryChainCache {
    fn load(&self, index: usize, key: &gts_render::ChainKey) -> Option<gts_render::CachedChain> {
        let hit = self.entries.lock().unwrap().get(key).cloned();
        if hit.is_some() {
            self.hits.lock().unwrap().push(index);
        }
        hit
    }
    fn store(&self, index: usize, key: &gts_render::ChainKey, chain: &gts_render::CachedChain) {
        self.entries
            .lock()
            .unwrap()
            .insert(key.clone(), chain.clone());
        self.stored.lock().unwrap().push(index);
    }
}

/// Chains that reported processing progress.
#[derive(Default)]
struct ProcessedChains(Mutex<std::collections::BTreeSet<usize>>);

impl ProgressSink for ProcessedChains {
    fn report(&self, progress: Progress) {
        if progress.stage == Stage::Process
            && let Some(chain) = progress.chain
        {
            self.0.lock().unwrap().insert(chain);
        }
    }
}

#[test]
fn a_resumed_render_reuses_finished_chains_and_gives_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::four_chain_spec(dir.path(), 48_000, 48_000, 3.0);
    let clean = render_chains(&spec, &NoProgress, &CancelToken::new()).unwrap();
    let cache = std::sync::Arc::new(MemoryChainCache::default());
    let options = gts_render::RenderOptions {
        threads: 2,
        chain_cache: Some(cache.clone()),
    };
    let first =
        gts_render::render_chains_with(&spec, &NoProgress, &CancelToken::new(), &options).unwrap();
    let mut stored = cache.stored.lock().unwrap().clone();
    stored.sort_unstable();
    assert_eq!(stored, vec![0, 1, 2, 3]);
    assert!(cache.hits.lock().unwrap().is_empty());
    assert_eq!(first.chain_audio, clean.chain_audio);

    // As if the first attempt died while rendering chain 2: its entry is missing.
    let key = gts_render::chain_cache::chain_key(&spec, 2, &clean.inputs, clean.tail_seconds);
    cache.entries.lock().unwrap().remove(&key.unwrap());
    let processed = ProcessedChains::default();
    let resumed =
        gts_render::render_chains_with(&spec, &processed, &CancelToken::new(), &options).unwrap();
    let mut hits = cache.hits.lock().unwrap().clone();
    hits.sort_unstable();
    assert_eq!(hits, vec![0, 1, 3]);
    assert_eq!(
        processed
            .0
            .into_inner()
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![2],
        "only the missing chain is rendered again"
    );
    assert_eq!(resumed.chain_audio, clean.chain_audio);
    assert_eq!(resumed.chains, clean.chains);
}

#[test]
fn rendering_twice_gives_identical_samples_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::four_chain_spec(dir.path(), 44_100, 48_000, 4.0);
    let first = render_chains(&spec, &NoProgress, &CancelToken::new()).unwrap();
    let one_thread = gts_render::RenderOptions {
        threads: 1,
        ..Default::default()
    };
    let second =
        gts_render::render_chains_with(&spec, &NoProgress, &CancelToken::new(), &one_thread)
            .unwrap();
    assert_eq!(first.chain_audio, second.chain_audio);
    assert_eq!(first.chains, second.chains);
}

/// Cancels on the first processing report and counts what arrives afterwards.
struct CancelOnProcess {
    token: CancelToken,
    after_cancel: Mutex<Vec<Progress>>,
}

impl ProgressSink for CancelOnProcess {
    fn report(&self, progress: Progress) {
        if self.token.is_cancelled() {
            if let Ok(mut seen) = self.after_cancel.lock() {
                seen.push(progress);
            }
        } else if progress.stage == Stage::Process && progress.fraction > 0.0 {
            self.token.cancel();
        }
    }
}

#[test]
fn cancellation_stops_within_a_block() {
    let dir = tempfile::tempdir().unwrap();
    // 30 s of DI: hundreds of 4096-sample NAM blocks per chain if it ran on.
    let spec = common::four_chain_spec(dir.path(), 48_000, 48_000, 30.0);
    let sink = CancelOnProcess {
        token: CancelToken::new(),
        after_cancel: Mutex::new(Vec::new()),
    };
    let result = render_chains(&spec, &sink, &sink.token);
    assert!(matches!(result, Err(RenderError::Cancelled)), "{result:?}");
    let after = sink.after_cancel.lock().unwrap();
    // Each worker thread may finish the block it was in; nothing more.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    assert!(
        after.len() <= 2 * threads,
        "{} reports after cancelling",
        after.len()
    );
    assert!(after.iter().all(|p| p.stage == Stage::Process));
}

#[test]
fn a_cancelled_token_stops_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::four_chain_spec(dir.path(), 48_000, 48_000, 2.0);
    let token = CancelToken::new();
    token.cancel();
    assert!(matches!(
        render_chains(&spec, &NoProgress, &token),
        Err(RenderError::Cancelled)
    ));
}

struct Recorder(Mutex<Vec<Progress>>);

impl ProgressSink for Recorder {
    fn report(&self, progress: Progress) {
        self.0.lock().unwrap().push(progress);
    }
}

#[test]
fn progress_covers_every_stage_and_chain() {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::four_chain_spec(dir.path(), 48_000, 48_000, 3.0);
    let recorder = Recorder(Mutex::new(Vec::new()));
    render_chains(&spec, &recorder, &CancelToken::new()).unwrap();
    let seen = recorder.0.lock().unwrap();
    for stage in [Stage::Load, Stage::Process, Stage::Level, Stage::Analyse] {
        assert!(seen.iter().any(|p| p.stage == stage), "{stage:?} reported");
    }
    for chain in 0..4 {
        assert!(
            seen.iter()
                .any(|p| p.chain == Some(chain) && p.stage == Stage::Level && p.fraction == 1.0)
        );
    }
    assert!(
        seen.iter()
            .all(|p| (0.0..=1.0).contains(&p.fraction) && (0.0..=1.0).contains(&p.overall))
    );
    assert!(
        seen.iter().filter(|p| p.stage == Stage::Process).count() > 8,
        "per-block progress"
    );
}

#[test]
fn a_silent_di_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = common::four_chain_spec(dir.path(), 48_000, 48_000, 1.0);
    let silent = dir.path().join("silent.wav");
    common::write_wav(&silent, &[vec![0.0; 48_000]], 48_000, 16, false);
    spec.di_tracks[0].path = silent;
    assert!(matches!(
        render_chains(&spec, &NoProgress, &CancelToken::new()),
        Err(RenderError::InvalidAudio { reason, .. }) if reason.contains("silent")
    ));
}

#[test]
fn two_di_tracks_are_joined_with_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = common::four_chain_spec(dir.path(), 48_000, 48_000, 2.0);
    let second = dir.path().join("second.wav");
    common::write_wav(&second, &[plucked_di(44_100, 1.5, 7)], 44_100, 16, false);
    spec.di_tracks.push(gts_render::DiTrack {
        path: second,
        name: None,
    });
    spec.chains.truncate(1);
    let rendered = render_chains(&spec, &NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(rendered.di_tracks.len(), 2);
    assert!((rendered.di_tracks[1].start_seconds - 3.0).abs() < 1e-9);
    assert_eq!(rendered.di.len(), 48_000 * 2 + 48_000 + 72_000);
}

fn tiny_model(head_scale: f64) -> String {
    // The nam-rs README's one-channel WaveNet; the last weight is the head scale.
    format!(
        r#"{{"version": "0.5.4", "architecture": "WaveNet",
            "config": {{"layers": [{{"input_size": 1, "condition_size": 1, "channels": 1,
                "head_size": 1, "kernel_size": 1, "dilations": [1], "activation": "ReLU",
                "gated": false, "head_bias": false}}], "head": null, "head_scale": 1.0}},
            "weights": [1.0, 2.0, 0.0, 0.0, 1.0, 0.0, 1.0, {head_scale:e}]}}"#
    )
}

fn single_model_spec(dir: &Path, head_scale: f64, input_gain_db: f64) -> ShootoutSpec {
    let mut spec = common::four_chain_spec(dir, 48_000, 48_000, 1.0);
    let model = dir.join("hostile.nam");
    std::fs::write(&model, tiny_model(head_scale)).unwrap();
    spec.chains.truncate(1);
    spec.chains[0].blocks = vec![gts_render::Block::Nam {
        path: model,
        input_gain_db,
        gear: None,
    }];
    spec
}

#[test]
fn an_exploding_model_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    // Finite but absurd: about +700 dBFS.
    let spec = single_model_spec(dir.path(), 3e36, 0.0);
    match render_chains(&spec, &NoProgress, &CancelToken::new()) {
        Err(RenderError::ExplodedAudio {
            chain,
            stage,
            peak_dbfs,
        }) => {
            assert_eq!(chain, "Tiny WaveNet + 4x12");
            assert!(
                stage.contains("nam") && peak_dbfs > 80.0,
                "{stage} {peak_dbfs}"
            );
        }
        Err(other) => panic!("expected ExplodedAudio, got {other}"),
        Ok(_) => panic!("expected ExplodedAudio, got a render"),
    }
}

#[test]
fn a_model_that_overflows_to_infinity_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let spec = single_model_spec(dir.path(), 3e38, 24.0);
    match render_chains(&spec, &NoProgress, &CancelToken::new()) {
        Err(RenderError::NonFiniteAudio { stage, .. }) => assert!(stage.contains("nam"), "{stage}"),
        Err(other) => panic!("expected NonFiniteAudio, got {other}"),
        Ok(_) => panic!("expected NonFiniteAudio, got a render"),
    }
}

#[test]
fn a_model_that_outputs_silence_renders_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = common::four_chain_spec(dir.path(), 48_000, 48_000, 1.0);
    let model = dir.path().join("silent.nam");
    std::fs::write(&model, tiny_model(0.0)).unwrap();
    spec.chains[1].blocks[0] = gts_render::Block::Nam {
        path: model,
        input_gain_db: 0.0,
        gear: None,
    };
    spec.chains[1].blocks.truncate(1);
    let rendered = render_chains(&spec, &NoProgress, &CancelToken::new()).unwrap();
    let level = &rendered.chains[1].level;
    assert!(!level.reached_target);
    assert!(
        level.note.as_deref().unwrap().contains("silent"),
        "{level:?}"
    );
    assert!(rendered.chains[0].level.reached_target);
}

#[test]
fn models_at_other_rates_are_fed_at_their_own_rate() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = common::four_chain_spec(dir.path(), 48_000, 48_000, 3.0);
    let source = std::fs::read_to_string(common::fixtures().join("nam/wavenet.nam")).unwrap();
    let mut model: serde_json::Value = serde_json::from_str(&source).unwrap();
    model["sample_rate"] = serde_json::json!(44_100);
    let at_44k1 = dir.path().join("wavenet_44k1.nam");
    std::fs::write(&at_44k1, model.to_string()).unwrap();
    spec.chains.truncate(2);
    // Chain 0 runs at 44.1 kHz; chain 1 runs at 48 kHz with a 44.1 kHz model wrapped in
    // resampling after its first (48 kHz) model.
    spec.chains[0].blocks[0] = gts_render::Block::Nam {
        path: at_44k1.clone(),
        input_gain_db: 0.0,
        gear: None,
    };
    spec.chains[1].blocks.insert(
        1,
        gts_render::Block::Nam {
            path: at_44k1,
            input_gain_db: 0.0,
            gear: None,
        },
    );
    let rendered = render_chains(&spec, &NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(rendered.chains[0].processing_rate, 44_100);
    assert_eq!(rendered.chains[1].processing_rate, 48_000);
    let expected_len = rendered.di.len() + (rendered.tail_seconds * 48_000.0).round() as usize;
    for (audio, report) in rendered.chain_audio.iter().zip(&rendered.chains) {
        assert_eq!(audio.len(), expected_len, "{}", report.name);
        assert!((integrated_lufs(audio, 48_000).unwrap() + 14.0).abs() <= 0.1);
    }
}
