//! Drawing the frames: the static part of each scene (drawn once per scene and cached by
//! the encoder) and the moving part (strip, playhead, time, level meter) drawn every frame
//! into fixed regions that are repainted completely, so no frame depends on the last.
//!
//! Layout is in 1080p units scaled to the frame height, so other sizes keep it.

use std::path::Path;

use super::{Card, TableRow, VideoOptions, VideoPlan};
use crate::MediaError;
use crate::canvas::{Canvas, Rgb};
use crate::text::{Fonts, Weight, fonts};

pub(crate) const BACKGROUND: Rgb = [18, 20, 26];
const TITLE: Rgb = [245, 245, 245];
const LINE: Rgb = [190, 196, 206];
const DIM: Rgb = [120, 126, 138];
const STRIP_BACKGROUND: Rgb = [32, 35, 44];
const PLAYHEAD: Rgb = [255, 255, 255];
const METER_GREEN: Rgb = [60, 200, 90];
const METER_YELLOW: Rgb = [235, 200, 60];
const METER_RED: Rgb = [230, 70, 60];
/// Level meter range, dBFS.
const METER_FLOOR_DB: f32 = -60.0;

pub(crate) fn accent(index: usize) -> Rgb {
    let c = crate::plot::colour(index);
    [c.0, c.1, c.2]
}

fn mix(a: Rgb, b: Rgb, amount: f32) -> Rgb {
    let mut out = a;
    for ((o, &x), &y) in out.iter_mut().zip(&a).zip(&b) {
        *o = (f32::from(x) + (f32::from(y) - f32::from(x)) * amount).round() as u8;
    }
    out
}

/// Where the segment strip is, in pixels of a `width × height` frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StripGeometry {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
    /// The highlighted segment extends this far above and below the strip.
    pub highlight: f64,
    /// The playhead extends this far above and below the strip.
    pub playhead: f64,
}

impl StripGeometry {
    pub fn new(width: u32, height: u32) -> Self {
        let u = f64::from(height) / 1080.0;
        Self {
            x0: 120.0 * u,
            x1: f64::from(width) - 120.0 * u,
            y0: 880.0 * u,
            y1: 936.0 * u,
            highlight: 8.0 * u,
            playhead: 18.0 * u,
        }
    }

    /// The x of A/B time `ms` on a strip covering `0..audio_ms`.
    pub fn x_at(&self, ms: f64, audio_ms: f64) -> f64 {
        let fraction = if audio_ms > 0.0 {
            (ms / audio_ms).clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.x0 + (self.x1 - self.x0) * fraction
    }
}

/// Which static picture a frame starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Scene {
    Intro,
    Chain(usize),
    Outro(usize),
    /// The audio where no segment plays (a gap in the cue list).
    Blank,
}

/// Regions repainted every frame of a chain scene: `(x0, y0, x1, y1)`.
pub(crate) struct Regions {
    pub strip: (u32, u32, u32, u32),
    pub meter: (u32, u32, u32, u32),
}

pub(crate) struct Painter<'a> {
    pub plan: &'a VideoPlan,
    pub width: u32,
    pub height: u32,
    pub audio_ms: f64,
    fonts: &'static Fonts,
    strip: StripGeometry,
    unit: f32,
}

impl<'a> Painter<'a> {
    pub fn new(
        plan: &'a VideoPlan,
        opts: &VideoOptions,
        audio_ms: f64,
    ) -> Result<Self, MediaError> {
        Ok(Self {
            plan,
            width: opts.width,
            height: opts.height,
            audio_ms,
            fonts: fonts()?,
            strip: StripGeometry::new(opts.width, opts.height),
            unit: opts.height as f32 / 1080.0,
        })
    }

    fn u(&self, v: f32) -> f32 {
        v * self.unit
    }

    pub fn regions(&self) -> Regions {
        let s = self.strip;
        let meter = self.meter_box();
        Regions {
            strip: (
                0,
                (s.y0 - s.playhead - 2.0).max(0.0) as u32,
                self.width,
                ((s.y1 + s.playhead + 2.0) as f32 + self.u(70.0)).min(self.height as f32) as u32,
            ),
            meter: (
                meter.0.saturating_sub(2),
                meter.1.saturating_sub(2),
                (meter.2 + 2).min(self.width),
                (meter.3 + 2).min(self.height),
            ),
        }
    }

