//! An RGB8 drawing surface and its conversion to the encoder's YUV 4:2:0.
//!
//! Contract: every drawing call clips to the canvas, so no coordinate panics.
//! [`Yuv420::copy_region`] converts a rectangle of a canvas with BT.709 limited-range
//! coefficients (what the MP4 is tagged with); rectangles are widened to even
//! coordinates so chroma samples never mix two frames' content.

use std::path::Path;

use crate::MediaError;

/// A colour.
pub type Rgb = [u8; 3];

/// An RGB8 image, rows top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Canvas {
    /// A canvas filled with `colour`.
    pub fn new(width: u32, height: u32, colour: Rgb) -> Self {
        let pixels = width as usize * height as usize;
        let mut rgb = Vec::with_capacity(pixels * 3);
        for _ in 0..pixels {
            rgb.extend_from_slice(&colour);
        }
        Self { width, height, rgb }
    }

    /// Fills `x0..x1 × y0..y1` (clipped).
    pub fn fill_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, colour: Rgb) {
        let (w, h) = (i64::from(self.width), i64::from(self.height));
        let (x0, x1) = (x0.clamp(0, w) as usize, x1.clamp(0, w) as usize);
        let (y0, y1) = (y0.clamp(0, h) as usize, y1.clamp(0, h) as usize);
        if x0 >= x1 {
            return;
        }
        let stride = self.width as usize * 3;
        for y in y0..y1 {
            if let Some(row) = self.rgb.get_mut(y * stride + x0 * 3..y * stride + x1 * 3) {
                for pixel in row.chunks_exact_mut(3) {
                    pixel.copy_from_slice(&colour);
                }
            }
        }
    }

    /// Blends `colour` over one pixel with `coverage` in 0..=1 (clipped).
    pub fn blend(&mut self, x: i64, y: i64, colour: Rgb, coverage: f32) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let alpha = coverage.clamp(0.0, 1.0);
        let at = (y as usize * self.width as usize + x as usize) * 3;
        if let Some(pixel) = self.rgb.get_mut(at..at + 3) {
            for (channel, &target) in pixel.iter_mut().zip(&colour) {
                let mixed = f32::from(*channel) + (f32::from(target) - f32::from(*channel)) * alpha;
                *channel = mixed.round().clamp(0.0, 255.0) as u8;
            }
        }
    }

    /// One pixel (black outside the canvas).
    pub fn pixel(&self, x: u32, y: u32) -> Rgb {
        let at = (y as usize * self.width as usize + x as usize) * 3;
        match self.rgb.get(at..at + 3) {
            Some([r, g, b]) => [*r, *g, *b],
            _ => [0, 0, 0],
        }
    }

    /// Copies `x0..x1 × y0..y1` of `source` (same size) into this canvas.
    pub fn copy_rows_from(&mut self, source: &Canvas, y0: u32, y1: u32) {
        let stride = self.width as usize * 3;
        let range = y0.min(self.height) as usize * stride..y1.min(self.height) as usize * stride;
        if let (Some(target), Some(from)) = (self.rgb.get_mut(range.clone()), source.rgb.get(range))
        {
            target.copy_from_slice(from);
        }
    }

    /// Writes the canvas as an RGB PNG.
    pub fn save_png(&self, path: &Path) -> Result<(), MediaError> {
        let file = std::fs::File::create(path).map_err(|e| MediaError::io(path, e))?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| MediaError::Draw(e.to_string()))?;
        writer
            .write_image_data(&self.rgb)
            .map_err(|e| MediaError::Draw(e.to_string()))
    }
}

/// A planar YUV 4:2:0 frame (even width and height).
#[derive(Debug, Clone, PartialEq)]
pub struct Yuv420 {
    pub width: u32,
    pub height: u32,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

fn luma(p: Rgb) -> u8 {
    let [r, g, b] = p.map(i32::from);
    (((47 * r + 157 * g + 16 * b + 128) >> 8) + 16).clamp(16, 235) as u8
}

impl Yuv420 {
    /// A black frame.
    pub fn new(width: u32, height: u32) -> Self {
        let luma = width as usize * height as usize;
        Self {
            width,
            height,
            y: vec![16; luma],
            u: vec![128; luma / 4],
            v: vec![128; luma / 4],
        }
    }

    /// Converts all of `canvas` (same size).
    pub fn copy_all(&mut self, canvas: &Canvas) {
        self.copy_region(canvas, 0, 0, canvas.width, canvas.height);
    }

    /// Converts `x0..x1 × y0..y1` of `canvas` (same size), widened to even bounds.
    pub fn copy_region(&mut self, canvas: &Canvas, x0: u32, y0: u32, x1: u32, y1: u32) {
        if canvas.width != self.width || canvas.height != self.height {
            return;
        }
        let (x0, y0) = (x0 & !1, y0 & !1);
        let x1 = (x1.div_ceil(2) * 2).min(self.width);
        let y1 = (y1.div_ceil(2) * 2).min(self.height);
        let width = self.width as usize;
        let chroma_width = width / 2;
        for y in (y0..y1).step_by(2) {
            for x in (x0..x1).step_by(2) {
                let mut sum = [0i32; 3];
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let p = canvas.pixel(x + dx, y + dy);
                    if let Some(target) = self
                        .y
                        .get_mut((y + dy) as usize * width + (x + dx) as usize)
                    {
                        *target = luma(p);
                    }
                    for (s, c) in sum.iter_mut().zip(p) {
                        *s += i32::from(c);
                    }
                }
                let [r, g, b] = sum.map(|s| (s + 2) / 4);
                let at = (y / 2) as usize * chroma_width + (x / 2) as usize;
                if let Some(u) = self.u.get_mut(at) {
                    *u = (((-26 * r - 87 * g + 112 * b + 128) >> 8) + 128).clamp(16, 240) as u8;
                }
                if let Some(v) = self.v.get_mut(at) {
                    *v = (((112 * r - 102 * g - 10 * b + 128) >> 8) + 128).clamp(16, 240) as u8;
                }
            }
        }
    }
}
