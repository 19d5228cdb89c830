//! Soak: uploads, renders and watchers at a steady rate against real `gts-shootout`,
//! `gts-worker` and `gts-gateway` processes, sampling each process's RSS over time, to
//! tell a plateau from a leak. Not run in CI (an hour by default).
//!
//! ```text
//! cargo build --workspace --bins && \
//!   cargo bench -p gts-e2e --profile dev --bench soak -- --minutes 60
//! ```
//!
//! Options: `--minutes M` (60), `--cycle-seconds S` (one cycle every S seconds, 5),
//! `--watchers W` (watchers per job, 4), `--di-seconds D` (uploaded DI length, 10),
//! `--sample-seconds T` (RSS sampling period, 10). `--profile dev` runs the debug binaries
//! the tests use; build with `--release` and drop `--profile dev` for release figures.
//!
//! Every cycle uploads a fresh DI (through the gateway, in 1 MiB chunks), creates a
//! two-chain shootout (a cabinet IR, and an uploaded tiny WaveNet plus the IR), submits
//! it, and watches it to the end with W concurrent streams; every cycle also lists jobs
//! and shootouts. Cycles start on a fixed schedule (a cycle that overruns delays the next
//! one, it never piles up). The auth service and the fake TONE3000 run in this process;
//! the Stack's own in-process shootout, worker and gateway stay idle (its worker claims
//! nothing). Prints one line per sample and a summary with the RSS of each process in
//! the first, middle and last third of the run.

#![allow(clippy::unwrap_used)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use gts_e2e::{
    Stack,
    binaries::{RunningBinary, command, free_local_addr},
    shootouts::{
        asset, cabinet, chain, create_shootout, events_to_end, fixture, jobs, nam, one_di_shootout,
        plucked_wav, submit_job, upload, watch_job,
    },
    stack::with_bearer,
};
use gts_proto::v1::{AssetKind, JobStatus, ListJobsRequest, RefreshRequest, job_event::Event};

/// How often the soak's session is refreshed (well inside the access token's 15 minutes).
const SESSION_REFRESH: Duration = Duration::from_secs(5 * 60);

struct Options {
    minutes: f64,
    cycle: Duration,
    watchers: usize,
    di_seconds: f64,
    sample: Duration,
}

fn options() -> Options {
    let mut options = Options {
        minutes: 60.0,
        cycle: Duration::from_secs(5),
        watchers: 4,
        di_seconds: 10.0,
        sample: Duration::from_secs(10),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = || -> f64 {
            iter.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{arg} needs a number"))
        };
        match arg.as_str() {
            "--minutes" => options.minutes = value(),
            "--cycle-seconds" => options.cycle = Duration::from_secs_f64(value()),
            "--watchers" => options.watchers = value() as usize,
            "--di-seconds" => options.di_seconds = value(),
            "--sample-seconds" => options.sample = Duration::from_secs_f64(value()),
            // `cargo bench` passes --bench.
            _ => {}
        }
    }
    options
}

/// Resident set size of `pid`, KiB (`VmRSS` in /proc).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

async fn start(name: &str, env: Vec<(String, String)>) -> RunningBinary {
    let mut process = command(name);
    process.envs(env);
    RunningBinary::start(process).await
}

#[derive(Default)]
struct Counters {
    cycles: AtomicU64,
    uploads: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    watch_streams: AtomicU64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = options();
    let mut stack = Stack::start_with(&[
        ("GTS_WORKER_RUN_JOBS", "false".to_owned()),
        ("GTS_LOG", "warn".to_owned()),
    ])
    .await;

