//! The command line as a host uses it: the demo, the CSV import, configuration errors.

use std::process::{Command, Output};

fn encore(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("encore runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_demo_prints_korean_thank_yous_with_the_right_particles_and_a_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = encore(dir.path(), &["demo", "--viewers", "6"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.matches("방송에 함께해 주셔서").count(),
        6,
        "one thank-you per viewer"
    );
    assert!(stdout.contains("민수님"), "viewers are addressed with 님");
    assert!(
        stdout.contains("울 코트 — 189,000원"),
        "items and amounts are named"
    );
    assert!(
        stdout.contains("사유: 원단 입고가"),
        "the delay note names the reason"
    );
    assert!(
        stdout.contains("송장번호: 6311-2048-7781"),
        "the shipped note names the tracking number"
    );
    assert!(
        stdout.contains("Coat가 오늘 출발했어요"),
        "the particle follows a Latin name: {stdout}"
    );
    assert!(
        stdout.contains("가죽 장갑이 오늘 출발했어요"),
        "the particle follows a Hangul name"
    );
    assert!(
        stdout.contains("감사 인사: 보냄 6 · 전달됨 6"),
        "the report counts the thank-yous"
    );
}

#[test]
fn the_demo_speaks_english_with_lang_en() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = encore(dir.path(), &["demo", "--viewers", "3", "--lang", "en"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("thank you so much for joining").count(), 3);
    assert!(stdout.contains("Thank-you notes: sent 3 · delivered 3"));
}

const HEADER: &str = "order_id,customer_id,customer_name,broadcast_id,status,total,currency,placed_at,locale,items\n";

#[test]
fn a_csv_with_three_bad_lines_reports_each_and_imports_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = format!(
        "{HEADER}o-1,c-1,김민수,b-1,paid,39000,KRW,2026-11-20T20:15:00+09:00,ko,S1:울 코트:outer:1:39000\n\
         o-2,c-2,이지은,b-1,paid,lots,KRW,2026-11-20T20:15:00+09:00,ko,S1:울 코트:outer:1:39000\n\
         o-3,c-3,박서연,b-1,gone,39000,KRW,2026-11-20T20:15:00+09:00,ko,S1:울 코트:outer:1:39000\n\
         o-4,c-4,최도윤,b-1,paid,39000,KRW,2026-11-20T20:15:00+09:00,ko,S1:울 코트:outer:one:39000\n"
    );
    std::fs::write(dir.path().join("orders.csv"), csv).expect("write csv");
    let out = encore(dir.path(), &["import", "orders", "orders.csv"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("line 3: `total`"), "{stderr}");
    assert!(stderr.contains("line 4: `status`"), "{stderr}");
    assert!(
        stderr.contains("line 5: `items` entry 1: quantity"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    let report = encore(dir.path(), &["report", "b-1"]);
    assert!(
        !report.status.success(),
        "the good row was not imported either"
    );
    assert!(
        text(&report.stderr).contains("no broadcast `b-1`"),
        "{}",
        text(&report.stderr)
    );
}

#[test]
fn a_good_csv_imports_and_a_reimport_updates_without_duplicates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = format!(
        "{HEADER}o-1,c-1,김민수,b-1,paid,39000,KRW,2026-11-20T20:15:00+09:00,ko,S1:울 코트:outer:1:39000\n\
         o-2,c-2,\"이, 지은\",b-1,preparing,49000,KRW,2026-11-20T20:16:00+09:00,,S2:머플러::1:49000\n"
    );
    std::fs::write(dir.path().join("orders.csv"), &csv).expect("write csv");
    let out = encore(dir.path(), &["import", "orders", "orders.csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 new order(s), 0 updated; nothing sent (history)"),
        "{}",
        text(&out.stdout)
    );
    let again = encore(dir.path(), &["import", "orders", "orders.csv", "--notify"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("0 new order(s), 2 updated"),
        "{}",
        text(&again.stdout)
    );
    let report = encore(dir.path(), &["report", "b-1", "--json"]);
    assert!(report.status.success(), "{}", text(&report.stderr));
    let json: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json report");
    assert_eq!(json["buyers"], serde_json::json!(2));
    assert_eq!(json["unlinked_buyers"], serde_json::json!(2));
}

#[test]
fn an_unknown_configuration_key_is_named_in_a_one_line_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("encore.toml"),
        "[telegram]\ntoken = \"1:x\"\ntokn = \"oops\"\n",
    )
    .expect("write");
    let out = encore(dir.path(), &["config", "check"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("telegram.tokn"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn config_check_masks_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("encore.toml"),
        "[http]\nwebhook_secret = \"super-secret-value-123\"\n[telegram]\ntoken = \"123:SECRET-TOKEN\"\n",
    )
    .expect("write");
    let out = encore(dir.path(), &["config", "check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        !stdout.contains("SECRET-TOKEN") && !stdout.contains("super-secret-value-123"),
        "{stdout}"
    );
    assert!(stdout.contains("********"));
}
