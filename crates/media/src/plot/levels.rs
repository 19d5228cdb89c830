//! Level chart: integrated loudness, true peak and RMS per chain as grouped
//! bars rising from the floor of the axis, with the value printed on top.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

use super::{SIZE, colour, draw_error};
use crate::MediaError;
use crate::font::{FAMILY, ensure_registered};

/// One chain's levels, as the render engine measured them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelRow {
    pub name: String,
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
    pub rms_dbfs: f64,
}

/// Reads one metric of a row.
type Metric = fn(&LevelRow) -> f64;

/// Four x slots per chain: three bars and a gap.
const SLOTS: i32 = 4;
/// Lowest value the axis goes down to.
const AXIS_FLOOR_DB: f64 = -120.0;

/// Draws the level chart PNG.
pub fn level_chart(path: &Path, rows: &[LevelRow]) -> Result<(), MediaError> {
    if rows.is_empty() {
        return Err(MediaError::InvalidInput(
            "no chains for the level chart".into(),
        ));
    }
    ensure_registered()?;
    let metrics: [(&str, Metric); 3] = [
        ("Integrated loudness (LUFS)", |r| r.integrated_lufs),
        ("True peak (dBTP)", |r| r.true_peak_dbtp),
        ("RMS (dBFS)", |r| r.rms_dbfs),
    ];
    let values = rows
        .iter()
        .flat_map(|row| metrics.iter().map(move |(_, get)| get(row)))
        .filter(|v| v.is_finite());
    let (lowest, highest) = values.fold((0.0f64, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let bottom = ((lowest - 6.0) / 6.0).floor().max(AXIS_FLOOR_DB / 6.0) * 6.0;
    let top = highest.max(0.0) + 3.0;
    let slot_count = i32::try_from(rows.len())
        .ok()
        .and_then(|n| n.checked_mul(SLOTS))
        .ok_or_else(|| MediaError::InvalidInput("too many chains".into()))?;

    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(draw_error)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Levels per chain", (FAMILY, 34).into_font())
        .margin(24)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d((0..slot_count).into_segmented(), bottom..top)
        .map_err(draw_error)?;
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let label = move |value: &SegmentValue<i32>| match value {
        // The chain name sits under its middle bar.
        SegmentValue::CenterOf(slot) if slot % SLOTS == 1 => usize::try_from(slot / SLOTS)
            .ok()
            .and_then(|i| names.get(i))
            .map_or_else(String::new, |name| (*name).to_owned()),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(usize::try_from(slot_count).unwrap_or(0) + 1)
        .x_label_formatter(&label)
        .y_desc("dB")
        .label_style((FAMILY, 22))
        .axis_desc_style((FAMILY, 24))
        .draw()
        .map_err(draw_error)?;

    for (metric_index, (metric_name, get)) in metrics.iter().enumerate() {
        let fill = colour(metric_index).filled();
        let offset = metric_index as i32;
        let bars = rows.iter().enumerate().map(|(row_index, row)| {
            let slot = row_index as i32 * SLOTS + offset;
            let value = get(row);
            let height = if value.is_finite() {
                value.clamp(bottom, top)
            } else {
                bottom
            };
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(slot), bottom),
                    (SegmentValue::Exact(slot + 1), height),
                ],
                fill,
            );
            bar.set_margin(0, 0, 4, 4);
            bar
        });
        chart
            .draw_series(bars)
            .map_err(draw_error)?
            .label(*metric_name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], fill));
        let text_style = (FAMILY, 20)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        let captions = rows.iter().enumerate().map(|(row_index, row)| {
            let slot = row_index as i32 * SLOTS + offset;
            let value = get(row);
            let (text, y) = if value.is_finite() {
                (format!("{value:.1}"), value.clamp(bottom, top))
            } else {
                ("n/a".to_owned(), bottom)
            };
            Text::new(text, (SegmentValue::CenterOf(slot), y), text_style.clone())
        });
        chart.draw_series(captions).map_err(draw_error)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 22))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(draw_error)?;
    root.present().map_err(draw_error)
}
