//! Charts as PNG (plotters bitmap backend, embedded font): the spectrum
//! overlay of all chains and the level chart.
//!
//! Contract: a 1600×900 PNG per call, text in the embedded DejaVu Sans, one
//! colour per chain (or metric) with a legend; non-finite inputs are drawn
//! at the floor of the axis rather than failing.

mod levels;
mod overlay;
mod spectrum;

pub use levels::{LevelRow, level_chart};
pub use overlay::{plot_spectra, spectrum_plot};
pub use spectrum::{SpectrumData, smoothed_spectrum};

use plotters::style::RGBColor;

use crate::MediaError;

/// Pixel size of every chart.
const SIZE: (u32, u32) = (1600, 900);

/// Tableau-10: distinct on white and for the common colour deficiencies.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Chain `index`'s colour as RGB bytes (the same on plots and video).
pub fn palette_colour(index: usize) -> [u8; 3] {
    let c = colour(index);
    [c.0, c.1, c.2]
}

pub(crate) fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

fn draw_error(error: impl std::fmt::Display) -> MediaError {
    MediaError::Draw(error.to_string())
}
