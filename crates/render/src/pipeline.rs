//! The whole shootout in memory: load, render every chain, level, measure.
//!
//! Contract: [`render_chains`] validates the spec, hashes and decodes every input, brings
//! each DI track to the input level (gated RMS) and the output rate and concatenates the
//! tracks with a gap (one DI timeline that every chain hears identically), loads every
//! model and IR before processing any audio, then renders the chains on up to
//! `available_parallelism` threads (each chain is deterministic on its own, so thread
//! count never changes the samples), levels each one and measures it. Every chain gets
//! the same tail (the longest any chain needs), so all outputs have equal length.
//! Chains and their NAM segments share one rayon pool of `RenderOptions::threads`.
//! The artifacts and the manifest are written a layer up (gts-media). Progress is reported per
//! block and per 4096-sample NAM block; the cancel token is checked between blocks and
//! inside the NAM, convolution and levelling loops.

use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

use crate::chain::PreparedChain;
use crate::decode::{MAX_DURATION_SECONDS, decode_file};
use crate::error::{RenderError, Result};
use crate::evaluation::evaluate;
use crate::input_level::{InputLevelReport, InputMode};
use crate::inputs::hash_inputs;
use crate::loudness::{LevelReport, gated_rms_dbfs, level_output};
use crate::metrics::{ChainMetrics, measure};
use crate::progress::{
    ANALYSE_SHARE, CHAIN_SHARE, CancelToken, LOAD_SHARE, Progress, ProgressSink, Stage,
};
use crate::report::{ChainReport, DiReport, RenderedShootout};
use crate::resample::resample;
use crate::spec::ShootoutSpec;

/// Within a chain, the part before levelling.
const PROCESS_SHARE: f32 = 0.9;

struct ProgressTracker<'a> {
    sink: &'a dyn ProgressSink,
    chain_count: usize,
    chain_fractions: Vec<AtomicU32>,
}

impl<'a> ProgressTracker<'a> {
    fn new(sink: &'a dyn ProgressSink, chain_count: usize) -> Self {
        Self {
            sink,
            chain_count,
            chain_fractions: (0..chain_count).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    fn stage(&self, stage: Stage, fraction: f32, overall: f32) {
        self.sink
            .report(Progress::stage(stage, self.chain_count, fraction, overall));
    }

    fn chain(&self, stage: Stage, chain: usize, fraction: f32) {
        let fraction = fraction.clamp(0.0, 1.0);
        if let Some(slot) = self.chain_fractions.get(chain) {
            slot.fetch_max(fraction.to_bits(), Ordering::Relaxed);
        }
        let done: f32 = self
            .chain_fractions
            .iter()
            .map(|f| f32::from_bits(f.load(Ordering::Relaxed)))
            .sum();
        let overall = LOAD_SHARE + CHAIN_SHARE * done / self.chain_count.max(1) as f32;
        self.sink.report(Progress {
            stage,
            chain: Some(chain),
            chain_count: self.chain_count,
            fraction,
            overall: overall.clamp(0.0, 1.0),
        });
    }
}

/// The DI tracks on one timeline at the output rate: at their recorded level, and with
/// each track brought to the RMS input level (computed once, shared by every RMS chain
/// and kept as the render's levelled DI).
struct DiTimeline {
    recorded: Vec<f32>,
    rms_levelled: Vec<f32>,
}

/// Which DI signal a chain hears: each track at the RMS input level, or the recorded DI
/// raised by a calibration gain (Z − X dB, its bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum InputSignal {
    Rms,
    Calibrated(u64),
}

impl InputSignal {
    fn of(input: &InputLevelReport) -> Self {
        match (input.mode, input.calibration_gain_db) {
            (InputMode::Calibrated, Some(gain_db)) => Self::Calibrated(gain_db.to_bits()),
            _ => Self::Rms,
        }
    }

