//! How loud the DI enters each chain: calibrated from the model's metadata, or by RMS.
//!
//! Contract: [`decide`] picks a chain's input mode from what the user asked for and the
//! metadata of the chain's first NAM model:
//! - `calibrated`: the model states a plausible `input_level_dbu` X and the DI was recorded
//!   with 0 dBFS = Z dBu (`output.di_calibration_dbu`): the DI keeps its recorded level and
//!   is raised by exactly Z − X dB, so the model hears the physical level its amp heard;
//! - `rms`: each DI track is brought to `output.input_level_dbfs` (gated RMS), as for
//!   models without metadata; a user can force it per chain. Implausible metadata, or a
//!   chain without a NAM model, falls back to `rms` with a note, never silently.
//!
//! A NAM block's own `input_gain_db` is an offset applied on top of either mode.

use serde::{Deserialize, Serialize};

use crate::nam_metadata::{Calibration, NamMetadata};
use crate::spec::{InputLevelMode, OutputOptions};

/// The mode a chain was rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputMode {
    /// DI at its recorded level + (DI calibration − model input level).
    Calibrated,
    /// DI at the RMS input level.
    Rms,
}

impl InputMode {
    /// `calibrated` or `rms`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Calibrated => "calibrated",
            Self::Rms => "rms",
        }
    }
}

/// How the DI entered one chain (kept in the manifest and the chain's results).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputLevelReport {
    /// What the chain asked for.
    pub requested: InputLevelMode,
    /// What it got.
    pub mode: InputMode,
    /// The DI calibration used, dBu at 0 dBFS.
    pub di_calibration_dbu: f64,
    /// The first model's `input_level_dbu`, when it has one (plausible or not).
    pub model_input_level_dbu: Option<f64>,
    /// In `calibrated` mode, the gain applied to the recorded DI (Z − X), dB.
    pub calibration_gain_db: Option<f64>,
    /// Why the chain is in `rms` mode when it asked for `auto`.
    pub note: Option<String>,
}

impl InputLevelReport {
    /// One line for title cards, e.g. "Input calibrated: model +6.0 dBu, DI +12.0 dBu (+6.0 dB)".
    pub fn describe(&self, input_level_dbfs: f64) -> String {
        match (
            self.mode,
            self.model_input_level_dbu,
            self.calibration_gain_db,
        ) {
            (InputMode::Calibrated, Some(model), Some(gain)) => format!(
                "Input calibrated: model {model:+.1} dBu, DI {:+.1} dBu ({gain:+.1} dB)",
                self.di_calibration_dbu
            ),
            _ => format!("Input RMS {input_level_dbfs:.0} dBFS"),
        }
    }
}

