//! Running ffmpeg: build the card PNGs and the ffconcat list in a temporary
//! directory, run the encoder as a child process, poll for cancellation.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::card::render_card_png;
use super::timeline::{Shot, ffconcat, shots};
use super::{TitleCard, VideoOptions};
use crate::MediaError;

/// How often the cancellation callback is consulted while ffmpeg runs.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How much of ffmpeg's log an error carries.
const STDERR_TAIL_BYTES: usize = 2000;

/// Renders the A/B video (see the module docs of [`crate::video`]).
///
/// `cancel` is polled between cards and every 50 ms while ffmpeg runs; when
/// it returns true ffmpeg is killed and `MediaError::Cancelled` returned.
pub fn render_video(
    out_mp4: &Path,
    ab_wav: &Path,
    cards: &[TitleCard],
    opts: &VideoOptions,
    cancel: &dyn Fn() -> bool,
) -> Result<(), MediaError> {
    check_ffmpeg(&opts.ffmpeg)?;
    if !opts.max_frame_seconds.is_finite() || opts.max_frame_seconds <= 0.0 {
        return Err(MediaError::InvalidInput(format!(
            "max_frame_seconds must be positive, got {}",
            opts.max_frame_seconds
        )));
    }
    if !opts.width.is_multiple_of(2) || !opts.height.is_multiple_of(2) {
        return Err(MediaError::InvalidInput(
            "yuv420p needs an even width and height".into(),
        ));
    }
    let duration_us = wav_duration_us(ab_wav)?;
    if duration_us == 0 {
        return Err(MediaError::InvalidInput(format!(
            "{} holds no audio",
            ab_wav.display()
        )));
    }

    let out_dir = out_mp4
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let work = tempfile::Builder::new()
        .prefix(".gts-video-")
        .tempdir_in(out_dir)
        .map_err(|e| MediaError::io(out_dir, e))?;

    let timeline = shots(cards, duration_us);
    let blank = TitleCard {
        start_ms: 0.0,
        end_ms: 0.0,
        title: String::new(),
        lines: Vec::new(),
        accent: 0,
    };
    // Cards with the same content (a chain's card in every phrase) share one
    // PNG: drawing a 1080p frame is the slow part.
    let mut first_with_content = std::collections::HashMap::new();
    let canonical: Vec<usize> = cards
        .iter()
        .enumerate()
        .map(|(index, card)| {
            *first_with_content
                .entry((&card.title, &card.lines, card.accent))
                .or_insert(index)
        })
        .collect();
    let png_name = |shot: &Shot| match shot.card.and_then(|i| canonical.get(i)) {
        Some(index) => format!("card_{index:05}.png"),
        None => "blank.png".to_owned(),
    };
    let mut drawn = std::collections::HashSet::new();
    for shot in &timeline {
        if cancel() {
            return Err(MediaError::Cancelled);
        }
        let name = png_name(shot);
        if drawn.insert(name.clone()) {
            let card = shot.card.and_then(|i| cards.get(i)).unwrap_or(&blank);
            render_card_png(&work.path().join(&name), card, opts)?;
        }
    }
    let max_frame_us = (opts.max_frame_seconds * 1e6) as u64;
    let list = work.path().join("cards.ffconcat");
    std::fs::write(&list, ffconcat(&timeline, max_frame_us, png_name))
        .map_err(|e| MediaError::io(&list, e))?;

    // Same directory as the output, so the final rename cannot cross devices.
    let partial = work.path().join("out.mp4");
    let log_path = work.path().join("ffmpeg.log");
    let log = std::fs::File::create(&log_path).map_err(|e| MediaError::io(&log_path, e))?;
    let mut command = Command::new(&opts.ffmpeg);
    command
        .args(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"])
        .args(["-f", "concat", "-safe", "0", "-i"])
        .arg(&list)
        .arg("-i")
        .arg(ab_wav)
        .args(["-map", "0:v:0", "-map", "1:a:0"])
        .args(["-c:v", "libx264", "-preset", &opts.x264_preset])
        .args([
            "-tune",
            "stillimage",
            "-pix_fmt",
            "yuv420p",
            "-fps_mode",
            "vfr",
        ])
        // No B-frames: they buy nothing on stills, and their reorder delay
        // makes MP4 report a video track one frame short of the audio.
        // A keyframe at least every 30 frames keeps seeking cheap.
        .args(["-bf", "0", "-g", "30"])
        .arg("-vf")
        .arg(format!("scale={}:{}", opts.width, opts.height))
        .args(["-c:a", "aac", "-ar", "48000", "-ac", "2"])
        .arg("-b:a")
        .arg(format!("{}k", opts.audio_bitrate_kbps))
        .args(["-movflags", "+faststart"])
        .arg(&partial)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log));
    let child = command.spawn().map_err(|e| spawn_error(&opts.ffmpeg, e))?;
    wait_or_cancel(child, cancel, &log_path)?;
    std::fs::rename(&partial, out_mp4).map_err(|e| MediaError::io(out_mp4, e))
}

/// Fails with `FfmpegMissing` unless `ffmpeg -version` runs.
fn check_ffmpeg(ffmpeg: &Path) -> Result<(), MediaError> {
    let status = Command::new(ffmpeg)
        .arg("-version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| spawn_error(ffmpeg, e))?;
    if status.success() {
        Ok(())
    } else {
        Err(MediaError::FfmpegMissing(format!(
            "`{} -version` exited with {status}",
            ffmpeg.display()
        )))
    }
}

fn spawn_error(ffmpeg: &Path, error: std::io::Error) -> MediaError {
    MediaError::FfmpegMissing(format!("cannot run `{}`: {error}", ffmpeg.display()))
}

/// Length of a WAV file in microseconds (from its header).
fn wav_duration_us(path: &Path) -> Result<u64, MediaError> {
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(source) => MediaError::io(path, source),
        other => MediaError::Wav(other),
    })?;
    let rate = u64::from(reader.spec().sample_rate.max(1));
    Ok(u64::from(reader.duration()) * 1_000_000 / rate)
}

/// Waits for ffmpeg, killing it if `cancel` turns true.
fn wait_or_cancel(
    mut child: Child,
    cancel: &dyn Fn() -> bool,
    log_path: &PathBuf,
) -> Result<(), MediaError> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(MediaError::Ffmpeg {
                    status: status.to_string(),
                    stderr_tail: log_tail(log_path),
                });
            }
            Ok(None) => {}
            Err(e) => {
                kill(&mut child);
                return Err(MediaError::io(log_path, e));
            }
        }
        if cancel() {
            kill(&mut child);
            return Err(MediaError::Cancelled);
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

fn kill(child: &mut Child) {
    // Both can only fail if the child already exited, which is the goal.
    let _ = child.kill();
    let _ = child.wait();
}

fn log_tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let start = text
        .char_indices()
        .rev()
        .nth(STDERR_TAIL_BYTES)
        .map_or(0, |(i, _)| i);
    text.get(start..).unwrap_or_default().trim().to_owned()
}
