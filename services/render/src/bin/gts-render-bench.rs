//! Real-time factors of the render engine.
//!
//! `cargo run --release -p gts-render --bin gts-render-bench [-- --seconds 60]`
//!
//! Prints: the NAM stage alone (standard WaveNet, one core), one whole chain (NAM + IR
//! and EQ, delay, reverb, levelling; one core), and the wall time of a 4-chain
//! shootout (all cores), each on a synthesised plucked-string DI at 48 kHz.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gts_render::nam::NamAmp;
use gts_render::synth::plucked_di;
use gts_render::{CancelToken, NoProgress, ShootoutSpec, render_chains};

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
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            seconds = args.next().ok_or("--seconds needs a value")?.parse()?;
        }
    }
    let rate = 48_000u32;
    let di = plucked_di(rate, seconds, 1);
    let dir = std::env::temp_dir().join(format!("gts-render-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let di_path = dir.join("di.wav");
    gts_media::encode::write_wav(&di_path, &di, rate)?;

    // 1. NAM alone: standard WaveNet, one thread.
    let mut amp = NamAmp::load(&fixtures().join("nam/wavenet_a1_standard.nam"))?;
    let mut buffer: Vec<f32> = di.iter().map(|s| s * 0.25).collect();
    let started = Instant::now();
    amp.process(&mut buffer, &CancelToken::new(), &mut |_| {})?;
    let nam_seconds = started.elapsed().as_secs_f64();
    println!(
        "NAM standard WaveNet, {seconds:.0} s at 48 kHz, 1 core: {nam_seconds:.2} s wall, {:.2}x real time",
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
    let started = Instant::now();
    render_chains(&spec, &NoProgress, &CancelToken::new())?;
    let chain_seconds = started.elapsed().as_secs_f64();
    println!(
        "Whole chain (decode, level, NAM standard, IR, EQ, delay, reverb, levelling, metrics), 1 core: {chain_seconds:.2} s wall, {:.2}x real time",
        seconds / chain_seconds
    );

    // 2b. The same chain without its NAM block: what everything else costs.
    let no_nam = format!(
        "{header}[[chains]]\nname = \"no amp\"\nblocks = [\n  {{ kind = \"cabinet\", path = \"{}/irs/4x12-classic.wav\" }},\n  {{ kind = \"eq\", shape = \"peaking\", frequency_hz = 700.0, gain_db = -3.0 }},\n  {{ kind = \"delay\", preset = \"slapback\" }},\n  {{ kind = \"reverb\", preset = \"room\" }},\n]\n",
        fixtures().display()
    );
    let spec = ShootoutSpec::from_toml_str(&no_nam, &dir)?;
    let started = Instant::now();
    render_chains(&spec, &NoProgress, &CancelToken::new())?;
    let rest_seconds = started.elapsed().as_secs_f64();
    println!(
        "Same chain without NAM (decode, resampling, IR, EQ, delay, reverb, levelling, metrics), 1 core: {rest_seconds:.2} s wall, {:.1}x real time",
        seconds / rest_seconds
    );

    // 3. Four chains, all cores.
    let mut four = header.clone();
    for (i, (ir, extra)) in [
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
    .enumerate()
    {
        four.push_str(&chain_toml(
            &format!("chain {i}"),
            "wavenet_a1_standard.nam",
            ir,
            extra,
        ));
    }
    let spec = ShootoutSpec::from_toml_str(&four, &dir)?;
    let started = Instant::now();
    render_chains(&spec, &NoProgress, &CancelToken::new())?;
    let shootout_seconds = started.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "4-chain x {seconds:.0} s shootout (standard WaveNet each), {cores} core(s): {shootout_seconds:.2} s wall (audio only, no artifacts)"
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
