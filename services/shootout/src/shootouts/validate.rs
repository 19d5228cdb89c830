//! Validation of shootouts, chains and blocks, with field paths a client can point at.
//!
//! Contract: every check records a violation (field path relative to the request, and a
//! sentence saying what to change) instead of stopping at the first problem. References to
//! uploaded assets are collected as [`AssetRef`]s and checked against the database in one
//! query by [`check_asset_refs`]: a missing asset and another user's asset read the same.
//! Range checks reject NaN and infinities (`RangeInclusive::contains` is false for NaN).

use std::collections::{HashMap, HashSet};

use gts_proto::v1::{
    Block, DelayPreset, DiTrackRef, EqBandType, InputLevelMode, ModelSource, OutputOptions,
    ReverbPreset, SignalChain, block::Kind, model_source::Source,
};
use gts_render::limits::{self, Limit};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    assets::AssetKindName,
    error::{ShootoutError, Violations},
};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
pub const MAX_GUITAR_CHARS: usize = 200;
pub const MAX_PICKUP_NOTES_CHARS: usize = 1000;
pub const MAX_LABEL_CHARS: usize = 100;
pub const MAX_CHAIN_NAME_CHARS: usize = 100;
pub const MAX_CHAIN_DESCRIPTION_CHARS: usize = 2000;
// Counts, ranges and defaults of what renders are the engine's (one table).
pub use gts_render::limits::{MAX_BLOCKS, MAX_CHAINS, MAX_DI_TRACKS};

pub const DEFAULT_LOUDNESS_LUFS: f64 = limits::DEFAULT_LOUDNESS_TARGET_LUFS;
pub const DEFAULT_PHRASE_SECONDS: f64 = limits::DEFAULT_PHRASE_SECONDS;
pub const DEFAULT_INPUT_LEVEL_DBFS: f64 = limits::DEFAULT_INPUT_LEVEL_DBFS;
pub const DEFAULT_DI_CALIBRATION_DBU: f64 = limits::DEFAULT_DI_CALIBRATION_DBU;
/// A chain's input high-pass corner when none is given, Hz.
pub const DEFAULT_INPUT_HIGH_PASS_HZ: f64 = limits::DEFAULT_HIGH_PASS_HZ;

/// An uploaded asset a request refers to, to be checked against the owner's assets.
#[derive(Debug, Clone)]
pub struct AssetRef {
    pub field: String,
    pub id: Uuid,
    pub kind: AssetKindName,
}

/// Collects violations and asset references while walking a request.
#[derive(Default)]
pub struct Checker {
    pub violations: Violations,
    pub asset_refs: Vec<AssetRef>,
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    fn text(&mut self, field: String, value: &str, min: usize, max: usize, what: &str) {
        let chars = value.chars().count();
        if chars < min || value.trim().is_empty() && min > 0 {
            self.violations
                .add(field, format!("give the {what} a value"));
        } else if chars > max {
            self.violations.add(
                field,
                format!("the {what} is {chars} characters long; at most {max} are allowed"),
            );
        }
    }

    fn range(&mut self, field: String, value: f64, limit: Limit) {
        if let Some(message) = limit.violation(value) {
            self.violations.add(field, message);
        }
    }

    fn optional_range(&mut self, field: String, value: Option<f64>, limit: Limit) {
        if let Some(value) = value {
            self.range(field, value, limit);
        }
    }

    fn asset_id(&mut self, field: String, raw: &str, kind: AssetKindName) {
        match Uuid::parse_str(raw.trim()) {
            Ok(id) => self.asset_refs.push(AssetRef { field, id, kind }),
            Err(_) if raw.trim().is_empty() => self
                .violations
                .add(field, format!("choose an uploaded {}", kind.human())),
            Err(_) => self.violations.add(
                field,
                format!(
                    "{} is not an asset id (expected a UUID)",
                    crate::convert::shown(raw)
                ),
            ),
        }
    }

    /// Shootout name.
    pub fn name(&mut self, prefix: &str, name: &str) {
        self.text(
            join(prefix, "name"),
            name,
            1,
            MAX_NAME_CHARS,
            "shootout name",
        );
    }

