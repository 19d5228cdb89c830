//! JobService over gRPC without rendering: idempotent submit, ownership, listing, and the
//! state machine as PostgreSQL enforces it.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Harness, as_user, collect_until_end, next_event};
use gts_proto::v1::{
    CancelJobRequest, GetArtifactUrlRequest, GetJobRequest, JobStatus, ListArtifactsRequest,
    ListJobsRequest, SubmitJobRequest, WatchJobRequest, job_event,
};
use gts_worker::queue::{self, Lease};
use tonic::{Code, Request};
use uuid::Uuid;

fn submit_request(shootout: Uuid, key: &str) -> SubmitJobRequest {
    SubmitJobRequest {
        shootout_id: shootout.to_string(),
        idempotency_key: key.to_owned(),
    }
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_job() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let shootout = h.shootout(user);
    let mut client = h.client();

    let first = client
        .submit_job(as_user(user, submit_request(shootout, "key-1")))
        .await
        .unwrap()
        .into_inner();
    assert!(first.created);
    let job = first.job.unwrap();
    assert_eq!(job.status(), JobStatus::Queued);
    assert_eq!(job.attempt, 0);
    assert_eq!(job.max_attempts, 3);
    assert_eq!(job.owner_user_id, user.to_string());

    let again = client
        .submit_job(as_user(user, submit_request(shootout, "key-1")))
        .await
        .unwrap()
        .into_inner();
    assert!(!again.created);
    assert_eq!(again.job.unwrap().id, job.id);

    let other = client
        .submit_job(as_user(user, submit_request(shootout, "key-2")))
        .await
        .unwrap()
        .into_inner();
    assert!(other.created);
    assert_ne!(other.job.unwrap().id, job.id);

    // Another user may use the same key: keys are per user.
    let someone = Uuid::new_v4();
    let theirs = h.shootout(someone);
    let their_job = client
        .submit_job(as_user(someone, submit_request(theirs, "key-1")))
        .await
        .unwrap()
        .into_inner();
    assert!(their_job.created);

    let reused = client
        .submit_job(as_user(user, submit_request(h.shootout(user), "key-1")))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::FailedPrecondition);

    for (request, code) in [
        (submit_request(shootout, ""), Code::InvalidArgument),
        (
            submit_request(shootout, &"k".repeat(129)),
            Code::InvalidArgument,
        ),
        (
            SubmitJobRequest {
                shootout_id: "nope".into(),
                idempotency_key: "k".into(),
            },
            Code::InvalidArgument,
        ),
        (submit_request(Uuid::new_v4(), "k"), Code::NotFound),
        // Someone else's shootout looks missing.
        (submit_request(theirs, "k"), Code::NotFound),
    ] {
        let status = client.submit_job(as_user(user, request)).await.unwrap_err();
        assert_eq!(status.code(), code, "{status:?}");
    }

    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(h.db())
        .await
        .unwrap();
    assert_eq!(jobs, 3);
    h.finish().await;
}

