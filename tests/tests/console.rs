//! The web console in a real browser: Debian's Chromium driven by playwright-core
//! (`tests/browser/console.spec.mjs`) against the whole stack and the fake TONE3000.
//!
//! TONE3000 sends the browser back to the redirect URI auth is configured with, so the
//! console under test is served by a gateway on a port bound before the stack starts
//! (auth gets `http://127.0.0.1:<port>/auth/callback`); it is a second, ordinary gateway
//! in front of the stack's services, configured as the stack's own (artifact links are
//! signed for it too).

#![allow(clippy::unwrap_used)]

use std::{path::Path, process::Stdio, time::Duration};

use gts_common::Env;
use gts_e2e::{
    Stack,
    shootouts::wav_16bit_mono,
    stack::{ServiceHandle, console_dir, ephemeral_listener, service_env},
};

/// The longest the browser script may run (it bounds each of its own waits too).
const BROWSER_BUDGET: Duration = Duration::from_secs(600);

/// A 16-bit mono 48 kHz WAV of plucked strings (Karplus-Strong): note onsets, decays and
/// a little pick noise, as a DI recording has.
fn plucked_di(seconds: f64) -> Vec<u8> {
    const RATE: u32 = 48_000;
    let frames = (seconds * f64::from(RATE)) as usize;
    let notes = [82.41, 110.0, 146.83, 196.0, 246.94, 329.63];
    let note_len = RATE as usize / 2;
    let mut samples = vec![0f64; frames];
    let mut seed: u32 = 0x1234_5678;
    let mut noise = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        f64::from(seed) / f64::from(u32::MAX) * 2.0 - 1.0
    };
    for (n, start) in (0..frames).step_by(note_len).enumerate() {
        let period = (f64::from(RATE) / notes[n % notes.len()]) as usize;
        let mut line: Vec<f64> = (0..period).map(|_| noise() * 0.5).collect();
        let end = (start + note_len * 2).min(frames);
        for (i, sample) in samples[start..end].iter_mut().enumerate() {
            let j = i % period;
            let next = line[(j + 1) % period];
            let out = line[j];
            line[j] = 0.996 * 0.5 * (out + next);
            *sample += out;
        }
    }
    let scaled: Vec<f64> = samples.iter().map(|s| s.clamp(-1.0, 1.0) * 0.7).collect();
    wav_16bit_mono(&scaled, RATE)
}

/// Writes what the browser uploads: di.wav, amp-a.nam, amp-b.nam, cab.wav, and two files
/// a DI upload must refuse: not-audio.wav (text) and silent.wav (digital silence).
fn write_files(dir: &Path) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    // 12 s: over 1 MiB, so it goes in two chunks and its upload can be interrupted.
    std::fs::write(dir.join("di.wav"), plucked_di(12.0)).unwrap();
    std::fs::copy(fixtures.join("nam/wavenet.nam"), dir.join("amp-a.nam")).unwrap();
    std::fs::copy(fixtures.join("nam/lstm.nam"), dir.join("amp-b.nam")).unwrap();
    std::fs::copy(fixtures.join("irs/4x12-vintage.wav"), dir.join("cab.wav")).unwrap();
    std::fs::write(
        dir.join("not-audio.wav"),
        "Set list: 1. Plexi riff 2. JCM800 lead\n".repeat(40),
    )
    .unwrap();
    std::fs::write(
        dir.join("silent.wav"),
        wav_16bit_mono(&vec![0.0; 96_000], 48_000),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_builds_a_shootout_compares_in_the_listening_room_and_shares_it_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("tests/browser/console.spec.mjs");
    assert!(
        root.join("tests/browser/node_modules/playwright-core")
            .is_dir(),
        "playwright-core is not installed: run deploy/local/ensure-deps.sh \
         (npm ci in tests/browser)"
    );
    assert!(
        console_dir().join("index.html").is_file(),
        "the console is not built: run deploy/local/ensure-deps.sh (npm run build in web/)"
    );

    let console_listener = ephemeral_listener().await;
    let console_url = format!("http://{}", console_listener.local_addr().unwrap());
    let stack = Stack::start_with(&[
        (
            "GTS_TONE3000_REDIRECT_URI",
            format!("{console_url}/auth/callback"),
        ),
        // Artifact links point at the console's gateway (same origin as the page).
        ("GTS_ARTIFACT_URL_BASE", console_url.clone()),
    ])
    .await;

    let mut env = service_env(stack.db.url(), &stack.redis_prefix);
    env.extend(stack.secrets.verifier_env());
    env.extend([
        (
            "GTS_AUTH_URL".to_owned(),
            format!("http://{}", stack.auth.addr),
        ),
        (
            "GTS_SHOOTOUT_URL".to_owned(),
            format!("http://{}", stack.shootout.addr),
        ),
        (
            "GTS_WORKER_URL".to_owned(),
            format!("http://{}", stack.worker.addr),
        ),
        ("GTS_CORS_ORIGINS".to_owned(), console_url.clone()),
        (
            "GTS_ARTIFACT_URL_KEY".to_owned(),
            stack.secrets.artifact_url_key.clone(),
        ),
        (
            "GTS_STORAGE_DIR".to_owned(),
            stack.storage.path().join("blobs").display().to_string(),
        ),
        (
            "GTS_GATEWAY_CONSOLE_DIR".to_owned(),
            console_dir().display().to_string(),
        ),
    ]);
    let config = gts_gateway::Config::from_env(&Env::from_pairs(env)).expect("gateway config");
    let console_gateway =
        ServiceHandle::spawn(console_listener, |l, s| gts_gateway::serve(config, l, s)).await;

    let files = tempfile::tempdir().unwrap();
    write_files(files.path());
    let mut child = tokio::process::Command::new("node")
        .arg(&script)
        .arg(&console_url)
        .arg(files.path())
        .current_dir(root.join("tests/browser"))
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("run node (installed by deploy/local/ensure-deps.sh)");
    let status = match tokio::time::timeout(BROWSER_BUDGET, child.wait()).await {
        Ok(status) => status.expect("wait for node"),
        Err(_) => {
            let _ = child.kill().await;
            panic!("the browser test did not finish within {BROWSER_BUDGET:?}");
        }
    };
    assert!(
        status.success(),
        "the browser test failed ({status}); its output is above and a screenshot is in \
         tests/browser/artifacts/"
    );

    console_gateway
        .stop()
        .await
        .expect("the console gateway stops");
    stack.stop().await;
}
