//! Running ffmpeg: frames are drawn here and written as raw YUV 4:2:0 to ffmpeg's stdin
//! while it encodes (drawing and encoding overlap); the A/B WAV is its audio input and a
//! metadata file carries the chapters.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::chapters::{chapters, ffmetadata};
use super::scene::{BACKGROUND, Painter, Scene};
use super::{VideoOptions, VideoPlan, VideoReport};
use crate::MediaError;
use crate::canvas::{Canvas, Yuv420};

/// How often the cancellation callback is consulted while ffmpeg finishes.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How much of ffmpeg's log an error carries.
const STDERR_TAIL_BYTES: usize = 2000;
/// The level meter integrates this long before each frame, seconds.
const METER_WINDOW_SECONDS: f64 = 0.05;
/// H.264 level written into the stream (4.1: 1080p up to 30 fps, 50 Mb/s).
const H264_LEVEL: &str = "4.1";
/// Rate control caps that keep the stream inside level 4.1's limits.
const MAX_RATE: &str = "12M";
const BUFFER_SIZE: &str = "24M";

pub(crate) fn check_size(opts: &VideoOptions) -> Result<(), MediaError> {
    if opts.width < 320 || opts.height < 180 || opts.width > 1920 || opts.height > 1080 {
        return Err(MediaError::InvalidInput(format!(
            "video size {}×{} is outside 320×180..=1920×1080",
            opts.width, opts.height
        )));
    }
    if !opts.width.is_multiple_of(2) || !opts.height.is_multiple_of(2) {
        return Err(MediaError::InvalidInput(
            "yuv420p needs an even width and height".into(),
        ));
    }
    if !(1..=30).contains(&opts.fps) {
        return Err(MediaError::InvalidInput(format!(
            "fps {} is outside 1..=30 (H.264 level {H264_LEVEL} at 1080p)",
            opts.fps
        )));
    }
    Ok(())
}

/// The scene shown at `t` seconds of the video, and the A/B time (ms) it shows.
pub(crate) fn scene_at(
    plan: &VideoPlan,
    painter: &Painter<'_>,
    t: f64,
    audio_seconds: f64,
) -> (Scene, f64) {
    let intro = plan.intro_seconds();
    if plan.intro.is_some() && t < intro {
        return (Scene::Intro, 0.0);
    }
    let audio_t = t - intro;
    if audio_t < audio_seconds || plan.outro.is_empty() {
        // The last frame may round past the end: it still shows the last segment.
        let ms = (audio_t * 1000.0).clamp(0.0, (audio_seconds * 1000.0 - 0.5).max(0.0));
        return match painter.segment_at(ms).and_then(|s| plan.segments.get(s)) {
            Some(segment) => (Scene::Chain(segment.chain), ms),
            None => (Scene::Blank, ms),
        };
    }
    let mut at = audio_seconds;
    for (index, card) in plan.outro.iter().enumerate() {
        at += card.seconds.max(0.0);
        if audio_t < at {
            return (Scene::Outro(index), audio_seconds * 1000.0);
        }
    }
    (
        Scene::Outro(plan.outro.len().saturating_sub(1)),
        audio_seconds * 1000.0,
    )
}

/// The A/B audio as mono `f32` and its rate (the first channel of a multi-channel file).
fn read_wav(path: &Path) -> Result<(Vec<f32>, u32), MediaError> {
    let mut reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(source) => MediaError::io(path, source),
        other => MediaError::Wav(other),
    })?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .step_by(channels)
            .collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 2f32.powi(i32::from(spec.bits_per_sample.clamp(1, 32)) - 1);
            reader
                .samples::<i32>()
                .step_by(channels)
                .map(|s| s.map(|v| v as f32 / scale))
                .collect::<Result<_, _>>()?
        }
    };
    Ok((samples, spec.sample_rate.max(1)))
}