#[tokio::test]
async fn another_users_job_is_not_found_and_anonymous_calls_are_refused() {
    let h = Harness::start(&[]).await;
    let owner = Uuid::new_v4();
    let intruder = Uuid::new_v4();
    let job = h.submit(owner, h.shootout(owner)).await;
    let mut client = h.client();
    let id = job.to_string();

    for candidate in [id.clone(), Uuid::new_v4().to_string()] {
        let get = client
            .get_job(as_user(
                intruder,
                GetJobRequest {
                    job_id: candidate.clone(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(get.code(), Code::NotFound);
        let cancel = client
            .cancel_job(as_user(
                intruder,
                CancelJobRequest {
                    job_id: candidate.clone(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(cancel.code(), Code::NotFound);
        let watch = client
            .watch_job(as_user(
                intruder,
                WatchJobRequest {
                    job_id: candidate.clone(),
                    after_event_id: String::new(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(watch.code(), Code::NotFound);
        let artifacts = client
            .list_artifacts(as_user(
                intruder,
                ListArtifactsRequest {
                    job_id: candidate.clone(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(artifacts.code(), Code::NotFound);
        let url = client
            .get_artifact_url(as_user(
                intruder,
                GetArtifactUrlRequest {
                    job_id: candidate.clone(),
                    artifact_id: Uuid::new_v4().to_string(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(url.code(), Code::NotFound);
    }
    let listed = client
        .list_jobs(as_user(intruder, ListJobsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.jobs.is_empty());

    let anonymous = client
        .get_job(Request::new(GetJobRequest { job_id: id.clone() }))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    // The owner still sees it, unchanged.
    let mine = client
        .get_job(as_user(owner, GetJobRequest { job_id: id }))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(mine.status(), JobStatus::Queued);
    h.finish().await;
}

#[tokio::test]
async fn jobs_list_newest_first_with_filters_and_cursor_pages() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let first_shootout = h.shootout(user);
    let second_shootout = h.shootout(user);
    let mut ids = Vec::new();
    for index in 0..5 {
        let shootout = if index % 2 == 0 {
            first_shootout
        } else {
            second_shootout
        };
        ids.push(h.submit(user, shootout).await.to_string());
    }
    let mut client = h.client();
    let cancelled = ids[1].clone();
    client
        .cancel_job(as_user(
            user,
            CancelJobRequest {
                job_id: cancelled.clone(),
            },
        ))
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_jobs(as_user(
                user,
                ListJobsRequest {
                    page_size: 2,
                    page_token: token.clone(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.jobs.len() <= 2);
        seen.extend(page.jobs.into_iter().map(|job| job.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    let only_first = client
        .list_jobs(as_user(
            user,
            ListJobsRequest {
                shootout_id: first_shootout.to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        only_first
            .jobs
            .iter()
            .map(|j| j.id.clone())
            .collect::<Vec<_>>(),
        vec![ids[4].clone(), ids[2].clone(), ids[0].clone()]
    );

    let only_cancelled = client
        .list_jobs(as_user(
            user,
            ListJobsRequest {
                status: JobStatus::Cancelled as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(only_cancelled.jobs.len(), 1);
    assert_eq!(only_cancelled.jobs[0].id, cancelled);

    let bad = client
        .list_jobs(as_user(
            user,
            ListJobsRequest {
                page_token: "garbage".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);

    // One page limit for every list: 100 is served, 101 refused like ListShootouts does.
    let page = |page_size: u32, page_token: String| {
        as_user(
            user,
            ListJobsRequest {
                page_size,
                page_token,
                ..Default::default()
            },
        )
    };
    client.list_jobs(page(100, String::new())).await.unwrap();
    let too_big = client
        .list_jobs(page(101, String::new()))
        .await
        .unwrap_err();
    assert_eq!(too_big.code(), Code::InvalidArgument, "{too_big:?}");
    // A page token of another list (ListShootouts) is refused, not read as a position.
    let foreign = gts_common::paging::PagePosition {
        created_at_micros: 1_700_000_000_000_000,
        id: Uuid::new_v4(),
    }
    .encode("shootouts");
    let status = client.list_jobs(page(10, foreign)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("another list"), "{status:?}");
    h.finish().await;
}

#[tokio::test]
async fn a_late_worker_cannot_bring_a_cancelled_job_back() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;

    let claimed = queue::claim(h.db(), "worker-a", Duration::from_secs(30), 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, job);
    assert_eq!(claimed.status, "running");
    assert_eq!(claimed.attempt, 1);
    let lease = Lease {
        job_id: job,
        owner: "worker-a".into(),
        attempt: 1,
    };

    let cancelled = h
        .client()
        .cancel_job(as_user(
            user,
            CancelJobRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(cancelled.status(), JobStatus::Cancelled);
    assert!(cancelled.finished_at.is_some());

    // The worker's guarded writes change nothing any more.
    assert!(
        !queue::renew(h.db(), &lease, Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        queue::complete(h.db(), &lease, None, &[], &[])
            .await
            .unwrap()
            .is_none()
    );
    assert!(queue::fail(h.db(), &lease, "late").await.unwrap().is_none());

    // Even an unguarded statement is refused by the database itself.
    for status in ["succeeded", "running", "queued", "failed"] {
        let error = sqlx::query("UPDATE jobs SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(job)
            .execute(h.db())
            .await
            .unwrap_err();
        let code = error.as_database_error().and_then(|e| e.code()).unwrap();
        assert_eq!(code, "23514", "{status}: {error}");
    }
    // A queued job cannot skip running either.
    let other = h.submit(user, h.shootout(user)).await;
    let skipped = sqlx::query("UPDATE jobs SET status = 'succeeded' WHERE id = $1")
        .bind(other)
        .execute(h.db())
        .await;
    assert!(skipped.is_err());

    let (status,): (String,) = sqlx::query_as("SELECT status FROM jobs WHERE id = $1")
        .bind(job)
        .fetch_one(h.db())
        .await
        .unwrap();
    assert_eq!(status, "cancelled");

    // Cancelling again returns the job unchanged.
    let again = h
        .client()
        .cancel_job(as_user(
            user,
            CancelJobRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(again.status(), JobStatus::Cancelled);
    assert_eq!(again.updated_at, cancelled.updated_at);
    h.finish().await;
}

#[tokio::test]
async fn a_cancelled_queued_job_is_never_claimed_and_its_watchers_see_the_end() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let mut stream = h.watch(user, job, "").await;
    let snapshot = next_event(&mut stream).await;
    assert!(
        matches!(snapshot.event, Some(job_event::Event::Snapshot(ref j)) if j.status() == JobStatus::Queued)
    );

    h.client()
        .cancel_job(as_user(
            user,
            CancelJobRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap();
    let rest = collect_until_end(&mut stream).await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(
        common::transition(&rest[0]),
        Some((JobStatus::Queued as i32, JobStatus::Cancelled as i32))
    );
    assert!(
        queue::claim(h.db(), "worker-a", Duration::from_secs(30), 5)
            .await
            .unwrap()
            .is_none()
    );
    h.finish().await;
}

#[tokio::test]
async fn concurrent_claimers_never_exceed_a_users_running_limit() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let other = Uuid::new_v4();
    for _ in 0..6 {
        h.submit(user, h.shootout(user)).await;
    }
    let other_job = h.submit(other, h.shootout(other)).await;
    let mut claimed = Vec::new();
    // Rounds of eight concurrent claimers, until nothing more is claimable.
    for round in 0..4 {
        let claims = (0..8).map(|index| {
            let db = h.db().clone();
            tokio::spawn(async move {
                queue::claim(&db, &format!("worker-{index}"), Duration::from_secs(30), 2)
                    .await
                    .unwrap()
            })
        });
        claimed.extend(
            futures::future::join_all(claims)
                .await
                .into_iter()
                .filter_map(|result| result.unwrap()),
        );
        if round == 0 {
            // A busy user never hides another user's job from concurrent claimers.
            assert!(claimed.iter().any(|job| job.id == other_job), "{claimed:?}");
        }
    }
    while let Some(job) = queue::claim(h.db(), "drain", Duration::from_secs(30), 2)
        .await
        .unwrap()
    {
        claimed.push(job);
    }
    let mine = claimed.iter().filter(|job| job.owner_id == user).count();
    assert_eq!(mine, 2, "the limit is 2 per user");
    assert!(claimed.iter().any(|job| job.id == other_job));
    assert_eq!(claimed.len(), 3);
    let distinct: std::collections::HashSet<_> = claimed.iter().map(|job| job.id).collect();
    assert_eq!(distinct.len(), claimed.len(), "no job is claimed twice");
    h.finish().await;
}

#[tokio::test]
async fn a_job_row_with_an_impossible_attempt_is_an_internal_error_not_attempt_zero() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    // The schema forbids it; a damaged or hand-edited row is what this stands for.
    sqlx::query("ALTER TABLE jobs DROP CONSTRAINT jobs_attempt_check")
        .execute(h.db())
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET attempt = -1 WHERE id = $1")
        .bind(job)
        .execute(h.db())
        .await
        .unwrap();
    let read = h
        .client()
        .get_job(as_user(
            user,
            GetJobRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(read.code(), Code::Internal, "{read:?}");
    assert!(
        !read.message().contains("-1"),
        "no row detail leaks: {read:?}"
    );
    h.finish().await;
}
