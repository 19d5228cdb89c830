//! The OAuth code + PKCE flow, refresh rotation, expiry and revocation, driven with the
//! real `tone3000` client against the fake.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

mod common;

use std::time::Duration;

use common::{
    REDIRECT_URI, authorize, client, fake_authorize_url, follow_authorize, login, no_redirects,
    start,
};
use fake_tone3000::FailureMode;
use tone3000::{Client, Error, Prompt, ToneId, pkce};

fn is_oauth(err: &Error, code: &str) -> bool {
    matches!(err, Error::Oauth { error, .. } if error == code)
}

#[tokio::test]
async fn full_flow_logs_in_the_test_user() {
    let fake = start().await;
    let (client, tokens) = login(&fake).await;
    assert!(tokens.access_token.starts_with("t3k_at_"));
    assert!(tokens.refresh_token.is_some());
    assert_eq!(tokens.expires_in, Some(3600));

    let user = client.user().await.unwrap();
    assert_eq!(user.id.0, fake.state().test_user().id);
    assert_eq!(user.username, fake.state().test_user().username);
    assert_eq!(fake.state().authorizations(), 1);
    assert_eq!(fake.state().code_exchanges(), 1);
    fake.shutdown().await.unwrap();
}

#[tokio::test]
async fn token_response_has_the_documented_fields() {
    let fake = start().await;
    let (code, verifier) = authorize(&fake).await;
    let resp = reqwest::Client::new()
        .post(fake.token_url())
        .header("content-type", "application/json")
        .body(
            serde_json::json!({
                "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                "redirect_uri": REDIRECT_URI, "client_id": fake.state().client_id(),
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["access_token"].is_string() && body["refresh_token"].is_string());
}

#[tokio::test]
async fn wrong_verifier_is_invalid_grant_and_burns_the_code() {
    let fake = start().await;
    let (code, verifier) = authorize(&fake).await;
    let client = client(&fake);
    let wrong = pkce::generate().verifier;
    let err = client
        .exchange_code(&code, &wrong, REDIRECT_URI)
        .await
        .unwrap_err();
    assert!(is_oauth(&err, "invalid_grant"), "{err:?}");
    // Single use: even the right verifier cannot use the code now.
    let err = client
        .exchange_code(&code, &verifier, REDIRECT_URI)
        .await
        .unwrap_err();
    assert!(is_oauth(&err, "invalid_grant"), "{err:?}");
    assert_eq!(fake.state().code_exchanges(), 0);
}

#[tokio::test]
async fn codes_are_single_use() {
    let fake = start().await;
    let (code, verifier) = authorize(&fake).await;
    let client = client(&fake);
    client
        .exchange_code(&code, &verifier, REDIRECT_URI)
        .await
        .unwrap();
    let err = client
        .exchange_code(&code, &verifier, REDIRECT_URI)
        .await
        .unwrap_err();
    assert!(is_oauth(&err, "invalid_grant"), "{err:?}");
}

#[tokio::test]
async fn codes_expire() {
    let fake = start().await;
    let (code, verifier) = authorize(&fake).await;
    fake.state().advance_clock(Duration::from_secs(31 * 60));
    let err = client(&fake)
        .exchange_code(&code, &verifier, REDIRECT_URI)
        .await
        .unwrap_err();
    assert!(is_oauth(&err, "invalid_grant"), "{err:?}");
}

#[tokio::test]
async fn redirect_uri_must_match_the_authorize_request() {
    let fake = start().await;
    let (code, verifier) = authorize(&fake).await;
    let err = client(&fake)
        .exchange_code(&code, &verifier, "http://127.0.0.1:1/other")
        .await
        .unwrap_err();
    assert!(is_oauth(&err, "invalid_grant"), "{err:?}");
}

#[tokio::test]
async fn unknown_client_id_is_invalid_client() {
    let fake = start().await;
    let (code, verifier) = authorize(&fake).await;
    let stranger = Client::builder("t3k_pub_stranger")
        .base_url(fake.base_url())
        .build();
    let err = stranger
        .exchange_code(&code, &verifier, REDIRECT_URI)
        .await
        .unwrap_err();
    assert!(is_oauth(&err, "invalid_client"), "{err:?}");
}

#[tokio::test]
async fn authorize_rejects_bad_client_and_unregistered_redirect_without_redirecting() {
    let fake = start().await;
    let pkce = pkce::generate();
    let good = fake_authorize_url(&fake, &pkce.challenge, "s1", Prompt::Standard);

    let bad_client = good.replace(fake.state().client_id(), "t3k_pub_nope");
    let resp = no_redirects().get(&bad_client).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    let foreign = good.replace("127.0.0.1%3A53682", "evil.example");
    assert_ne!(foreign, good);
    let resp = no_redirects().get(&foreign).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn authorize_redirects_protocol_errors_back_with_state() {
    let fake = start().await;
    let pkce = pkce::generate();
    let good = fake_authorize_url(&fake, &pkce.challenge, "s2", Prompt::Standard);
    for (from, to) in [
        ("code_challenge_method=S256", "code_challenge_method=plain"),
        ("response_type=code", "response_type=token"),
        (pkce.challenge.as_str(), "not-a-challenge"),
    ] {
        let pairs = follow_authorize(&good.replace(from, to)).await;
        assert!(pairs.contains_key("error"), "{to}: {pairs:?}");
        assert!(!pairs.contains_key("code"), "{to}: {pairs:?}");
        assert_eq!(pairs.get("state").map(String::as_str), Some("s2"));
    }
    let pairs = follow_authorize(&good.replace("&state=s2", "")).await;
    assert_eq!(
        pairs.get("error").map(String::as_str),
        Some("invalid_request")
    );
    assert_eq!(fake.state().authorizations(), 0);
}

#[tokio::test]
async fn load_tone_prompt_returns_the_tone_id() {
    let fake = start().await;
    let pkce = pkce::generate();
    let url = fake_authorize_url(
        &fake,
        &pkce.challenge,
        "s3",
        Prompt::LoadTone {
            tone_id: ToneId(fake_tone3000::TONE_KLON),
        },
    );
    let pairs = follow_authorize(&url).await;
    assert_eq!(
        pairs.get("tone_id"),
        Some(&fake_tone3000::TONE_KLON.to_string())
    );
    assert!(pairs.contains_key("code"));
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_dies() {
    let fake = start().await;
    let (client, first) = login(&fake).await;
    let old_refresh = first.refresh_token.clone().unwrap();

    let second = client.refresh().await.unwrap();
    let new_refresh = second.refresh_token.clone().unwrap();
    assert_ne!(new_refresh, old_refresh);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(fake.state().token_refreshes(), 1);
    client.user().await.unwrap();

    let replay = Client::builder(fake.state().client_id())
        .base_url(fake.base_url())
        .refresh_token(old_refresh)
        .build();
    let err = replay.refresh().await.unwrap_err();
    assert!(is_oauth(&err, "invalid_grant"), "{err:?}");

    // The rotated one still works, once.
    let third = client.refresh().await.unwrap();
    assert_ne!(third.refresh_token, second.refresh_token);
    assert_eq!(fake.state().token_refreshes(), 2);
    assert_eq!(fake.state().refresh_attempts(), 3);
}

#[tokio::test]
async fn expired_access_token_is_401() {
    let fake = start().await;
    fake.state()
        .set_access_token_lifetime(Duration::from_secs(5));
    let (client, tokens) = login(&fake).await;
    assert_eq!(tokens.expires_in, Some(5));
    client.user().await.unwrap();

    fake.state().advance_clock(Duration::from_secs(6));
    let err = client.user().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized), "{err:?}");

    let raw = reqwest::Client::new()
        .get(format!("{}/user", fake.base_url()))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 401);
    assert!(raw.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn auto_refresh_client_recovers_from_expiry() {
    let fake = start().await;
    let tokens = fake.state().issue_tokens_for_test_user();
    let client = Client::builder(fake.state().client_id())
        .base_url(fake.base_url())
        .access_token(tokens.access_token)
        .refresh_token(tokens.refresh_token)
        .auto_refresh(true)
        .build();
    fake.state().advance_clock(Duration::from_secs(3601));
    // Reactive: the 401 triggers one refresh and a retry.
    let user = client.user().await.unwrap();
    assert_eq!(user.username, "testuser");
    assert_eq!(fake.state().token_refreshes(), 1);
}

#[tokio::test]
async fn missing_or_unknown_token_is_401() {
    let fake = start().await;
    let resp = reqwest::Client::new()
        .get(format!("{}/tones/search", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let forged = Client::builder(fake.state().client_id())
        .base_url(fake.base_url())
        .access_token("t3k_at_forged")
        .build();
    assert!(matches!(
        forged.user().await.unwrap_err(),
        Error::Unauthorized
    ));
}

#[tokio::test]
async fn revoking_a_user_kills_access_and_refresh_tokens() {
    let fake = start().await;
    let (client, _) = login(&fake).await;
    client.user().await.unwrap();
    let revoked = fake
        .state()
        .revoke_user_grants(&fake.state().test_user().id);
    assert_eq!(revoked, 2);
    assert!(matches!(
        client.user().await.unwrap_err(),
        Error::Unauthorized
    ));
    let err = client.refresh().await.unwrap_err();
    assert!(is_oauth(&err, "invalid_grant"), "{err:?}");
}

#[tokio::test]
async fn refuse_refresh_mode_rejects_refreshes_only() {
    let fake = start().await;
    let (client, _) = login(&fake).await;
    fake.state().set_failure_mode(FailureMode::RefuseRefresh);
    let err = client.refresh().await.unwrap_err();
    assert!(is_oauth(&err, "invalid_grant"), "{err:?}");
    client.user().await.unwrap();
    assert_eq!(fake.state().refresh_attempts(), 1);
    assert_eq!(fake.state().token_refreshes(), 0);

    fake.state().set_failure_mode(FailureMode::None);
    client.refresh().await.unwrap();
    assert_eq!(fake.state().token_refreshes(), 1);
}