/// RMS and peak (dBFS) of the window ending at `ms`.
fn meter(samples: &[f32], rate: u32, ms: f64) -> (f32, f32) {
    let end = ((ms / 1000.0) * f64::from(rate)).round().max(0.0) as usize;
    let window = (METER_WINDOW_SECONDS * f64::from(rate)) as usize;
    let end = end.min(samples.len());
    let start = end.saturating_sub(window.max(1));
    let Some(slice) = samples.get(start..end).filter(|s| !s.is_empty()) else {
        return (f32::NEG_INFINITY, f32::NEG_INFINITY);
    };
    let mut sum = 0.0f64;
    let mut peak = 0.0f32;
    for &x in slice {
        let x = if x.is_finite() { x } else { 0.0 };
        sum += f64::from(x) * f64::from(x);
        peak = peak.max(x.abs());
    }
    let rms = (sum / slice.len() as f64).sqrt() as f32;
    (20.0 * rms.max(1e-9).log10(), 20.0 * peak.max(1e-9).log10())
}

/// Renders the A/B video (see the module docs of [`crate::video`]).
pub fn render_video(
    out_mp4: &Path,
    ab_wav: &Path,
    plan: &VideoPlan,
    opts: &VideoOptions,
    on_progress: &dyn Fn(f32),
    cancel: &dyn Fn() -> bool,
) -> Result<VideoReport, MediaError> {
    check_size(opts)?;
    for (what, seconds) in [
        ("intro", plan.intro_seconds()),
        ("outro", plan.outro_seconds()),
    ] {
        if !seconds.is_finite() || seconds > 60.0 {
            return Err(MediaError::InvalidInput(format!(
                "{what} lasts {seconds} s; at most 60 s"
            )));
        }
    }
    check_ffmpeg(&opts.ffmpeg)?;
    let (samples, rate) = read_wav(ab_wav)?;
    if samples.is_empty() {
        return Err(MediaError::InvalidInput(format!(
            "{} holds no audio",
            ab_wav.display()
        )));
    }
    let audio_seconds = samples.len() as f64 / f64::from(rate);
    let total_seconds = plan.intro_seconds() + audio_seconds + plan.outro_seconds();
    let fps = f64::from(opts.fps);
    let frames = (total_seconds * fps).round().max(1.0) as u64;
    let chapter_list = chapters(plan, audio_seconds);

    let out_dir = out_mp4
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let work = tempfile::Builder::new()
        .prefix(".gts-video-")
        .tempdir_in(out_dir)
        .map_err(|e| MediaError::io(out_dir, e))?;
    let metadata = work.path().join("chapters.ffmeta");
    std::fs::write(&metadata, ffmetadata(&plan.header, &chapter_list))
        .map_err(|e| MediaError::io(&metadata, e))?;

    let partial = work.path().join("out.mp4");
    let log_path = work.path().join("ffmpeg.log");
    let log = std::fs::File::create(&log_path).map_err(|e| MediaError::io(&log_path, e))?;
    let intro_ms = (plan.intro_seconds() * 1000.0).round() as u64;
    let mut command = Command::new(&opts.ffmpeg);
    command
        .args(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"])
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p"])
        .arg("-s")
        .arg(format!("{}x{}", opts.width, opts.height))
        .arg("-framerate")
        .arg(opts.fps.to_string())
        .args(["-i", "pipe:0", "-i"])
        .arg(ab_wav)
        .args(["-f", "ffmetadata", "-i"])
        .arg(&metadata)
        .args(["-map", "0:v:0", "-map", "1:a:0"])
        .args(["-map_metadata", "2", "-map_chapters", "2"])
        // Silence under the intro and the outro cards.
        .arg("-af")
        .arg(format!("adelay={intro_ms}:all=1,apad"))
        .arg("-t")
        .arg(format!("{:.6}", frames as f64 / fps))
        .args(["-c:v", "libx264", "-preset", &opts.x264_preset])
        .args([
            "-tune",
            "stillimage",
            "-profile:v",
            "high",
            "-level:v",
            H264_LEVEL,
        ])
        .arg("-crf")
        .arg(opts.crf.to_string())
        .args(["-maxrate", MAX_RATE, "-bufsize", BUFFER_SIZE])
        // No B-frames: their reorder delay makes MP4 report a video track one frame
        // short; a keyframe every 2 s keeps seeking cheap.
        .args(["-bf", "0", "-g"])
        .arg((opts.fps * 2).to_string())
        .args(["-pix_fmt", "yuv420p", "-fps_mode", "cfr"])
        .args(["-colorspace", "bt709", "-color_primaries", "bt709"])
        .args(["-color_trc", "bt709", "-color_range", "tv"])
        .args(["-c:a", "aac", "-ar", "48000", "-ac", "2"])
        .arg("-b:a")
        .arg(format!("{}k", opts.audio_bitrate_kbps))
        .args(["-movflags", "+faststart"])
        .arg(&partial)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log));
    let mut child = command.spawn().map_err(|e| spawn_error(&opts.ffmpeg, e))?;

    let written = write_frames(
        &mut child,
        plan,
        opts,
        &samples,
        rate,
        frames,
        on_progress,
        cancel,
    );
    if let Err(error) = written {
        kill(&mut child);
        return Err(match error {
            // ffmpeg closed its input: its own log says why.
            FrameError::Pipe => MediaError::Ffmpeg {
                status: "stopped reading frames".into(),
                stderr_tail: log_tail(&log_path),
            },
            FrameError::Media(error) => error,
        });
    }
    wait_or_cancel(child, cancel, &log_path)?;
    std::fs::rename(&partial, out_mp4).map_err(|e| MediaError::io(out_mp4, e))?;
    on_progress(1.0);
    Ok(VideoReport {
        frames,
        fps: opts.fps,
        duration_seconds: frames as f64 / fps,
        chapters: chapter_list,
    })
}

