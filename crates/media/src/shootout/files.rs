//! The files of a rendered shootout: per-chain audio, the A/B comparison with its cue list, plots, video.
//!
//! Contract: everything goes into the output directory under fixed names
//! (`chain-NN-<slug>.flac|.wav`, `ab.flac`, `ab.wav`, `cues.json`, `chapters.txt`,
//! `di-waveform.json`, `spectrum.json`, `spectrum.png`, `levels.png`, `ab.mp4`), so the same spec renders to the same file set
//! and the same audio bytes. The phrases are cut on the levelled DI timeline padded with
//! the tail (so the last phrase lets every chain ring out); in blind mode the chains play
//! in the seeded shuffled order ([`super::presentation`]), and cues still name spec
//! chain indices. Encoding, assembly, plots and video are this crate's lower modules; this
//! one drives them and lists what was written.

use std::path::Path;

use gts_render::report::RenderedShootout;
use gts_render::spec::ShootoutSpec;
use gts_render::{CancelToken, RenderError, Result};

use super::Artifact;
use super::presentation::{PresentationRecord, plan, play_order};
use crate::MediaError;
use crate::assembly::{Cue, assemble_ab, find_phrases};
use crate::encode::{write_flac24, write_wav};
use crate::plot::{LevelRow, SpectrumData, level_chart, plot_spectra, smoothed_spectrum};
use crate::video::{VideoOptions, chapters_txt, render_video};
use crate::waveform::{WAVEFORM_COLUMNS, Waveform};

/// Crossfade at each A/B switch, milliseconds.
pub const CROSSFADE_MS: f32 = 10.0;
/// File name of the cue list.
pub const CUES_FILE: &str = "cues.json";
/// File name of the YouTube chapter list.
pub const CHAPTERS_FILE: &str = "chapters.txt";
/// File name of the levelled DI's waveform overview (JSON), on the chains' timeline.
pub const DI_WAVEFORM_FILE: &str = "di-waveform.json";
/// File name of every chain's smoothed spectrum (JSON), the points of `spectrum.png`.
pub const SPECTRUM_DATA_FILE: &str = "spectrum.json";

fn media_error(artifact: &str) -> impl Fn(MediaError) -> RenderError + '_ {
    move |error| match error {
        MediaError::Cancelled => RenderError::Cancelled,
        other => RenderError::Artifact {
            artifact: artifact.to_string(),
            reason: other.to_string(),
        },
    }
}

/// A file-name-safe version of a chain name.
fn slug(name: &str) -> String {
    let mut slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    let trimmed = slug.trim_matches('-');
    let short: String = trimmed.chars().take(40).collect();
    if short.is_empty() {
        "chain".into()
    } else {
        short
    }
}

/// What [`write_artifacts`] wrote, with what the manifest records of it (so the manifest
/// neither reads the files back nor plans the presentation again).
pub struct WrittenArtifacts {
    pub artifacts: Vec<Artifact>,
    /// The A/B cue list, as `cues.json` holds it.
    pub cues: Vec<Cue>,
    /// What the chapters and the video presented.
    pub presentation: PresentationRecord,
}