    fn meter_box(&self) -> (u32, u32, u32, u32) {
        let x1 = self.width as f32 - self.u(120.0);
        (
            (x1 - self.u(44.0)) as u32,
            self.u(170.0) as u32,
            x1 as u32,
            self.u(820.0) as u32,
        )
    }

    /// The segment playing at A/B time `ms`, if any.
    pub fn segment_at(&self, ms: f64) -> Option<usize> {
        self.plan
            .segments
            .iter()
            .position(|s| s.start_ms <= ms && ms < s.end_ms)
    }

    /// Paints the static picture of `scene` over the whole canvas.
    pub fn paint_static(&self, canvas: &mut Canvas, scene: Scene) {
        canvas.fill_rect(
            0,
            0,
            i64::from(self.width),
            i64::from(self.height),
            BACKGROUND,
        );
        match scene {
            Scene::Intro => {
                if let Some(card) = &self.plan.intro {
                    self.paint_card(canvas, &card.card);
                }
            }
            Scene::Outro(index) => {
                if let Some(card) = self.plan.outro.get(index) {
                    self.paint_card(canvas, &card.card);
                }
            }
            Scene::Chain(chain) => self.paint_chain(canvas, chain),
            Scene::Blank => self.paint_header(canvas),
        }
    }

    fn paint_header(&self, canvas: &mut Canvas) {
        let width = self.width as f32 - self.u(240.0);
        let block = self.fonts.fit(
            &self.plan.header,
            Weight::Regular,
            self.u(34.0),
            self.u(22.0),
            width,
            1,
        );
        self.fonts
            .draw_block(canvas, &block, self.u(120.0), self.u(48.0), DIM);
    }

    fn paint_chain(&self, canvas: &mut Canvas, chain: usize) {
        self.paint_header(canvas);
        let Some(card) = self.plan.chains.get(chain) else {
            return;
        };
        let colour = accent(card.accent);
        let left = self.u(120.0);
        let width = self.meter_box().0 as f32 - left - self.u(60.0);
        let title = self.fonts.fit(
            &card.title,
            Weight::Bold,
            self.u(112.0),
            self.u(60.0),
            width,
            2,
        );
        let mut y = self
            .fonts
            .draw_block(canvas, &title, left, self.u(160.0), TITLE)
            + self.u(24.0);
        let bottom = self.u(830.0);
        let line_size = self.u(44.0);
        let step = self.fonts.line_height(Weight::Regular, line_size);
        for (index, line) in card.lines.iter().enumerate() {
            let left_over = card.lines.len() - index;
            let block = self
                .fonts
                .fit(line, Weight::Regular, line_size, self.u(28.0), width, 2);
            let height = step * block.lines.len() as f32;
            // Keep room for the "+N more" line unless this is the last line.
            let needed = if left_over > 1 { height + step } else { height };
            if y + needed > bottom {
                let more = self.fonts.fit(
                    &format!("+{left_over} more"),
                    Weight::Regular,
                    line_size,
                    line_size,
                    width,
                    1,
                );
                self.fonts.draw_block(canvas, &more, left, y, DIM);
                break;
            }
            y = self.fonts.draw_block(canvas, &block, left, y, LINE) + self.u(6.0);
        }
        // The accent bar runs along the title and the lines under it.
        canvas.fill_rect(
            self.u(72.0) as i64,
            self.u(170.0) as i64,
            self.u(86.0) as i64,
            (y - self.u(14.0)).max(self.u(290.0)) as i64,
            colour,
        );
        // Meter scale labels (the bar itself moves).
        let (mx0, my0, mx1, my1) = self.meter_box();
        for db in [0.0f32, -20.0, -40.0, -60.0] {
            let fraction = db / METER_FLOOR_DB;
            let y = my0 as f32 + (my1 - my0) as f32 * fraction;
            let label = self.fonts.shape(
                &format!("{db:.0}").replace('-', "−"),
                Weight::Regular,
                self.u(22.0),
            );
            let x = mx0 as f32 - self.u(12.0) - label.width;
            self.fonts
                .draw_line(canvas, &label, x, y + self.u(8.0), DIM);
        }
        let caption = self.fonts.shape("dBFS", Weight::Regular, self.u(22.0));
        self.fonts.draw_line(
            canvas,
            &caption,
            (mx0 + mx1) as f32 / 2.0 - caption.width / 2.0,
            my1 as f32 + self.u(30.0),
            DIM,
        );
    }

