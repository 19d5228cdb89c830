//! `.nam` files: the engine's parser/validator and the upload validator must refuse any
//! text with an error, never panic, and agree that what the upload check accepts loads.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let engine = gts_render::nam::NamAmp::from_json_str(text, Path::new("fuzz.nam"));
    let upload = gts_shootout::nam_content::analyze_json(text);
    if upload.is_ok() {
        assert!(
            engine.is_ok(),
            "the upload check accepted a model the engine refuses: {:?}",
            engine.err()
        );
    }
});
