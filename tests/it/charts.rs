//! The broadcast's charts as a host gets them: `encore report B --chart out.png`, and `/report B`
//! in the staff chat on Telegram and on Discord (the text, then the picture under it).

use std::process::{Command, Output};
use std::time::Duration;

use resvg::tiny_skia::Pixmap;
use serde_json::json;

use crate::support::app::{
    DISCORD_ONLY, STAFF_CHAT, TestApp, customer, ended, order, seed_linked_buyers, staff_says,
};
use crate::support::discord;

/// `encore report …` as a host runs it beside `serve`: another process, same database.
async fn report_cli(t: &TestApp, args: &[&str]) -> Output {
    let config = t.dir.path().join("cli.toml");
    std::fs::write(&config, format!("[database]\nurl = \"{}\"\n", t.db_url)).expect("config");
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let dir = t.dir.path().to_path_buf();
    // Off the test's runtime, which also runs the app.
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_encore"))
            .arg("--config")
            .arg(&config)
            .arg("report")
            .args(&args)
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .output()
            .expect("encore runs")
    })
    .await
    .expect("report ran")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A PNG a host can open: decodes, at least 1200×800, and the title's band holds dark text
/// pixels on the light page (a missing font draws no text at all).
fn assert_a_readable_chart(png: &[u8]) {
    let pixmap = Pixmap::decode_png(png).expect("the chart is a PNG");
    assert!(
        pixmap.width() >= 1200 && pixmap.height() >= 800,
        "{}×{}",
        pixmap.width(),
        pixmap.height()
    );
    let dark = (30..900)
        .flat_map(|x| (20..52).map(move |y| (x, y)))
        .filter(|&(x, y)| {
            let p = pixmap.pixel(x, y).expect("inside");
            u16::from(p.red()) + u16::from(p.green()) + u16::from(p.blue()) < 200
        })
        .count();
    assert!(dark > 500, "only {dark} text pixels in the title band");
}

/// Three linked buyers thanked on Telegram, one rating.
async fn a_finished_broadcast(t: &TestApp) {
    seed_linked_buyers(&t.ctx().store, "b-1", 3, 70_000).await;
    t.post_events(&[ended("e-1", "b-1")]).await;
    t.report_when("b-1", |r| r["thank_you"]["delivered"] == json!(3))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_chart_writes_a_png_with_korean_labels_in_the_bundled_font() {
    let t = TestApp::start().await;
    a_finished_broadcast(&t).await;
    let png = t.dir.path().join("b-1.png");
    let out = report_cli(
        &t,
        &["b-1", "--chart", png.to_str().expect("path"), "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json still prints");
    assert_eq!(json["buyers"], json!(3));
    assert_a_readable_chart(&std::fs::read(&png).expect("the chart was written"));

    // The labels of that picture are glyph outlines of the bundled Korean face, the only face.
    let report = t
        .ctx()
        .store
        .broadcast_report("b-1", 24, chrono::Utc::now())
        .await
        .expect("report")
        .expect("known");
    let svg =
        encore::charts::broadcast_charts_svg(&report, &t.ctx().texts, encore::domain::Lang::Ko)
            .expect("svg");
    let tree = encore::charts::parse_svg(&svg).expect("parsed");
    let faces: Vec<String> = tree
        .fontdb()
        .faces()
        .flat_map(|f| f.families.iter().map(|(name, _)| name.clone()))
        .collect();
    assert!(
        faces.contains(&encore::charts::FONT_FAMILY.to_string()),
        "{faces:?}"
    );
    let mut titles = Vec::new();
    find_texts(tree.root(), &mut titles);
    let (title, outlined) = titles
        .iter()
        .find(|(t, _)| t == "겨울 아우터 라이브 방송 리포트")
        .unwrap_or_else(|| panic!("no Korean title among {titles:?}"));
    assert!(outlined, "`{title}` was drawn as outlines");
}

fn find_texts(group: &resvg::usvg::Group, out: &mut Vec<(String, bool)>) {
    for node in group.children() {
        match node {
            resvg::usvg::Node::Group(g) => find_texts(g, out),
            resvg::usvg::Node::Text(t) => {
                let words = t.chunks().iter().map(|c| c.text()).collect();
                let b = t.flattened().abs_bounding_box();
                out.push((words, b.width() > 100.0 && b.height() > 10.0));
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_chart_names_an_unknown_broadcast_and_an_unwritable_path() {
    let t = TestApp::start().await;
    a_finished_broadcast(&t).await;
    let png = t.dir.path().join("nope.png");
    let out = report_cli(&t, &["b-404", "--chart", png.to_str().expect("path")]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no broadcast `b-404` is known"),
        "{}",
        text(&out.stderr)
    );
    assert!(!png.exists(), "nothing written for an unknown broadcast");

    let nowhere = t.dir.path().join("no-such-folder").join("b-1.png");
    let out = report_cli(&t, &["b-1", "--chart", nowhere.to_str().expect("path")]).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot write the chart to") && stderr.contains("no-such-folder"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_in_the_telegram_staff_chat_posts_the_text_then_the_chart() {
    let t = TestApp::start().await;
    a_finished_broadcast(&t).await;
    staff_says(&t, "/report b-1");
    let posted =
        t.tg.wait_until(Duration::from_secs(30), |tg| {
            tg.sent_to(STAFF_CHAT)
                .iter()
                .any(|m| m.photo_bytes.is_some())
        })
        .await;
    assert!(posted, "a picture reached the staff chat");
    let staff = t.tg.sent_to(STAFF_CHAT);
    let words = staff
        .iter()
        .position(|m| m.text.contains("방송 리포트") && m.text.contains("구매자 3명"))
        .expect("the report's text");
    let picture = staff
        .iter()
        .position(|m| m.photo_bytes.is_some())
        .expect("the picture");
    assert!(words < picture, "the picture comes under the text");
    assert_eq!(staff[picture].method, "sendPhoto");
    assert_eq!(
        staff[picture].photo.as_deref(),
        Some("upload:report-b-1.png")
    );
    assert_a_readable_chart(staff[picture].photo_bytes.as_deref().expect("bytes"));
    assert_eq!(t.tg.violations(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_in_the_discord_staff_channel_posts_the_text_then_the_chart() {
    let t = TestApp::start_with(DISCORD_ONLY).await;
    t.post_events(&[
        customer("c-1", "수아"),
        order("o-1", "c-1", "b-1", "가죽 장갑", 39_000),
        ended("e-1", "b-1"),
    ])
    .await;
    t.dc.push_guild_message(discord::STAFF_CHANNEL_ID, &discord::owner(), "/report b-1");
    let posted =
        t.dc.wait_until(Duration::from_secs(30), |dc| {
            dc.sent_to(discord::STAFF_CHANNEL_ID)
                .iter()
                .any(|m| !m.file_bytes.is_empty())
        })
        .await;
    assert!(posted, "an attachment reached the staff channel");
    let staff = t.dc.sent_to(discord::STAFF_CHANNEL_ID);
    let words = staff
        .iter()
        .position(|m| m.content.contains("방송 리포트") && m.content.contains("구매자 1명"))
        .expect("the report's text");
    let picture = staff
        .iter()
        .position(|m| !m.file_bytes.is_empty())
        .expect("the picture");
    assert!(words < picture, "the picture comes under the text");
    assert_eq!(staff[picture].files, vec!["report-b-1.png".to_string()]);
    assert_a_readable_chart(&staff[picture].file_bytes[0]);
    assert_eq!(t.dc.violations(), 0);
}