    /// Description, guitar, pickup notes.
    pub fn notes(&mut self, prefix: &str, field: &str, value: &str) {
        let (max, what) = match field {
            "description" => (MAX_DESCRIPTION_CHARS, "description"),
            "guitar" => (MAX_GUITAR_CHARS, "guitar"),
            _ => (MAX_PICKUP_NOTES_CHARS, "pickup notes"),
        };
        self.text(join(prefix, field), value, 0, max, what);
    }

    /// The DI track list (1-8, no asset twice).
    pub fn di_tracks(&mut self, prefix: &str, tracks: &[DiTrackRef]) {
        let field = join(prefix, "di_tracks");
        if tracks.is_empty() {
            self.violations.add(
                field.clone(),
                "add at least one DI track (an uploaded DI recording)",
            );
        } else if tracks.len() > MAX_DI_TRACKS {
            self.violations.add(
                field.clone(),
                format!(
                    "{} DI tracks given; a shootout plays at most {MAX_DI_TRACKS}",
                    tracks.len()
                ),
            );
        }
        let mut seen = HashSet::new();
        for (index, track) in tracks.iter().enumerate() {
            let item = format!("{field}[{index}]");
            if !seen.insert(track.asset_id.trim()) {
                self.violations.add(
                    join(&item, "asset_id"),
                    "this DI track is already in the list; each track plays once",
                );
            }
            self.asset_id(
                join(&item, "asset_id"),
                &track.asset_id,
                AssetKindName::DiTrack,
            );
            self.text(
                join(&item, "label"),
                &track.label,
                0,
                MAX_LABEL_CHARS,
                "label",
            );
        }
    }

    /// Output options (unset values take defaults later).
    pub fn output_options(&mut self, prefix: &str, options: &OutputOptions) {
        let field = join(prefix, "output_options");
        self.optional_range(
            join(&field, "loudness_target_lufs"),
            options.loudness_target_lufs,
            limits::LOUDNESS_TARGET_LUFS,
        );
        self.optional_range(
            join(&field, "phrase_length_seconds"),
            options.phrase_length_seconds,
            limits::PHRASE_SECONDS,
        );
        self.optional_range(
            join(&field, "input_level_dbfs"),
            options.input_level_dbfs,
            limits::INPUT_LEVEL_DBFS,
        );
        self.optional_range(
            join(&field, "di_calibration_dbu"),
            options.di_calibration_dbu,
            limits::DI_CALIBRATION_DBU,
        );
    }

    /// The chain list (1-16, names unique ignoring case).
    pub fn chains(&mut self, prefix: &str, chains: &[SignalChain]) {
        let field = join(prefix, "chains");
        if chains.is_empty() {
            self.violations
                .add(field.clone(), "add at least one signal chain to compare");
        } else if chains.len() > MAX_CHAINS {
            self.violations.add(
                field.clone(),
                format!(
                    "{} chains given; a shootout compares at most {MAX_CHAINS}",
                    chains.len()
                ),
            );
        }
        for (index, chain) in chains.iter().enumerate() {
            self.chain(&format!("{field}[{index}]"), chain);
        }
        self.unique_chain_names(&field, chains);
    }

    /// Chain display names must differ (listeners tell chains apart by them).
    pub fn unique_chain_names(&mut self, field: &str, chains: &[SignalChain]) {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (index, chain) in chains.iter().enumerate() {
            let key = chain.display_name.trim().to_lowercase();
            if key.is_empty() {
                continue;
            }
            if let Some(first) = seen.get(&key) {
                self.violations.add(
                    format!("{field}[{index}].display_name"),
                    format!(
                        "chain {first} is already called {}; give each chain its own name",
                        crate::convert::shown(&chain.display_name)
                    ),
                );
            } else {
                seen.insert(key, index);
            }
        }
    }

    /// One chain: name, description, up to 32 valid blocks.
    pub fn chain(&mut self, prefix: &str, chain: &SignalChain) {
        self.chain_name(prefix, &chain.display_name);
        self.chain_description(prefix, &chain.description);
        self.input_high_pass(prefix, chain.input_high_pass_hz);
        self.input_level_mode(prefix, chain.input_level_mode);
        self.blocks(prefix, &chain.blocks);
    }

    /// A known input level mode (unspecified means auto).
    pub fn input_level_mode(&mut self, prefix: &str, mode: i32) {
        if InputLevelMode::try_from(mode).is_err() {
            self.violations.add(
                join(prefix, "input_level_mode"),
                format!("unknown input level mode {mode}; use auto or rms"),
            );
        }
    }

