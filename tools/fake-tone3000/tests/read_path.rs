//! User, tones, models and downloads through the real `tone3000` client.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

mod common;

use common::{login, start};
use fake_tone3000::{
    TONE_BADLANDER, TONE_CAB_PACK, TONE_DELUXE, TONE_JCM800, TONE_KLON, TONE_PRIVATE_DRAFT,
    TONE_PRIVATE_OTHER,
};
use tone3000::{ArchitectureVersion, Error, Format, Gear, License, Size, ToneId, ToneSort};

#[tokio::test]
async fn search_filters_sorts_and_pages() {
    let fake = start().await;
    let (client, _) = login(&fake).await;

    let browse = client.tones().page_size(25).await.unwrap();
    let public_ids: Vec<u64> = browse.data.iter().map(|t| t.id.0).collect();
    assert_eq!(browse.total, 5);
    assert!(!public_ids.contains(&TONE_PRIVATE_DRAFT) && !public_ids.contains(&TONE_PRIVATE_OTHER));
    // Search shape: no detail-only fields, makes without ids, cross-architecture counts.
    let jcm = browse.data.iter().find(|t| t.id.0 == TONE_JCM800).unwrap();
    assert!(jcm.license.is_none() && jcm.sizes.is_empty() && jcm.is_public.is_none());
    assert!(jcm.makes[0].id.is_none());
    assert_eq!(jcm.makes[0].name, "Marshall JCM800");
    assert_eq!(jcm.models_count, 2);
    assert_eq!(jcm.user.as_ref().unwrap().username, "brucew");

    let plexi = client.tones().query("jcm800 crunch").await.unwrap();
    assert_eq!(
        plexi.data.iter().map(|t| t.id.0).collect::<Vec<_>>(),
        vec![TONE_JCM800]
    );

    let pedals = client.tones().gear(Gear::Pedal).await.unwrap();
    assert_eq!(pedals.data.len(), 1);
    assert_eq!(pedals.data[0].id, ToneId(TONE_KLON));

    let irs = client.tones().format(Format::Ir).await.unwrap();
    assert_eq!(irs.data.len(), 1);
    assert_eq!(irs.data[0].id, ToneId(TONE_CAB_PACK));
    assert_eq!(irs.data[0].irs_count, 5);

    let nano = client.tones().size(Size::Nano).await.unwrap();
    let mut nano_ids: Vec<u64> = nano.data.iter().map(|t| t.id.0).collect();
    nano_ids.sort();
    assert_eq!(nano_ids, vec![TONE_KLON, TONE_JCM800]);

    let a2 = client
        .tones()
        .architecture(ArchitectureVersion::V2)
        .await
        .unwrap();
    assert_eq!(
        a2.data.iter().map(|t| t.id.0).collect::<Vec<_>>(),
        vec![TONE_BADLANDER]
    );

    let by_creator = client.tones().creator("akka5").await.unwrap();
    assert_eq!(by_creator.total, 2);
    let by_make = client
        .tones()
        .make("Klon Centaur")
        .tag("boost")
        .await
        .unwrap();
    assert_eq!(by_make.total, 1);

    let by_downloads = client
        .tones()
        .sort(ToneSort::DownloadsAllTime)
        .await
        .unwrap();
    let downloads: Vec<u64> = by_downloads
        .data
        .iter()
        .map(|t| t.downloads_count)
        .collect();
    assert!(downloads.windows(2).all(|w| w[0] >= w[1]), "{downloads:?}");
    let oldest = client.tones().sort(ToneSort::Oldest).await.unwrap();
    assert_eq!(oldest.data[0].id, ToneId(TONE_KLON));

    let page2 = client.tones().page_size(2).page(2).await.unwrap();
    assert_eq!(
        (page2.page, page2.page_size, page2.total, page2.total_pages),
        (2, 2, 5, 3)
    );
    assert_eq!(page2.data.len(), 2);
    assert!(page2.has_next() && page2.has_prev());
    let last = client.tones().page_size(2).page(3).await.unwrap();
    assert_eq!(last.data.len(), 1);
    assert!(!last.has_next());

    let none = client.tones().query("theremin").await.unwrap();
    assert_eq!((none.total, none.total_pages, none.data.len()), (0, 0, 0));
}