enum FrameError {
    Pipe,
    Media(MediaError),
}

#[allow(clippy::too_many_arguments)]
fn write_frames(
    child: &mut Child,
    plan: &VideoPlan,
    opts: &VideoOptions,
    samples: &[f32],
    rate: u32,
    frames: u64,
    on_progress: &dyn Fn(f32),
    cancel: &dyn Fn() -> bool,
) -> Result<(), FrameError> {
    let audio_seconds = samples.len() as f64 / f64::from(rate);
    let painter = Painter::new(plan, opts, audio_seconds * 1000.0).map_err(FrameError::Media)?;
    let regions = painter.regions();
    let mut stdin = child.stdin.take().ok_or(FrameError::Pipe)?;
    let mut canvas = Canvas::new(opts.width, opts.height, BACKGROUND);
    let mut frame = Yuv420::new(opts.width, opts.height);
    // Each scene's static picture is converted once; a chain's comes back every round.
    let mut statics: HashMap<Scene, Yuv420> = HashMap::new();
    let mut shown: Option<Scene> = None;
    let fps = f64::from(opts.fps);
    for index in 0..frames {
        if cancel() {
            return Err(FrameError::Media(MediaError::Cancelled));
        }
        let t = index as f64 / fps;
        let (scene, ms) = scene_at(plan, &painter, t, audio_seconds);
        if shown != Some(scene) {
            let picture = statics.entry(scene).or_insert_with(|| {
                painter.paint_static(&mut canvas, scene);
                let mut picture = Yuv420::new(opts.width, opts.height);
                picture.copy_all(&canvas);
                picture
            });
            frame.y.copy_from_slice(&picture.y);
            frame.u.copy_from_slice(&picture.u);
            frame.v.copy_from_slice(&picture.v);
            shown = Some(scene);
        }
        if matches!(scene, Scene::Chain(_) | Scene::Blank) {
            let (rms, peak) = meter(samples, rate, ms);
            painter.paint_dynamic(&mut canvas, ms, rms, peak);
            for (x0, y0, x1, y1) in [regions.strip, regions.meter] {
                frame.copy_region(&canvas, x0, y0, x1, y1);
            }
        }
        for plane in [&frame.y, &frame.u, &frame.v] {
            stdin.write_all(plane).map_err(|_| FrameError::Pipe)?;
        }
        if index % 25 == 0 {
            // Frames are encoded as they are written; the last 2 % is ffmpeg's finish.
            on_progress(0.98 * index as f32 / frames as f32);
        }
    }
    stdin.flush().map_err(|_| FrameError::Pipe)?;
    drop(stdin);
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::meter;

    #[test]
    fn meter_reads_a_full_scale_square_as_zero_db_and_silence_as_the_floor() {
        let square: Vec<f32> = (0..4800)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let (rms, peak) = meter(&square, 48_000, 100.0);
        assert!(rms.abs() < 0.01 && peak.abs() < 0.01, "{rms} {peak}");
        let (rms, _) = meter(&[0.0; 4800], 48_000, 100.0);
        assert!(rms < -150.0);
        assert_eq!(meter(&[], 48_000, 5.0).0, f32::NEG_INFINITY);
    }
}
