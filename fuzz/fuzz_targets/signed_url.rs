//! Artifact URL verification: any path and query is answered with Ok or a
//! `SignatureError`, never a panic; a URL signed for a key verifies until it expires and
//! stops verifying when its path, expiry or signature changes; the object key a signed
//! path names is the key that was signed.
#![no_main]

use arbitrary::Arbitrary;
use gts_common::signed_url::{SignatureError, UrlSigner};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    key: [u8; 32],
    path: String,
    query: Option<String>,
    now: i64,
    object_key: String,
    expires: i64,
}

fuzz_target!(|input: Input| {
    let signer = UrlSigner::new(&input.key).expect("32 bytes is long enough");
    let _ = signer.verify_query(&input.path, input.query.as_deref(), input.now);
    let _ = UrlSigner::object_key_of(&input.path);

    let path = UrlSigner::artifact_path(&input.object_key);
    let sig = signer.sign(&path, input.expires);
    let query = format!("expires={}&sig={sig}", input.expires);
    let verdict = signer.verify_query(&path, Some(&query), input.now);
    if input.expires > input.now {
        assert_eq!(verdict, Ok(()));
    } else {
        assert_eq!(verdict, Err(SignatureError::Expired));
    }
    if input.path != path {
        assert_ne!(
            signer.verify_query(&input.path, Some(&query), i64::MIN),
            Ok(()),
            "a signature verified for another path"
        );
    }
    let later = input.expires.wrapping_add(1);
    let moved = format!("expires={later}&sig={sig}");
    assert_ne!(signer.verify_query(&path, Some(&moved), i64::MIN), Ok(()));
    // Keys the worker signs are plain segments (never empty, `.` or `..`).
    let plain = input
        .object_key
        .split('/')
        .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    if plain {
        assert_eq!(
            UrlSigner::object_key_of(&path).as_deref(),
            Some(input.object_key.as_str()),
            "{path}"
        );
    }
});
