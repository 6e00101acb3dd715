//! The broadcast's charts (CONTRACT §7): the delivery funnel, the rating distribution and the
//! come-back curve, drawn as one SVG from a [`BroadcastReport`] and the labels in
//! `locales/<lang>/charts.ftl`. The dashboard embeds the SVG; `encore report --chart` and the
//! staff chat's `/report` get the same SVG rasterised to PNG with the bundled Korean font
//! (`raster.rs`), so there is one drawing and no second drawing code.
//!
//! - `mod.rs` owns the layout: what each panel shows and where.
//! - `svg.rs` owns writing SVG elements and escaping every text that goes into them.
//! - `raster.rs` owns the font and the PNG.
//!
//! Pure functions: no store, no clock, no file. They never decide what a report counts (that
//! is `store::report`), they only draw it.

mod example;
mod raster;
mod svg;

use crate::domain::Lang;
use crate::i18n::{Arg, I18nError, Texts};
use crate::report::{BroadcastReport, COMEBACK_CURVE_DAYS};

pub use example::example_report;
pub use raster::{FONT_FAMILY, parse_svg, svg_to_png};
use svg::{Anchor, Canvas, GRID, INK, LINKED, MUTED, PAGE, PANEL, UNLINKED, shorten};

/// The whole picture, in SVG user units (and PNG pixels).
pub const WIDTH: f64 = 1200.0;
pub const HEIGHT: f64 = 800.0;

/// The top two panels share the width; the come-back curve spans it below them.
const MARGIN: f64 = 30.0;
const GAP: f64 = 20.0;
const HEADER: f64 = 90.0;
const TOP_PANEL: (f64, f64) = ((WIDTH - 2.0 * MARGIN - GAP) / 2.0, 320.0);
const CURVE_PANEL: (f64, f64) = (
    WIDTH - 2.0 * MARGIN,
    HEIGHT - HEADER - TOP_PANEL.1 - GAP - MARGIN,
);

/// A title longer than this is shortened with an ellipsis so it stays on the page.
const TITLE_CHARS: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("a chart label could not be written: {0}")]
    Text(#[from] I18nError),
    #[error("the chart could not be read back as SVG: {0}")]
    Svg(String),
    #[error("the chart could not be drawn: {0}")]
    Raster(String),
}

/// One SVG with all three panels: the header, the funnel and the ratings side by side, the
/// come-back curve below. `WIDTH` × `HEIGHT` user units.
pub fn broadcast_charts_svg(
    report: &BroadcastReport,
    texts: &Texts,
    lang: Lang,
) -> Result<String, ChartError> {
    let label = Labels { texts, lang };
    let mut page = Canvas::default();
    page.rect(0.0, 0.0, WIDTH, HEIGHT, PAGE, 0.0);
    header(&mut page, report, &label)?;
    let top = HEADER;
    page.place((MARGIN, top), funnel(report, &label, TOP_PANEL)?);
    page.place(
        (MARGIN + TOP_PANEL.0 + GAP, top),
        ratings(report, &label, TOP_PANEL)?,
    );
    page.place(
        (MARGIN, top + TOP_PANEL.1 + GAP),
        comeback(report, &label, CURVE_PANEL)?,
    );
    Ok(page.document(WIDTH, HEIGHT, FONT_FAMILY))
}

/// The delivery funnel alone: buyers → linked → thanked → delivered → rated.
pub fn funnel_svg(
    report: &BroadcastReport,
    texts: &Texts,
    lang: Lang,
) -> Result<String, ChartError> {
    let panel = funnel(report, &Labels { texts, lang }, TOP_PANEL)?;
    Ok(alone(panel, TOP_PANEL))
}

/// The rating distribution alone (1–5).
pub fn ratings_svg(
    report: &BroadcastReport,
    texts: &Texts,
    lang: Lang,
) -> Result<String, ChartError> {
    let panel = ratings(report, &Labels { texts, lang }, TOP_PANEL)?;
    Ok(alone(panel, TOP_PANEL))
}

/// The come-back curve alone: linked against unlinked buyers, days 0–90.
pub fn comeback_svg(
    report: &BroadcastReport,
    texts: &Texts,
    lang: Lang,
) -> Result<String, ChartError> {
    let panel = comeback(report, &Labels { texts, lang }, CURVE_PANEL)?;
    Ok(alone(panel, CURVE_PANEL))
}

/// [`broadcast_charts_svg`] as a PNG of `WIDTH` × `HEIGHT` pixels, labels in the bundled font.
pub fn broadcast_charts_png(
    report: &BroadcastReport,
    texts: &Texts,
    lang: Lang,
) -> Result<Vec<u8>, ChartError> {
    svg_to_png(&broadcast_charts_svg(report, texts, lang)?)
}

fn alone(panel: Canvas, (w, h): (f64, f64)) -> String {
    let mut page = Canvas::default();
    page.place((0.0, 0.0), panel);
    page.document(w, h, FONT_FAMILY)
}

