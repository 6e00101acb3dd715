//! A few SVG elements written as text: enough for bars, lines and labels. Every text and
//! attribute value that may come from outside (a broadcast's title is shop input) is escaped
//! here, so a caller cannot forget it.

use std::fmt::Write as _;

/// The palette: one place, so the three panels agree.
pub(super) const INK: &str = "#1f2430";
pub(super) const MUTED: &str = "#6b7280";
pub(super) const GRID: &str = "#e5e7eb";
pub(super) const PANEL: &str = "#ffffff";
pub(super) const PAGE: &str = "#f5f6f8";
pub(super) const LINKED: &str = "#2563eb";
pub(super) const UNLINKED: &str = "#f59e0b";

/// How a label hangs from its point.
#[derive(Clone, Copy)]
pub(super) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Escapes text for XML content and double-quoted attributes.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0; a title never needs them.
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Shortens a label to `max` characters, with an ellipsis, so a long title stays on the page.
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// An SVG body being written; `String` writes cannot fail, so the results are ignored.
#[derive(Default)]
pub(super) struct Canvas {
    out: String,
}

impl Canvas {
    pub(super) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, radius: f64) {
        // An empty bar is nothing to draw (and resvg warns about it).
        if w <= 0.0 || h <= 0.0 {
            return;
        }
        let _ = writeln!(
            self.out,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" rx="{radius:.1}" fill="{}"/>"#,
            w,
            h,
            escape(fill)
        );
    }

    pub(super) fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str) {
        let _ = writeln!(
            self.out,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{}" stroke-width="1"/>"#,
            escape(stroke)
        );
    }

    pub(super) fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, dashed: bool) {
        let points = points
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect::<Vec<_>>()
            .join(" ");
        let dash = if dashed {
            r#" stroke-dasharray="10 6""#
        } else {
            ""
        };
        let _ = writeln!(
            self.out,
            r#"<polyline points="{points}" fill="none" stroke="{}" stroke-width="3" stroke-linejoin="round"{dash}/>"#,
            escape(stroke)
        );
    }

    pub(super) fn text(
        &mut self,
        (x, y): (f64, f64),
        size: f64,
        fill: &str,
        anchor: Anchor,
        text: &str,
    ) {
        let _ = writeln!(
            self.out,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size:.0}" fill="{}" text-anchor="{}">{}</text>"#,
            escape(fill),
            anchor.as_str(),
            escape(text)
        );
    }

    /// Draws `inner` moved to `(x, y)`.
    pub(super) fn place(&mut self, (x, y): (f64, f64), inner: Canvas) {
        let _ = writeln!(self.out, r#"<g transform="translate({x:.1},{y:.1})">"#);
        self.out.push_str(&inner.out);
        self.out.push_str("</g>\n");
    }

    /// The finished document, `width` × `height` user units, labels in `family`.
    pub(super) fn document(self, width: f64, height: f64, family: &str) -> String {
        format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" "#,
                r#"viewBox="0 0 {w:.0} {h:.0}" font-family="{family}">"#,
                "\n{body}</svg>\n"
            ),
            w = width,
            h = height,
            family = escape(family),
            body = self.out
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_title_stays_text() {
        assert_eq!(
            escape(r#"<b>"Mina" & 'Co'</b>"#),
            "&lt;b&gt;&quot;Mina&quot; &amp; &apos;Co&apos;&lt;/b&gt;"
        );
        assert_eq!(escape("겨울\u{0}코트"), "겨울코트");
    }

    #[test]
    fn a_long_label_is_shortened_with_an_ellipsis() {
        assert_eq!(shorten("겨울 코트 특집 라이브", 6), "겨울 코트…");
        assert_eq!(shorten("코트", 6), "코트");
    }
}
