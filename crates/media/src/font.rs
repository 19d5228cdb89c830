//! The embedded font (DejaVu Sans, Bitstream Vera licence, see
//! `assets/fonts/LICENSE-DejaVu.txt`), registered with plotters' `ab_glyph`
//! backend so charts and title cards render identically on any machine,
//! with no system fonts.

use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::MediaError;

static REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// The family name every drawing in this crate uses.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the embedded font once per process.
pub(crate) fn ensure_registered() -> Result<(), MediaError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, REGULAR).is_ok()
            && plotters::style::register_font(FAMILY, FontStyle::Bold, BOLD).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(MediaError::Draw("embedded font could not be parsed".into()))
    }
}
