//! Text layout for the video: shaping with `rustybuzz` (HarfBuzz's algorithm, so the
//! fonts' GPOS kerning and ligatures apply), glyphs rasterised with `ab_glyph` from the
//! same embedded DejaVu fonts, and fitting that never cuts a name.
//!
//! Contract: [`Fonts::shape`] places every glyph of a line on a baseline, in pixels from
//! the line's start, advances and offsets exactly as the shaper gives them (no rounding
//! between glyphs). [`Fonts::fit`] lays a text out in at most `max_lines` lines no wider
//! than `max_width`: at the requested size on one line if it fits, else wrapped at spaces
//! (balanced over two lines), else shrunk step by step; a word longer than a line is
//! broken between characters, and below the smallest size the text still comes out
//! whole. Control characters read as spaces, runs of white space as one.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, point};

use crate::MediaError;
use crate::canvas::{Canvas, Rgb};

static REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// Which of the two embedded faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// One face: the shaper's view and the rasteriser's view of the same bytes.
struct Face {
    shaper: rustybuzz::Face<'static>,
    raster: FontRef<'static>,
    units_per_em: f32,
    ascent: f32,
    descent: f32,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Option<Self> {
        let shaper = rustybuzz::Face::from_slice(bytes, 0)?;
        let raster = FontRef::try_from_slice(bytes).ok()?;
        let units_per_em = f32::from(shaper.units_per_em().max(1) as u16);
        Some(Self {
            units_per_em,
            ascent: f32::from(shaper.ascender()),
            descent: f32::from(shaper.descender()),
            shaper,
            raster,
        })
    }
}

/// The two embedded faces, parsed once per process.
pub struct Fonts {
    regular: Face,
    bold: Face,
}

/// A glyph placed on a line: `x` from the line's start, `y` below the baseline (pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacedGlyph {
    pub id: u16,
    pub x: f32,
    pub y: f32,
    /// Byte offset of the character it came from, in [`ShapedLine::text`].
    pub cluster: u32,
}

/// One shaped line of text.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapedLine {
    pub text: String,
    pub weight: Weight,
    /// Font size in pixels per em.
    pub size: f32,
    pub glyphs: Vec<PlacedGlyph>,
    /// Sum of the advances, pixels.
    pub width: f32,
}

/// A fitted block of lines, all at one size.
#[derive(Debug, Clone, PartialEq)]
pub struct TextBlock {
    pub lines: Vec<ShapedLine>,
    pub size: f32,
}

impl TextBlock {
    /// The lines' text joined with single spaces (what a reader sees).
    pub fn joined(&self) -> String {
        self.lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How far below the requested size [`Fonts::fit`] shrinks before breaking inside
/// words, and the step.
const SHRINK_STEP: f32 = 0.92;
/// Nothing is drawn smaller than this (pixels per em).
const FLOOR_SIZE: f32 = 8.0;

/// The embedded fonts.
pub fn fonts() -> Result<&'static Fonts, MediaError> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Some(Fonts {
                regular: Face::load(REGULAR)?,
                bold: Face::load(BOLD)?,
            })
        })
        .as_ref()
        .ok_or_else(|| MediaError::Draw("embedded font could not be parsed".into()))
}

