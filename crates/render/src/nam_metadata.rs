//! The `metadata` object of a `.nam` file: names, loudness, gain and the reamp calibration.
//!
//! Contract: [`read_metadata`] parses only the file's top-level `metadata` object (serde
//! skips the weights without building them) and reads each field leniently: a missing,
//! mistyped or non-finite field is absent, never an error, because metadata is advisory.
//! `input_level_dbu` is the dBu of a 1 kHz sine at 0 dBFS peak at the capture's reamp send;
//! `output_level_dbu` the same for its return. [`NamMetadata::calibration`] decides
//! whether `input_level_dbu` is plausible enough to calibrate a chain with.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::limits::PLAUSIBLE_MODEL_INPUT_DBU;

/// What a `.nam` file says about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamMetadata {
    /// Model name.
    pub name: Option<String>,
    /// Who captured it.
    pub modeled_by: Option<String>,
    /// `amp`, `pedal`, `amp_cab`, ...
    pub gear_type: Option<String>,
    /// Maker of the gear.
    pub gear_make: Option<String>,
    /// Model of the gear.
    pub gear_model: Option<String>,
    /// `clean`, `crunch`, `hi_gain`, ...
    pub tone_type: Option<String>,
    /// The trainer's loudness estimate of the model's output, dB.
    pub loudness_db: Option<f64>,
    /// The trainer's gain estimate (0..=1 for most captures).
    pub gain: Option<f64>,
    /// Reamp send calibration: dBu at 0 dBFS.
    pub input_level_dbu: Option<f64>,
    /// Reamp return calibration: dBu at 0 dBFS.
    pub output_level_dbu: Option<f64>,
}

/// Whether a model's input calibration can be used.
#[derive(Debug, Clone, PartialEq)]
pub enum Calibration {
    /// Plausible `input_level_dbu`.
    Usable(f64),
    /// No `input_level_dbu` in the file.
    Missing,
    /// A value outside the plausible range (the reason says which).
    Implausible(String),
}

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    metadata: Option<Value>,
}

/// Reads the metadata of `.nam` JSON. Text that is not a JSON object, or has no metadata
/// object, gives empty metadata (the model checker reports malformed files).
pub fn read_metadata(json: &str) -> NamMetadata {
    match serde_json::from_str::<Document>(json) {
        Ok(Document {
            metadata: Some(Value::Object(map)),
        }) => from_map(&map),
        _ => NamMetadata::default(),
    }
}

fn from_map(map: &Map<String, Value>) -> NamMetadata {
    let text = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(200).collect::<String>())
    };
    let number = |key: &str| {
        map.get(key)
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite())
    };
    NamMetadata {
        name: text("name"),
        modeled_by: text("modeled_by"),
        gear_type: text("gear_type"),
        gear_make: text("gear_make"),
        gear_model: text("gear_model"),
        tone_type: text("tone_type"),
        loudness_db: number("loudness"),
        gain: number("gain"),
        input_level_dbu: number("input_level_dbu"),
        output_level_dbu: number("output_level_dbu"),
    }
}

impl NamMetadata {
    /// Whether `input_level_dbu` can calibrate a chain.
    pub fn calibration(&self) -> Calibration {
        match self.input_level_dbu {
            None => Calibration::Missing,
            Some(dbu) if PLAUSIBLE_MODEL_INPUT_DBU.contains(dbu) => Calibration::Usable(dbu),
            Some(dbu) => Calibration::Implausible(format!(
                "the model's input_level_dbu {dbu} is outside the plausible {}..={} dBu",
                PLAUSIBLE_MODEL_INPUT_DBU.min, PLAUSIBLE_MODEL_INPUT_DBU.max
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_leniently() {
        let json = r#"{"version":"0.5.4","weights":[0.1,0.2],
            "metadata":{"name":" Plexi ","loudness":-18.5,"gain":"high",
                        "input_level_dbu":12.0,"output_level_dbu":null}}"#;
        let meta = read_metadata(json);
        assert_eq!(meta.name.as_deref(), Some("Plexi"));
        assert_eq!(meta.loudness_db, Some(-18.5));
        assert_eq!(meta.gain, None);
        assert_eq!(meta.input_level_dbu, Some(12.0));
        assert_eq!(meta.output_level_dbu, None);
        assert_eq!(meta.calibration(), Calibration::Usable(12.0));
        assert_eq!(read_metadata("[1]"), NamMetadata::default());
        assert_eq!(read_metadata(r#"{"metadata":3}"#), NamMetadata::default());
        let odd = read_metadata(r#"{"metadata":{"input_level_dbu":120}}"#);
        assert!(matches!(odd.calibration(), Calibration::Implausible(m) if m.contains("120")));
        assert_eq!(
            read_metadata(r#"{"metadata":{}}"#).calibration(),
            Calibration::Missing
        );
    }
}
