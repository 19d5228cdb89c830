//! Title-card drawing: dark background, accent bar, bold title, detail
//! lines, optional header. Text that would overflow is shortened with an
//! ellipsis; lines that would run off the bottom are dropped with a "+N more".

use std::path::Path;

use plotters::prelude::*;
use plotters::style::FontStyle;

use super::{TitleCard, VideoOptions};
use crate::MediaError;
use crate::font::{FAMILY, ensure_registered};

const BACKGROUND: RGBColor = RGBColor(18, 20, 26);
const TITLE_COLOUR: RGBColor = RGBColor(245, 245, 245);
const LINE_COLOUR: RGBColor = RGBColor(190, 196, 206);

fn draw_error(error: impl std::fmt::Display) -> MediaError {
    MediaError::Draw(error.to_string())
}

/// Renders one card to a PNG of `opts.width × opts.height`.
pub fn render_card_png(
    path: &Path,
    card: &TitleCard,
    opts: &VideoOptions,
) -> Result<(), MediaError> {
    ensure_registered()?;
    let (width, height) = (opts.width, opts.height);
    if width < 64 || height < 64 {
        return Err(MediaError::InvalidInput(format!(
            "video size {width}×{height} is too small"
        )));
    }
    // Sizes scale with the height so other resolutions keep the layout.
    let unit = |fraction: f64| (f64::from(height) * fraction).round() as i32;
    let margin = unit(0.11);
    let max_text_width = width.saturating_sub(2 * margin.unsigned_abs());

    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&BACKGROUND).map_err(draw_error)?;
    let accent = crate::plot::colour(card.accent);
    root.draw(&Rectangle::new(
        [
            (margin - unit(0.04), unit(0.30)),
            (margin - unit(0.03), unit(0.80)),
        ],
        accent.filled(),
    ))
    .map_err(draw_error)?;

    if let Some(header) = &opts.header {
        let style = (FAMILY, unit(0.035)).into_font().color(&LINE_COLOUR);
        let text = fit(&root, header, &style, max_text_width)?;
        root.draw_text(&text, &style, (margin, unit(0.08)))
            .map_err(draw_error)?;
    }

    let title_style = (FAMILY, unit(0.10), FontStyle::Bold)
        .into_font()
        .color(&TITLE_COLOUR);
    let title = fit(&root, &card.title, &title_style, max_text_width)?;
    root.draw_text(&title, &title_style, (margin, unit(0.30)))
        .map_err(draw_error)?;

    let line_style = (FAMILY, unit(0.05)).into_font().color(&LINE_COLOUR);
    let first_line_y = unit(0.47);
    let line_step = unit(0.067);
    let bottom = unit(0.90);
    let room = usize::try_from((bottom - first_line_y) / line_step.max(1)).unwrap_or(0);
    let (shown, hidden) = if card.lines.len() > room {
        (
            room.saturating_sub(1),
            card.lines.len() - room.saturating_sub(1),
        )
    } else {
        (card.lines.len(), 0)
    };
    let more = format!("+{hidden} more");
    let lines = card
        .lines
        .iter()
        .take(shown)
        .map(String::as_str)
        .chain((hidden > 0).then_some(more.as_str()));
    for (index, line) in lines.enumerate() {
        let y = first_line_y + line_step * index as i32;
        let text = fit(&root, line, &line_style, max_text_width)?;
        root.draw_text(&text, &line_style, (margin, y))
            .map_err(draw_error)?;
    }
    root.present().map_err(draw_error)
}

/// `text` with control characters as spaces, shortened with "…" to fit.
fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    text: &str,
    style: &TextStyle,
    max_width: u32,
) -> Result<String, MediaError> {
    let mut chars: Vec<char> = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let width = |s: &str| {
        area.estimate_text_size(s, style)
            .map(|(w, _)| w)
            .map_err(draw_error)
    };
    let mut candidate: String = chars.iter().collect();
    while width(&candidate)? > max_width && !chars.is_empty() {
        // Drop characters in proportion to the overflow, at least one.
        let over = width(&candidate)?.saturating_sub(max_width);
        let per_char = (width(&candidate)? / chars.len().max(1) as u32).max(1);
        let drop = ((over / per_char) as usize).max(1).min(chars.len());
        chars.truncate(chars.len() - drop);
        candidate = chars.iter().collect::<String>() + "…";
    }
    Ok(candidate)
}
