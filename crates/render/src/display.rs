//! How a spec asks to be shown: the gear behind a block (names from TONE3000 or an
//! upload, never ids) and the video's style. The engine names blocks by this; the
//! packaging layer (gts-media) draws cards, chapters and the blind shuffle from it.

use serde::{Deserialize, Serialize};

/// Display metadata of a NAM or IR block: what cards, plots, cues and the manifest name it by.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GearInfo {
    /// The main name: the TONE3000 tone's title, an upload's file name, an IR's name.
    pub name: String,
    /// The model's name within its tone (TONE3000), if it adds anything.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    /// Kind of gear as TONE3000 files it ("amp", "pedal", "ir", ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub gear: String,
    /// Model size ("standard", "nano", ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub size: String,
    /// Architecture ("A1", "A2", "custom").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    /// The gear makes TONE3000 lists ("Marshall JCM800").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub makes: Vec<String>,
    /// Who made the capture (TONE3000 username).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
}

impl GearInfo {
    /// One line: name, model, (size, architecture), makes not already named, author.
    pub fn line(&self) -> String {
        let mut text = self.name.trim().to_owned();
        let model = self.model.trim();
        if !model.is_empty() && !text.contains(model) {
            text = if text.is_empty() {
                model.to_owned()
            } else {
                format!("{text} · {model}")
            };
        }
        let details: Vec<&str> = [self.size.trim(), self.architecture.trim()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        if !details.is_empty() {
            text.push_str(&format!(" ({})", details.join(", ")));
        }
        for make in &self.makes {
            let make = make.trim();
            if !make.is_empty() && !text.to_lowercase().contains(&make.to_lowercase()) {
                text.push_str(&format!(" · {make}"));
            }
        }
        if !self.author.trim().is_empty() {
            text.push_str(&format!(" · by {}", self.author.trim()));
        }
        text
    }

    /// "Amp", "Pedal", ... from `gear`, or `fallback`.
    pub fn kind_label(&self, fallback: &str) -> String {
        let gear = self.gear.trim().replace('_', " ");
        let mut chars = gear.chars();
        match chars.next() {
            Some(first) if !matches!(gear.as_str(), "ir" | "cab") => {
                first.to_uppercase().collect::<String>() + chars.as_str()
            }
            _ => fallback.to_owned(),
        }
    }
}

fn default_true() -> bool {
    true
}

/// How the video is presented (all on by default except blind mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoStyle {
    /// An intro card: name, description, how the tones were levelled.
    #[serde(default = "default_true")]
    pub intro: bool,
    /// An outro card with the results table.
    #[serde(default = "default_true")]
    pub outro: bool,
    /// Blind mode: "Tone A, B, …" in a shuffled order, a reveal card at the end.
    #[serde(default)]
    pub blind: bool,
    /// The shuffle's seed; derived from the inputs when absent.
    #[serde(default)]
    pub blind_seed: Option<u64>,
}

impl Default for VideoStyle {
    fn default() -> Self {
        Self {
            intro: true,
            outro: true,
            blind: false,
            blind_seed: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gear_lines_name_tone_model_and_author_once() {
        let gear = GearInfo {
            name: "Marshall JCM800 2203 Crunch".into(),
            model: "JCM800 2203 Crunch DI standard".into(),
            gear: "amp".into(),
            size: "standard".into(),
            architecture: "A1".into(),
            makes: vec!["Marshall JCM800".into()],
            author: "brucew".into(),
        };
        assert_eq!(
            gear.line(),
            "Marshall JCM800 2203 Crunch · JCM800 2203 Crunch DI standard (standard, A1) · by brucew"
        );
        assert_eq!(gear.kind_label("NAM"), "Amp");
        assert_eq!(
            GearInfo {
                gear: "ir".into(),
                ..GearInfo::default()
            }
            .kind_label("Cab IR"),
            "Cab IR"
        );
    }
}
