//! Real-time factors of the render engine.
//!
//! `cargo run --release -p gts-render --bin gts-render-bench [-- --seconds 60]`
//!
//! Prints, on a synthesised plucked-string DI at 48 kHz: the NAM stage alone per fixture
//! model on one core, our kernel and nam-rs side by side in the same run with their
//! ratio; the standard WaveNet with pre-roll, one-piece and segmented; one whole chain
//! on one core and on every core; the chain without its NAM block; and 4-chain
//! shootouts on every core (one shared NAM pass, four NAM passes, and with every
//! artifact including the MP4); then the video of that shootout alone (frames drawn
//! and encoded, as a ratio of its duration, against ffmpeg encoding a still picture).

use std::path::{Path, PathBuf};
use std::time::Instant;

use gts_media::render_shootout;
use gts_render::nam::NamAmp;
use gts_render::synth::plucked_di;
use gts_render::{
    CancelToken, NoProgress, RenderOptions, ShootoutSpec, render_chains, render_chains_with,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn chain_toml(name: &str, model: &str, ir: &str, extra: &str) -> String {
    let fx = fixtures();
    format!(
        r#"
[[chains]]
name = "{name}"
blocks = [
  {{ kind = "nam", path = "{}/nam/{model}" }},
  {{ kind = "cabinet", path = "{}/irs/{ir}" }},
  {{ kind = "eq", shape = "peaking", frequency_hz = 700.0, gain_db = -3.0 }},
  {extra}
]
"#,
        fx.display(),
        fx.display()
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seconds = 60.0f64;
    let mut kernel_only = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => seconds = args.next().ok_or("--seconds needs a value")?.parse()?,
            // For profilers: only our kernel on one fixture model, nothing else.
            "--kernel-only" => {
                kernel_only = Some(args.next().ok_or("--kernel-only needs a model")?)
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let rate = 48_000u32;
    let di = plucked_di(rate, seconds, 1);
    let dir = std::env::temp_dir().join(format!("gts-render-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let di_path = dir.join("di.wav");
    gts_media::encode::write_wav(&di_path, &di, rate)?;

    let input: Vec<f32> = di.iter().map(|s| s * 0.25).collect();
    if let Some(model) = kernel_only {
        let mut amp = NamAmp::load(&fixtures().join(model))?;
        let mut buffer = input.clone();
        let started = Instant::now();
        for chunk in buffer.chunks_mut(4096) {
            amp.process_raw(chunk);
        }
        println!(
            "{}: {:.1}x real time",
            amp.kernel(),
            seconds / started.elapsed().as_secs_f64()
        );
        return Ok(());
    }

    // 1. The NAM stage alone, one core: our kernel and nam-rs side by side, per model.
    println!("NAM stage, {seconds:.0} s at 48 kHz, 1 core (bare forward pass, same input):");
    println!(
        "  {:<30} {:>22} {:>12} {:>12} {:>10}",
        "model", "kernel", "ours (x RT)", "nam-rs (x RT)", "ratio"
    );
    for model in [
        "nam/wavenet_a1_standard.nam",
        "nam/wavenet.nam",
        "nam/A2.nam",
        "nam/lstm.nam",
        "parity/reference_lstm.nam",
    ] {
        let path = fixtures().join(model);
        let mut amp = NamAmp::load(&path)?;
        let mut buffer = input.clone();
        let started = Instant::now();
        for chunk in buffer.chunks_mut(4096) {
            amp.process_raw(chunk);
        }
        let ours = started.elapsed().as_secs_f64();
        let parsed = nam_rs::NamModel::from_file(&path)?;
        let mut reference = nam_rs::Model::from_nam(&parsed)?;
        let mut buffer = input.clone();
        let started = Instant::now();
        for chunk in buffer.chunks_mut(4096) {
            reference.process_buffer(chunk);
        }
        let theirs = started.elapsed().as_secs_f64();
        println!(
            "  {:<30} {:>22} {:>12.1} {:>12.1} {:>9.2}x",
            model,
            amp.kernel(),
            seconds / ours,
            seconds / theirs,
            theirs / ours
        );
    }
    let mut amp = NamAmp::load(&fixtures().join("nam/wavenet_a1_standard.nam"))?;
    let mut buffer = input.clone();
    let started = Instant::now();
    amp.process_unsegmented(&mut buffer, &CancelToken::new(), &|_| {})?;
    let nam_seconds = started.elapsed().as_secs_f64();
    println!(
        "NAM stage with pre-roll, standard WaveNet, 1 core: {nam_seconds:.2} s wall, {:.1}x real time",
        seconds / nam_seconds
    );
    let mut buffer = input.clone();
    let started = Instant::now();
    amp.process(&mut buffer, &CancelToken::new(), &|_| {})?;
    let nam_seconds = started.elapsed().as_secs_f64();
    println!(
        "NAM stage with pre-roll, standard WaveNet, segmented on {} core(s): {nam_seconds:.2} s wall, {:.1}x real time",
        rayon::current_num_threads(),
        seconds / nam_seconds
    );

    // 2. One whole chain (one thread: a single chain runs on one thread).
    let header = format!(
        "name = \"bench\"\n[[di_tracks]]\npath = \"{}\"\n[output]\nvideo = false\n",
        di_path.display()
    );
    let one = format!(
        "{header}{}",
        chain_toml(
            "full",
            "wavenet_a1_standard.nam",
            "4x12-classic.wav",
            r#"{ kind = "delay", preset = "slapback" }, { kind = "reverb", preset = "room" },"#
        )
    );
    let spec = ShootoutSpec::from_toml_str(&one, &dir)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, cores] {
        let started = Instant::now();
        render_chains_with(
            &spec,
            &NoProgress,
            &CancelToken::new(),
            &RenderOptions {
                threads,
                ..Default::default()
            },
        )?;
        let chain_seconds = started.elapsed().as_secs_f64();
        println!(
            "Whole chain x {seconds:.0} s (decode, level, NAM standard, IR, EQ, delay, reverb, levelling, metrics), {threads} core(s): {chain_seconds:.2} s wall, {:.1}x real time",
            seconds / chain_seconds
        );
    }

    // 2b. The same chain without its NAM block: what everything else costs.
    let no_nam = format!(
        "{header}[[chains]]\nname = \"no amp\"\nblocks = [\n  {{ kind = \"cabinet\", path = \"{}/irs/4x12-classic.wav\" }},\n  {{ kind = \"eq\", shape = \"peaking\", frequency_hz = 700.0, gain_db = -3.0 }},\n  {{ kind = \"delay\", preset = \"slapback\" }},\n  {{ kind = \"reverb\", preset = \"room\" }},\n]\n",
        fixtures().display()
    );
    let spec = ShootoutSpec::from_toml_str(&no_nam, &dir)?;
    let started = Instant::now();
    render_chains_with(
        &spec,
        &NoProgress,
        &CancelToken::new(),
        &RenderOptions {
            threads: 1,
            ..Default::default()
        },
    )?;
    let rest_seconds = started.elapsed().as_secs_f64();
    println!(
        "Same chain without NAM (decode, resampling, IR, EQ, delay, reverb, levelling, metrics), 1 core: {rest_seconds:.2} s wall, {:.1}x real time",
        seconds / rest_seconds
    );

    // 3. Four chains, all cores: the same amp into four cabinets and effects (one NAM
    // pass serves all four), then four different input gains (four NAM passes).
    let four_chains = |gains: [f64; 4]| {
        let mut toml = header.clone();
        for (i, ((ir, extra), gain)) in [
            (
                "4x12-classic.wav",
                r#"{ kind = "delay", preset = "slapback" },"#,
            ),
            ("1x12-ac15.wav", r#"{ kind = "reverb", preset = "hall" },"#),
            (
                "2x12-ac130.wav",
                r#"{ kind = "reverb", preset = "spring" },"#,
            ),
            (
                "4x12-vintage.wav",
                r#"{ kind = "delay", preset = "quarter" },"#,
            ),
        ]
        .iter()
        .zip(gains)
        .enumerate()
        {
            toml.push_str(
                &chain_toml(&format!("chain {i}"), "wavenet_a1_standard.nam", ir, extra).replace(
                    "nam/wavenet_a1_standard.nam\" }",
                    &format!("nam/wavenet_a1_standard.nam\", input_gain_db = {gain:.1} }}"),
                ),
            );
        }
        toml
    };
    let mut rendered = None;
    for (label, gains) in [
        ("same amp, four cabs", [0.0; 4]),
        ("four input gains", [-3.0, 0.0, 3.0, 6.0]),
    ] {
        let spec = ShootoutSpec::from_toml_str(&four_chains(gains), &dir)?;
        let started = Instant::now();
        rendered = Some(render_chains(&spec, &NoProgress, &CancelToken::new())?);
        let shootout_seconds = started.elapsed().as_secs_f64();
        println!(
            "4-chain x {seconds:.0} s shootout ({label}), {cores} core(s), audio only: {shootout_seconds:.2} s wall"
        );
    }
    let spec = ShootoutSpec::from_toml_str(
        &four_chains([-3.0, 0.0, 3.0, 6.0]).replace("video = false", "video = true"),
        &dir,
    )?;
    let out = dir.join("render");
    let started = Instant::now();
    render_shootout(&spec, &out, &NoProgress, &CancelToken::new())?;
    let full_seconds = started.elapsed().as_secs_f64();
    println!(
        "4-chain x {seconds:.0} s shootout (four input gains), {cores} core(s), every artifact incl. the MP4: {full_seconds:.2} s wall"
    );
    if let Some(rendered) = &rendered {
        video_timing(&spec, rendered, &dir)?;
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// 4. The video of the 4-chain shootout: A/B assembly, then frames drawn in Rust and
///    encoded by ffmpeg (the two overlap), timed together against the video's duration.
fn video_timing(
    spec: &ShootoutSpec,
    rendered: &gts_render::RenderedShootout,
    dir: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    use gts_media::assembly::{assemble_ab, find_phrases};
    use gts_media::video::{VideoOptions, render_video};

    let rate = rendered.sample_rate;
    let chains: Vec<&[f32]> = rendered.chain_audio.iter().map(Vec::as_slice).collect();
    let phrases = find_phrases(&rendered.di, rate, spec.output.phrase_seconds as f32);
    let track = assemble_ab(&chains, rate, &phrases, gts_media::shootout::CROSSFADE_MS)?;
    let wav = dir.join("ab.wav");
    gts_media::encode::write_wav(&wav, &track.samples, rate)?;
    // The bench spec turns the video off for the audio figures; the plan wants it on.
    let mut spec = spec.clone();
    spec.output.video = true;
    let (plan, _) = gts_media::shootout::presentation::plan(
        &spec,
        &rendered.chains,
        &rendered.inputs,
        &track.cues,
    );
    let started = Instant::now();
    let report = render_video(
        &dir.join("ab.mp4"),
        &wav,
        &plan,
        &VideoOptions::default(),
        &|_| {},
        &|| false,
    )?;
    let video_seconds = started.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Reference in the same run: ffmpeg alone encoding a still 1080p picture as long, with
    // the same x264 settings (the encoder's floor, no drawing and no pipe).
    let started = Instant::now();
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg(format!(
            "color=c=0x12141a:s=1920x1080:r=25:d={:.3}",
            report.duration_seconds
        ))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "stillimage",
        ])
        .args([
            "-profile:v",
            "high",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "null",
            "-",
        ])
        .status()?;
    let reference_seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err("the ffmpeg reference encode failed".into());
    }
    println!(
        "Reference: ffmpeg encoding a still 1080p picture for {:.1} s with the same x264 settings: {reference_seconds:.2} s wall, {:.2}x the duration",
        report.duration_seconds,
        reference_seconds / report.duration_seconds
    );
    println!(
        "Video of the 4-chain shootout ({:.1} s, {} frames at {} fps, 1920x1080, intro and outro cards), {cores} core(s): {video_seconds:.2} s wall drawing + encoding, {:.2}x the video's duration, {:.2}x the reference",
        report.duration_seconds,
        report.frames,
        report.fps,
        video_seconds / report.duration_seconds,
        video_seconds / reference_seconds
    );
    Ok(())
}
