//! Share links over gRPC: who may turn them on and off (table-driven, like the other
//! ownership tests), what a token grants (one result and its artifacts, nothing else), and
//! revocation taking effect on the next call.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Harness, as_user};
use gts_proto::v1::{
    GetSharedArtifactUrlRequest, GetSharedResultRequest, RenderSpec, ShareJobRequest, Shootout,
    SignalChain, UnshareJobRequest,
};
use gts_worker::queue::{self, ArtifactRecord, Lease};
use tonic::{Code, Request};
use uuid::Uuid;

/// Submits a render of a named two-chain shootout of `owner` and takes it to SUCCEEDED
/// with two artifacts (as a runner would); returns the job id.
async fn succeeded_job(h: &Harness, owner: Uuid, name: &str) -> Uuid {
    let shootout = Uuid::new_v4();
    let chain = |n: &str| SignalChain {
        id: Uuid::new_v4().to_string(),
        display_name: n.to_owned(),
        input_high_pass_hz: Some(80.0),
        ..Default::default()
    };
    h.specs.insert(
        shootout,
        owner,
        RenderSpec {
            shootout: Some(Shootout {
                id: shootout.to_string(),
                owner_user_id: owner.to_string(),
                name: name.to_owned(),
                chains: vec![chain("Plexi"), chain("JCM800")],
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let job = h.submit(owner, shootout).await;
    let claimed = queue::claim(h.db(), "worker-a", Duration::from_secs(30), 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, job);
    let lease = Lease {
        job_id: job,
        owner: "worker-a".into(),
        attempt: claimed.attempt,
    };
    let artifact = |kind: &str, file: &str| ArtifactRecord {
        kind: kind.to_owned(),
        chain_index: None,
        filename: file.to_owned(),
        object_key: format!("jobs/{job}/{file}"),
        content_type: "audio/flac".to_owned(),
        size_bytes: 10,
        sha256: "0".repeat(64),
    };
    queue::complete(
        h.db(),
        &lease,
        None,
        &[],
        &[
            artifact("ARTIFACT_KIND_AB_FLAC", "ab.flac"),
            artifact("ARTIFACT_KIND_CUE_LIST", "cues.json"),
        ],
    )
    .await
    .unwrap()
    .unwrap();
    job
}

fn anonymous<T>(message: T) -> Request<T> {
    Request::new(message)
}

#[tokio::test]
async fn only_the_owner_shares_and_unshares_a_finished_job() {
    let h = Harness::start(&[]).await;
    let owner = Uuid::new_v4();
    let intruder = Uuid::new_v4();
    // In this order: succeeded_job claims the oldest queued job.
    let done = succeeded_job(&h, owner, "Plexi vs JCM800").await;
    let queued = h.submit(owner, h.shootout(owner)).await;
    let mut client = h.client();

    // (who, job id, expected answer of ShareJob, of UnshareJob)
    let missing = Uuid::new_v4().to_string();
    let cases: [(&str, Option<Uuid>, String, Code, Code); 6] = [
        (
            "intruder",
            Some(intruder),
            done.to_string(),
            Code::NotFound,
            Code::NotFound,
        ),
        (
            "anonymous",
            None,
            done.to_string(),
            Code::Unauthenticated,
            Code::Unauthenticated,
        ),
        (
            "owner, missing job",
            Some(owner),
            missing,
            Code::NotFound,
            Code::NotFound,
        ),
        (
            "owner, bad id",
            Some(owner),
            "nope".into(),
            Code::InvalidArgument,
            Code::InvalidArgument,
        ),
        (
            "owner, queued job",
            Some(owner),
            queued.to_string(),
            Code::FailedPrecondition,
            Code::Ok,
        ),
        ("owner", Some(owner), done.to_string(), Code::Ok, Code::Ok),
    ];
    for (who, caller, job_id, share_code, unshare_code) in cases {
        let request = |job_id: String| match caller {
            Some(user) => as_user(user, ShareJobRequest { job_id }),
            None => anonymous(ShareJobRequest { job_id }),
        };
        let shared = client.share_job(request(job_id.clone())).await;
        assert_eq!(
            shared.as_ref().map_or_else(|s| s.code(), |_| Code::Ok),
            share_code,
            "ShareJob as {who}: {shared:?}"
        );
        let request = |job_id: String| match caller {
            Some(user) => as_user(user, UnshareJobRequest { job_id }),
            None => anonymous(UnshareJobRequest { job_id }),
        };
        let unshared = client.unshare_job(request(job_id)).await;
        assert_eq!(
            unshared.as_ref().map_or_else(|s| s.code(), |_| Code::Ok),
            unshare_code,
            "UnshareJob as {who}: {unshared:?}"
        );
        if share_code == Code::Ok {
            // The owner's own share was just revoked by the UnshareJob above.
            assert!(unshared.unwrap().into_inner().revoked, "{who}");
        }
    }
    // Nothing the refused callers did left a link behind.
    let links: i64 = sqlx::query_scalar("SELECT count(*) FROM share_links")
        .fetch_one(h.db())
        .await
        .unwrap();
    assert_eq!(links, 0);
    h.finish().await;
}

#[tokio::test]
async fn a_token_grants_one_result_and_its_artifacts_until_it_is_revoked() {
    let h = Harness::start(&[]).await;
    let owner = Uuid::new_v4();
    let shared_job = succeeded_job(&h, owner, "Plexi vs JCM800").await;
    let other_job = succeeded_job(&h, owner, "Private").await;
    let mut client = h.client();

    let token = client
        .share_job(as_user(
            owner,
            ShareJobRequest {
                job_id: shared_job.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .token;
    assert_eq!(token.len(), 43, "{token}");
    // Only the hash is stored.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM share_links")
        .fetch_one(h.db())
        .await
        .unwrap();
    assert_ne!(stored, token.as_bytes());

    let result = client
        .get_shared_result(anonymous(GetSharedResultRequest {
            token: token.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(result.shootout_name, "Plexi vs JCM800");
    let names: Vec<_> = result
        .chains
        .iter()
        .map(|c| c.display_name.as_str())
        .collect();
    assert_eq!(names, ["Plexi", "JCM800"]);
    assert_eq!(result.chains[0].input_high_pass_hz, 80.0);
    assert_eq!(result.artifacts.len(), 2);
    assert!(result.artifacts.iter().all(|a| a.job_id.is_empty()));
    assert!(result.finished_at.is_some());

    let own_artifact = result.artifacts[0].id.clone();
    let other_artifacts = queue::list_artifacts(h.db(), other_job).await.unwrap();
    let other_artifact = other_artifacts[0].id.to_string();
    let url = |token: &str, artifact_id: &str| GetSharedArtifactUrlRequest {
        token: token.to_owned(),
        artifact_id: artifact_id.to_owned(),
    };
    let granted = client
        .get_shared_artifact_url(anonymous(url(&token, &own_artifact)))
        .await
        .unwrap()
        .into_inner();
    assert!(
        granted
            .url
            .contains(&format!("/artifacts/jobs/{shared_job}/")),
        "{}",
        granted.url
    );
    // Short-lived: at most a minute (and a second of rounding).
    let expires = granted.expires_at.unwrap().seconds;
    let now = chrono::Utc::now().timestamp();
    assert!(expires > now && expires <= now + 61, "{expires} vs {now}");

    // (what, request): all of these are NOT_FOUND, the same answer.
    // The last character changed (to one it is not: a fixed "A" would be the token itself
    // one time in 64).
    let last = if token.ends_with('A') { 'B' } else { 'A' };
    let forged = format!("{}{last}", &token[..42]);
    for (what, request) in [
        ("another result's artifact", url(&token, &other_artifact)),
        (
            "an unknown artifact",
            url(&token, &Uuid::new_v4().to_string()),
        ),
        ("a malformed artifact id", url(&token, "../../etc")),
        ("a token one character off", url(&forged, &own_artifact)),
        ("an empty token", url("", &own_artifact)),
        ("a token of the wrong length", url("abc", &own_artifact)),
    ] {
        let status = client
            .get_shared_artifact_url(anonymous(request))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{what}: {status:?}");
    }
    let status = client
        .get_shared_result(anonymous(GetSharedResultRequest { token: forged }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // Sharing again issues a new token; the old one stops working.
    let renewed = client
        .share_job(as_user(
            owner,
            ShareJobRequest {
                job_id: shared_job.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .token;
    assert_ne!(renewed, token);
    let old = client
        .get_shared_result(anonymous(GetSharedResultRequest {
            token: token.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(old.code(), Code::NotFound);

    // Revoked: the next call of either kind is refused.
    let revoked = client
        .unshare_job(as_user(
            owner,
            UnshareJobRequest {
                job_id: shared_job.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(revoked.revoked);
    for status in [
        client
            .get_shared_result(anonymous(GetSharedResultRequest {
                token: renewed.clone(),
            }))
            .await
            .unwrap_err(),
        client
            .get_shared_artifact_url(anonymous(url(&renewed, &own_artifact)))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
    }
    let again = client
        .unshare_job(as_user(
            owner,
            UnshareJobRequest {
                job_id: shared_job.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!again.revoked);
    h.finish().await;
}
