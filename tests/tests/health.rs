//! Health follows the real dependencies: NOT_SERVING while PostgreSQL is down, SERVING
//! again once it is back. The test runs its own PostgreSQL so it can stop it.

use std::{net::SocketAddr, time::Duration};

use gts_common::Env;
use gts_e2e::{
    clients,
    health::wait_for_status,
    pg_cluster::PgCluster,
    stack::{ServiceHandle, ephemeral_listener, service_env},
    unique_redis_prefix,
};
use tonic_health::pb::health_check_response::ServingStatus;

/// Waits until the whole server and a hosted service both report `status`.
async fn expect_status(addr: SocketAddr, status: ServingStatus) {
    for service in ["", "gts.v1.AuthService"] {
        let channel = clients::grpc(addr).await;
        wait_for_status(channel, service, status, Duration::from_secs(30)).await;
    }
}

/// Runs a blocking cluster operation off the async runtime.
async fn on_cluster(cluster: PgCluster, operation: fn(&PgCluster)) -> PgCluster {
    tokio::task::spawn_blocking(move || {
        operation(&cluster);
        cluster
    })
    .await
    .expect("cluster operation")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_goes_not_serving_while_postgres_is_down() {
    let cluster = tokio::task::spawn_blocking(PgCluster::start)
        .await
        .expect("start a private PostgreSQL");
    let env = Env::from_pairs(service_env(&cluster.url(), &unique_redis_prefix()));
    let config = gts_auth::Config::from_env(&env).expect("config");
    let auth = ServiceHandle::spawn(ephemeral_listener().await, |l, s| {
        gts_auth::serve(config, l, s)
    })
    .await;

    expect_status(auth.addr, ServingStatus::Serving).await;
    let cluster = on_cluster(cluster, PgCluster::stop_server).await;
    expect_status(auth.addr, ServingStatus::NotServing).await;
    let cluster = on_cluster(cluster, PgCluster::start_server).await;
    expect_status(auth.addr, ServingStatus::Serving).await;

    auth.stop().await.expect("auth stops cleanly");
    drop(cluster);
}