/// The chart's texts in one language.
struct Labels<'t> {
    texts: &'t Texts,
    lang: Lang,
}

impl Labels<'_> {
    fn get(&self, id: &str, args: &[(&str, Arg)]) -> Result<String, I18nError> {
        self.texts.render(self.lang, id, args)
    }
}

/// Whole percent of `part` in `whole`; nothing of nothing is 0.
fn percent(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    ((part as f64 * 100.0) / whole as f64).round() as i64
}

fn header(page: &mut Canvas, report: &BroadcastReport, label: &Labels) -> Result<(), ChartError> {
    let title = report.title.as_deref().unwrap_or(&report.broadcast_id);
    let title = label.get(
        "chart-title",
        &[("broadcast", shorten(title, TITLE_CHARS).into())],
    )?;
    page.text((MARGIN, 46.0), 28.0, INK, Anchor::Start, &title);
    let summary = label.get(
        "chart-summary",
        &[
            ("buyers", report.buyers.into()),
            ("linked", report.linked_buyers.into()),
            ("rated", report.feedback.count.into()),
            (
                "reordered",
                report.comeback.reordered.within_30_days.count.into(),
            ),
        ],
    )?;
    page.text((MARGIN, 74.0), 16.0, MUTED, Anchor::Start, &summary);
    Ok(())
}

/// A white card with a title: the frame of every panel.
fn card((w, h): (f64, f64), title: &str) -> Canvas {
    let mut c = Canvas::default();
    c.rect(0.0, 0.0, w, h, PANEL, 10.0);
    c.text((20.0, 36.0), 19.0, INK, Anchor::Start, title);
    c
}

fn funnel(
    report: &BroadcastReport,
    label: &Labels,
    size: (f64, f64),
) -> Result<Canvas, ChartError> {
    let mut c = card(size, &label.get("chart-funnel-title", &[])?);
    let stages = [
        ("chart-funnel-buyers", report.buyers),
        ("chart-funnel-linked", report.linked_buyers),
        ("chart-funnel-thanked", report.thank_you.sent),
        ("chart-funnel-delivered", report.thank_you.delivered),
        ("chart-funnel-rated", report.feedback.count),
    ];
    // Buyers are the whole; a stage can exceed it only through odd data (ratings from
    // viewers who did not buy), and then the longest bar is the scale.
    let scale = stages.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let (bar_x, bar_max) = (150.0, size.0 - 150.0 - 120.0);
    let (top, row) = (64.0, (size.1 - 64.0 - 16.0) / stages.len() as f64);
    let shades = ["#1e3a8a", "#1d4ed8", "#2563eb", "#3b82f6", "#93c5fd"];
    for (i, ((id, count), shade)) in stages.iter().zip(shades).enumerate() {
        let y = top + row * i as f64;
        let bar_h = row * 0.62;
        let mid = y + bar_h / 2.0 + 6.0;
        c.text((20.0, mid), 16.0, INK, Anchor::Start, &label.get(id, &[])?);
        let w = bar_max * (*count as f64) / scale as f64;
        c.rect(bar_x, y, bar_max, bar_h, GRID, 4.0);
        c.rect(bar_x, y, w, bar_h, shade, 4.0);
        let value = label.get(
            "chart-funnel-value",
            &[
                ("count", (*count).into()),
                ("percent", percent(*count, report.buyers).into()),
            ],
        )?;
        c.text(
            (bar_x + bar_max + 10.0, mid),
            16.0,
            INK,
            Anchor::Start,
            &value,
        );
    }
    Ok(c)
}

fn ratings(
    report: &BroadcastReport,
    label: &Labels,
    size: (f64, f64),
) -> Result<Canvas, ChartError> {
    let mut c = card(size, &label.get("chart-rating-title", &[])?);
    let counts: Vec<i64> = (1..=5)
        .map(|n| {
            report
                .feedback
                .distribution
                .get(&n.to_string())
                .copied()
                .unwrap_or(0)
        })
        .collect();
    let total: i64 = counts.iter().sum();
    if total == 0 {
        let empty = label.get("chart-rating-empty", &[])?;
        c.text(
            (size.0 / 2.0, size.1 / 2.0 + 10.0),
            18.0,
            MUTED,
            Anchor::Middle,
            &empty,
        );
        return Ok(c);
    }
    let mean = report
        .feedback
        .mean
        .map(|m| format!("{m:.1}"))
        .unwrap_or_else(|| "-".into());
    let summary = label.get(
        "chart-rating-summary",
        &[("mean", mean.into()), ("count", total.into())],
    )?;
    c.text((size.0 - 20.0, 36.0), 16.0, MUTED, Anchor::End, &summary);
    let (base, tallest) = (size.1 - 44.0, size.1 - 44.0 - 90.0);
    let slot = (size.0 - 40.0) / 5.0;
    let highest = counts.iter().copied().max().unwrap_or(1).max(1);
    c.line((20.0, base), (size.0 - 20.0, base), GRID);
    let shades = ["#ef4444", "#f97316", "#eab308", "#84cc16", "#22c55e"];
    for (i, (count, shade)) in counts.iter().zip(shades).enumerate() {
        let center = 20.0 + slot * (i as f64 + 0.5);
        let h = tallest * (*count as f64) / highest as f64;
        c.rect(center - slot * 0.3, base - h, slot * 0.6, h, shade, 4.0);
        c.text(
            (center, base - h - 8.0),
            16.0,
            INK,
            Anchor::Middle,
            &label.get(
                "chart-funnel-value",
                &[
                    ("count", (*count).into()),
                    ("percent", percent(*count, total).into()),
                ],
            )?,
        );
        c.text(
            (center, base + 24.0),
            16.0,
            INK,
            Anchor::Middle,
            &label.get("chart-rating-stars", &[("stars", (i as i64 + 1).into())])?,
        );
    }
    Ok(c)
}

