//! Spectrum overlay: one smoothed curve per chain on a log-frequency axis.

use std::path::Path;

use plotters::prelude::*;

use super::spectrum::{HIGH_HZ, LOW_HZ, smoothed_spectrum};
use super::{SIZE, colour, draw_error};
use crate::MediaError;
use crate::font::{FAMILY, ensure_registered};

/// Dynamic range shown below the loudest point of any curve.
const RANGE_DB: f64 = 90.0;

/// Draws the spectrum overlay PNG: `curves` are `(chain name, samples)`.
pub fn spectrum_plot(
    path: &Path,
    curves: &[(String, &[f32])],
    sample_rate: u32,
) -> Result<(), MediaError> {
    let spectra: Vec<(String, Vec<(f64, f64)>)> = curves
        .iter()
        .map(|(name, samples)| (name.clone(), smoothed_spectrum(samples, sample_rate)))
        .collect();
    plot_spectra(path, &spectra, sample_rate)
}

/// Draws the spectrum overlay PNG from spectra already measured by
/// [`smoothed_spectrum`]: `spectra` are `(chain name, points)`.
pub fn plot_spectra(
    path: &Path,
    spectra: &[(String, Vec<(f64, f64)>)],
    sample_rate: u32,
) -> Result<(), MediaError> {
    if sample_rate == 0 {
        return Err(MediaError::InvalidInput("sample rate is 0".into()));
    }
    ensure_registered()?;
    let loudest = spectra
        .iter()
        .flat_map(|(_, points)| points.iter().map(|&(_, db)| db))
        .fold(f64::NEG_INFINITY, f64::max);
    let top = if loudest.is_finite() {
        (loudest / 10.0).ceil() * 10.0 + 5.0
    } else {
        0.0
    };
    let bottom = top - RANGE_DB;
    let high = HIGH_HZ.min(f64::from(sample_rate) / 2.0).max(LOW_HZ * 2.0);

    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(draw_error)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Spectrum overlay (Welch average, 1/6-octave smoothing)",
            (FAMILY, 34).into_font(),
        )
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(90)
        .build_cartesian_2d((LOW_HZ..high).log_scale(), bottom..top)
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .x_desc("Frequency (Hz)")
        .y_desc("Level (dB re full-scale sine)")
        .label_style((FAMILY, 20))
        .axis_desc_style((FAMILY, 24))
        .x_label_formatter(&|hz| format_hz(*hz))
        .y_label_formatter(&|db| format!("{db:.0}"))
        .draw()
        .map_err(draw_error)?;
    for (index, (name, points)) in spectra.iter().enumerate() {
        let style = colour(index).stroke_width(3);
        let clamped = points.iter().map(|&(hz, db)| (hz, db.clamp(bottom, top)));
        chart
            .draw_series(LineSeries::new(clamped, style))
            .map_err(draw_error)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], style));
    }
    if !spectra.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .label_font((FAMILY, 22))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(draw_error)?;
    }
    root.present().map_err(draw_error)
}

fn format_hz(hz: f64) -> String {
    if hz >= 1000.0 {
        format!("{}k", (hz / 100.0).round() / 10.0)
    } else {
        format!("{hz:.0}")
    }
}
