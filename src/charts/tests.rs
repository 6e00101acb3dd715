use resvg::{tiny_skia, usvg};

use super::*;
use crate::report::FeedbackCounts;

fn texts() -> Texts {
    Texts::load().unwrap()
}

/// CONTRACT §7's example, with a title that holds markup.
fn report() -> BroadcastReport {
    BroadcastReport {
        title: Some("겨울 코트 특집 <라이브> & 세일".into()),
        ..example_report()
    }
}

/// Every text node of a parsed tree, with the families of the faces that drew its glyphs and
/// whether it became outlines.
fn drawn_labels(tree: &usvg::Tree) -> Vec<(String, Vec<String>, bool)> {
    fn walk(
        group: &usvg::Group,
        db: &usvg::fontdb::Database,
        out: &mut Vec<(String, Vec<String>, bool)>,
    ) {
        for node in group.children() {
            match node {
                usvg::Node::Group(g) => walk(g, db, out),
                usvg::Node::Text(text) => {
                    let words: String = text.chunks().iter().map(|c| c.text()).collect();
                    let mut families: Vec<String> = text
                        .layouted()
                        .iter()
                        .flat_map(|span| &span.positioned_glyphs)
                        .filter_map(|glyph| db.face(glyph.font))
                        .flat_map(|face| face.families.iter().map(|(name, _)| name.clone()))
                        .collect();
                    families.sort();
                    families.dedup();
                    let outlined = text.flattened().children().iter().any(|n| {
                        let b = n.abs_bounding_box();
                        b.width() > 1.0 && b.height() > 1.0
                    });
                    out.push((words, families, outlined));
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(tree.root(), tree.fontdb(), &mut out);
    out
}

#[test]
fn the_picture_is_at_least_1200_by_800_with_the_three_panels() {
    let svg = broadcast_charts_svg(&report(), &texts(), Lang::Ko).unwrap();
    let tree = parse_svg(&svg).unwrap();
    assert!(tree.size().width() >= 1200.0 && tree.size().height() >= 800.0);
    let labels: Vec<String> = drawn_labels(&tree).into_iter().map(|(t, ..)| t).collect();
    for expected in [
        "감사 인사는 어디까지 닿았나",
        "별점 분포",
        "메신저 연결 구매자 (120명)",
        "연결 안 된 구매자 (10명)",
        "평균 4.3점 · 37개",
        "130 · 100%",
        "115 · 88%",
        "5점",
        "90일",
    ] {
        assert!(
            labels.iter().any(|l| l == expected),
            "no `{expected}` in {labels:?}"
        );
    }
}

#[test]
fn a_title_with_markup_is_drawn_as_written() {
    let svg = broadcast_charts_svg(&report(), &texts(), Lang::Ko).unwrap();
    assert!(svg.contains("겨울 코트 특집 &lt;라이브&gt; &amp; 세일"));
    let tree = parse_svg(&svg).unwrap();
    let labels = drawn_labels(&tree);
    assert!(
        labels
            .iter()
            .any(|(t, ..)| t == "겨울 코트 특집 <라이브> & 세일 방송 리포트"),
        "{labels:?}"
    );
}

#[test]
fn every_label_is_outlined_in_the_bundled_korean_font() {
    for lang in Lang::ALL {
        let svg = broadcast_charts_svg(&report(), &texts(), lang).unwrap();
        let tree = parse_svg(&svg).unwrap();
        // The bundled face is the only one there is: no system font can stand in.
        assert_eq!(tree.fontdb().len(), 1);
        let labels = drawn_labels(&tree);
        assert!(labels.len() > 20, "{labels:?}");
        for (text, families, outlined) in &labels {
            assert!(
                families.iter().any(|f| f == FONT_FAMILY),
                "`{text}`: {families:?}"
            );
            assert!(outlined, "`{text}` was not drawn");
        }
    }
}

#[test]
fn without_the_font_the_labels_would_not_be_drawn() {
    // The check above can fail: the same SVG with no font draws no label at all.
    let svg = broadcast_charts_svg(&report(), &texts(), Lang::Ko).unwrap();
    let bare = usvg::Tree::from_str(
        &svg,
        &usvg::Options {
            fontdb: std::sync::Arc::new(usvg::fontdb::Database::new()),
            ..usvg::Options::default()
        },
    )
    .unwrap();
    assert!(drawn_labels(&bare).iter().all(|(_, _, outlined)| !outlined));
}

#[test]
fn the_png_decodes_and_is_not_blank() {
    let png = broadcast_charts_png(&report(), &texts(), Lang::Ko).unwrap();
    let pixmap = tiny_skia::Pixmap::decode_png(&png).unwrap();
    assert_eq!((pixmap.width(), pixmap.height()), (1200, 800));
    // The title's band holds dark text pixels on the light page.
    let dark = (30..1000)
        .flat_map(|x| (20..52).map(move |y| (x, y)))
        .filter(|&(x, y)| {
            let p = pixmap.pixel(x, y).unwrap();
            u16::from(p.red()) + u16::from(p.green()) + u16::from(p.blue()) < 200
        })
        .count();
    assert!(dark > 500, "only {dark} dark pixels where the title is");
}

#[test]
fn the_comeback_curve_plots_each_group_as_a_share_of_its_buyers() {
    let svg = comeback_svg(&report(), &texts(), Lang::En).unwrap();
    let lines: Vec<&str> = svg.lines().filter(|l| l.starts_with("<polyline")).collect();
    // Two curves of 91 days, two legend marks.
    let long: Vec<&&str> = lines
        .iter()
        .filter(|l| l.matches(',').count() == 91)
        .collect();
    assert_eq!(long.len(), 2, "{lines:?}");
    // Linked: 52 of 120 by day 90 = 43%, on a 60% axis in steps of 15%.
    assert!(
        svg.contains(">60%<") && svg.contains(">15%<") && !svg.contains(">80%<"),
        "{svg}"
    );
}

#[test]
fn no_ratings_and_no_comeback_say_so_instead_of_empty_axes() {
    let empty = BroadcastReport {
        broadcast_id: "live-2".into(),
        feedback: FeedbackCounts::empty(),
        ..BroadcastReport::default()
    };
    let svg = broadcast_charts_svg(&empty, &texts(), Lang::Ko).unwrap();
    assert!(svg.contains("아직 받은 별점이 없어요"));
    assert!(svg.contains("아직 다시 주문한 구매자가 없어요"));
    assert!(svg.contains("live-2 방송 리포트"));
    assert!(!svg.contains("NaN") && !svg.contains("inf"));
}

#[test]
fn english_labels_count_one_buyer_in_the_singular() {
    let one = BroadcastReport {
        broadcast_id: "b-1".into(),
        buyers: 1,
        linked_buyers: 1,
        feedback: FeedbackCounts::empty(),
        ..BroadcastReport::default()
    };
    let svg = broadcast_charts_svg(&one, &texts(), Lang::En).unwrap();
    assert!(
        svg.contains(">1 buyer · 1 linked · 0 ratings · 0 ordered again within 30 days<"),
        "{svg}"
    );
}
