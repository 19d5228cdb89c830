//! `gts-gateway-bench [SECONDS] [CALLERS]`: unary RPC throughput and latency through the
//! gateway against the same calls made directly to the service, in one run.
//!
//! The whole stack runs in this process (a fresh database, the test Redis); `CALLERS`
//! (default 64) concurrent callers each call `JobService.ListJobs` as a signed-in user in a
//! loop for `SECONDS` (default 10) per phase, over plain gRPC (h2c) on one connection:
//! first directly to the worker, then through the gateway (edge auth, routing, metrics,
//! access log, concurrency limit, forwarding), then directly again, so a drift of the
//! machine's load shows. The gateway's Redis rate limits are off (they are a per-call
//! Redis round trip, measured on their own in docs/benchmarks.md). Prints req/s, p50 and
//! p99 of each phase and the gateway's share of direct throughput.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use gts_e2e::{Stack, clients, with_bearer};
use gts_proto::v1::{ListJobsRequest, job_service_client::JobServiceClient};

struct Phase {
    name: &'static str,
    calls: usize,
    errors: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
}

async fn phase(
    name: &'static str,
    channel: tonic::transport::Channel,
    token: &str,
    callers: usize,
    length: Duration,
) -> Phase {
    let started = Instant::now();
    let deadline = started + length;
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let mut client = JobServiceClient::new(channel.clone());
            let token = token.to_owned();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::with_capacity(4096), 0usize);
                // Bounded by time and by count: the loop always ends.
                for _ in 0..1_000_000 {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let call = Instant::now();
                    let request = with_bearer(ListJobsRequest::default(), &token);
                    match client.list_jobs(request).await {
                        Ok(_) => latencies.push(call.elapsed()),
                        Err(_) => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (mine, failed) = task.await.unwrap();
        latencies.extend(mine);
        errors += failed;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Phase {
        name,
        calls: latencies.len(),
        errors,
        seconds,
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let callers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let length = Duration::from_secs(seconds);

    let stack = Stack::start_with(&[
        ("GTS_GATEWAY_RATE_LIMIT_USER_PER_MINUTE", "0".to_owned()),
        ("GTS_GATEWAY_RATE_LIMIT_IP_PER_MINUTE", "0".to_owned()),
        ("GTS_DATABASE_MAX_CONNECTIONS", "16".to_owned()),
    ])
    .await;
    let token = stack.token_for_new_user();
    let direct = clients::grpc(stack.worker.addr).await;
    let gateway = clients::grpc(stack.gateway.addr).await;
    // Warm both paths (connections, pools, prepared statements).
    phase(
        "warm-up",
        direct.clone(),
        &token,
        callers,
        Duration::from_secs(1),
    )
    .await;
    phase(
        "warm-up",
        gateway.clone(),
        &token,
        callers,
        Duration::from_secs(1),
    )
    .await;

    println!(
        "gateway benchmark: JobService.ListJobs, {callers} callers, {seconds} s per phase, {} cores, load {} at start",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load()
    );
    let results = vec![
        phase("direct", direct.clone(), &token, callers, length).await,
        phase("gateway", gateway, &token, callers, length).await,
        phase("direct again", direct, &token, callers, length).await,
    ];
    println!("| phase | calls | errors | req/s | p50 | p99 |");
    println!("|---|---|---|---|---|---|");
    for r in &results {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} ms | {:.2} ms |",
            r.name,
            r.calls,
            r.errors,
            r.calls as f64 / r.seconds,
            r.p50.as_secs_f64() * 1000.0,
            r.p99.as_secs_f64() * 1000.0
        );
    }
    let rate = |r: &Phase| r.calls as f64 / r.seconds;
    let direct_mean = (rate(&results[0]) + rate(&results[2])) / 2.0;
    println!(
        "gateway / direct throughput: {:.2} (direct = mean of both direct phases); load {} at end",
        rate(&results[1]) / direct_mean,
        load()
    );
    stack.stop().await;
}
