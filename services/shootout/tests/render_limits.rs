//! One limits table, end to end: every block kind's and option's documented minimum and
//! maximum, and one step beyond each, go through the public API (CreateShootout) → the
//! shootout service's validation → GetRenderSpec → the worker's mapping to the engine's
//! spec → the engine's validation and a real render. In-range values must render;
//! out-of-range values must be refused at the API with INVALID_ARGUMENT naming the field;
//! nothing may be refused later.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{as_service, as_user, fixtures, insert_asset, start, violation_fields};
use gts_proto::v1::{
    Block, CabinetIrBlock, CreateShootoutRequest, DelayBlock, DelayPreset, DiTrackRef, EqBandType,
    EqBlock, GainBlock, GetRenderSpecRequest, HighPassBlock, ModelSource, NamModelBlock,
    NoiseGateBlock, OutputOptions, ReverbBlock, ReverbPreset, Shootout, SignalChain, block::Kind,
    model_source::Source, shootout_internal_client::ShootoutInternalClient,
    shootout_service_client::ShootoutServiceClient,
};
use gts_render::limits::{self, Limit};
use gts_worker::engine::{inputs::LocalInputs, spec_map::shootout_spec};
use tonic::Code;
use uuid::Uuid;

/// What a case sets: a block built from the value, the chain's input high-pass, or an
/// output option.
#[derive(Clone, Copy)]
enum Target {
    Block(fn(f64, &Assets) -> Kind),
    ChainHighPass,
    Output(fn(f64) -> OutputOptions),
}

struct Case {
    field: &'static str,
    limit: Limit,
    step: f64,
    target: Target,
}

struct Assets {
    nam: String,
    ir: String,
}

fn asset(id: &str) -> Option<ModelSource> {
    Some(ModelSource {
        source: Some(Source::AssetId(id.to_owned())),
    })
}

fn eq(frequency_hz: f64, gain_db: f64, q: Option<f64>) -> Kind {
    Kind::Eq(EqBlock {
        band_type: EqBandType::Peaking as i32,
        frequency_hz,
        gain_db,
        q,
    })
}

fn delay(time_ms: f64, feedback: Option<f64>, mix: Option<f64>) -> Kind {
    Kind::Delay(DelayBlock {
        preset: DelayPreset::Custom as i32,
        time_ms: Some(time_ms),
        feedback,
        mix,
    })
}

fn reverb(edit: impl FnOnce(&mut ReverbBlock)) -> Kind {
    let mut block = ReverbBlock {
        preset: ReverbPreset::Room as i32,
        ..Default::default()
    };
    edit(&mut block);
    Kind::Reverb(block)
}

fn gate(threshold_db: f64, release_ms: Option<f64>) -> Kind {
    Kind::NoiseGate(NoiseGateBlock {
        threshold_db,
        release_ms,
    })
}

fn block(field: &'static str, limit: Limit, step: f64, build: fn(f64, &Assets) -> Kind) -> Case {
    Case {
        field,
        limit,
        step,
        target: Target::Block(build),
    }
}

fn output(field: &'static str, limit: Limit, step: f64, build: fn(f64) -> OutputOptions) -> Case {
    Case {
        field,
        limit,
        step,
        target: Target::Output(build),
    }
}

