//! Job events: the capped per-job log in Redis ([`log`]), the per-replica fan-out of one
//! reader per job ([`hub`]), and the WatchJob stream built on both ([`watch`]).

pub mod hub;
pub mod id;
pub mod log;
pub mod watch;

pub use hub::EventHub;
pub use id::EventId;
pub use log::{EventLog, Retention, StoredEvent};

use gts_proto::v1::{
    JobLogLevel, JobLogMessage, JobProgress, JobStatus, JobStatusChange, job_event,
};

use crate::queue::Status;

/// A status change event; `from` is `None` for the submission.
pub fn status_change(
    from: Option<Status>,
    to: Status,
    attempt: u32,
    error_message: &str,
) -> job_event::Event {
    job_event::Event::StatusChange(JobStatusChange {
        from_status: from.map_or(JobStatus::Unspecified, Status::to_proto) as i32,
        to_status: to.to_proto() as i32,
        attempt,
        error_message: error_message.to_owned(),
    })
}

/// A progress event.
pub fn progress(progress: JobProgress) -> job_event::Event {
    job_event::Event::Progress(progress)
}

/// A log line for the user.
pub fn log_line(level: JobLogLevel, message: impl Into<String>) -> job_event::Event {
    job_event::Event::Log(JobLogMessage {
        level: level as i32,
        message: message.into(),
    })
}
