//! Shutdown signals: SIGTERM or SIGINT for binaries, a trigger for in-process tests.

use tokio::sync::watch;

/// A cloneable shutdown notification shared by the server, the health monitor and
/// background tasks.
#[derive(Clone)]
pub struct Shutdown {
    receiver: watch::Receiver<bool>,
}

/// Fires a [`Shutdown`].
pub struct ShutdownTrigger {
    sender: watch::Sender<bool>,
}

impl ShutdownTrigger {
    /// Starts the shutdown.
    pub fn trigger(&self) {
        let _ = self.sender.send(true);
    }
}

impl Shutdown {
    /// A new pair; nothing happens until the trigger fires.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (sender, receiver) = watch::channel(false);
        (ShutdownTrigger { sender }, Shutdown { receiver })
    }

    /// A shutdown fired by SIGTERM or SIGINT.
    pub fn on_signals() -> Shutdown {
        let (trigger, shutdown) = Shutdown::new();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown signal received; draining");
            trigger.trigger();
        });
        shutdown
    }

    /// Resolves once the shutdown has started.
    pub async fn wait(mut self) {
        // An error means every trigger is gone: nothing can fire any more, so treat it
        // as a shutdown rather than hang.
        let _ = self.receiver.wait_for(|fired| *fired).await;
    }

    /// Whether the shutdown has started.
    pub fn is_triggered(&self) -> bool {
        *self.receiver.borrow()
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            // Without signal handlers, Ctrl-C is the best we can do.
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// A background task's rounds: one every `interval` (a late round delays the next, rounds
/// never pile up) until shutdown, with the failures of a dependency logged as two lines
/// (the first failure at WARN, the recovery at INFO) instead of one per round.
pub struct Rounds {
    ticker: tokio::time::Interval,
    stop: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    what: &'static str,
    failing: bool,
}

impl Rounds {
    /// Rounds of the task described by `what` ("publish revoked sessions").
    pub fn new(what: &'static str, interval: std::time::Duration, shutdown: Shutdown) -> Self {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            ticker,
            stop: Box::pin(shutdown.wait()),
            what,
            failing: false,
        }
    }

    /// Waits for the next round: `false` once the shutdown has started.
    pub async fn next(&mut self) -> bool {
        tokio::select! {
            () = &mut self.stop => false,
            _ = self.ticker.tick() => true,
        }
    }

    /// Records how a round went; answers whether it failed.
    pub fn record<E: std::fmt::Display>(&mut self, outcome: Result<(), E>) -> bool {
        match outcome {
            Ok(()) => {
                if self.failing {
                    tracing::info!(task = self.what, "the task works again");
                    self.failing = false;
                }
                false
            }
            Err(error) => {
                if !self.failing {
                    tracing::warn!(%error, task = self.what, "the task failed; retrying every round");
                    self.failing = true;
                }
                true
            }
        }
    }
}
