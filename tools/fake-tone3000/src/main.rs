//! `fake-tone3000`: runs the fake TONE3000 API for the local demo.
//!
//! Contract: configuration comes only from `FAKE_T3K_*` variables; a bad one prints a
//! single line naming it and exits 2. When listening it prints one line with the API
//! base URL. SIGTERM or SIGINT stops it gracefully (exit 0).

use std::process::ExitCode;

use fake_tone3000::{FakeConfig, FakeTone3000};

#[tokio::main]
async fn main() -> ExitCode {
    let (addr, config) = match FakeConfig::from_env(|name| std::env::var(name).ok()) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("fake-tone3000: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let client_id = config.client_id.clone();
    let handle = match FakeTone3000::start_on(addr, config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("fake-tone3000: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "fake-tone3000 listening on {} (client_id {client_id})",
        handle.base_url()
    );
    if let Err(e) = shutdown_signal().await {
        eprintln!("fake-tone3000: cannot wait for signals: {e}");
    }
    match handle.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-tone3000: server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGINT or (on Unix) SIGTERM.
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
