//! Health follows the real dependencies: NOT_SERVING while PostgreSQL is down, SERVING
//! again once it is back. The test runs its own PostgreSQL so it can stop it.

use std::time::Duration;

use gts_common::Env;
use gts_e2e::{
    health::wait_for_status,
    pg_cluster::PgCluster,
    stack::{ServiceHandle, ephemeral_listener, service_env},
    unique_redis_prefix,
};
use tonic_health::pb::health_check_response::ServingStatus;

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
    let timeout = Duration::from_secs(30);

    for service in ["", "gts.v1.AuthService"] {
        wait_for_status(
            auth.channel().await,
            service,
            ServingStatus::Serving,
            timeout,
        )
        .await;
    }

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.stop_server();
        cluster
    })
    .await
    .expect("stop PostgreSQL");
    for service in ["", "gts.v1.AuthService"] {
        wait_for_status(
            auth.channel().await,
            service,
            ServingStatus::NotServing,
            timeout,
        )
        .await;
    }

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.start_server();
        cluster
    })
    .await
    .expect("start PostgreSQL again");
    for service in ["", "gts.v1.AuthService"] {
        wait_for_status(
            auth.channel().await,
            service,
            ServingStatus::Serving,
            timeout,
        )
        .await;
    }

    auth.stop().await.expect("auth stops cleanly");
    drop(cluster);
}
