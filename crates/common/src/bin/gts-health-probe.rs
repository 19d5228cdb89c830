//! `gts-health-probe ADDRESS [SERVICE]`: asks the gRPC health service at `ADDRESS`
//! (`127.0.0.1:50051`) for `SERVICE` (default: the whole server) and exits 0 when it is
//! SERVING, 1 otherwise, 2 on a usage error. The container image's healthcheck, built
//! from this repository instead of a downloaded binary; Kubernetes uses its native gRPC
//! probes.

use std::{process::ExitCode, time::Duration};

use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

const TIMEOUT: Duration = Duration::from_secs(3);

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(address) = args.next() else {
        eprintln!("usage: gts-health-probe ADDRESS [SERVICE]   (e.g. 127.0.0.1:50051)");
        return ExitCode::from(2);
    };
    let service = args.next().unwrap_or_default();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("gts-health-probe: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(check(&address, service)) {
        Ok(ServingStatus::Serving) => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("{address}: {}", status.as_str_name());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("{address}: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn check(address: &str, service: String) -> Result<ServingStatus, String> {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .map_err(|error| format!("not an address: {error}"))?
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT);
    let channel = endpoint
        .connect()
        .await
        .map_err(|error| error.to_string())?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest { service })
        .await
        .map_err(|status| status.message().to_owned())?;
    Ok(response.into_inner().status())
}
