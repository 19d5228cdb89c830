//! LibraryService against the fake TONE3000: the user's token reaches it, answers are
//! mapped and cached, and its 429 becomes RESOURCE_EXHAUSTED with RetryInfo.

#![allow(clippy::unwrap_used)]

mod common;

use common::{FixedToken, as_user, start_custom};
use fake_tone3000::{
    FakeConfig, FakeTone3000, RateLimit, TONE_CAB_PACK, TONE_DELUXE, TONE_JCM800,
    TONE_PRIVATE_OTHER,
};
use gts_proto::v1::{
    GetToneRequest, LibraryPage, ListCreatedTonesRequest, ListFavoriteTonesRequest,
    ListModelsRequest, ModelSize, SearchTonesRequest, ToneGear,
    library_service_client::LibraryServiceClient,
};
use tonic::Code;
use tonic_types::StatusExt;
use uuid::Uuid;

#[tokio::test]
async fn library_calls_reach_tone3000_with_the_users_token() {
    let fake = FakeTone3000::start(FakeConfig::for_workspace_tests())
        .await
        .unwrap();
    let tokens = FixedToken::new(fake.state().issue_tokens_for_test_user().access_token);
    let svc = start_custom(
        &[("GTS_TONE3000_URL", fake.base_url().to_owned())],
        Some(tokens.clone()),
    )
    .await;
    let user = Uuid::new_v4();
    let mut client = LibraryServiceClient::new(svc.channel.clone());

    let found = client
        .search_tones(as_user(
            user,
            SearchTonesRequest {
                query: "JCM800".into(),
                gears: vec![ToneGear::Amp as i32],
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(found.tones.iter().any(|t| t.id == TONE_JCM800), "{found:?}");
    assert!(found.page_info.unwrap().total >= 1);
    assert_eq!(tokens.asked_for.lock().unwrap().as_slice(), [user]);

    let tone = client
        .get_tone(as_user(
            user,
            GetToneRequest {
                tone_id: TONE_JCM800,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .tone
        .unwrap();
    assert_eq!(tone.title, "Marshall JCM800 2203 Crunch");
    assert_eq!(tone.gear, ToneGear::Amp as i32);
    assert!(tone.sizes.contains(&(ModelSize::Standard as i32)));

    let models = client
        .list_models(as_user(
            user,
            ListModelsRequest {
                tone_id: TONE_JCM800,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(models.models.len(), 2);
    // The calibration metadata is read from each file: one model states it, one does not.
    let calibration = |id: u64| {
        models
            .models
            .iter()
            .find(|m| m.id == id)
            .and_then(|m| m.calibration)
            .unwrap()
    };
    let with = calibration(293_887);
    assert_eq!(with.input_level_dbu, Some(18.3));
    assert_eq!(with.output_level_dbu, Some(12.3));
    assert!(with.usable_for_calibration);
    assert!(with.loudness_db.is_some());
    let without = calibration(293_886);
    assert_eq!(without.input_level_dbu, None);
    assert!(!without.usable_for_calibration);
    assert!(
        models
            .models
            .iter()
            .all(|m| m.model_url.contains("/download/"))
    );

    let favorites = client
        .list_favorite_tones(as_user(user, ListFavoriteTonesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<u64> = favorites.tones.iter().map(|t| t.id).collect();
    assert!(
        ids.contains(&TONE_JCM800) && ids.contains(&TONE_CAB_PACK),
        "{ids:?}"
    );
    let created = client
        .list_created_tones(as_user(user, ListCreatedTonesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(created.tones.iter().any(|t| t.id == TONE_DELUXE));

    // A repeated query is answered from the cache without reaching TONE3000.
    let before = fake.state().requests();
    client
        .get_tone(as_user(
            user,
            GetToneRequest {
                tone_id: TONE_JCM800,
            },
        ))
        .await
        .unwrap();
    assert_eq!(fake.state().requests(), before);

    let private = client
        .get_tone(as_user(
            user,
            GetToneRequest {
                tone_id: TONE_PRIVATE_OTHER,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(private.code(), Code::PermissionDenied);
    let unknown = client
        .get_tone(as_user(user, GetToneRequest { tone_id: 424_242 }))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let too_big = client
        .list_created_tones(as_user(
            user,
            ListCreatedTonesRequest {
                page: Some(LibraryPage {
                    page: 1,
                    page_size: 500,
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(too_big.code(), Code::InvalidArgument);

    // TONE3000's 429 becomes RESOURCE_EXHAUSTED with the retry delay.
    fake.state().set_rate_limit(Some(RateLimit {
        max_requests: 1,
        window: std::time::Duration::from_secs(30),
    }));
    let mut limited = None;
    for page in 1..=3 {
        match client
            .search_tones(as_user(
                user,
                SearchTonesRequest {
                    query: format!("page {page}"),
                    ..Default::default()
                },
            ))
            .await
        {
            Ok(_) => continue,
            Err(status) => {
                limited = Some(status);
                break;
            }
        }
    }
    let limited = limited.expect("the fake rate-limits the second request");
    assert_eq!(limited.code(), Code::ResourceExhausted);
    let retry = limited
        .get_details_retry_info()
        .expect("RetryInfo attached");
    let delay = retry.retry_delay.unwrap();
    assert!(delay.as_secs() >= 1 && delay.as_secs() <= 30, "{delay:?}");
    svc.finish().await;
    fake.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_token_tone3000_refuses_asks_the_user_to_sign_in_again() {
    let fake = FakeTone3000::start(FakeConfig::for_workspace_tests())
        .await
        .unwrap();
    let svc = start_custom(
        &[("GTS_TONE3000_URL", fake.base_url().to_owned())],
        Some(FixedToken::new("revoked-or-made-up")),
    )
    .await;
    let err = LibraryServiceClient::new(svc.channel.clone())
        .get_tone(as_user(
            Uuid::new_v4(),
            GetToneRequest {
                tone_id: TONE_JCM800,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("sign in"), "{}", err.message());
    svc.finish().await;
    fake.shutdown().await.unwrap();
}