/// Control characters as spaces, runs of white space as one, trimmed.
pub fn clean(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Fonts {
    fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// Ascent above the baseline at `size`, pixels.
    pub fn ascent(&self, weight: Weight, size: f32) -> f32 {
        let face = self.face(weight);
        face.ascent * size / face.units_per_em
    }

    /// Distance from one baseline to the next at `size`, pixels.
    pub fn line_height(&self, weight: Weight, size: f32) -> f32 {
        let face = self.face(weight);
        (face.ascent - face.descent) * size / face.units_per_em * 1.05
    }

    /// Shapes one line (no wrapping).
    pub fn shape(&self, text: &str, weight: Weight, size: f32) -> ShapedLine {
        let face = self.face(weight);
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let output = rustybuzz::shape(&face.shaper, &[], buffer);
        let scale = size / face.units_per_em;
        let mut pen = 0.0f32;
        let glyphs = output
            .glyph_infos()
            .iter()
            .zip(output.glyph_positions())
            .map(|(info, position)| {
                let placed = PlacedGlyph {
                    id: u16::try_from(info.glyph_id).unwrap_or(0),
                    x: pen + position.x_offset as f32 * scale,
                    y: -(position.y_offset as f32) * scale,
                    cluster: info.cluster,
                };
                pen += position.x_advance as f32 * scale;
                placed
            })
            .collect();
        ShapedLine {
            text: text.to_owned(),
            weight,
            size,
            glyphs,
            width: pen,
        }
    }

    /// Lays `text` out in at most `max_lines` lines of at most `max_width` pixels,
    /// starting at `size` and shrinking to `min_size` (see the module contract).
    pub fn fit(
        &self,
        text: &str,
        weight: Weight,
        size: f32,
        min_size: f32,
        max_width: f32,
        max_lines: usize,
    ) -> TextBlock {
        let text = clean(text);
        let max_lines = max_lines.max(1);
        let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
        let mut current = if size.is_finite() {
            size.max(FLOOR_SIZE)
        } else {
            FLOOR_SIZE
        };
        let min_size = if min_size.is_finite() {
            min_size.clamp(FLOOR_SIZE, current)
        } else {
            FLOOR_SIZE
        };
        loop {
            if let Some(lines) = self.wrap_words(&words, weight, current, max_width, max_lines) {
                return self.block(lines, weight, current);
            }
            if current <= min_size {
                break;
            }
            current = (current * SHRINK_STEP).max(min_size);
        }
        // Words too long for a line: break them between characters, shrinking further.
        let mut current = min_size;
        loop {
            let lines = self.wrap_chars(&text, weight, current, max_width);
            if lines.len() <= max_lines || current <= FLOOR_SIZE {
                return self.block(lines, weight, current);
            }
            current = (current * SHRINK_STEP).max(FLOOR_SIZE);
        }
    }

    fn block(&self, lines: Vec<String>, weight: Weight, size: f32) -> TextBlock {
        TextBlock {
            lines: lines
                .iter()
                .map(|line| self.shape(line, weight, size))
                .collect(),
            size,
        }
    }

    fn width(&self, text: &str, weight: Weight, size: f32) -> f32 {
        self.shape(text, weight, size).width
    }

    /// Word wrapping into at most `max_lines` lines, or `None` when a line would be too
    /// wide. Two lines are balanced (the split with the narrower longest line wins).
    fn wrap_words(
        &self,
        words: &[&str],
        weight: Weight,
        size: f32,
        max_width: f32,
        max_lines: usize,
    ) -> Option<Vec<String>> {
        let whole = words.join(" ");
        if self.width(&whole, weight, size) <= max_width {
            return Some(vec![whole]);
        }
        if max_lines == 1 || words.len() < 2 {
            return None;
        }
        if max_lines == 2 {
            let best = (1..words.len())
                .map(|split| {
                    let first = words.get(..split).unwrap_or_default().join(" ");
                    let second = words.get(split..).unwrap_or_default().join(" ");
                    let widest = self
                        .width(&first, weight, size)
                        .max(self.width(&second, weight, size));
                    (widest, first, second)
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))?;
            return (best.0 <= max_width).then(|| vec![best.1, best.2]);
        }
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        for word in words {
            let candidate = if line.is_empty() {
                (*word).to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, weight, size) <= max_width {
                line = candidate;
            } else if line.is_empty() {
                return None;
            } else {
                lines.push(std::mem::replace(&mut line, (*word).to_owned()));
                if self.width(&line, weight, size) > max_width {
                    return None;
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        (lines.len() <= max_lines).then_some(lines)
    }

    /// Greedy wrapping at spaces, breaking a too-long word between characters.
    fn wrap_chars(&self, text: &str, weight: Weight, size: f32, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for c in text.chars() {
            if line.is_empty() && c == ' ' {
                continue;
            }
            let mut candidate = line.clone();
            candidate.push(c);
            if line.is_empty() || self.width(&candidate, weight, size) <= max_width {
                line = candidate;
                continue;
            }
            // Prefer the last space on the line; else break here.
            match line.rfind(' ') {
                Some(at) if at > 0 => {
                    let rest = line.split_off(at);
                    lines.push(std::mem::take(&mut line));
                    line = rest.trim_start().to_owned();
                    line.push(c);
                }
                _ => {
                    lines.push(std::mem::take(&mut line));
                    if c != ' ' {
                        line.push(c);
                    }
                }
            }
        }
        if !line.trim().is_empty() {
            lines.push(line);
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        lines
    }

    /// Draws a shaped line with its baseline at `(x, baseline)`.
    pub fn draw_line(
        &self,
        canvas: &mut Canvas,
        line: &ShapedLine,
        x: f32,
        baseline: f32,
        colour: Rgb,
    ) {
        let face = self.face(line.weight);
        // ab_glyph scales by the font's height (ascent − descent); convert from em.
        let height_units = face.raster.height_unscaled();
        let px = line.size * height_units / face.units_per_em;
        let scale = PxScale::from(px);
        for glyph in &line.glyphs {
            let positioned = GlyphId(glyph.id)
                .with_scale_and_position(scale, point(x + glyph.x, baseline + glyph.y));
            if let Some(outline) = face.raster.outline_glyph(positioned) {
                let bounds = outline.px_bounds();
                let (left, top) = (bounds.min.x as i64, bounds.min.y as i64);
                outline.draw(|gx, gy, coverage| {
                    canvas.blend(left + i64::from(gx), top + i64::from(gy), colour, coverage);
                });
            }
        }
    }

    /// Draws a block; `top` is the top of the first line, lines `line_height` apart.
    pub fn draw_block(
        &self,
        canvas: &mut Canvas,
        block: &TextBlock,
        x: f32,
        top: f32,
        colour: Rgb,
    ) -> f32 {
        let Some(first) = block.lines.first() else {
            return top;
        };
        let ascent = self.ascent(first.weight, block.size);
        let step = self.line_height(first.weight, block.size);
        for (index, line) in block.lines.iter().enumerate() {
            self.draw_line(canvas, line, x, top + ascent + step * index as f32, colour);
        }
        top + step * block.lines.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_turns_controls_and_runs_into_single_spaces() {
        assert_eq!(clean("  a\tb\n\u{7}c  "), "a b c");
    }
}
