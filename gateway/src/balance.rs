//! Channels that spread calls over every replica of a backend.
//!
//! Contract: a backend is configured as one URL or a comma-separated list
//! (`GTS_SHOOTOUT_URL=http://shootout-0:50052,http://shootout-1:50052`). Every
//! `GTS_GATEWAY_RESOLVE_INTERVAL_MS` each URL's host is resolved again and each address it
//! resolves to becomes an endpoint of one tonic balanced channel (tower's power-of-two-
//! choices over pending requests); endpoints that no longer resolve are removed. In
//! Kubernetes a *headless* Service's name resolves to every ready pod, so calls spread
//! over the pods while they come and go, with no mesh and no restart of the gateway.
//! `https` URLs are not resolved (the certificate names the host): each is one endpoint.

use std::{collections::HashSet, net::SocketAddr, time::Duration};

use gts_common::infra::StartError;
use tokio::sync::mpsc::Sender;
use tonic::transport::{Channel, Endpoint, channel::Change};

/// How long the gateway waits for a backend connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A balanced channel over `urls` (comma-separated), kept up to date every `interval`
/// until `stop` fires.
pub fn channel(
    urls: &str,
    interval: Duration,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Channel, StartError> {
    let targets = urls
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(Target::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if targets.is_empty() {
        return Err(StartError::Other(format!("no backend URL in {urls:?}")));
    }
    let (channel, changes) = Channel::balance_channel::<String>(64);
    tokio::spawn(keep_resolved(targets, changes, interval, stop));
    Ok(channel)
}

/// One configured URL.
struct Target {
    scheme: String,
    host: String,
    port: u16,
    url: String,
}

impl Target {
    fn parse(url: &str) -> Result<Self, StartError> {
        let invalid = |why: &str| StartError::Other(format!("invalid backend URL {url:?}: {why}"));
        let parsed = url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
        let host = parsed.host_str().ok_or_else(|| invalid("no host"))?;
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| invalid("no port"))?;
        Ok(Self {
            scheme: parsed.scheme().to_owned(),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            url: url.to_owned(),
        })
    }

    /// The endpoints this URL stands for now (keyed by their URL).
    async fn resolve(&self) -> Vec<(String, Endpoint)> {
        if self.scheme == "https" {
            return endpoint(&self.url).into_iter().collect();
        }
        match tokio::net::lookup_host((self.host.as_str(), self.port)).await {
            Ok(addresses) => addresses
                .map(|address: SocketAddr| format!("{}://{address}", self.scheme))
                .filter_map(|url| endpoint(&url))
                .collect(),
            Err(error) => {
                tracing::warn!(%error, host = %self.host, "cannot resolve a backend");
                Vec::new()
            }
        }
    }
}

fn endpoint(url: &str) -> Option<(String, Endpoint)> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .ok()?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    Some((url.to_owned(), endpoint))
}

async fn keep_resolved(
    targets: Vec<Target>,
    changes: Sender<Change<String, Endpoint>>,
    interval: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut current: HashSet<String> = HashSet::new();
    let mut ticker = tokio::time::interval(interval);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = ticker.tick() => {}
        }
        let mut seen = HashSet::new();
        for target in &targets {
            for (key, endpoint) in target.resolve().await {
                if seen.insert(key.clone()) && !current.contains(&key) {
                    tracing::info!(endpoint = %key, "backend endpoint added");
                    if changes.send(Change::Insert(key, endpoint)).await.is_err() {
                        return;
                    }
                }
            }
        }
        // A failed lookup keeps the endpoints already known rather than dropping them all.
        if seen.is_empty() {
            continue;
        }
        for gone in current.difference(&seen) {
            tracing::info!(endpoint = %gone, "backend endpoint removed");
            if changes.send(Change::Remove(gone.clone())).await.is_err() {
                return;
            }
        }
        current = seen;
    }
}