    /// The DI level this signal is built from (calibrated signals share the recorded one).
    fn base(self) -> DiBase {
        match self {
            Self::Rms => DiBase::RmsLevelled,
            Self::Calibrated(_) => DiBase::Recorded,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum DiBase {
    Recorded,
    RmsLevelled,
}

impl DiTimeline {
    fn base(&self, base: DiBase) -> &[f32] {
        match base {
            DiBase::Recorded => &self.recorded,
            DiBase::RmsLevelled => &self.rms_levelled,
        }
    }
}

/// Each chain's input mode, from its first NAM model's metadata.
fn decide_inputs(spec: &ShootoutSpec) -> Result<Vec<InputLevelReport>> {
    spec.chains
        .iter()
        .map(|chain| {
            let first_model = chain.blocks.iter().find_map(|block| match block {
                crate::spec::Block::Nam { path, .. } => Some(path),
                _ => None,
            });
            let metadata = match first_model {
                Some(path) => Some(crate::nam_metadata::read_metadata(
                    &std::fs::read_to_string(path).map_err(|e| RenderError::io(path, e))?,
                )),
                None => None,
            };
            Ok(crate::input_level::decide(
                chain.input_level_mode,
                metadata.as_ref(),
                &spec.output,
            ))
        })
        .collect()
}

/// Loads the DI tracks into one timeline at the output rate (recorded level).
fn load_di(spec: &ShootoutSpec, cancel: &CancelToken) -> Result<(DiTimeline, Vec<DiReport>)> {
    let rate = spec.output.sample_rate;
    let gap = (spec.output.di_gap_seconds * f64::from(rate)).round() as usize;
    let mut timeline = Vec::new();
    let mut reports = Vec::new();
    let mut tracks = Vec::new();
    for (index, track) in spec.di_tracks.iter().enumerate() {
        cancel.check()?;
        let audio = decode_file(&track.path, MAX_DURATION_SECONDS)?;
        let measured = gated_rms_dbfs(&audio.samples, audio.sample_rate).ok_or_else(|| {
            RenderError::InvalidAudio {
                path: track.path.clone(),
                reason: "DI track is silent (nothing above −70 dBFS)".into(),
            }
        })?;
        let gain_db = spec.output.input_level_dbfs - measured;
        let gain = 10f64.powf(gain_db / 20.0) as f32;
        let resampled = resample(&audio.samples, audio.sample_rate, rate)?;
        if index > 0 {
            timeline.resize(timeline.len() + gap, 0.0);
        }
        tracks.push((timeline.len()..timeline.len() + resampled.len(), gain));
        reports.push(DiReport {
            path: track.path.clone(),
            source_rate: audio.sample_rate,
            duration_seconds: audio.duration_seconds(),
            measured_rms_dbfs: measured,
            gain_db,
            start_seconds: timeline.len() as f64 / f64::from(rate),
        });
        timeline.extend(resampled);
    }
    let mut rms_levelled = timeline.clone();
    for (range, gain) in tracks {
        if let Some(track) = rms_levelled.get_mut(range) {
            track.iter_mut().for_each(|s| *s *= gain);
        }
    }
    Ok((
        DiTimeline {
            recorded: timeline,
            rms_levelled,
        },
        reports,
    ))
}

/// How a render uses the machine (never what it produces).
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Threads of the render's pool (at least 1), shared by chains and by a chain's NAM
    /// segments. The default is one per core; a worker running several jobs side by side
    /// may want fewer. Samples do not depend on it.
    pub threads: usize,
    /// Finished chains kept between attempts (`None`: every chain is rendered).
    pub chain_cache: Option<std::sync::Arc<dyn crate::chain_cache::ChainCache>>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chain_cache: None,
        }
    }
}

/// Renders, levels and measures every chain (no files written), one thread per core.
pub fn render_chains(
    spec: &ShootoutSpec,
    progress: &dyn ProgressSink,
    cancel: &CancelToken,
) -> Result<RenderedShootout> {
    render_chains_with(spec, progress, cancel, &RenderOptions::default())
}

/// [`render_chains`] with explicit [`RenderOptions`].
pub fn render_chains_with(
    spec: &ShootoutSpec,
    progress: &dyn ProgressSink,
    cancel: &CancelToken,
    options: &RenderOptions,
) -> Result<RenderedShootout> {
    spec.validate()?;
    let tracker = ProgressTracker::new(progress, spec.chains.len());
    let rate = spec.output.sample_rate;
    tracker.stage(Stage::Load, 0.0, 0.0);
    let inputs = hash_inputs(spec)?;
    cancel.check()?;
    let (timeline, di_tracks) = load_di(spec, cancel)?;
    let inputs_levels = decide_inputs(spec)?;
    tracker.stage(Stage::Load, 0.5, LOAD_SHARE * 0.5);
    let mut prepared = Vec::with_capacity(spec.chains.len());
    for chain in &spec.chains {
        cancel.check()?;
        prepared.push(PreparedChain::load(chain, rate)?);
    }
    let tail_seconds = prepared
        .iter()
        .map(PreparedChain::tail_seconds)
        .fold(0.0f64, f64::max);
    tracker.stage(Stage::Load, 1.0, LOAD_SHARE);

    let resume =
        crate::chain_cache::Resume::new(options.chain_cache.as_ref(), spec, &inputs, tail_seconds);
    let rendered = render_all(
        &mut prepared,
        &timeline,
        &inputs_levels,
        spec,
        tail_seconds,
        &tracker,
        cancel,
        options.threads,
        &resume,
    )?;

    tracker.stage(Stage::Analyse, 0.0, LOAD_SHARE + CHAIN_SHARE);
    let mut chain_audio = Vec::with_capacity(rendered.len());
    let mut levels = Vec::with_capacity(rendered.len());
    let mut metrics = Vec::with_capacity(rendered.len());
    for (audio, level, measured) in rendered {
        metrics.push(measured);
        levels.push(level);
        chain_audio.push(audio);
    }
    tracker.stage(
        Stage::Analyse,
        1.0,
        LOAD_SHARE + CHAIN_SHARE + ANALYSE_SHARE,
    );
    let evaluation = evaluate(&metrics);
    let chains = prepared
        .iter()
        .zip(levels)
        .zip(metrics)
        .zip(evaluation)
        .zip(inputs_levels)
        .enumerate()
        .map(
            |(index, ((((chain, level), metrics), evaluation), input))| ChainReport {
                index,
                name: chain.spec.name.clone(),
                blocks: chain.spec.blocks.iter().map(|b| b.describe()).collect(),
                processing_rate: chain.processing_rate,
                input,
                level,
                metrics,
                evaluation,
            },
        )
        .collect();
    Ok(RenderedShootout {
        sample_rate: rate,
        di: timeline.rms_levelled,
        tail_seconds,
        di_tracks,
        chain_audio,
        chains,
        inputs,
    })
}

type ChainOutcome = Result<(Vec<f32>, LevelReport, ChainMetrics)>;

/// Chains whose signals are identical up to the end of their shared prefix (same DI
/// signal, processing rate, input high-pass and blocks through the first NAM model):
/// the first one renders it once for all.
struct PrefixGroup {
    owner: usize,
    members: Vec<usize>,
    input: InputSignal,
}

/// The groups of the chains to render (`None` in `inputs`: a chain not rendered), and
/// each chain's group.
fn prefix_groups(
    prepared: &[PreparedChain],
    inputs: &[Option<InputSignal>],
) -> (Vec<PrefixGroup>, Vec<Option<usize>>) {
    let mut groups: Vec<PrefixGroup> = Vec::new();
    let mut keys: Vec<(InputSignal, String)> = Vec::new();
    let mut group_of = Vec::with_capacity(prepared.len());
    for (index, (chain, input)) in prepared.iter().zip(inputs).enumerate() {
        let Some(input) = *input else {
            group_of.push(None);
            continue;
        };
        let key = (input, chain.prefix_key());
        match keys.iter().position(|k| *k == key) {
            Some(at) => {
                groups[at].members.push(index);
                group_of.push(Some(at));
            }
            None => {
                group_of.push(Some(groups.len()));
                keys.push(key);
                groups.push(PrefixGroup {
                    owner: index,
                    members: vec![index],
                    input,
                });
            }
        }
    }
    (groups, group_of)
}

/// Renders chains on a rayon pool of `threads` threads (a chain's NAM segments run on
/// the same pool); results come back in chain order. Work is done once per shootout
/// where chains share it: the DI is resampled once per (level, rate), and each
/// [`PrefixGroup`]'s prefix (the NAM pass) runs once; then every chain renders the rest
/// of its blocks from a copy of its group's prefix. Chains that `resume` holds from an
/// earlier attempt are taken from it and render nothing.
#[allow(clippy::too_many_arguments)]
fn render_all(
    prepared: &mut [PreparedChain],
    di: &DiTimeline,
    input_levels: &[InputLevelReport],
    spec: &ShootoutSpec,
    tail_seconds: f64,
    tracker: &ProgressTracker<'_>,
    cancel: &CancelToken,
    threads: usize,
    resume: &crate::chain_cache::Resume,
) -> Result<Vec<(Vec<f32>, LevelReport, ChainMetrics)>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("gts-render-{i}"))
        .build()
        .map_err(|e| RenderError::InvalidSpec(format!("cannot start render threads: {e}")))?;
    let siblings = cancel.child();
    let output_rate = spec.output.sample_rate;
    // Chains an earlier attempt finished are taken as they are.
    let mut cached: Vec<Option<crate::chain_cache::CachedChain>> = (0..prepared.len())
        .map(|index| resume.load(index))
        .collect();
    let inputs: Vec<Option<InputSignal>> = input_levels
        .iter()
        .zip(&cached)
        .map(|(level, hit)| hit.is_none().then(|| InputSignal::of(level)))
        .collect();
    let (groups, group_of) = prefix_groups(prepared, &inputs);
    for group in &groups {
        for &member in &group.members {
            tracker.chain(Stage::Process, member, 0.0);
        }
    }
    pool.install(|| -> Result<Vec<(Vec<f32>, LevelReport, ChainMetrics)>> {
        // The DI at each (level, rate) some group needs, resampled once.
        let mut needed: Vec<(DiBase, u32)> = groups
            .iter()
            .map(|g| (g.input.base(), prepared[g.owner].processing_rate))
            .collect();
        needed.sort_by_key(|&(base, rate)| (base == DiBase::Recorded, rate));
        needed.dedup();
        let resampled: Vec<Result<Vec<f32>>> = needed
            .par_iter()
            .map(|&(base, rate)| resample(di.base(base), output_rate, rate))
            .collect();
        let mut at_rates = Vec::with_capacity(needed.len());
        for (key, signal) in needed.into_iter().zip(resampled) {
            at_rates.push((key, signal?));
        }
        cancel.check()?;

        // Each group's prefix, rendered by its owner.
        let mut owners: Vec<(usize, &mut PreparedChain)> = prepared
            .iter_mut()
            .enumerate()
            .filter_map(|(index, chain)| {
                let group = group_of[index]?;
                (groups[group].owner == index).then_some((group, chain))
            })
            .collect();
        let prefixes: Vec<Result<Vec<f32>>> = owners
            .par_iter_mut()
            .map(|(group_index, chain)| {
                let group = &groups[*group_index];
                let key = (group.input.base(), chain.processing_rate);
                let base = at_rates
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, signal)| signal.as_slice())
                    .unwrap_or_default();
                let input = match group.input {
                    InputSignal::Calibrated(bits) => {
                        let gain = 10f64.powf(f64::from_bits(bits) / 20.0) as f32;
                        std::borrow::Cow::Owned(base.iter().map(|s| s * gain).collect())
                    }
                    InputSignal::Rms => std::borrow::Cow::Borrowed(base),
                };
                let signal = chain.start(&input, tail_seconds);
                let report = |f: f32| {
                    for &member in &group.members {
                        tracker.chain(Stage::Process, member, f * PROCESS_SHARE);
                    }
                };
                let outcome =
                    chain.run_blocks(signal, 0..chain.shared_prefix_len(), &siblings, &report);
                if outcome.is_err() {
                    siblings.cancel();
                }
                outcome
            })
            .collect();
        drop(owners);
        let prefixes = first_error(prefixes)?;

        // The rest of every chain, from its group's prefix (or the cache).
        let outcomes: Vec<ChainOutcome> = prepared
            .par_iter_mut()
            .zip(cached.par_iter_mut())
            .enumerate()
            .map(|(index, (chain, hit))| {
                let outcome = match (hit.take(), group_of[index]) {
                    (Some(hit), _) => {
                        tracker.chain(Stage::Level, index, 1.0);
                        measure(&hit.audio, output_rate).map(|m| (hit.audio, hit.level, m))
                    }
                    (None, Some(group)) => render_rest(
                        chain,
                        index,
                        prefixes[group].clone(),
                        di.recorded.len(),
                        spec,
                        tail_seconds,
                        tracker,
                        &siblings,
                    )
                    .map(|(audio, level, metrics)| {
                        let (audio, level) = resume.store(index, audio, level);
                        (audio, level, metrics)
                    }),
                    (None, None) => Err(RenderError::InvalidSpec(format!(
                        "chain {index} was neither rendered nor cached"
                    ))),
                };
                if outcome.is_err() {
                    // Stop the other chains early; their work would be thrown away.
                    siblings.cancel();
                }
                outcome
            })
            .collect();
        let results = first_error(outcomes)?;
        cancel.check()?;
        Ok(results)
    })
}