fn comeback(
    report: &BroadcastReport,
    label: &Labels,
    size: (f64, f64),
) -> Result<Canvas, ChartError> {
    let mut c = card(size, &label.get("chart-comeback-title", &[])?);
    let back = &report.comeback;
    // Each group's curve as the share of that group's buyers: the groups differ in size.
    let shares = |counts: &[i64], buyers: i64| -> Option<Vec<f64>> {
        (buyers > 0 && !counts.is_empty()).then(|| {
            counts
                .iter()
                .take(COMEBACK_CURVE_DAYS + 1)
                .map(|n| *n as f64 * 100.0 / buyers as f64)
                .collect()
        })
    };
    let lines = [
        (
            shares(&back.curve.linked, back.linked.buyers),
            LINKED,
            false,
            label.get(
                "chart-comeback-linked",
                &[("buyers", back.linked.buyers.into())],
            )?,
        ),
        (
            shares(&back.curve.unlinked, back.unlinked.buyers),
            UNLINKED,
            true,
            label.get(
                "chart-comeback-unlinked",
                &[("buyers", back.unlinked.buyers.into())],
            )?,
        ),
    ];
    let (left, right, top, bottom) = (80.0, size.0 - 30.0, 84.0, size.1 - 56.0);
    let highest = lines
        .iter()
        .filter_map(|(s, ..)| s.as_ref())
        .flatten()
        .fold(0.0_f64, |a, b| a.max(*b));
    // The y axis ends at the next 20% above the highest share, so its four steps are whole.
    let y_max = ((highest / 20.0).ceil() * 20.0).clamp(20.0, 100.0);
    let x = |day: f64| left + (right - left) * day / COMEBACK_CURVE_DAYS as f64;
    let y = |share: f64| bottom - (bottom - top) * share / y_max;
    for step in 0..=4 {
        let share = y_max * f64::from(step) / 4.0;
        c.line((left, y(share)), (right, y(share)), GRID);
        let tick = label.get(
            "chart-percent",
            &[("percent", (share.round() as i64).into())],
        )?;
        c.text(
            (left - 10.0, y(share) + 5.0),
            14.0,
            MUTED,
            Anchor::End,
            &tick,
        );
    }
    for day in [0, 7, 30, 60, 90] {
        let d = f64::from(day);
        c.line((x(d), bottom), (x(d), bottom + 6.0), MUTED);
        let tick = label.get("chart-comeback-day", &[("day", day.into())])?;
        c.text((x(d), bottom + 24.0), 14.0, MUTED, Anchor::Middle, &tick);
    }
    let axis = label.get("chart-comeback-axis", &[])?;
    c.text(
        ((left + right) / 2.0, size.1 - 10.0),
        14.0,
        MUTED,
        Anchor::Middle,
        &axis,
    );
    if highest <= 0.0 {
        let empty = label.get("chart-comeback-empty", &[])?;
        c.text(
            ((left + right) / 2.0, (top + bottom) / 2.0),
            18.0,
            MUTED,
            Anchor::Middle,
            &empty,
        );
    }
    for (i, (shares, colour, dashed, name)) in lines.iter().enumerate() {
        if let Some(shares) = shares {
            let points: Vec<(f64, f64)> = shares
                .iter()
                .enumerate()
                .map(|(day, share)| (x(day as f64), y(*share)))
                .collect();
            c.polyline(&points, colour, *dashed);
        }
        // The legend names both groups, even one without buyers, so the host sees the split.
        let lx = right - 560.0 + 290.0 * i as f64;
        c.polyline(&[(lx, 60.0), (lx + 30.0, 60.0)], colour, *dashed);
        c.text((lx + 38.0, 65.0), 15.0, INK, Anchor::Start, name);
    }
    Ok(c)
}

#[cfg(test)]
mod tests;