    // The measured processes: shootout, then a rendering worker, then the gateway.
    // Info, not warn: a process is ready once it logs "listening" (an info line); the
    // logs are drained, never kept.
    let quiet = ("GTS_LOG".to_owned(), "info".to_owned());
    let shootout_addr = free_local_addr();
    let mut env = stack.backend_env.clone();
    env.extend([
        ("GTS_SHOOTOUT_LISTEN".to_owned(), shootout_addr.to_string()),
        quiet.clone(),
    ]);
    let shootout = start("gts-shootout", env).await;
    let shootout_url = format!("http://{shootout_addr}");
    let worker_addr = free_local_addr();
    let mut env = stack.backend_env.clone();
    env.extend([
        ("GTS_WORKER_LISTEN".to_owned(), worker_addr.to_string()),
        ("GTS_SHOOTOUT_URL".to_owned(), shootout_url.clone()),
        ("GTS_WORKER_RUN_JOBS".to_owned(), "true".to_owned()),
        quiet.clone(),
    ]);
    let worker = start("gts-worker", env).await;
    let gateway_addr = free_local_addr();
    let mut env = stack.backend_env.clone();
    env.extend([
        ("GTS_GATEWAY_LISTEN".to_owned(), gateway_addr.to_string()),
        ("GTS_SHOOTOUT_URL".to_owned(), shootout_url),
        ("GTS_WORKER_URL".to_owned(), format!("http://{worker_addr}")),
        (
            "GTS_CORS_ORIGINS".to_owned(),
            "http://console.test".to_owned(),
        ),
        (
            "GTS_GATEWAY_CONSOLE_DIR".to_owned(),
            gts_e2e::stack::console_dir().display().to_string(),
        ),
        // A steady load, not a rate-limit test.
        (
            "GTS_GATEWAY_RATE_LIMIT_USER_PER_MINUTE".to_owned(),
            "100000".to_owned(),
        ),
        (
            "GTS_GATEWAY_RATE_LIMIT_IP_PER_MINUTE".to_owned(),
            "100000".to_owned(),
        ),
        quiet,
    ]);
    let gateway = start("gts-gateway", env).await;
    let processes = [
        ("gts-shootout", shootout.child.id().unwrap()),
        ("gts-worker", worker.child.id().unwrap()),
        ("gts-gateway", gateway.child.id().unwrap()),
    ];
    let _children = [
        shootout.drain_log(),
        worker.drain_log(),
        gateway.drain_log(),
    ];
    // Every helper below now talks to the gateway process.
    stack.gateway.addr = gateway_addr;
    let stack = Arc::new(stack);

    // Access tokens live 15 minutes: the session is refreshed like a client's would be.
    let mut session = stack.login().await.session;
    let mut token = session.access_token.clone();
    let mut refreshed = Instant::now();
    let ir = upload(
        &stack,
        &token,
        AssetKind::ImpulseResponse,
        "cab.wav",
        &fixture("irs/1x12-ac15.wav"),
    )
    .await;
    let model = upload(
        &stack,
        &token,
        AssetKind::NamModel,
        "tiny.nam",
        &fixture("nam/wavenet.nam"),
    )
    .await;
    let di_bytes = Arc::new(plucked_wav(options.di_seconds, 48_000));
    let counters = Arc::new(Counters::default());

    println!(
        "soak: {} min, a cycle every {:?}, {} watchers per job, {} s DI ({} KiB per upload)",
        options.minutes,
        options.cycle,
        options.watchers,
        options.di_seconds,
        di_bytes.len() / 1024
    );
    println!(
        "{:>8} {:>13} {:>11} {:>12} {:>7} {:>8} {:>9}",
        "t (s)", "shootout MiB", "worker MiB", "gateway MiB", "cycles", "uploads", "jobs ok"
    );

    let started = Instant::now();
    let total = Duration::from_secs_f64(options.minutes * 60.0);
    let sampler = {
        let counters = Arc::clone(&counters);
        let sample = options.sample;
        tokio::spawn(async move {
            let mut samples: Vec<(f64, [u64; 3])> = Vec::new();
            let mut ticker = tokio::time::interval(sample);
            while started.elapsed() <= total {
                ticker.tick().await;
                let rss = processes.map(|(_, pid)| rss_kib(pid).unwrap_or(0));
                let t = started.elapsed().as_secs_f64();
                println!(
                    "{:>8.0} {:>13.1} {:>11.1} {:>12.1} {:>7} {:>8} {:>9}",
                    t,
                    rss[0] as f64 / 1024.0,
                    rss[1] as f64 / 1024.0,
                    rss[2] as f64 / 1024.0,
                    counters.cycles.load(Ordering::Relaxed),
                    counters.uploads.load(Ordering::Relaxed),
                    counters.succeeded.load(Ordering::Relaxed),
                );
                samples.push((t, rss));
            }
            samples
        })
    };

