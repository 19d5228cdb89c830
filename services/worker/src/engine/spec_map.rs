//! The contract's render spec as the engine's [`ShootoutSpec`].
//!
//! Contract: a pure mapping. Every block kind of `gts.v1.Block` has its engine block; NAM and
//! IR blocks point at the files [`super::inputs`] fetched and carry the display metadata the
//! render spec resolved for them (tone, model, author, file name: never an id, so a block
//! without any is named "NAM model"/"Cab IR" rather than by its hashed local file); unset
//! options take the engine's
//! documented defaults (which are the contract's). The result is validated by the engine's
//! own [`ShootoutSpec::validate`], so a spec the shootout service let through but the engine
//! cannot render fails as an input error naming the field, never a panic.

use gts_proto::v1::{
    self as pb, Block as PbBlock, DelayPreset as PbDelayPreset, EqBandType,
    ReverbPreset as PbReverbPreset, block::Kind,
};
use std::collections::HashMap;

use gts_render::{
    Block, ChainSpec, DiTrack, GearInfo, InputLevelMode, OutputOptions, ShootoutSpec,
    dsp::{biquad::FilterShape, reverb::ReverbParams, reverb::ReverbPreset},
    spec::DelayPreset,
};

use super::inputs::LocalInputs;

use crate::render::RenderFailure;
use gts_render::limits::{DEFAULT_EQ_Q, DEFAULT_HIGH_PASS_HZ};

/// Maps `spec` (with its files in `inputs`) to the engine's spec.
pub fn shootout_spec(
    spec: &pb::RenderSpec,
    inputs: &LocalInputs,
) -> Result<ShootoutSpec, RenderFailure> {
    let shootout = spec
        .shootout
        .as_ref()
        .ok_or_else(|| RenderFailure::Input("the render spec has no shootout".to_owned()))?;
    let di_tracks = spec
        .di_tracks
        .iter()
        .zip(&inputs.di_tracks)
        .map(|(track, path)| DiTrack {
            path: path.clone(),
            name: (!track.label.is_empty()).then(|| track.label.clone()),
        })
        .collect();
    let displays: HashMap<(&str, &str), &pb::BlockDisplay> = spec
        .block_sources
        .iter()
        .filter_map(|source| {
            Some((
                (source.chain_id.as_str(), source.block_id.as_str()),
                source.display.as_ref()?,
            ))
        })
        .collect();
    let chains = shootout
        .chains
        .iter()
        .map(|chain| {
            let blocks = chain
                .blocks
                .iter()
                .map(|block| {
                    let display = displays.get(&(chain.id.as_str(), block.id.as_str()));
                    engine_block(&chain.id, block, inputs, display.copied())
                })
                .collect::<Result<Vec<_>, _>>()?;
            let high_pass_hz = chain.input_high_pass_hz.unwrap_or(DEFAULT_HIGH_PASS_HZ);
            Ok(ChainSpec {
                name: chain.display_name.clone(),
                description: chain.description.clone(),
                // 0 turns the chain's input high-pass off.
                high_pass: high_pass_hz != 0.0,
                high_pass_hz: if high_pass_hz == 0.0 {
                    DEFAULT_HIGH_PASS_HZ
                } else {
                    high_pass_hz
                },
                input_level_mode: match chain.input_level_mode() {
                    pb::InputLevelMode::Rms => InputLevelMode::Rms,
                    pb::InputLevelMode::Auto | pb::InputLevelMode::Unspecified => {
                        InputLevelMode::Auto
                    }
                },
                blocks,
            })
        })
        .collect::<Result<Vec<_>, RenderFailure>>()?;
    let defaults = OutputOptions::default();
    let options = shootout.output_options.unwrap_or_default();
    let output = OutputOptions {
        loudness_target_lufs: options
            .loudness_target_lufs
            .unwrap_or(defaults.loudness_target_lufs),
        input_level_dbfs: options
            .input_level_dbfs
            .unwrap_or(defaults.input_level_dbfs),
        di_calibration_dbu: options
            .di_calibration_dbu
            .unwrap_or(defaults.di_calibration_dbu),
        phrase_seconds: options
            .phrase_length_seconds
            .unwrap_or(defaults.phrase_seconds),
        video: options.video_enabled,
        ..defaults
    };
    let engine_spec = ShootoutSpec {
        name: shootout.name.clone(),
        description: shootout.description.clone(),
        di_tracks,
        chains,
        output,
    };
    engine_spec
        .validate()
        .map_err(|error| RenderFailure::Input(error.to_string()))?;
    Ok(engine_spec)
}

