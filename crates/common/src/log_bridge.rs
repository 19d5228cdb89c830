//! Records of the `log` facade (third-party crates) forwarded into `tracing`.
//!
//! Design contract:
//! - Used instead of `tracing_log::LogTracer`, which keeps each record's level: the audio
//!   decoders (symphonia) log at ERROR about the user's file ("probe reached EOF", "riff
//!   form is not wave"), so anyone uploading junk would drive the services' ERROR volume.
//! - Records of the crates in [`USER_FILE_DECODERS`] are demoted to DEBUG. What the service
//!   makes of such a failure it logs itself, at info (a refused upload, a failed job).
//!   Every other crate's records keep their level.
//! - The `tracing` filter decides what is written, as for native events.

use log::{Level, LevelFilter, Log, Metadata, Record};
use tracing_log::AsTrace;

/// Crates whose log records describe user-supplied files, not the service's health.
const USER_FILE_DECODERS: &[&str] = &["symphonia"];

/// The `log` → `tracing` bridge.
pub struct LogBridge;

static BRIDGE: LogBridge = LogBridge;

/// Installs the bridge as the process's `log` logger, passing records up to `max_level`.
/// Fails when a logger is installed already.
pub fn install(max_level: LevelFilter) -> Result<(), log::SetLoggerError> {
    log::set_logger(&BRIDGE)?;
    log::set_max_level(max_level);
    Ok(())
}

/// The level a record of `target` is forwarded at.
pub fn forwarded_level(target: &str, level: Level) -> Level {
    let krate = target.split("::").next().unwrap_or(target);
    let from_decoder = USER_FILE_DECODERS.iter().any(|name| {
        krate == *name
            || krate
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('_'))
    });
    if from_decoder {
        level.max(Level::Debug)
    } else {
        level
    }
}

fn forwarded<'a>(metadata: &Metadata<'a>) -> Metadata<'a> {
    Metadata::builder()
        .level(forwarded_level(metadata.target(), metadata.level()))
        .target(metadata.target())
        .build()
}

impl Log for LogBridge {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let metadata = forwarded(metadata);
        tracing::dispatcher::get_default(|dispatch| dispatch.enabled(&metadata.as_trace()))
    }

    fn log(&self, record: &Record<'_>) {
        let record = Record::builder()
            .metadata(forwarded(record.metadata()))
            .args(*record.args())
            .module_path(record.module_path())
            .file(record.file())
            .line(record.line())
            .build();
        if self.enabled(record.metadata()) {
            // Writing to a subscriber cannot fail in a way a logger could report.
            let _ = tracing_log::format_trace(&record);
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_records_are_demoted_and_others_keep_their_level() {
        for target in [
            "symphonia",
            "symphonia_core::formats::probe",
            "symphonia_format_riff::wave",
        ] {
            assert_eq!(
                forwarded_level(target, Level::Error),
                Level::Debug,
                "{target}"
            );
            assert_eq!(
                forwarded_level(target, Level::Warn),
                Level::Debug,
                "{target}"
            );
            assert_eq!(
                forwarded_level(target, Level::Trace),
                Level::Trace,
                "{target}"
            );
        }
        for target in ["sqlx::query", "symphoniax", "h2::codec", "gts_render"] {
            assert_eq!(
                forwarded_level(target, Level::Error),
                Level::Error,
                "{target}"
            );
        }
    }
}