/// Chooses the input mode of a chain whose first NAM model has `metadata` (`None`: the
/// chain has no NAM model).
pub fn decide(
    requested: InputLevelMode,
    metadata: Option<&NamMetadata>,
    output: &OutputOptions,
) -> InputLevelReport {
    let rms = |note: Option<String>| InputLevelReport {
        requested,
        mode: InputMode::Rms,
        di_calibration_dbu: output.di_calibration_dbu,
        model_input_level_dbu: metadata.and_then(|m| m.input_level_dbu),
        calibration_gain_db: None,
        note,
    };
    if requested == InputLevelMode::Rms {
        return rms(None);
    }
    let Some(metadata) = metadata else {
        return rms(Some(
            "no NAM model in this chain, so the DI is levelled by RMS".into(),
        ));
    };
    match metadata.calibration() {
        Calibration::Usable(model_dbu) => InputLevelReport {
            requested,
            mode: InputMode::Calibrated,
            di_calibration_dbu: output.di_calibration_dbu,
            model_input_level_dbu: Some(model_dbu),
            calibration_gain_db: Some(output.di_calibration_dbu - model_dbu),
            note: None,
        },
        Calibration::Missing => rms(Some(
            "the model has no input_level_dbu calibration, so the DI is levelled by RMS".into(),
        )),
        Calibration::Implausible(reason) => rms(Some(format!(
            "{reason}, so the DI is levelled by RMS instead"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(dbu: Option<f64>) -> NamMetadata {
        NamMetadata {
            input_level_dbu: dbu,
            ..Default::default()
        }
    }

    #[test]
    fn calibrated_gain_is_calibration_minus_model_level() {
        let output = OutputOptions {
            di_calibration_dbu: 18.0,
            ..Default::default()
        };
        let report = decide(InputLevelMode::Auto, Some(&meta(Some(6.5))), &output);
        assert_eq!(report.mode, InputMode::Calibrated);
        assert_eq!(report.calibration_gain_db, Some(11.5));
        assert!(report.note.is_none());
        assert!(report.describe(-18.0).contains("+11.5 dB"));
    }

    #[test]
    fn missing_implausible_or_forced_fall_back_to_rms() {
        let output = OutputOptions::default();
        let missing = decide(InputLevelMode::Auto, Some(&meta(None)), &output);
        assert_eq!(missing.mode, InputMode::Rms);
        assert!(missing.note.unwrap().contains("no input_level_dbu"));
        let odd = decide(InputLevelMode::Auto, Some(&meta(Some(95.0))), &output);
        assert_eq!(odd.mode, InputMode::Rms);
        assert!(odd.note.unwrap().contains("95"));
        let forced = decide(InputLevelMode::Rms, Some(&meta(Some(12.0))), &output);
        assert_eq!((forced.mode, forced.note), (InputMode::Rms, None));
        let no_model = decide(InputLevelMode::Auto, None, &output);
        assert!(no_model.note.unwrap().contains("no NAM model"));
    }

    /// The samples entering each model, for every way a chain can be levelled.
    #[test]
    fn the_model_hears_the_di_raised_by_exactly_calibration_minus_model_level() {
        use crate::chain::model_input_tap;
        use crate::loudness::gated_rms_dbfs;
        use crate::spec::{Block, ChainSpec, DiTrack, ShootoutSpec};
        use crate::{CancelToken, NoProgress, render_chains};

        let dir = tempfile::tempdir().unwrap();
        let rate = 48_000u32;
        // A decaying 110 Hz note every half second, about −30 dBFS RMS.
        let di: Vec<f32> = (0..rate as usize * 2)
            .map(|i| {
                let t = (i % (rate as usize / 2)) as f64 / f64::from(rate);
                (0.1 * (-6.0 * t).exp() * (2.0 * std::f64::consts::PI * 110.0 * t).sin()) as f32
            })
            .collect();
        let di_path = dir.path().join("di.wav");
        gts_testkit::media::write_wav(&di_path, std::slice::from_ref(&di), rate, 32, true);

        let fixture = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/nam/wavenet.nam"),
        )
        .unwrap();
        let model = |name: &str, dbu: Option<f64>| {
            let mut json: serde_json::Value = serde_json::from_str(&fixture).unwrap();
            match dbu {
                Some(dbu) => json["metadata"]["input_level_dbu"] = dbu.into(),
                None => {
                    json["metadata"]
                        .as_object_mut()
                        .unwrap()
                        .remove("input_level_dbu");
                }
            }
            let path = dir.path().join(name);
            std::fs::write(&path, json.to_string()).unwrap();
            path
        };
        let chain = |name: &str, path: &std::path::Path, mode, input_gain_db| ChainSpec {
            name: name.into(),
            description: String::new(),
            high_pass: false,
            high_pass_hz: 80.0,
            input_level_mode: mode,
            blocks: vec![Block::Nam {
                path: path.to_path_buf(),
                input_gain_db,
                gear: None,
            }],
        };
        let models = [
            model("calibrated.nam", Some(6.0)),
            model("offset.nam", Some(6.0)),
            model("bare.nam", None),
            model("odd.nam", Some(95.0)),
            model("forced.nam", Some(6.0)),
        ];
        let spec = ShootoutSpec {
            name: "Calibration".into(),
            description: String::new(),
            di_tracks: vec![DiTrack {
                path: di_path,
                name: None,
            }],
            chains: vec![
                chain("Calibrated", &models[0], InputLevelMode::Auto, 0.0),
                chain("Offset", &models[1], InputLevelMode::Auto, 3.0),
                chain("No metadata", &models[2], InputLevelMode::Auto, 0.0),
                chain("Implausible", &models[3], InputLevelMode::Auto, 0.0),
                chain("Forced", &models[4], InputLevelMode::Rms, 0.0),
            ],
            output: OutputOptions {
                di_calibration_dbu: 18.0,
                video: false,
                sample_rate: rate,
                ..Default::default()
            },
        };
        let rendered = render_chains(&spec, &NoProgress, &CancelToken::new()).unwrap();
        let heard: Vec<Vec<f32>> = models
            .iter()
            .map(|m| model_input_tap::take(m).unwrap()[..di.len()].to_vec())
            .collect();
        let peak = di.iter().fold(0.0f32, |p, s| p.max(s.abs()));
        let raised_by = |samples: &[f32], db: f64| {
            let gain = 10f64.powf(db / 20.0);
            samples
                .iter()
                .zip(&di)
                .map(|(&h, &d)| (f64::from(h) - f64::from(d) * gain).abs())
                .fold(0.0f64, f64::max)
                <= 1e-6 * f64::from(peak)
        };
        // Z − X = 18 − 6 = +12 dB on the recorded DI; the block's +3 dB adds on top.
        assert!(raised_by(&heard[0], 12.0));
        assert!(raised_by(&heard[1], 15.0));
        let calibrated = &rendered.chains[0].input;
        assert_eq!(calibrated.mode, InputMode::Calibrated);
        assert_eq!(calibrated.calibration_gain_db, Some(12.0));
        assert_eq!(calibrated.model_input_level_dbu, Some(6.0));
        // Without usable metadata, or forced, the model hears the RMS target.
        for (index, note) in [(2, Some("no input_level_dbu")), (3, Some("95")), (4, None)] {
            let level = gated_rms_dbfs(&heard[index], rate).unwrap();
            assert!(
                (level - spec.output.input_level_dbfs).abs() < 0.01,
                "{level}"
            );
            let input = &rendered.chains[index].input;
            assert_eq!(input.mode, InputMode::Rms);
            match note {
                Some(text) => assert!(input.note.as_deref().unwrap().contains(text)),
                None => assert!(input.note.is_none()),
            }
        }
        // The mode travels with the chain's report (the manifest and the metrics).
        let report = serde_json::to_string(&rendered.chains).unwrap();
        assert!(report.contains(r#""mode":"calibrated""#), "{report}");
        assert!(report.contains(r#""mode":"rms""#), "{report}");
    }
}