/// Longest display text kept per field: names are for people, and a card fits any length.
const MAX_DISPLAY_CHARS: usize = 300;

fn gear_info(display: Option<&pb::BlockDisplay>, fallback: &str) -> GearInfo {
    let text = |s: &str| s.chars().take(MAX_DISPLAY_CHARS).collect::<String>();
    match display {
        Some(d) if !d.name.trim().is_empty() => GearInfo {
            name: text(&d.name),
            model: text(&d.model_name),
            gear: text(&d.gear),
            size: text(&d.size),
            architecture: text(&d.architecture),
            makes: d.makes.iter().take(8).map(|m| text(m)).collect(),
            author: text(&d.author),
        },
        _ => GearInfo {
            name: fallback.to_owned(),
            ..GearInfo::default()
        },
    }
}

fn engine_block(
    chain_id: &str,
    block: &PbBlock,
    inputs: &LocalInputs,
    display: Option<&pb::BlockDisplay>,
) -> Result<Block, RenderFailure> {
    let file = || {
        inputs
            .blocks
            .get(&(chain_id.to_owned(), block.id.clone()))
            .cloned()
            .ok_or_else(|| RenderFailure::Input(format!("block {} has no file", block.id)))
    };
    let kind = block
        .kind
        .as_ref()
        .ok_or_else(|| RenderFailure::Input(format!("block {} has no kind", block.id)))?;
    Ok(match kind {
        Kind::NamModel(nam) => Block::Nam {
            path: file()?,
            input_gain_db: nam.input_gain_db,
            gear: Some(gear_info(display, "NAM model")),
        },
        Kind::CabinetIr(ir) => Block::Cabinet {
            path: file()?,
            mix: ir.mix.unwrap_or(1.0),
            gear: Some(gear_info(display, "Cab IR")),
        },
        Kind::HighPass(high_pass) => Block::HighPass {
            frequency_hz: high_pass.frequency_hz.unwrap_or(DEFAULT_HIGH_PASS_HZ),
        },
        Kind::Eq(eq) => Block::Eq {
            shape: match eq.band_type() {
                EqBandType::LowShelf => FilterShape::LowShelf,
                EqBandType::HighShelf => FilterShape::HighShelf,
                EqBandType::Peaking => FilterShape::Peaking,
                EqBandType::LowPass => FilterShape::LowPass,
                EqBandType::HighPass => FilterShape::HighPass,
                EqBandType::Unspecified => {
                    return Err(RenderFailure::Input(format!(
                        "EQ block {} has no band type",
                        block.id
                    )));
                }
            },
            frequency_hz: eq.frequency_hz,
            gain_db: eq.gain_db,
            q: eq.q.unwrap_or(DEFAULT_EQ_Q),
        },
        Kind::Gain(gain) => Block::Gain {
            gain_db: gain.gain_db,
        },
        Kind::Delay(delay) => Block::Delay {
            preset: match delay.preset() {
                PbDelayPreset::Slapback => Some(DelayPreset::Slapback),
                PbDelayPreset::Quarter => Some(DelayPreset::Quarter),
                PbDelayPreset::Custom | PbDelayPreset::Unspecified => None,
            },
            time_ms: delay.time_ms,
            feedback: delay.feedback,
            mix: delay.mix,
        },
        Kind::Reverb(reverb) => Block::Reverb {
            preset: match reverb.preset() {
                PbReverbPreset::Room => Some(ReverbPreset::Room),
                PbReverbPreset::Hall => Some(ReverbPreset::Hall),
                PbReverbPreset::Spring => Some(ReverbPreset::Spring),
                PbReverbPreset::Custom | PbReverbPreset::Unspecified => None,
            },
            room_size: reverb.decay_seconds.map(ReverbParams::room_size_for_rt60),
            damping: reverb.damping,
            mix: reverb.mix,
            pre_delay_ms: reverb.pre_delay_ms,
        },
        Kind::NoiseGate(gate) => Block::NoiseGate {
            threshold_db: gate.threshold_db,
            release_ms: gate.release_ms,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use gts_proto::v1::{
        CabinetIrBlock, DelayBlock, EqBlock, GainBlock, HighPassBlock, NamModelBlock,
        NoiseGateBlock, OutputOptions as PbOutput, ReverbBlock, Shootout, SignalChain,
    };

    use super::*;

    fn block(id: &str, kind: Kind) -> PbBlock {
        PbBlock {
            id: id.into(),
            kind: Some(kind),
        }
    }

    fn spec(blocks: Vec<PbBlock>) -> (pb::RenderSpec, LocalInputs) {
        let mut inputs = LocalInputs {
            di_tracks: vec![PathBuf::from("di-1")],
            ..Default::default()
        };
        for id in ["nam", "ir"] {
            inputs
                .blocks
                .insert(("c".into(), id.into()), PathBuf::from(format!("{id}-file")));
        }
        let spec = pb::RenderSpec {
            shootout: Some(Shootout {
                name: "S".into(),
                chains: vec![SignalChain {
                    id: "c".into(),
                    display_name: "Chain".into(),
                    blocks,
                    ..Default::default()
                }],
                output_options: Some(PbOutput {
                    loudness_target_lufs: Some(-16.0),
                    video_enabled: true,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            di_tracks: vec![pb::ResolvedDiTrack {
                label: "Riff".into(),
                ..Default::default()
            }],
            block_sources: vec![pb::ResolvedBlockSource {
                chain_id: "c".into(),
                block_id: "nam".into(),
                source: None,
                display: Some(pb::BlockDisplay {
                    name: "Marshall JCM800 2203 Crunch".into(),
                    model_name: "JCM800 2203 Crunch DI standard".into(),
                    author: "brucew".into(),
                    ..Default::default()
                }),
            }],
            ..Default::default()
        };
        (spec, inputs)
    }

    #[test]
    fn every_block_kind_maps_with_the_contracts_defaults() {
        let (spec, inputs) = spec(vec![
            block(
                "g",
                Kind::NoiseGate(NoiseGateBlock {
                    threshold_db: -60.0,
                    release_ms: Some(50.0),
                }),
            ),
            block(
                "nam",
                Kind::NamModel(NamModelBlock {
                    source: None,
                    input_gain_db: 3.0,
                }),
            ),
            block(
                "ir",
                Kind::CabinetIr(CabinetIrBlock {
                    source: None,
                    mix: None,
                }),
            ),
            block("hp", Kind::HighPass(HighPassBlock { frequency_hz: None })),
            block(
                "eq",
                Kind::Eq(EqBlock {
                    band_type: EqBandType::Peaking as i32,
                    frequency_hz: 800.0,
                    gain_db: 2.0,
                    q: None,
                }),
            ),
            block("gain", Kind::Gain(GainBlock { gain_db: -3.0 })),
            block(
                "d",
                Kind::Delay(DelayBlock {
                    preset: PbDelayPreset::Quarter as i32,
                    time_ms: None,
                    feedback: Some(0.2),
                    mix: None,
                }),
            ),
            block(
                "r",
                Kind::Reverb(ReverbBlock {
                    preset: PbReverbPreset::Custom as i32,
                    decay_seconds: Some(1.5),
                    ..Default::default()
                }),
            ),
        ]);
        let mapped = shootout_spec(&spec, &inputs).unwrap();
        assert_eq!(mapped.output.loudness_target_lufs, -16.0);
        assert_eq!(
            mapped.output.phrase_seconds,
            OutputOptions::default().phrase_seconds
        );
        assert!(mapped.output.video);
        assert_eq!(mapped.di_tracks[0].name.as_deref(), Some("Riff"));
        let blocks = &mapped.chains[0].blocks;
        assert_eq!(blocks.len(), 8);
        assert!(
            matches!(&blocks[1], Block::Nam { path, input_gain_db, .. } if path.ends_with("nam-file") && *input_gain_db == 3.0)
        );
        // The resolved display names the gear; a block without one is never named by its file.
        let Block::Nam {
            gear: Some(gear), ..
        } = &blocks[1]
        else {
            panic!("NAM block without gear: {:?}", blocks[1]);
        };
        assert_eq!(gear.name, "Marshall JCM800 2203 Crunch");
        assert_eq!(gear.author, "brucew");
        assert!(!blocks[1].describe().contains("nam-file"));
        let Block::Cabinet {
            gear: Some(gear), ..
        } = &blocks[2]
        else {
            panic!("IR block without gear");
        };
        assert_eq!(gear.name, "Cab IR");
        assert!(
            !blocks[2].describe().contains("ir-file"),
            "{}",
            blocks[2].describe()
        );
        assert!(matches!(&blocks[2], Block::Cabinet { mix, .. } if *mix == 1.0));
        assert!(matches!(&blocks[3], Block::HighPass { frequency_hz } if *frequency_hz == 80.0));
        assert!(
            matches!(&blocks[6], Block::Delay { preset: Some(DelayPreset::Quarter), feedback: Some(f), .. } if *f == 0.2)
        );
        let Block::Reverb {
            room_size: Some(size),
            preset: None,
            ..
        } = &blocks[7]
        else {
            panic!("{:?}", blocks[7]);
        };
        assert!((ReverbParams::room_size_for_rt60(1.5) - size).abs() < 1e-12);
        assert!(matches!(&blocks[0], Block::NoiseGate { release_ms: Some(r), .. } if *r == 50.0));
    }

    #[test]
    fn unrenderable_blocks_are_input_errors_naming_the_problem() {
        let (spec_without_band, inputs) = spec(vec![block(
            "eq",
            Kind::Eq(EqBlock {
                band_type: 0,
                frequency_hz: 800.0,
                gain_db: 0.0,
                q: None,
            }),
        )]);
        let error = shootout_spec(&spec_without_band, &inputs).unwrap_err();
        assert!(
            matches!(&error, RenderFailure::Input(m) if m.contains("band type")),
            "{error:?}"
        );

        let (spec_without_file, inputs) = spec(vec![block(
            "other",
            Kind::NamModel(NamModelBlock::default()),
        )]);
        let error = shootout_spec(&spec_without_file, &inputs).unwrap_err();
        assert!(
            matches!(&error, RenderFailure::Input(m) if m.contains("no file")),
            "{error:?}"
        );

        let (too_loud, inputs) = spec(vec![block(
            "gain",
            Kind::Gain(GainBlock { gain_db: 100.0 }),
        )]);
        let error = shootout_spec(&too_loud, &inputs).unwrap_err();
        assert!(
            matches!(&error, RenderFailure::Input(m) if m.contains("gain_db")),
            "{error:?}"
        );
    }

    #[test]
    fn calibration_and_input_level_mode_reach_the_engine() {
        let (mut spec, inputs) = spec(vec![]);
        let mapped = shootout_spec(&spec, &inputs).unwrap();
        assert_eq!(
            mapped.output.di_calibration_dbu,
            gts_render::limits::DEFAULT_DI_CALIBRATION_DBU
        );
        assert_eq!(mapped.chains[0].input_level_mode, InputLevelMode::Auto);
        let shootout = spec.shootout.as_mut().unwrap();
        shootout.output_options.as_mut().unwrap().di_calibration_dbu = Some(20.5);
        shootout.chains[0].input_level_mode = pb::InputLevelMode::Rms as i32;
        let mapped = shootout_spec(&spec, &inputs).unwrap();
        assert_eq!(mapped.output.di_calibration_dbu, 20.5);
        assert_eq!(mapped.chains[0].input_level_mode, InputLevelMode::Rms);
    }

    #[test]
    fn a_chain_input_high_pass_of_zero_turns_it_off() {
        let (mut spec, inputs) = spec(vec![]);
        let chain = &mut spec.shootout.as_mut().unwrap().chains[0];
        chain.input_high_pass_hz = Some(0.0);
        assert!(!shootout_spec(&spec, &inputs).unwrap().chains[0].high_pass);
        spec.shootout.as_mut().unwrap().chains[0].input_high_pass_hz = Some(120.0);
        let mapped = shootout_spec(&spec, &inputs).unwrap();
        assert!(mapped.chains[0].high_pass);
        assert_eq!(mapped.chains[0].high_pass_hz, 120.0);
        spec.shootout.as_mut().unwrap().chains[0].input_high_pass_hz = None;
        assert_eq!(
            shootout_spec(&spec, &inputs).unwrap().chains[0].high_pass_hz,
            80.0
        );
    }
}
