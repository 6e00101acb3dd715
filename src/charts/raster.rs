//! The chart SVG as a PNG: resvg with one font, NanumSquare Regular (SIL OFL 1.1, see
//! `assets/fonts/LICENSE`), embedded in the binary. The font database holds that font and
//! nothing else — no system fonts — so a chart looks the same and its Korean labels are drawn
//! on any machine, and a label the font cannot draw shows up as missing in tests rather than
//! as some other machine's font.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use super::ChartError;

/// The bundled font's family, named in the SVG's `font-family`.
pub const FONT_FAMILY: &str = "NanumSquare";

static FONT: &[u8] = include_bytes!("../../assets/fonts/NanumSquareR.ttf");

/// Loaded once: parsing the font's tables is the costly part of a first chart.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(FONT.to_vec());
            Arc::new(db)
        })
        .clone()
}

/// Parses an SVG exactly as [`svg_to_png`] does: with the bundled font only, text turned
/// into glyph outlines. Tests read the tree to see which font drew which label.
pub fn parse_svg(svg: &str) -> Result<usvg::Tree, ChartError> {
    let options = usvg::Options {
        font_family: FONT_FAMILY.to_string(),
        languages: vec!["ko".into(), "en".into()],
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &options).map_err(|e| ChartError::Svg(e.to_string()))
}

/// Rasterises an SVG at its own size (one user unit, one pixel) on its own background.
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, ChartError> {
    let tree = parse_svg(svg)?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
        ChartError::Raster(format!(
            "no picture of {}×{} can be made",
            size.width(),
            size.height()
        ))
    })?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| ChartError::Raster(e.to_string()))
}