    /// 0 (off) or the engine's range (20–500 Hz).
    pub fn input_high_pass(&mut self, prefix: &str, hz: Option<f64>) {
        if hz != Some(0.0) {
            self.optional_range(
                join(prefix, "input_high_pass_hz"),
                hz,
                limits::CHAIN_HIGH_PASS_HZ,
            );
        }
    }

    pub fn chain_name(&mut self, prefix: &str, name: &str) {
        self.text(
            join(prefix, "display_name"),
            name,
            1,
            MAX_CHAIN_NAME_CHARS,
            "chain name",
        );
    }

    pub fn chain_description(&mut self, prefix: &str, description: &str) {
        self.text(
            join(prefix, "description"),
            description,
            0,
            MAX_CHAIN_DESCRIPTION_CHARS,
            "chain description",
        );
    }

    pub fn blocks(&mut self, prefix: &str, blocks: &[Block]) {
        let field = join(prefix, "blocks");
        if blocks.len() > MAX_BLOCKS {
            self.violations.add(
                field.clone(),
                format!(
                    "{} blocks given; a chain holds at most {MAX_BLOCKS}",
                    blocks.len()
                ),
            );
        }
        for (index, block) in blocks.iter().enumerate() {
            self.block(&format!("{field}[{index}]"), block);
        }
    }

    /// One block: its kind must be set and its settings in range.
    pub fn block(&mut self, prefix: &str, block: &Block) {
        let Some(kind) = &block.kind else {
            self.violations.add(
                prefix.to_owned(),
                "choose what the block does (nam_model, cabinet_ir, high_pass, eq, gain, delay, reverb or noise_gate)",
            );
            return;
        };
        match kind {
            Kind::NamModel(nam) => {
                let field = join(prefix, "nam_model");
                self.source(&field, nam.source.as_ref(), AssetKindName::NamModel);
                self.range(
                    join(&field, "input_gain_db"),
                    nam.input_gain_db,
                    limits::NAM_INPUT_GAIN_DB,
                );
            }
            Kind::CabinetIr(ir) => {
                let field = join(prefix, "cabinet_ir");
                self.source(&field, ir.source.as_ref(), AssetKindName::ImpulseResponse);
                self.optional_range(join(&field, "mix"), ir.mix, limits::MIX);
            }
            Kind::HighPass(high_pass) => self.optional_range(
                join(prefix, "high_pass.frequency_hz"),
                high_pass.frequency_hz,
                limits::HIGH_PASS_HZ,
            ),
            Kind::Eq(eq) => {
                let field = join(prefix, "eq");
                match EqBandType::try_from(eq.band_type) {
                    Ok(EqBandType::Unspecified) | Err(_) => self.violations.add(
                        join(&field, "band_type"),
                        "choose a band type: low shelf, high shelf, peaking, low-pass or high-pass",
                    ),
                    Ok(_) => {}
                }
                self.range(
                    join(&field, "frequency_hz"),
                    eq.frequency_hz,
                    limits::EQ_FREQUENCY_HZ,
                );
                self.range(join(&field, "gain_db"), eq.gain_db, limits::EQ_GAIN_DB);
                self.optional_range(join(&field, "q"), eq.q, limits::EQ_Q);
            }
            Kind::Gain(gain) => {
                self.range(join(prefix, "gain.gain_db"), gain.gain_db, limits::GAIN_DB);
            }
            Kind::Delay(delay) => {
                let field = join(prefix, "delay");
                let custom = match DelayPreset::try_from(delay.preset) {
                    Ok(DelayPreset::Slapback | DelayPreset::Quarter) => false,
                    Ok(DelayPreset::Unspecified | DelayPreset::Custom) => true,
                    Err(_) => {
                        self.violations.add(
                            join(&field, "preset"),
                            "unknown preset; use slapback, quarter or custom",
                        );
                        false
                    }
                };
                if custom && delay.time_ms.is_none() {
                    self.violations.add(
                        join(&field, "time_ms"),
                        "a custom delay needs its time in ms (or pick the slapback or quarter preset)",
                    );
                }
                self.optional_range(
                    join(&field, "time_ms"),
                    delay.time_ms,
                    limits::DELAY_TIME_MS,
                );
                self.optional_range(
                    join(&field, "feedback"),
                    delay.feedback,
                    limits::DELAY_FEEDBACK,
                );
                self.optional_range(join(&field, "mix"), delay.mix, limits::MIX);
            }
            Kind::Reverb(reverb) => {
                let field = join(prefix, "reverb");
                let custom = match ReverbPreset::try_from(reverb.preset) {
                    Ok(ReverbPreset::Room | ReverbPreset::Hall | ReverbPreset::Spring) => false,
                    Ok(ReverbPreset::Unspecified | ReverbPreset::Custom) => true,
                    Err(_) => {
                        self.violations.add(
                            join(&field, "preset"),
                            "unknown preset; use room, hall, spring or custom",
                        );
                        false
                    }
                };
                if custom && reverb.decay_seconds.is_none() {
                    self.violations.add(
                        join(&field, "decay_seconds"),
                        "a custom reverb needs its decay time (or pick the room, hall or spring preset)",
                    );
                }
                self.optional_range(
                    join(&field, "decay_seconds"),
                    reverb.decay_seconds,
                    limits::REVERB_DECAY_SECONDS,
                );
                self.optional_range(
                    join(&field, "pre_delay_ms"),
                    reverb.pre_delay_ms,
                    limits::REVERB_PRE_DELAY_MS,
                );
                self.optional_range(join(&field, "mix"), reverb.mix, limits::MIX);
                self.optional_range(
                    join(&field, "damping"),
                    reverb.damping,
                    limits::REVERB_DAMPING,
                );
            }
            Kind::NoiseGate(gate) => {
                let field = join(prefix, "noise_gate");
                self.range(
                    join(&field, "threshold_db"),
                    gate.threshold_db,
                    limits::GATE_THRESHOLD_DB,
                );
                self.optional_range(
                    join(&field, "release_ms"),
                    gate.release_ms,
                    limits::GATE_RELEASE_MS,
                );
            }
        }
    }