    fn paint_card(&self, canvas: &mut Canvas, card: &Card) {
        let left = self.u(120.0);
        let width = self.width as f32 - 2.0 * left;
        match card {
            Card::Intro {
                title,
                description,
                note,
            } => {
                let title =
                    self.fonts
                        .fit(title, Weight::Bold, self.u(100.0), self.u(56.0), width, 2);
                let y = self
                    .fonts
                    .draw_block(canvas, &title, left, self.u(280.0), TITLE);
                if !description.trim().is_empty() {
                    let block = self.fonts.fit(
                        description,
                        Weight::Regular,
                        self.u(44.0),
                        self.u(26.0),
                        width,
                        4,
                    );
                    self.fonts
                        .draw_block(canvas, &block, left, y + self.u(40.0), LINE);
                }
                canvas.fill_rect(
                    left as i64,
                    self.u(800.0) as i64,
                    (left + self.u(160.0)) as i64,
                    self.u(808.0) as i64,
                    accent(0),
                );
                let note =
                    self.fonts
                        .fit(note, Weight::Regular, self.u(40.0), self.u(24.0), width, 2);
                self.fonts
                    .draw_block(canvas, &note, left, self.u(830.0), LINE);
            }
            Card::Table {
                heading,
                columns,
                rows,
            } => self.paint_table(canvas, heading, columns, rows, left, width),
        }
    }

    fn paint_table(
        &self,
        canvas: &mut Canvas,
        heading: &str,
        columns: &[String],
        rows: &[TableRow],
        left: f32,
        width: f32,
    ) {
        let heading = self
            .fonts
            .fit(heading, Weight::Bold, self.u(80.0), self.u(48.0), width, 1);
        let mut y = self
            .fonts
            .draw_block(canvas, &heading, left, self.u(90.0), TITLE)
            + self.u(30.0);
        let count = columns
            .len()
            .max(rows.iter().map(|r| r.cells.len()).max().unwrap_or(0))
            .max(1);
        let available = self.height as f32 - y - self.u(60.0);
        let rows_count = rows.len().max(1) as f32 + 1.0;
        let size = (available / rows_count / 2.4).clamp(self.u(14.0), self.u(38.0));
        let step = self.fonts.line_height(Weight::Regular, size);
        let widths = self.table_widths(columns, rows, count, size, width - self.u(40.0));
        let gap = self.u(40.0);
        let column_x = |index: usize| {
            left + self.u(40.0) + widths.iter().take(index).sum::<f32>() + gap * index as f32
        };
        for (index, name) in columns.iter().enumerate() {
            let block = self.fonts.fit(
                name,
                Weight::Bold,
                size,
                size * 0.7,
                widths.get(index).copied().unwrap_or(0.0),
                1,
            );
            self.fonts
                .draw_block(canvas, &block, column_x(index), y, DIM);
        }
        y += step * 1.4;
        // One size per column (the smallest any of its cells needs), so a column reads
        // evenly instead of every cell shrinking on its own.
        let column_size: Vec<f32> = (0..count)
            .map(|index| {
                let column_width = widths.get(index).copied().unwrap_or(0.0);
                rows.iter()
                    .filter_map(|row| row.cells.get(index))
                    .map(|cell| {
                        self.fonts
                            .fit(cell, Weight::Regular, size, size * 0.6, column_width, 2)
                            .size
                    })
                    .fold(size, f32::min)
            })
            .collect();
        for row in rows {
            let blocks: Vec<_> = row
                .cells
                .iter()
                .enumerate()
                .map(|(index, cell)| {
                    let cell_size = column_size.get(index).copied().unwrap_or(size);
                    self.fonts.fit(
                        cell,
                        Weight::Regular,
                        cell_size,
                        cell_size,
                        widths.get(index).copied().unwrap_or(0.0),
                        2,
                    )
                })
                .collect();
            let height = blocks
                .iter()
                .map(|b| b.lines.len() as f32 * self.fonts.line_height(Weight::Regular, b.size))
                .fold(step, f32::max);
            canvas.fill_rect(
                left as i64,
                (y + step * 0.15) as i64,
                (left + self.u(22.0)) as i64,
                (y + step * 0.85) as i64,
                accent(row.accent),
            );
            for (index, block) in blocks.iter().enumerate() {
                // A smaller column shares the row's first baseline.
                let offset = (self.fonts.ascent(Weight::Regular, size)
                    - self.fonts.ascent(Weight::Regular, block.size))
                .max(0.0);
                self.fonts
                    .draw_block(canvas, block, column_x(index), y + offset, TITLE);
            }
            y += height + step * 0.4;
        }
    }

