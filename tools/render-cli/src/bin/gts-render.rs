//! `gts-render <shootout.toml | manifest.json> [--out DIR] [--no-video] [--blind]`
//! `gts-render synth-di <out.wav> [SECONDS] [RATE]`
//!
//! Renders a shootout offline with a progress bar and prints where the artifacts are.
//! Given a manifest from an earlier render, it checks every input's SHA-256 and renders
//! the recorded spec again. `synth-di` writes a synthesised plucked-string DI (24-bit
//! WAV) for demos and tests, since no real DI recording ships with the project.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gts_media::{Manifest, render_shootout};
use gts_render::{CancelToken, Progress, ProgressSink, ShootoutSpec, Stage};
use indicatif::{ProgressBar, ProgressStyle};

struct Bar(ProgressBar);

impl ProgressSink for Bar {
    fn report(&self, progress: Progress) {
        self.0
            .set_position((progress.overall * 1000.0).round() as u64);
        let stage = match progress.stage {
            Stage::Load => "loading",
            Stage::Process => "processing",
            Stage::Level => "levelling",
            Stage::Analyse => "measuring",
            Stage::Artifacts => "writing artifacts",
            Stage::Done => "done",
        };
        let message = match progress.chain {
            Some(chain) => format!("{stage} chain {}/{}", chain + 1, progress.chain_count),
            None => stage.to_string(),
        };
        self.0.set_message(message);
    }
}

struct Args {
    input: PathBuf,
    out: Option<PathBuf>,
    no_video: bool,
    blind: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut input = None;
    let mut out = None;
    let mut no_video = false;
    let mut blind = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" | "-o" => {
                out = Some(PathBuf::from(args.next().ok_or("--out needs a directory")?))
            }
            "--no-video" => no_video = true,
            "--blind" => blind = true,
            "--help" | "-h" => return Err(String::new()),
            other if input.is_none() && !other.starts_with('-') => {
                input = Some(PathBuf::from(other))
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(Args {
        input: input.ok_or("missing <shootout.toml>")?,
        out,
        no_video,
        blind,
    })
}

fn default_out_dir(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "shootout".into());
    input
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!("{stem}-render"))
}

/// `synth-di <out.wav> [SECONDS] [RATE]`.
fn synth_di(args: &[String]) -> ExitCode {
    let Some(path) = args.first() else {
        eprintln!("usage: gts-render synth-di <out.wav> [SECONDS] [RATE]");
        return ExitCode::from(2);
    };
    let seconds: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(30.0);
    let rate: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(48_000);
    if !(0.5..=1200.0).contains(&seconds) || !(8_000..=192_000).contains(&rate) {
        eprintln!("error: SECONDS must be 0.5..=1200 and RATE 8000..=192000");
        return ExitCode::from(2);
    }
    let samples = gts_render::synth::plucked_di(rate, seconds, 1);
    match gts_media::encode::write_wav(Path::new(path), &samples, rate) {
        Ok(()) => {
            println!("Wrote {seconds} s of plucked-string DI at {rate} Hz to {path}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().is_some_and(|a| a == "synth-di") {
        return synth_di(raw.get(1..).unwrap_or_default());
    }
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            eprintln!(
                "usage: gts-render <shootout.toml | manifest.json> [--out DIR] [--no-video] [--blind]"
            );
            return ExitCode::from(2);
        }
    };
    let is_manifest = args.input.extension().is_some_and(|e| e == "json");
    let loaded = if is_manifest {
        Manifest::load_spec(&args.input)
    } else {
        ShootoutSpec::from_toml_file(&args.input)
    };
    let mut spec = match loaded {
        Ok(spec) => spec,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if args.blind {
        spec.output.video_style.blind = true;
    }
    if args.no_video {
        spec.output.video = false;
    }
    let out_dir = args.out.unwrap_or_else(|| default_out_dir(&args.input));
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {percent:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let sink = Bar(bar);
    let result = render_shootout(&spec, &out_dir, &sink, &CancelToken::new());
    sink.0.finish_and_clear();
    match result {
        Ok(report) => {
            println!(
                "Rendered {:?}: {} chain(s), {:.1} s each",
                spec.name,
                report.chains.len(),
                report.duration_seconds
            );
            for chain in &report.chains {
                println!(
                    "  {}: {:.2} LUFS, {:.2} dBTP — {}",
                    chain.name,
                    chain.level.output_lufs,
                    chain.level.true_peak_dbtp,
                    chain.evaluation.join(" ")
                );
                println!("    {}", chain.input.describe(spec.output.input_level_dbfs));
                for note in [&chain.input.note, &chain.level.note].into_iter().flatten() {
                    println!("    note: {note}");
                }
            }
            println!("Artifacts in {}:", report.out_dir.display());
            for artifact in &report.artifacts {
                println!("  {}", report.out_dir.join(&artifact.file).display());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