fn cases() -> Vec<Case> {
    vec![
        block(
            "nam_model.input_gain_db",
            limits::NAM_INPUT_GAIN_DB,
            0.1,
            |v, a| {
                Kind::NamModel(NamModelBlock {
                    source: asset(&a.nam),
                    input_gain_db: v,
                })
            },
        ),
        block("cabinet_ir.mix", limits::MIX, 0.01, |v, a| {
            Kind::CabinetIr(CabinetIrBlock {
                source: asset(&a.ir),
                mix: Some(v),
            })
        }),
        block(
            "high_pass.frequency_hz",
            limits::HIGH_PASS_HZ,
            1.0,
            |v, _| {
                Kind::HighPass(HighPassBlock {
                    frequency_hz: Some(v),
                })
            },
        ),
        block("eq.frequency_hz", limits::EQ_FREQUENCY_HZ, 1.0, |v, _| {
            eq(v, 3.0, None)
        }),
        block("eq.gain_db", limits::EQ_GAIN_DB, 0.1, |v, _| {
            eq(800.0, v, None)
        }),
        block("eq.q", limits::EQ_Q, 0.01, |v, _| eq(800.0, 3.0, Some(v))),
        block("gain.gain_db", limits::GAIN_DB, 0.1, |v, _| {
            Kind::Gain(GainBlock { gain_db: v })
        }),
        block("delay.time_ms", limits::DELAY_TIME_MS, 1.0, |v, _| {
            delay(v, None, None)
        }),
        block("delay.feedback", limits::DELAY_FEEDBACK, 0.01, |v, _| {
            delay(100.0, Some(v), None)
        }),
        block("delay.mix", limits::MIX, 0.01, |v, _| {
            delay(100.0, None, Some(v))
        }),
        block(
            "reverb.decay_seconds",
            limits::REVERB_DECAY_SECONDS,
            0.01,
            |v, _| reverb(|r| r.decay_seconds = Some(v)),
        ),
        block(
            "reverb.pre_delay_ms",
            limits::REVERB_PRE_DELAY_MS,
            1.0,
            |v, _| reverb(|r| r.pre_delay_ms = Some(v)),
        ),
        block("reverb.mix", limits::MIX, 0.01, |v, _| {
            reverb(|r| r.mix = Some(v))
        }),
        block("reverb.damping", limits::REVERB_DAMPING, 0.01, |v, _| {
            reverb(|r| r.damping = Some(v))
        }),
        block(
            "noise_gate.threshold_db",
            limits::GATE_THRESHOLD_DB,
            0.1,
            |v, _| gate(v, None),
        ),
        block(
            "noise_gate.release_ms",
            limits::GATE_RELEASE_MS,
            1.0,
            |v, _| gate(-70.0, Some(v)),
        ),
        Case {
            field: "input_high_pass_hz",
            limit: limits::CHAIN_HIGH_PASS_HZ,
            step: 1.0,
            target: Target::ChainHighPass,
        },
        output(
            "loudness_target_lufs",
            limits::LOUDNESS_TARGET_LUFS,
            0.1,
            |v| OutputOptions {
                loudness_target_lufs: Some(v),
                ..Default::default()
            },
        ),
        output("phrase_length_seconds", limits::PHRASE_SECONDS, 0.1, |v| {
            OutputOptions {
                phrase_length_seconds: Some(v),
                ..Default::default()
            }
        }),
        output("input_level_dbfs", limits::INPUT_LEVEL_DBFS, 0.1, |v| {
            OutputOptions {
                input_level_dbfs: Some(v),
                ..Default::default()
            }
        }),
        output("di_calibration_dbu", limits::DI_CALIBRATION_DBU, 0.1, |v| {
            OutputOptions {
                di_calibration_dbu: Some(v),
                ..Default::default()
            }
        }),
    ]
}

/// A shootout of one chain (a NAM model, then the block under test) on one DI.
fn shootout(case: &Case, value: f64, di: &str, assets: &Assets) -> (Shootout, String) {
    let mut blocks = vec![Block {
        id: String::new(),
        kind: Some(Kind::NamModel(NamModelBlock {
            source: asset(&assets.nam),
            input_gain_db: 0.0,
        })),
    }];
    let mut chain = SignalChain {
        display_name: "Chain".into(),
        ..Default::default()
    };
    let mut options = None;
    let field = match case.target {
        Target::Block(build) => {
            blocks.push(Block {
                id: String::new(),
                kind: Some(build(value, assets)),
            });
            format!("shootout.chains[0].blocks[1].{}", case.field)
        }
        Target::ChainHighPass => {
            chain.input_high_pass_hz = Some(value);
            format!("shootout.chains[0].{}", case.field)
        }
        Target::Output(build) => {
            options = Some(build(value));
            format!("shootout.output_options.{}", case.field)
        }
    };
    chain.blocks = blocks;
    let shootout = Shootout {
        name: format!("{} = {value}", case.field),
        di_tracks: vec![DiTrackRef {
            asset_id: di.to_owned(),
            label: String::new(),
        }],
        chains: vec![chain],
        output_options: options,
        ..Default::default()
    };
    (shootout, field)
}