    /// Column widths of a table `width` wide (gaps excluded): every column gets the width
    /// of its widest entry at `size` if they all fit (space to spare shared evenly),
    /// otherwise the narrow columns keep theirs and the widest ones share the rest.
    fn table_widths(
        &self,
        columns: &[String],
        rows: &[TableRow],
        count: usize,
        size: f32,
        width: f32,
    ) -> Vec<f32> {
        let gap = self.u(40.0);
        let room = (width - gap * count.saturating_sub(1) as f32).max(1.0);
        let natural: Vec<f32> = (0..count)
            .map(|index| {
                let header = columns
                    .get(index)
                    .map_or(0.0, |c| self.fonts.shape(c, Weight::Bold, size).width);
                rows.iter()
                    .filter_map(|row| row.cells.get(index))
                    .map(|cell| self.fonts.shape(cell, Weight::Regular, size).width)
                    .fold(header, f32::max)
                    .ceil()
                    + 1.0
            })
            .collect();
        let total: f32 = natural.iter().sum();
        if total <= room {
            let spare = (room - total) / count as f32;
            return natural.iter().map(|w| w + spare).collect();
        }
        // Water-filling: narrowest first, each takes its natural width or a fair share of
        // what is left, so only the widest columns wrap.
        let mut order: Vec<(usize, f32)> = natural.iter().copied().enumerate().collect();
        order.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut widths = vec![0.0; count];
        let mut left = room;
        for (taken, &(index, natural)) in order.iter().enumerate() {
            let width = natural.min(left / (count - taken) as f32);
            if let Some(slot) = widths.get_mut(index) {
                *slot = width;
            }
            left -= width;
        }
        widths
    }

    /// Paints the moving parts of a chain frame at A/B time `ms`, with the meter showing
    /// `rms_db` and `peak_db`.
    pub fn paint_dynamic(&self, canvas: &mut Canvas, ms: f64, rms_db: f32, peak_db: f32) {
        let regions = self.regions();
        let (_, ry0, _, ry1) = regions.strip;
        canvas.fill_rect(
            0,
            i64::from(ry0),
            i64::from(self.width),
            i64::from(ry1),
            BACKGROUND,
        );
        let s = self.strip;
        canvas.fill_rect(
            s.x0 as i64,
            s.y0 as i64,
            s.x1 as i64,
            s.y1 as i64,
            STRIP_BACKGROUND,
        );
        let current = self.segment_at(ms);
        let gap = f64::from(self.u(2.0));
        for (index, segment) in self.plan.segments.iter().enumerate() {
            if !(segment.start_ms.is_finite() && segment.end_ms.is_finite()) {
                continue;
            }
            let colour = self
                .plan
                .chains
                .get(segment.chain)
                .map_or(DIM, |c| accent(c.accent));
            let x0 = s.x_at(segment.start_ms, self.audio_ms) + gap / 2.0;
            let x1 = (s.x_at(segment.end_ms, self.audio_ms) - gap / 2.0).max(x0 + 1.0);
            let (colour, grow) = if Some(index) == current {
                (colour, s.highlight)
            } else if segment.end_ms <= ms {
                (mix(STRIP_BACKGROUND, colour, 0.55), 0.0)
            } else {
                (mix(STRIP_BACKGROUND, colour, 0.3), 0.0)
            };
            canvas.fill_rect(
                x0 as i64,
                (s.y0 - grow) as i64,
                x1 as i64,
                (s.y1 + grow) as i64,
                colour,
            );
        }
        let x = s.x_at(ms, self.audio_ms);
        let half = f64::from(self.u(2.0));
        canvas.fill_rect(
            (x - half) as i64,
            (s.y0 - s.playhead) as i64,
            (x + half) as i64,
            (s.y1 + s.playhead) as i64,
            PLAYHEAD,
        );
        let time = format!(
            "{} / {}",
            super::chapters::timestamp(ms),
            super::chapters::timestamp(self.audio_ms)
        );
        let line = self.fonts.shape(&time, Weight::Regular, self.u(30.0));
        self.fonts.draw_line(
            canvas,
            &line,
            s.x0 as f32,
            (s.y1 + s.playhead) as f32 + self.u(44.0),
            LINE,
        );

        let (mx0, my0, mx1, my1) = self.meter_box();
        let (bx0, by0, bx1, by1) = regions.meter;
        canvas.fill_rect(
            i64::from(bx0),
            i64::from(by0),
            i64::from(bx1),
            i64::from(by1),
            BACKGROUND,
        );
        canvas.fill_rect(
            i64::from(mx0),
            i64::from(my0),
            i64::from(mx1),
            i64::from(my1),
            STRIP_BACKGROUND,
        );
        let height = (my1 - my0) as f32;
        let level_y = |db: f32| {
            let fraction = (db.clamp(METER_FLOOR_DB, 0.0) / METER_FLOOR_DB).clamp(0.0, 1.0);
            my0 as f32 + height * fraction
        };
        let top = level_y(if rms_db.is_finite() {
            rms_db
        } else {
            METER_FLOOR_DB
        });
        // Green below −18 dBFS, yellow to −6, red above.
        for (from, to, colour) in [
            (METER_FLOOR_DB, -18.0, METER_GREEN),
            (-18.0, -6.0, METER_YELLOW),
            (-6.0, 0.0, METER_RED),
        ] {
            let zone_top = level_y(to).max(top);
            let zone_bottom = level_y(from);
            if zone_top < zone_bottom {
                canvas.fill_rect(
                    i64::from(mx0),
                    zone_top as i64,
                    i64::from(mx1),
                    zone_bottom as i64,
                    colour,
                );
            }
        }
        if peak_db.is_finite() && peak_db > METER_FLOOR_DB {
            let y = level_y(peak_db);
            canvas.fill_rect(
                i64::from(mx0),
                (y - self.u(2.0)) as i64,
                i64::from(mx1),
                (y + self.u(2.0)) as i64,
                PLAYHEAD,
            );
        }
    }
}

