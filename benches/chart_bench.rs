//! `encore-bench chart [--runs 20]` (issue #13): how long one broadcast's charts take to become
//! a PNG (`charts::broadcast_charts_png`: SVG written, parsed with the bundled font, rasterised,
//! encoded), the cost `/report` adds to a send and `encore report --chart` to a run. The first
//! drawing also loads the font and is reported apart; then min/median/max over `runs`.
//! `--png FILE` writes the picture of this scripted report (the README's chart).

use std::path::Path;
use std::time::{Duration, Instant};

use encore::domain::Lang;
use encore::i18n::Texts;

use super::row;

pub fn chart_bench(runs: usize, png: Option<&Path>) {
    let texts = Texts::load().expect("the texts load");
    let report = encore::charts::example_report();
    let started = Instant::now();
    let first = encore::charts::broadcast_charts_png(&report, &texts, Lang::Ko).expect("drawn");
    let first_time = started.elapsed();
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let started = Instant::now();
            encore::charts::broadcast_charts_png(&report, &texts, Lang::Ko).expect("drawn");
            started.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!(
        "charts: one broadcast's PNG ({} bytes, 1200×800)",
        first.len()
    );
    row("first (font loaded)", ms(first_time));
    row(&format!("min of {}", times.len()), ms(times[0]));
    row("median", ms(times[times.len() / 2]));
    row("max", ms(times[times.len() - 1]));
    if let Some(path) = png {
        std::fs::write(path, &first).expect("the picture is written");
        row("written to", path.display().to_string());
    }
}