    fn source(&mut self, prefix: &str, source: Option<&ModelSource>, kind: AssetKindName) {
        let field = join(prefix, "source");
        match source.and_then(|s| s.source.as_ref()) {
            None => self.violations.add(
                field,
                format!(
                    "choose the {}: a TONE3000 model or an uploaded asset",
                    kind.human()
                ),
            ),
            Some(Source::Tone3000Model(model)) => {
                if model.tone_id == 0 {
                    self.violations.add(
                        join(&field, "tone3000_model.tone_id"),
                        "give the TONE3000 tone id",
                    );
                }
                if model.model_id == 0 {
                    self.violations.add(
                        join(&field, "tone3000_model.model_id"),
                        "give the TONE3000 model id",
                    );
                }
            }
            Some(Source::AssetId(id)) => self.asset_id(join(&field, "asset_id"), id, kind),
        }
    }

    /// Checks the collected asset references, then returns the outcome.
    pub async fn finish(mut self, db: &PgPool, owner: Uuid) -> Result<(), ShootoutError> {
        check_asset_refs(db, owner, &self.asset_refs, &mut self.violations).await?;
        self.violations.into_result()
    }
}

/// Every referenced asset must exist, belong to `owner` and be of the expected kind.
pub async fn check_asset_refs(
    db: &PgPool,
    owner: Uuid,
    refs: &[AssetRef],
    violations: &mut Violations,
) -> Result<(), ShootoutError> {
    if refs.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = refs.iter().map(|r| r.id).collect();
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, kind FROM assets WHERE owner_id = $1 AND id = ANY($2)")
            .bind(owner)
            .bind(&ids)
            .fetch_all(db)
            .await?;
    let kinds: HashMap<Uuid, String> = rows.into_iter().collect();
    for asset_ref in refs {
        match kinds
            .get(&asset_ref.id)
            .and_then(|k| AssetKindName::from_db(k))
        {
            None => violations.add(
                asset_ref.field.clone(),
                format!(
                    "no uploaded {} with id {}; upload it first or pick one from your assets",
                    asset_ref.kind.human(),
                    asset_ref.id
                ),
            ),
            Some(kind) if kind != asset_ref.kind => violations.add(
                asset_ref.field.clone(),
                format!(
                    "asset {} is a {}, not a {}",
                    asset_ref.id,
                    kind.human(),
                    asset_ref.kind.human()
                ),
            ),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Output options with every default filled in.
pub fn with_defaults(options: Option<OutputOptions>) -> OutputOptions {
    let options = options.unwrap_or_default();
    OutputOptions {
        loudness_target_lufs: Some(
            options
                .loudness_target_lufs
                .unwrap_or(DEFAULT_LOUDNESS_LUFS),
        ),
        phrase_length_seconds: Some(
            options
                .phrase_length_seconds
                .unwrap_or(DEFAULT_PHRASE_SECONDS),
        ),
        video_enabled: options.video_enabled,
        input_level_dbfs: Some(options.input_level_dbfs.unwrap_or(DEFAULT_INPUT_LEVEL_DBFS)),
        di_calibration_dbu: Some(
            options
                .di_calibration_dbu
                .unwrap_or(DEFAULT_DI_CALIBRATION_DBU),
        ),
    }
}

#[cfg(test)]
mod tests {
    use gts_proto::v1::{
        DelayBlock, EqBlock, GainBlock, HighPassBlock, NamModelBlock, Tone3000ModelRef,
    };

    use super::*;

    fn fields(checker: Checker) -> Vec<String> {
        match checker.violations.into_result() {
            Ok(()) => vec![],
            Err(ShootoutError::Invalid(v)) => v.into_iter().map(|v| v.field).collect(),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn out_of_range_and_nan_settings_name_their_field() {
        let mut checker = Checker::new();
        checker.block(
            "block",
            &Block {
                id: String::new(),
                kind: Some(Kind::Eq(EqBlock {
                    band_type: 0,
                    frequency_hz: f64::NAN,
                    gain_db: 30.0,
                    q: Some(0.01),
                })),
            },
        );
        assert_eq!(
            fields(checker),
            [
                "block.eq.band_type",
                "block.eq.frequency_hz",
                "block.eq.gain_db",
                "block.eq.q"
            ]
        );
    }

    #[test]
    fn valid_blocks_pass_and_collect_no_assets_for_library_models() {
        let mut checker = Checker::new();
        let blocks = [
            Kind::HighPass(HighPassBlock { frequency_hz: None }),
            Kind::Gain(GainBlock { gain_db: -3.0 }),
            Kind::Delay(DelayBlock {
                preset: DelayPreset::Slapback as i32,
                ..Default::default()
            }),
            Kind::NamModel(NamModelBlock {
                source: Some(ModelSource {
                    source: Some(Source::Tone3000Model(Tone3000ModelRef {
                        tone_id: 1,
                        model_id: 2,
                    })),
                }),
                input_gain_db: 0.0,
            }),
        ];
        for (i, kind) in blocks.into_iter().enumerate() {
            checker.block(
                &format!("b{i}"),
                &Block {
                    id: String::new(),
                    kind: Some(kind),
                },
            );
        }
        assert!(checker.asset_refs.is_empty());
        assert!(fields(checker).is_empty());
    }

    #[test]
    fn chain_names_must_differ_and_a_custom_delay_needs_a_time() {
        let mut checker = Checker::new();
        let chain = |name: &str| SignalChain {
            display_name: name.into(),
            blocks: vec![Block {
                id: String::new(),
                kind: Some(Kind::Delay(DelayBlock::default())),
            }],
            ..Default::default()
        };
        checker.chains("shootout", &[chain("Plexi"), chain("plexi ")]);
        assert_eq!(
            fields(checker),
            [
                "shootout.chains[0].blocks[0].delay.time_ms",
                "shootout.chains[1].blocks[0].delay.time_ms",
                "shootout.chains[1].display_name"
            ]
        );
    }

    #[test]
    fn a_chain_input_high_pass_is_off_or_between_20_and_500_hz() {
        for (hz, valid) in [
            (None, true),
            (Some(0.0), true),
            (Some(20.0), true),
            (Some(500.0), true),
            (Some(10.0), false),
            (Some(501.0), false),
            (Some(-80.0), false),
            (Some(f64::NAN), false),
        ] {
            let mut checker = Checker::new();
            checker.chain(
                "chain",
                &SignalChain {
                    display_name: "A".into(),
                    input_high_pass_hz: hz,
                    ..Default::default()
                },
            );
            let expected: Vec<String> = if valid {
                vec![]
            } else {
                vec!["chain.input_high_pass_hz".into()]
            };
            assert_eq!(fields(checker), expected, "{hz:?}");
        }
    }
}