    let mut schedule = tokio::time::interval(options.cycle);
    schedule.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cycle = 0u64;
    while started.elapsed() < total {
        schedule.tick().await;
        cycle += 1;
        if refreshed.elapsed() >= SESSION_REFRESH {
            session = stack
                .auth_web()
                .refresh(RefreshRequest {
                    refresh_token: session.refresh_token.clone(),
                })
                .await
                .expect("Refresh")
                .into_inner()
                .session
                .expect("a session");
            token = session.access_token.clone();
            refreshed = Instant::now();
        }
        let di = upload(&stack, &token, AssetKind::DiTrack, "di.wav", &di_bytes).await;
        counters.uploads.fetch_add(1, Ordering::Relaxed);
        let chains = vec![
            chain("IR", vec![cabinet(asset(&ir))]),
            chain("Tiny", vec![nam(asset(&model)), cabinet(asset(&ir))]),
        ];
        let shootout =
            create_shootout(&stack, &token, one_di_shootout("Soak", &di, "", chains)).await;
        let job = submit_job(&stack, &token, &shootout.id, &format!("soak-{cycle}")).await;
        let mut watchers = Vec::new();
        for _ in 0..options.watchers {
            let (stack, token, job_id) = (Arc::clone(&stack), token.clone(), job.id.clone());
            let counters = Arc::clone(&counters);
            watchers.push(tokio::spawn(async move {
                let mut stream = watch_job(&stack, &token, &job_id, "").await;
                counters.watch_streams.fetch_add(1, Ordering::Relaxed);
                events_to_end(&mut stream).await
            }));
        }
        let mut ended = None;
        for watcher in watchers {
            let events = watcher.await.unwrap();
            ended = events.iter().rev().find_map(|e| match &e.event {
                Some(Event::StatusChange(c))
                    if matches!(
                        c.to_status(),
                        JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
                    ) =>
                {
                    Some(c.to_status())
                }
                _ => None,
            });
        }
        match ended {
            Some(JobStatus::Succeeded) => counters.succeeded.fetch_add(1, Ordering::Relaxed),
            _ => counters.failed.fetch_add(1, Ordering::Relaxed),
        };
        let _ = jobs(&stack)
            .list_jobs(with_bearer(
                ListJobsRequest {
                    page_size: 20,
                    ..Default::default()
                },
                &token,
            ))
            .await;
        counters.cycles.fetch_add(1, Ordering::Relaxed);
    }
    let samples = sampler.await.unwrap();

    println!(
        "== summary: {:.1} min, {} cycles, {} uploads, {} jobs succeeded, {} not, {} watch streams",
        started.elapsed().as_secs_f64() / 60.0,
        counters.cycles.load(Ordering::Relaxed),
        counters.uploads.load(Ordering::Relaxed),
        counters.succeeded.load(Ordering::Relaxed),
        counters.failed.load(Ordering::Relaxed),
        counters.watch_streams.load(Ordering::Relaxed),
    );
    let third = samples.len() / 3;
    if third == 0 {
        println!("   too few samples for a trend");
        return;
    }
    for (index, (name, _)) in processes.iter().enumerate() {
        let max_mib = |part: &[(f64, [u64; 3])]| {
            part.iter().map(|(_, rss)| rss[index]).max().unwrap_or(0) as f64 / 1024.0
        };
        let (first, middle, last) = (
            max_mib(&samples[..third]),
            max_mib(&samples[third..2 * third]),
            max_mib(&samples[2 * third..]),
        );
        let verdict = if last <= middle * 1.05 {
            "plateau (last third within 5 % of the middle third)"
        } else {
            "still growing in the last third"
        };
        println!(
            "   {name:<13} peak RSS per third: {first:.1} / {middle:.1} / {last:.1} MiB: {verdict}"
        );
    }
}
