//! The `fake-tone3000` binary: env validation, the ready line, SIGTERM.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_fake-tone3000");

#[test]
fn invalid_variable_is_named_and_exits_2() {
    let out = Command::new(BIN)
        .env(
            "FAKE_T3K_FIXTURES_DIR",
            fake_tone3000::WORKSPACE_FIXTURES_DIR,
        )
        .env("FAKE_T3K_TOKEN_LIFETIME_SECS", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("FAKE_T3K_TOKEN_LIFETIME_SECS"), "{stderr}");
}

#[test]
fn missing_fixtures_dir_is_named() {
    let out = Command::new(BIN)
        .env("FAKE_T3K_FIXTURES_DIR", "/nonexistent/fixtures")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("FAKE_T3K_FIXTURES_DIR")
    );
}

#[tokio::test]
async fn prints_its_url_serves_and_stops_on_sigterm() {
    let mut child = Command::new(BIN)
        .env(
            "FAKE_T3K_FIXTURES_DIR",
            fake_tone3000::WORKSPACE_FIXTURES_DIR,
        )
        .env("FAKE_T3K_ADDR", "127.0.0.1:0")
        .env("FAKE_T3K_CLIENT_ID", "t3k_pub_demo")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    assert!(base.ends_with("/api/v1"), "{line}");

    // A token request with the configured client id reaches the real handler.
    let resp = reqwest::Client::new()
        .post(format!("{base}/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=refresh_token&refresh_token=nope&client_id=t3k_pub_demo")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
