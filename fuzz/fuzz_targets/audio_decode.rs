//! Audio files: the engine's decoder front (`gts_render::decode::decode_file`) and the
//! upload content validation (`gts_shootout::audio_content::analyze`, DI and IR limits)
//! answer an error for any bytes, under any of the accepted extensions, and never panic.
//! The first byte picks the extension (the decoders use it as a hint).
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;

const EXTENSIONS: [&str; 6] = ["wav", "flac", "mp3", "aiff", "ogg", "bin"];

fn scratch(extension: &str) -> PathBuf {
    std::env::temp_dir().join(format!("gts-fuzz-{}.{extension}", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let extension = EXTENSIONS[usize::from(selector) % EXTENSIONS.len()];
    let path = scratch(extension);
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    let _ = gts_render::decode::decode_file(&path, 30);
    for limits in [
        &gts_shootout::audio_content::DI_TRACK,
        &gts_shootout::audio_content::IMPULSE_RESPONSE,
    ] {
        let _ = gts_shootout::audio_content::analyze(&path, limits);
    }
    let _ = std::fs::remove_file(&path);
});
