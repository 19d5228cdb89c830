//! Shared helpers: start a fake, and drive the OAuth authorize step the way a browser
//! would (the `tone3000` client has no authorize helper; the app owns the redirect).
#![allow(dead_code)]

use fake_tone3000::{FakeConfig, FakeHandle, FakeTone3000};
use tone3000::{AuthorizeOptions, Client, Prompt, Tokens, authorize_url, pkce};

pub const REDIRECT_URI: &str = "http://127.0.0.1:53682/callback";

pub async fn start() -> FakeHandle {
    start_with(FakeConfig::for_workspace_tests()).await
}

pub async fn start_with(config: FakeConfig) -> FakeHandle {
    FakeTone3000::start(config).await.unwrap()
}

/// A client for the fake with no tokens yet.
pub fn client(fake: &FakeHandle) -> Client {
    Client::builder(fake.state().client_id())
        .base_url(fake.base_url())
        .build()
}

/// The crate's authorize URL, moved from tone3000.com onto the fake.
pub fn fake_authorize_url(
    fake: &FakeHandle,
    challenge: &str,
    state: &str,
    prompt: Prompt,
) -> String {
    let real = authorize_url(
        fake.state().client_id(),
        REDIRECT_URI,
        challenge,
        state,
        prompt,
        AuthorizeOptions::default(),
    );
    assert_eq!(real.path(), "/api/v1/oauth/authorize");
    format!("{}?{}", fake.authorize_url(), real.query().unwrap())
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// GETs `url` without following redirects and returns the 302's `Location` query pairs.
pub async fn follow_authorize(url: &str) -> std::collections::HashMap<String, String> {
    let resp = no_redirects().get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302, "authorize must redirect");
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap();
    let location = url::Url::parse(location).unwrap();
    assert_eq!(
        format!(
            "{}://{}{}",
            location.scheme(),
            location.host_str().unwrap(),
            location.path()
        ),
        "http://127.0.0.1/callback"
    );
    assert_eq!(location.port(), Some(53682));
    location.query_pairs().into_owned().collect()
}

/// Authorize (auto-approved) and return `(code, verifier)` after checking `state`.
pub async fn authorize(fake: &FakeHandle) -> (String, String) {
    let pkce = pkce::generate();
    let state = pkce::generate().verifier;
    let pairs = follow_authorize(&fake_authorize_url(
        fake,
        &pkce.challenge,
        &state,
        Prompt::Standard,
    ))
    .await;
    assert_eq!(
        pairs.get("state"),
        Some(&state),
        "state must come back unchanged"
    );
    (pairs.get("code").unwrap().clone(), pkce.verifier)
}

/// The whole login: authorize, then exchange the code with the real client.
pub async fn login(fake: &FakeHandle) -> (Client, Tokens) {
    let (code, verifier) = authorize(fake).await;
    let client = client(fake);
    let tokens = client
        .exchange_code(&code, &verifier, REDIRECT_URI)
        .await
        .unwrap();
    (client, tokens)
}