fn write_di(path: &Path) {
    let rate = 48_000;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for &sample in &common::audio::plucked(1.5, rate) {
        writer
            .write_sample((sample * 0.5 * f32::from(i16::MAX)) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_limit_renders_at_its_ends_and_is_refused_one_step_beyond() {
    let svc = start().await;
    let user = Uuid::new_v4();
    let di_asset = insert_asset(&svc.db, user, "di_track", "f").await;
    let assets = Assets {
        nam: insert_asset(&svc.db, user, "nam_model", "f").await,
        ir: insert_asset(&svc.db, user, "impulse_response", "f").await,
    };
    let dir = tempfile::tempdir().unwrap();
    let di_file = dir.path().join("di.wav");
    write_di(&di_file);
    let nam_file = fixtures().join("nam/wavenet.nam");
    let ir_file = fixtures().join("irs/1x12-ac15.wav");
    let mut client = ShootoutServiceClient::new(svc.channel.clone());
    let mut internal = ShootoutInternalClient::new(svc.channel.clone());
    let mut rendered = 0;
    for case in cases() {
        let Limit { min, max, .. } = case.limit;
        for (value, accepted) in [
            (min, true),
            (max, true),
            (min - case.step, false),
            (max + case.step, false),
        ] {
            let label = format!("{} = {value}", case.field);
            let (draft, field) = shootout(&case, value, &di_asset, &assets);
            let created = client
                .create_shootout(as_user(
                    user,
                    CreateShootoutRequest {
                        shootout: Some(draft),
                    },
                ))
                .await;
            if !accepted {
                let refused = created.expect_err(&label);
                assert_eq!(refused.code(), Code::InvalidArgument, "{label}");
                assert_eq!(
                    violation_fields(&refused),
                    std::slice::from_ref(&field),
                    "{label}"
                );
                continue;
            }
            let created = created
                .unwrap_or_else(|e| panic!("{label} refused: {e:?}"))
                .into_inner()
                .shootout
                .unwrap();
            let spec = internal
                .get_render_spec(as_service(GetRenderSpecRequest {
                    shootout_id: created.id.clone(),
                    user_id: user.to_string(),
                }))
                .await
                .unwrap()
                .into_inner()
                .spec
                .unwrap();
            let mut inputs = LocalInputs {
                di_tracks: vec![di_file.clone()],
                ..Default::default()
            };
            for chain in &created.chains {
                for block in &chain.blocks {
                    let file = match &block.kind {
                        Some(Kind::NamModel(_)) => &nam_file,
                        Some(Kind::CabinetIr(_)) => &ir_file,
                        _ => continue,
                    };
                    inputs
                        .blocks
                        .insert((chain.id.clone(), block.id.clone()), file.clone());
                }
            }
            let engine_spec = shootout_spec(&spec, &inputs)
                .unwrap_or_else(|e| panic!("{label}: the worker refused the spec: {e:?}"));
            let result = gts_render::render_chains(
                &engine_spec,
                &gts_render::NoProgress,
                &gts_render::CancelToken::new(),
            )
            .unwrap_or_else(|e| panic!("{label}: accepted by the API, refused by the render: {e}"));
            assert_eq!(result.chains.len(), 1, "{label}");
            rendered += 1;
        }
    }
    assert_eq!(rendered, 2 * cases().len());
}