#[tokio::test]
async fn search_rejects_bad_parameters_with_400() {
    let fake = start().await;
    let tokens = fake.state().issue_tokens_for_test_user();
    for query in ["page=0", "page_size=abc", "sort=loudest"] {
        let resp = reqwest::Client::new()
            .get(format!("{}/tones/search?{query}", fake.base_url()))
            .bearer_auth(&tokens.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{query}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
    }
}

#[tokio::test]
async fn tone_detail_created_and_favorited() {
    let fake = start().await;
    let (client, _) = login(&fake).await;

    let tone = client.tone(ToneId(TONE_JCM800)).await.unwrap();
    assert_eq!(tone.title, "Marshall JCM800 2203 Crunch");
    assert_eq!(tone.license, Some(License::T3k));
    assert_eq!(tone.is_public, Some(true));
    assert_eq!(tone.sizes, vec![Size::Standard, Size::Nano]);
    assert!(tone.makes[0].id.is_some());
    assert_eq!(tone.a1_models_count, 2);

    let created = client.created().await.unwrap();
    let mut created_ids: Vec<u64> = created.data.iter().map(|t| t.id.0).collect();
    created_ids.sort();
    assert_eq!(created_ids, vec![TONE_DELUXE, TONE_PRIVATE_DRAFT]);
    assert!(
        created
            .data
            .iter()
            .all(|t| t.user_id.0 == fake.state().test_user().id)
    );

    let favorited = client.favorited().page_size(1).await.unwrap();
    assert_eq!((favorited.total, favorited.total_pages), (2, 2));

    // Own private tone is readable; someone else's is 403; unknown is 404.
    assert_eq!(
        client
            .tone(ToneId(TONE_PRIVATE_DRAFT))
            .await
            .unwrap()
            .is_public,
        Some(false)
    );
    assert!(matches!(
        client.tone(ToneId(TONE_PRIVATE_OTHER)).await.unwrap_err(),
        Error::Forbidden
    ));
    assert!(matches!(
        client.tone(ToneId(999)).await.unwrap_err(),
        Error::Status { code: 404, .. }
    ));
}

#[tokio::test]
async fn models_are_paged_and_split_by_architecture() {
    let fake = start().await;
    let (client, _) = login(&fake).await;

    let first = client
        .models(ToneId(TONE_JCM800))
        .page_size(1)
        .await
        .unwrap();
    assert_eq!(
        (first.total, first.total_pages, first.data.len()),
        (2, 2, 1)
    );
    let second = client
        .models(ToneId(TONE_JCM800))
        .page_size(1)
        .page(2)
        .await
        .unwrap();
    assert_ne!(first.data[0].id, second.data[0].id);
    assert!(first.data[0].model_url.starts_with(fake.base_url()));

    // The API defaults to architecture 1: the A2 tone lists nothing until asked for v2.
    let v1 = client.models(ToneId(TONE_BADLANDER)).await.unwrap();
    assert_eq!(v1.total, 0);
    let v2 = client
        .models(ToneId(TONE_BADLANDER))
        .architecture(ArchitectureVersion::V2)
        .await
        .unwrap();
    assert_eq!(v2.total, 1);
    assert_eq!(
        v2.data[0].architecture_version,
        Some(ArchitectureVersion::V2)
    );

    let irs = client.models(ToneId(TONE_CAB_PACK)).await.unwrap();
    assert_eq!(irs.total, 5);
    assert!(
        irs.data
            .iter()
            .all(|m| m.size.is_none() && m.model_url.ends_with(".wav"))
    );

    let one = client.model(first.data[0].id).await.unwrap();
    assert_eq!(one.name, first.data[0].name);
}

#[tokio::test]
async fn downloads_serve_the_fixture_bytes() {
    let fake = start().await;
    let (client, _) = login(&fake).await;

    let models = client.models(ToneId(TONE_JCM800)).await.unwrap();
    let standard = models
        .data
        .iter()
        .find(|m| m.size == Some(Size::Standard))
        .unwrap();
    let bytes = client.download_model(standard).await.unwrap();
    let expected = std::fs::read(fake.fixtures_dir().join("nam/wavenet_a1_standard.nam")).unwrap();
    assert_eq!(bytes.as_ref(), expected.as_slice());
    let json = client.download_model_json(standard).await.unwrap();
    assert!(json.contains("\"architecture\""));

    let irs = client.models(ToneId(TONE_CAB_PACK)).await.unwrap();
    let mut written = Vec::new();
    let n = client
        .download_model_to(&irs.data[0], &mut written)
        .await
        .unwrap();
    let file = irs.data[0].model_url.rsplit('/').next().unwrap();
    let expected_ir = std::fs::read(fake.fixtures_dir().join("irs").join(file)).unwrap();
    assert_eq!(written, expected_ir);
    assert_eq!(n as usize, expected_ir.len());
    assert_eq!(&written[..4], b"RIFF");

    assert_eq!(fake.state().downloads(), 3);

    // Downloads need the bearer token too.
    let anonymous = reqwest::Client::new()
        .get(&standard.model_url)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    assert_eq!(fake.state().downloads(), 3);
}

#[tokio::test]
async fn user_directory_lists_creators_with_metrics() {
    let fake = start().await;
    let (client, _) = login(&fake).await;
    let all = client.users().await.unwrap();
    assert_eq!(all.total, 3);
    // Default sort: most tones first (akka5 and brucew have two public tones each).
    assert!(all.data[0].tones_count >= all.data[1].tones_count);
    let akka = client.users().query("akka").await.unwrap();
    assert_eq!(akka.data.len(), 1);
    assert_eq!(akka.data[0].username, "akka5");
    assert_eq!(akka.data[0].tones_count, 2);
    assert_eq!(akka.data[0].models_count, 2);
    assert_eq!(akka.data[0].downloads_count, 9800 + 604);
    let by_downloads = client
        .users()
        .sort(tone3000::UserSort::Downloads)
        .await
        .unwrap();
    let d: Vec<u64> = by_downloads
        .data
        .iter()
        .map(|u| u.downloads_count)
        .collect();
    assert!(d.windows(2).all(|w| w[0] >= w[1]), "{d:?}");
}
