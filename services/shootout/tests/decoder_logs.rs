//! A user's bad file never writes ERROR or WARN lines (issue 16, finding 6): the audio
//! decoder's own `log` records about the file reach `tracing` at DEBUG, through the log
//! bridge every service installs ([`gts_common::log_bridge`]).

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use gts_shootout::audio_content::{self, DI_TRACK};
use tracing::{Level, Subscriber};
use tracing_subscriber::{Layer, layer::Context, layer::SubscriberExt};

/// Every event's level and target.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<(Level, String)>>>);

impl<S: Subscriber> Layer<S> for Captured {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        // `log` records arrive with the "log" target; their own is in the normalized metadata.
        let metadata = tracing_log::NormalizeEvent::normalized_metadata(event);
        let metadata = metadata.as_ref().unwrap_or_else(|| event.metadata());
        self.0
            .lock()
            .unwrap()
            .push((*metadata.level(), metadata.target().to_owned()));
    }
}

#[test]
fn files_that_are_not_audio_log_their_decoder_errors_at_debug() {
    gts_common::log_bridge::install(log::LevelFilter::Trace).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone());
    tracing::subscriber::with_default(subscriber, || {
        for name in [
            "notes.mp3",
            "notes.ogg",
            "notes.flac",
            "notes.wav",
            "notes.aiff",
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, "Verse: G D Em C, twice; chorus louder.\n".repeat(64)).unwrap();
            let refused = audio_content::analyze(&path, &DI_TRACK).unwrap_err();
            assert!(
                refused.to_string().contains("WAV, FLAC"),
                "{name}: {refused}"
            );
        }
    });
    let events = captured.0.lock().unwrap().clone();
    let from_decoder: Vec<&(Level, String)> = events
        .iter()
        .filter(|(_, target)| target.starts_with("symphonia"))
        .collect();
    assert!(
        !from_decoder.is_empty(),
        "the decoder said something about the files: {events:?}"
    );
    assert!(
        events.iter().all(|(level, _)| *level >= Level::DEBUG),
        "nothing above DEBUG: {events:?}"
    );
}