/// Every value, or the first real failure (preferred over the cancellations it caused).
fn first_error<T>(outcomes: Vec<Result<T>>) -> Result<Vec<T>> {
    let mut values = Vec::with_capacity(outcomes.len());
    let mut first: Option<RenderError> = None;
    for outcome in outcomes {
        match outcome {
            Ok(value) => values.push(value),
            Err(error)
                if first
                    .as_ref()
                    .is_none_or(|e| matches!(e, RenderError::Cancelled)) =>
            {
                first = Some(error);
            }
            Err(_) => {}
        }
    }
    match first {
        Some(error) => Err(error),
        None => Ok(values),
    }
}

#[allow(clippy::too_many_arguments)]
fn render_rest(
    chain: &mut PreparedChain,
    index: usize,
    prefix: Vec<f32>,
    di_len: usize,
    spec: &ShootoutSpec,
    tail_seconds: f64,
    tracker: &ProgressTracker<'_>,
    cancel: &CancelToken,
) -> ChainOutcome {
    let rate = spec.output.sample_rate;
    let name = chain.spec.name.clone();
    let report_process = |f: f32| tracker.chain(Stage::Process, index, f * PROCESS_SHARE);
    let blocks = chain.shared_prefix_len()..chain.spec.blocks.len();
    let signal = chain.run_blocks(prefix, blocks, cancel, &report_process)?;
    let mut audio = chain.finish(&signal, di_len, rate, tail_seconds, cancel)?;
    tracker.chain(Stage::Level, index, PROCESS_SHARE);
    let level = level_output(
        &mut audio,
        rate,
        spec.output.loudness_target_lufs,
        spec.output.true_peak_ceiling_dbtp,
        cancel,
    )
    .map_err(|error| match error {
        RenderError::SilentOutput { loudness_lufs, .. } => RenderError::SilentOutput {
            chain: name.clone(),
            loudness_lufs,
        },
        other => other,
    })?;
    cancel.check()?;
    // Measured here, so chains are measured in parallel too.
    let metrics = measure(&audio, rate)?;
    tracker.chain(Stage::Level, index, 1.0);
    Ok((audio, level, metrics))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoProgress;
    use crate::chain::model_input_tap;

    /// Four chains of one model: two that differ only after the amp share its pass; a
    /// different input gain or a block before the amp gets a pass of its own. Sharing
    /// never changes a sample.
    #[test]
    fn chains_that_agree_up_to_the_amp_share_one_nam_pass() {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = gts_testkit::media::fixtures();
        let rate = 48_000;
        let di = crate::synth::plucked_di(rate, 2.0, 7);
        let di_path = dir.path().join("di.wav");
        gts_testkit::media::write_wav(&di_path, &[di], rate, 32, true);
        let model = dir.path().join("amp.nam");
        std::fs::copy(fixtures.join("nam/wavenet.nam"), &model).unwrap();
        let ir = fixtures.join("irs/4x12-classic.wav");
        let chain = |name: &str, pre: &str, gain: f64, eq_db: f64| {
            format!(
                "[[chains]]\nname = \"{name}\"\nblocks = [ {pre} \
                 {{ kind = \"nam\", path = \"{}\", input_gain_db = {gain:.1} }}, \
                 {{ kind = \"cabinet\", path = \"{}\" }}, \
                 {{ kind = \"eq\", shape = \"peaking\", frequency_hz = 700.0, gain_db = {eq_db:.1} }} ]\n",
                model.display(),
                ir.display()
            )
        };
        let header = format!(
            "name = \"share\"\n[[di_tracks]]\npath = \"{}\"\n[output]\nvideo = false\n",
            di_path.display()
        );
        let render = |chains: &[String]| {
            let toml = format!("{header}{}", chains.concat());
            let spec = ShootoutSpec::from_toml_str(&toml, dir.path()).unwrap();
            let rendered = render_chains(&spec, &NoProgress, &CancelToken::new()).unwrap();
            (rendered, model_input_tap::drain(&model))
        };
        let shared = render(&[
            chain("A", "", 0.0, 3.0),
            chain("B", "", 0.0, -3.0),
            chain("C", "", 3.0, 3.0),
            chain("D", r#"{ kind = "gain", gain_db = 1.0 },"#, 0.0, 3.0),
        ]);
        assert_eq!(shared.1, 3, "A and B share a pass; C and D have their own");
        // The same chains where nothing can be shared give the same samples.
        let alone = render(&[chain("A", "", 0.0, 3.0), chain("B", "", 0.5, -3.0)]);
        assert_eq!(alone.1, 2);
        assert_eq!(shared.0.chain_audio[0], alone.0.chain_audio[0]);
        assert_ne!(shared.0.chain_audio[0], shared.0.chain_audio[1]);
        // C (+3 dB into the amp) is not A.
        assert_ne!(shared.0.chain_audio[0], shared.0.chain_audio[2]);
    }
}
