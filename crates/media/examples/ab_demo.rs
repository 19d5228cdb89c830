//! Renders every gts-media artifact from a synthesised DI and four crude
//! "chains", into the directory given as the first argument:
//! `cargo run -p gts-media --example ab_demo -- /tmp/ab-demo`.

use std::path::PathBuf;

use gts_media::assembly::{assemble_ab, find_phrases};
use gts_media::encode::{write_flac24, write_wav};
use gts_media::plot::{LevelRow, level_chart, spectrum_plot};
use gts_media::video::{ChainCard, VideoOptions, VideoPlan, render_video};

const SR: u32 = 48_000;

/// Karplus–Strong notes with short rests, deterministic.
fn synth_di(seconds: f32) -> Vec<f32> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    };
    let total = (seconds * SR as f32) as usize;
    let mut out = vec![0.0f32; total];
    let freqs = [82.4, 110.0, 146.8, 196.0, 246.9, 329.6];
    let mut at = 0;
    let mut i = 0;
    while at < total {
        let period = (SR as f32 / freqs[i % freqs.len()]) as usize;
        let mut line: Vec<f32> = (0..period).map(|_| noise() * 0.4).collect();
        let len = (SR as usize * (4 + i % 5)) / 8;
        for n in 0..len.min(total - at) {
            let k = n % period;
            let next = line[(k + 1) % period];
            line[k] = 0.996 * 0.5 * (line[k] + next);
            out[at + n] = line[k];
        }
        at += len + SR as usize / 8 * (i % 3);
        i += 1;
    }
    out
}

fn one_pole(signal: &[f32], coefficient: f32, drive: f32) -> Vec<f32> {
    let mut state = 0.0;
    signal
        .iter()
        .map(|&x| {
            state += coefficient * ((x * drive).tanh() - state);
            state * 0.8
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "ab-demo".to_owned()),
    );
    std::fs::create_dir_all(&dir)?;
    let di = synth_di(20.0);
    let chains = [
        ("Clean", one_pole(&di, 0.6, 1.0)),
        ("Crunch", one_pole(&di, 0.3, 6.0)),
        ("Dark lead", one_pole(&di, 0.08, 20.0)),
        (
            "Fizz",
            di.iter().map(|&x| (x * 30.0).tanh() * 0.5).collect(),
        ),
    ];
    let phrases = find_phrases(&di, SR, 4.0);
    let refs: Vec<&[f32]> = chains.iter().map(|(_, c)| c.as_slice()).collect();
    let track = assemble_ab(&refs, SR, &phrases, 10.0)?;
    write_flac24(&dir.join("ab.flac"), &track.samples, SR)?;
    write_wav(&dir.join("ab.wav"), &track.samples, SR)?;
    std::fs::write(dir.join("cues.json"), track.cues_json()?)?;
    let curves: Vec<(String, &[f32])> = chains
        .iter()
        .map(|(name, c)| ((*name).to_owned(), c.as_slice()))
        .collect();
    spectrum_plot(&dir.join("spectrum.png"), &curves, SR)?;
    let rows: Vec<LevelRow> = chains
        .iter()
        .map(|(name, c)| {
            let ms = c.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / c.len().max(1) as f64;
            let peak = c.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
            LevelRow {
                name: (*name).to_owned(),
                integrated_lufs: 10.0 * ms.max(1e-12).log10() - 0.7,
                true_peak_dbtp: 20.0 * f64::from(peak).max(1e-6).log10(),
                rms_dbfs: 10.0 * ms.max(1e-12).log10(),
            }
        })
        .collect();
    level_chart(&dir.join("levels.png"), &rows)?;
    let plan = VideoPlan {
        header: "Demo shootout".to_owned(),
        chains: chains
            .iter()
            .enumerate()
            .map(|(accent, (name, _))| ChainCard {
                title: (*name).to_owned(),
                lines: vec![
                    format!("NAM: {name} capture"),
                    "IR: 2x12 open back".to_owned(),
                ],
                accent,
            })
            .collect(),
        segments: VideoPlan::segments_from_cues(&track.cues),
        intro: None,
        outro: Vec::new(),
    };
    render_video(
        &dir.join("ab.mp4"),
        &dir.join("ab.wav"),
        &plan,
        &VideoOptions::default(),
        &|_| {},
        &|| false,
    )?;
    println!(
        "{} phrases, {} segments, written to {}",
        phrases.len(),
        track.cues.len(),
        dir.display()
    );
    Ok(())
}