/// Writes the artifacts, reporting 0..=1 through `on_progress`.
pub fn write_artifacts(
    spec: &ShootoutSpec,
    rendered: &RenderedShootout,
    out_dir: &Path,
    on_progress: &dyn Fn(f32),
    cancel: &CancelToken,
) -> Result<WrittenArtifacts> {
    let rate = rendered.sample_rate;
    let mut artifacts = Vec::new();
    // Drawing and encoding the video takes about six times as long as everything else
    // here (docs/benchmarks.md), so it gets six sevenths of the bar.
    let base_steps = (rendered.chain_audio.len() + 3) as f32;
    let video_steps = if spec.output.video {
        base_steps * 6.0
    } else {
        0.0
    };
    let steps = base_steps + video_steps;
    let mut step = 0.0f32;
    let advance = |artifacts_done: &mut f32| {
        *artifacts_done += 1.0;
        on_progress((*artifacts_done / steps).min(1.0));
    };

    for (index, (audio, report)) in rendered
        .chain_audio
        .iter()
        .zip(&rendered.chains)
        .enumerate()
    {
        cancel.check()?;
        let stem = format!("chain-{:02}-{}", index + 1, slug(&report.name));
        for (extension, kind) in [("flac", "chain_flac"), ("wav", "chain_wav")] {
            let file = format!("{stem}.{extension}");
            let path = out_dir.join(&file);
            let result = if extension == "flac" {
                write_flac24(&path, audio, rate)
            } else {
                write_wav(&path, audio, rate)
            };
            result.map_err(media_error(&file))?;
            artifacts.push(Artifact {
                kind: kind.into(),
                chain: Some(index),
                file,
            });
        }
        advance(&mut step);
    }

    // A/B comparison: phrases on the DI timeline plus the tail, so tails are heard.
    cancel.check()?;
    let tail = rendered
        .chain_audio
        .first()
        .map_or(0, |a| a.len().saturating_sub(rendered.di.len()));
    let mut timeline = rendered.di.clone();
    timeline.resize(timeline.len() + tail, 0.0);
    // What players seek on: the DI every chain played, spanning the chains' audio.
    let waveform = Waveform::of(&timeline, rate, WAVEFORM_COLUMNS);
    let waveform_path = out_dir.join(DI_WAVEFORM_FILE);
    std::fs::write(&waveform_path, waveform.to_json())
        .map_err(|e| RenderError::io(&waveform_path, e))?;
    artifacts.push(Artifact {
        kind: "di_waveform".into(),
        chain: None,
        file: DI_WAVEFORM_FILE.into(),
    });
    let phrases = find_phrases(&timeline, rate, spec.output.phrase_seconds as f32);
    let order = play_order(spec, &rendered.inputs);
    let chains: Vec<&[f32]> = order
        .iter()
        .filter_map(|&index| rendered.chain_audio.get(index).map(Vec::as_slice))
        .collect();
    let mut track =
        assemble_ab(&chains, rate, &phrases, CROSSFADE_MS).map_err(media_error("A/B track"))?;
    for cue in &mut track.cues {
        cue.chain = order.get(cue.chain).copied().unwrap_or(cue.chain);
    }
    for (file, kind) in [("ab.flac", "ab_flac"), ("ab.wav", "ab_wav")] {
        let path = out_dir.join(file);
        let result = if kind == "ab_flac" {
            write_flac24(&path, &track.samples, rate)
        } else {
            write_wav(&path, &track.samples, rate)
        };
        result.map_err(media_error(file))?;
        artifacts.push(Artifact {
            kind: kind.into(),
            chain: None,
            file: file.into(),
        });
    }
    let cues = track.cues_json().map_err(media_error(CUES_FILE))?;
    let cues_path = out_dir.join(CUES_FILE);
    std::fs::write(&cues_path, cues).map_err(|e| RenderError::io(&cues_path, e))?;
    artifacts.push(Artifact {
        kind: "cues".into(),
        chain: None,
        file: CUES_FILE.into(),
    });
    let (plan, record) = plan(spec, &rendered.chains, &rendered.inputs, &track.cues);
    let chapters_path = out_dir.join(CHAPTERS_FILE);
    std::fs::write(&chapters_path, chapters_txt(&record.chapters))
        .map_err(|e| RenderError::io(&chapters_path, e))?;
    artifacts.push(Artifact {
        kind: "chapters_txt".into(),
        chain: None,
        file: CHAPTERS_FILE.into(),
    });
    advance(&mut step);

    // Plots.
    cancel.check()?;
    // Measured once: drawn into the PNG and written for players that draw it themselves.
    let spectra: Vec<Vec<(f64, f64)>> = rendered
        .chain_audio
        .iter()
        .map(|audio| smoothed_spectrum(audio, rate))
        .collect();
    let spectrum_path = out_dir.join(SPECTRUM_DATA_FILE);
    std::fs::write(&spectrum_path, SpectrumData::of(&spectra).to_json())
        .map_err(|e| RenderError::io(&spectrum_path, e))?;
    artifacts.push(Artifact {
        kind: "spectrum_json".into(),
        chain: None,
        file: SPECTRUM_DATA_FILE.into(),
    });
    let named: Vec<(String, Vec<(f64, f64)>)> = rendered
        .chains
        .iter()
        .map(|report| report.name.clone())
        .zip(spectra)
        .collect();
    plot_spectra(&out_dir.join("spectrum.png"), &named, rate)
        .map_err(media_error("spectrum.png"))?;
    artifacts.push(Artifact {
        kind: "spectrum_png".into(),
        chain: None,
        file: "spectrum.png".into(),
    });
    advance(&mut step);
    let rows: Vec<LevelRow> = rendered
        .chains
        .iter()
        .map(|report| LevelRow {
            name: report.name.clone(),
            integrated_lufs: report.metrics.integrated_lufs,
            true_peak_dbtp: report.metrics.true_peak_dbtp,
            rms_dbfs: report.metrics.rms_dbfs,
        })
        .collect();
    level_chart(&out_dir.join("levels.png"), &rows).map_err(media_error("levels.png"))?;
    artifacts.push(Artifact {
        kind: "levels_png".into(),
        chain: None,
        file: "levels.png".into(),
    });
    advance(&mut step);

    if spec.output.video {
        cancel.check()?;
        let done = step;
        let video_progress = |fraction: f32| {
            on_progress(((done + fraction * video_steps) / steps).min(1.0));
        };
        render_video(
            &out_dir.join("ab.mp4"),
            &out_dir.join("ab.wav"),
            &plan,
            &VideoOptions::default(),
            &video_progress,
            &|| cancel.is_cancelled(),
        )
        .map_err(media_error("ab.mp4"))?;
        artifacts.push(Artifact {
            kind: "video_mp4".into(),
            chain: None,
            file: "ab.mp4".into(),
        });
        on_progress(1.0);
    }
    Ok(WrittenArtifacts {
        artifacts,
        cues: track.cues,
        presentation: record,
    })
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(slug("Tweed + 1x12 / Spring!"), "tweed-1x12-spring");
        assert_eq!(slug("***"), "chain");
        assert!(slug(&"x".repeat(100)).len() <= 40);
    }
}