/// Draws the frame shown at `at_seconds` of the video (meter silent) to a PNG: for
/// previews and tests; the encoder draws the same pictures.
pub fn render_frame_png(
    path: &Path,
    plan: &VideoPlan,
    opts: &VideoOptions,
    audio_seconds: f64,
    at_seconds: f64,
) -> Result<(), MediaError> {
    super::encoder::check_size(opts)?;
    let painter = Painter::new(plan, opts, audio_seconds * 1000.0)?;
    let mut canvas = Canvas::new(opts.width, opts.height, BACKGROUND);
    let (scene, ms) = super::encoder::scene_at(plan, &painter, at_seconds, audio_seconds);
    painter.paint_static(&mut canvas, scene);
    if matches!(scene, Scene::Chain(_) | Scene::Blank) {
        painter.paint_dynamic(&mut canvas, ms, METER_FLOOR_DB, METER_FLOOR_DB);
    }
    canvas.save_png(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: [&str; 3]) -> TableRow {
        TableRow {
            accent: 0,
            cells: cells.map(str::to_owned).to_vec(),
        }
    }

    #[test]
    fn narrow_columns_keep_their_width_and_the_widest_wraps() {
        let plan = VideoPlan::default();
        let painter = Painter::new(&plan, &VideoOptions::default(), 0.0).unwrap();
        let columns = ["Tone", "Loudness", "Character"].map(str::to_owned);
        let long = "Marshall JCM800 2203 Crunch into a 1960A 4x12 with an SM57 on the edge of the cone, recorded twice";
        let rows = [
            row([long, "−14.0 LUFS", "Brighter, more compressed"]),
            row(["Vox AC30", "−14.0 LUFS", "Darker"]),
        ];
        let size = 38.0;
        let width = 1600.0;
        let widths = painter.table_widths(&columns, &rows, 3, size, width);
        let natural = |text: &str| painter.fonts.shape(text, Weight::Regular, size).width;
        let gaps = 2.0 * painter.u(40.0);
        assert!(
            (widths.iter().sum::<f32>() + gaps - width).abs() < 1.0,
            "{widths:?}"
        );
        assert!(widths[1] >= natural("−14.0 LUFS"), "{widths:?}");
        assert!(
            widths[2] >= natural("Brighter, more compressed"),
            "{widths:?}"
        );
        assert!(widths[0] < natural(long), "{widths:?}");
        // Everything fits: every column gets its widest entry and a share of the rest.
        let short = [row(["Vox AC30", "−14.0 LUFS", "Darker"])];
        let widths = painter.table_widths(&columns, &short, 3, size, width);
        assert!(widths[0] >= natural("Vox AC30"));
        assert!(
            (widths.iter().sum::<f32>() + gaps - width).abs() < 1.0,
            "{widths:?}"
        );
    }
}
