//! Waiting on `grpc.health.v1` statuses through the Watch stream (no polling sleeps).

use std::time::Duration;

use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// Waits until `service` ("" for the whole server) reports `wanted`, or panics after
/// `timeout` naming the last status seen.
pub async fn wait_for_status(
    channel: Channel,
    service: &str,
    wanted: ServingStatus,
    timeout: Duration,
) {
    let mut client = HealthClient::new(channel);
    let watch = async {
        let mut stream = client
            .watch(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health watch starts")
            .into_inner();
        let mut last = None;
        while let Some(message) = stream.message().await.transpose() {
            let status = message.expect("health watch message").status();
            if status == wanted {
                return Ok(());
            }
            last = Some(status);
        }
        Err(last)
    };
    match tokio::time::timeout(timeout, watch).await {
        Ok(Ok(())) => {}
        Ok(Err(last)) => {
            panic!("health watch for {service:?} ended at {last:?}, wanted {wanted:?}")
        }
        Err(_) => panic!("health of {service:?} did not become {wanted:?} within {timeout:?}"),
    }
}

/// A channel to `addr` once the whole server there reports SERVING.
pub async fn serving_channel(addr: std::net::SocketAddr) -> Channel {
    let channel = crate::clients::grpc(addr).await;
    wait_for_status(
        channel.clone(),
        "",
        ServingStatus::Serving,
        Duration::from_secs(30),
    )
    .await;
    channel
}
