//! Privacy (CONTRACT §4 `/mydata` `/forget`, §6 "Forgetting", §3 `customer.deleted`,
//! `customer.merged`, `GET /v1/customers/{id}`), against the Telegram stand-in through the real
//! app: signed events over HTTP, stand-in users, and the SQLite file read back at the end.

use crate::support::app::*;
use crate::support::telegram::{SentMessage, TgUser};
use serde_json::{Value, json};
use sqlx::Row;

/// The viewer's name and the things they wrote: none may survive forgetting.
const NAME: &str = "한결민수";
const TG_NAME: &str = "Hangyeol";
const COMMENT: &str = "포장이 정말 예뻐요 7731";
const IN_TICKET: &str = "사이즈 교환 문의 4410";
const SHOP_WORDING: &str = "쇼핑몰 가입 때 광고 수신에 동의합니다";

fn buttons(message: &SentMessage) -> Vec<(String, String)> {
    message
        .reply_markup
        .as_ref()
        .and_then(|m| m["inline_keyboard"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| {
            (
                b["text"].as_str().unwrap_or_default().to_string(),
                b["callback_data"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

/// A customer whose shop record carries a consent decision from yesterday.
fn customer_with_consent(id: &str, name: &str) -> Value {
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    json!({"id": format!("cu-{id}"), "type": "customer.upserted", "occurred_at": now(),
        "customer": {"id": id, "name": name, "locale": "ko", "birthday": "03-14",
            "consent": {"marketing": true, "at": yesterday, "source": "checkout", "wording": SHOP_WORDING}}})
}

/// A linked buyer of `b-1` with everything `/mydata` shows: two consent records (the shop's and
/// a button), an order, a rating with a comment, and a closed ticket with a message in it.
/// Returns the `customer.upserted` event as the shop sent it.
async fn customer_with_history(t: &TestApp, customer_id: &str, user: &TgUser) -> Value {
    let upserted = customer_with_consent(customer_id, NAME);
    let (status, _) = t
        .post_events(&[
            upserted.clone(),
            order("o-1", customer_id, "b-1", "울 코트", 189_000),
        ])
        .await;
    assert_eq!(status, 202);
    t.link_viewer(customer_id, user).await;
    let ask =
        t.tg.sent_to(user.id)
            .into_iter()
            .find(|m| m.reply_markup.is_some())
            .expect("consent question");
    t.tg.push_callback(user, ask.message_id, user.id, "consent:marketing:yes");
    wait_text(&t.tg, user.id, "밤 시간").await;

    t.post_events(&[ended("end-1", "b-1")]).await;
    let thanks = wait_text(&t.tg, user.id, "방송에 함께해").await;
    let five = buttons(&thanks)
        .into_iter()
        .map(|(_, data)| data)
        .find(|d| d.ends_with(":5"))
        .expect("a 5-point button");
    t.tg.push_callback(user, thanks.message_id, user.id, &five);
    wait_text(&t.tg, user.id, "5점 고마워요").await;
    t.tg.push_private_text(user, COMMENT);
    wait_text(&t.tg, user.id, "의견 잘 받았어요").await;
    wait_text(&t.tg, STAFF_CHAT, COMMENT).await;

    t.tg.push_private_text(user, "/human");
    wait_text(&t.tg, STAFF_CHAT, "문의 #1").await;
    t.tg.push_private_text(user, IN_TICKET);
    wait_text(&t.tg, STAFF_CHAT, IN_TICKET).await;
    let staff = TgUser::new(STAFF_USER, "호스트");
    t.tg.push_group_text(STAFF_CHAT, "staff", &staff, "/close 1", None);
    wait_text(&t.tg, user.id, "상담이 끝났어요").await;
    t.settle().await;
    upserted
}

/// Every text value in every table of the database (SQLite or PostgreSQL).
async fn every_stored_text(t: &TestApp) -> Vec<(String, String, String)> {
    let store = &t.ctx().store;
    let pool = store.pool_for_tests();
    let pg = store.backend().is_postgres();
    let tables: Vec<String> = sqlx::query_scalar(if pg {
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
         WHERE table_schema = current_schema()"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    })
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut found = Vec::new();
    for table in tables {
        let columns: Vec<String> = if pg {
            sqlx::query_scalar(
                "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1",
            )
            .bind(&table)
            .fetch_all(pool)
            .await
        } else {
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(pool)
                .await
        }
        .expect("columns");
        for column in columns {
            let not_blob = if pg {
                String::new()
            } else {
                format!(" WHERE typeof(\"{column}\") <> 'blob'")
            };
            let values: Vec<Option<String>> = sqlx::query_scalar(&format!(
                "SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\"{not_blob}"
            ))
            .fetch_all(pool)
            .await
            .expect("values");
            for value in values.into_iter().flatten() {
                found.push((table.clone(), column.clone(), value));
            }
        }
    }
    found
}

/// Rows still filed under the customer id, table by table.
async fn rows_of(t: &TestApp, customer_id: &str) -> Vec<String> {
    let texts = every_stored_text(t).await;
    texts
        .into_iter()
        .filter(|(_, column, value)| {
            (column == "customer_id" || column == "id") && value == customer_id
        })
        .map(|(table, column, _)| format!("{table}.{column}"))
        .collect()
}

/// What forgetting promises, checked against the database file and the API.
async fn assert_forgotten(
    t: &TestApp,
    customer_id: &str,
    user: &TgUser,
    upserted: &Value,
    report_before: &Value,
) {
    let (status, answer) = t.get_admin(&format!("/v1/customers/{customer_id}")).await;
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (404, json!("not_found")),
        "{answer}"
    );
    for (table, column, value) in every_stored_text(t).await {
        for secret in [NAME, TG_NAME, COMMENT, IN_TICKET] {
            assert!(
                !value.contains(secret),
                "{table}.{column} still holds {secret:?}: {value}"
            );
        }
    }
    assert_eq!(
        rows_of(t, customer_id).await,
        Vec::<String>::new(),
        "nothing is filed under the customer id any more"
    );
    let pool = t.ctx().store.pool_for_tests();
    let identities: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM identities WHERE user_id = $1")
        .bind(user.id.to_string())
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!(identities, 0, "the messenger identity is gone");
    // Kept, pseudonymised: the consent history, the order and the complaint ticket.
    let pseudonym: String = sqlx::query_scalar("SELECT customer_id FROM orders WHERE id = 'o-1'")
        .fetch_one(pool)
        .await
        .expect("the order is kept");
    assert!(pseudonym.starts_with("forgotten-"), "{pseudonym}");
    for table in ["consents", "tickets", "feedback"] {
        let kept: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table} WHERE customer_id = $1"
        ))
        .bind(&pseudonym)
        .fetch_one(pool)
        .await
        .expect("count");
        assert!(kept > 0, "{table} is kept under the pseudonym");
    }
    let comments: Vec<Option<String>> = sqlx::query_scalar("SELECT comment FROM feedback")
        .fetch_all(pool)
        .await
        .expect("feedback");
    assert_eq!(comments, vec![None], "the comment is removed");
    let payloads: Vec<String> =
        sqlx::query("SELECT payload FROM outbox WHERE customer_id = $1 AND payload <> '{}'")
            .bind(&pseudonym)
            .fetch_all(pool)
            .await
            .expect("outbox")
            .iter()
            .map(|r| r.get("payload"))
            .collect();
    assert_eq!(
        payloads,
        Vec::<String>::new(),
        "stored payloads are emptied"
    );
    let tombstones: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tombstones")
        .fetch_one(pool)
        .await
        .expect("tombstones");
    assert_eq!(tombstones, 1);

    t.settle().await;
    let (_, report_after) = t.get_admin("/v1/broadcasts/b-1/report").await;
    assert_eq!(
        &report_after, report_before,
        "the report counts stay the same"
    );

    // A replayed customer.upserted (a new event id) and a new order do not bring them back.
    let mut again = upserted.clone();
    again["id"] = json!("cu-again");
    let late_order = json!({"id": "op-late", "type": "order.placed", "occurred_at": now(),
        "order": {"id": "o-late", "customer_id": customer_id, "broadcast_id": "b-1",
            "items": [{"sku": "s", "name": "머플러", "quantity": 1, "unit_price": 49000}],
            "total": 49000, "currency": "KRW"}});
    let (status, answer) = t.post_events(&[again, late_order]).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        answer,
        json!({"accepted": 2, "duplicates": 0, "pending": 0})
    );
    let (status, _) = t.get_admin(&format!("/v1/customers/{customer_id}")).await;
    assert_eq!(status, 404, "still forgotten");
    assert_eq!(rows_of(t, customer_id).await, Vec::<String>::new());
    assert!(
        !every_stored_text(t)
            .await
            .iter()
            .any(|(_, _, v)| v.contains(NAME) || v == "o-late"),
        "the replay stored neither the name nor the order"
    );
    // The same event id again is still recognised as a duplicate.
    let (_, answer) = t.post_events(std::slice::from_ref(upserted)).await;
    assert_eq!(answer["duplicates"], json!(1), "{answer}");
    t.settle().await;
    let (_, report_after) = t.get_admin("/v1/broadcasts/b-1/report").await;
    assert_eq!(&report_after, report_before, "the replays changed no count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mydata_shows_identities_consents_with_their_words_orders_tickets_and_feedback() {
    let t = TestApp::start().await;
    let user = TgUser::new(7101, TG_NAME).with_language("ko");
    customer_with_history(&t, "c-1", &user).await;

    let before = t.tg.sent_to(user.id).len();
    t.tg.push_private_text(&user, "/mydata");
    wait_text(&t.tg, user.id, "/forget").await;
    let answer: String = t.tg.sent_to(user.id)[before..]
        .iter()
        .map(|m| m.text.clone())
        .collect::<Vec<_>>()
        .join("\n");
    for expected in [
        &format!("{NAME}님"),
        "고객 번호: c-1",
        "생일: 03-14",
        "■ 연결된 메신저",
        "• 텔레그램 — ",
        // The shop's record: when, where, the exact words, how.
        "광고성 정보 수신 동의 · 경로: checkout · 방법: 쇼핑몰 기록",
        SHOP_WORDING,
        // The viewer's own press, with the question they were shown.
        "광고성 정보 수신 동의 · 경로: 텔레그램 · 방법: 버튼",
        "광고성 정보를 이 메신저로 받아 보시겠어요?",
        "• o-1 (",
        "울 코트 — 189,000원",
        "• #1 — ",
        " 종료",
        "방송 b-1 · ★5",
        COMMENT,
    ] {
        assert!(answer.contains(expected), "{expected:?} in:\n{answer}");
    }
    // A consent record carries the minute it was given, in the shop's time zone.
    let at = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .format("%Y-%m-%d")
        .to_string();
    assert!(answer.contains(&format!("• {at} ")), "{answer}");

    let (status, record) = t.get_admin("/v1/customers/c-1").await;
    assert_eq!(status, 200);
    assert_eq!(record["identities"][0]["platform"], json!("telegram"));
    assert!(record["identities"][0]["linked_at"].is_string(), "{record}");
    assert_eq!(record["consents"].as_array().map(Vec::len), Some(2));
    assert_eq!(record["consents"][0]["wording"], json!(SHOP_WORDING));
    assert_eq!(record["consents"][0]["method"], json!("shop_record"));
    assert_eq!(record["consents"][1]["method"], json!("button"));
    assert_eq!(record["orders"][0]["id"], json!("o-1"));
    assert_eq!(record["tickets"][0]["number"], json!(1));
    assert!(record["tickets"][0]["closed_at"].is_string(), "{record}");
    assert_eq!(record["feedback"][0]["rating"], json!(5));
    assert_eq!(record["feedback"][0]["comment"], json!(COMMENT));

    // Someone not linked gets the not-linked answer.
    let stranger = TgUser::new(7199, "Stranger").with_language("ko");
    t.tg.push_private_text(&stranger, "/mydata");
    wait_text(&t.tg, stranger.id, "연결되지 않았어요").await;
    assert_eq!(t.tg.violations(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_asks_first_then_removes_the_person_and_a_replay_does_not_bring_them_back() {
    let t = TestApp::start().await;
    let user = TgUser::new(7201, TG_NAME).with_language("ko");
    let upserted = customer_with_history(&t, "c-1", &user).await;
    let (_, report_before) = t.get_admin("/v1/broadcasts/b-1/report").await;
    assert_eq!(report_before["linked_buyers"], json!(1), "{report_before}");
    assert_eq!(report_before["feedback"]["comments"], json!(1));
    assert_eq!(report_before["thank_you"]["delivered"], json!(1));
    // The checks after forgetting are not vacuous: all of it is stored now.
    let stored = every_stored_text(&t).await;
    for secret in [NAME, TG_NAME, COMMENT, IN_TICKET] {
        assert!(
            stored.iter().any(|(_, _, v)| v.contains(secret)),
            "{secret:?} is stored before forgetting"
        );
    }

    // Asked first: forget first, keep second. Keeping erases nothing.
    t.tg.push_private_text(&user, "/forget");
    let ask = wait_text(&t.tg, user.id, "정말 삭제할까요").await;
    assert_eq!(
        buttons(&ask),
        vec![
            ("삭제할게요".to_string(), "forget:yes".to_string()),
            ("그대로 둘게요".to_string(), "forget:no".to_string()),
        ]
    );
    t.tg.push_callback(&user, ask.message_id, user.id, "forget:no");
    wait_text(&t.tg, user.id, "아무것도 지우지 않았어요").await;
    let (status, _) = t.get_admin("/v1/customers/c-1").await;
    assert_eq!(status, 200, "keeping keeps");

    t.tg.push_callback(&user, ask.message_id, user.id, "forget:yes");
    let done = wait_text(&t.tg, user.id, "개인정보를 삭제했어요").await;
    assert!(
        done.text.contains("미나의 옷장") && done.text.contains("처리일"),
        "{}",
        done.text
    );
    assert_forgotten(&t, "c-1", &user, &upserted, &report_before).await;

    // The viewer's account is not linked any more.
    t.tg.push_private_text(&user, "/mydata");
    wait_text(&t.tg, user.id, "연결되지 않았어요").await;
    assert_eq!(t.tg.violations(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_deleted_forgets_as_the_viewers_forget_does() {
    let t = TestApp::start().await;
    let user = TgUser::new(7301, TG_NAME).with_language("ko");
    let upserted = customer_with_history(&t, "c-1", &user).await;
    let (_, report_before) = t.get_admin("/v1/broadcasts/b-1/report").await;

    let deleted = json!({"id": "del-1", "type": "customer.deleted", "occurred_at": now(), "customer_id": "c-1"});
    let (status, answer) = t.post_events(std::slice::from_ref(&deleted)).await;
    assert_eq!((status, answer["accepted"].clone()), (202, json!(1)));
    assert_forgotten(&t, "c-1", &user, &upserted, &report_before).await;
    // The deletion itself, replayed, is a duplicate; under a new id it changes nothing.
    let (_, answer) = t.post_events(&[deleted]).await;
    assert_eq!(answer["duplicates"], json!(1), "{answer}");
    let again = json!({"id": "del-2", "type": "customer.deleted", "occurred_at": now(), "customer_id": "c-1"});
    let (status, _) = t.post_events(&[again]).await;
    assert_eq!(status, 202);
    let (_, report_after) = t.get_admin("/v1/broadcasts/b-1/report").await;
    assert_eq!(report_after, report_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_merged_moves_identities_orders_and_consents_and_mydata_shows_them() {
    let t = TestApp::start().await;
    let user = TgUser::new(7401, "Jiwoo").with_language("ko");
    let (status, _) = t
        .post_events(&[
            customer("c-old", "지우"),
            order("o-old", "c-old", "b-1", "울 코트", 189_000),
            customer("c-new", "김지우"),
            order("o-new", "c-new", "b-2", "캐시미어 머플러", 49_000),
        ])
        .await;
    assert_eq!(status, 202);
    t.link_viewer("c-old", &user).await;
    let ask =
        t.tg.sent_to(user.id)
            .into_iter()
            .find(|m| m.reply_markup.is_some())
            .expect("consent question");
    t.tg.push_callback(&user, ask.message_id, user.id, "consent:marketing:yes");
    wait_text(&t.tg, user.id, "밤 시간").await;
    t.settle().await;

    let merged = json!({"id": "m-1", "type": "customer.merged", "occurred_at": now(), "from": "c-old", "into": "c-new"});
    let (status, answer) = t.post_events(&[merged]).await;
    assert_eq!((status, answer["accepted"].clone()), (202, json!(1)));

    let (status, _) = t.get_admin("/v1/customers/c-old").await;
    assert_eq!(status, 404, "the merged-away customer is gone");
    let (_, record) = t.get_admin("/v1/customers/c-new").await;
    assert_eq!(
        record["customer"]["name"],
        json!("김지우"),
        "into keeps its name"
    );
    assert_eq!(record["identities"][0]["platform"], json!("telegram"));
    let orders: Vec<&str> = record["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert_eq!(orders, vec!["o-old", "o-new"]);
    assert_eq!(record["consents"][0]["method"], json!("button"));
    assert_eq!(record["consents"][0]["granted"], json!(true));

    // The viewer's /mydata is the merged customer's now.
    t.tg.push_private_text(&user, "/mydata");
    let answer = wait_text(&t.tg, user.id, "/forget").await;
    for expected in [
        "김지우님",
        "고객 번호: c-new",
        "o-old",
        "o-new",
        "방법: 버튼",
        "• 텔레그램",
    ] {
        assert!(
            answer.text.contains(expected),
            "{expected:?} in {}",
            answer.text
        );
    }

    // A later event naming the merged-away id applies to the customer it was merged into.
    let (status, _) = t
        .post_events(&[order("o-later", "c-old", "b-2", "니트", 59_000)])
        .await;
    assert_eq!(status, 202);
    let (_, record) = t.get_admin("/v1/customers/c-new").await;
    assert_eq!(
        record["orders"].as_array().map(Vec::len),
        Some(3),
        "{record}"
    );

    // Merging into a customer not known yet waits for them, then applies.
    let (_, answer) = t
        .post_events(&[
            customer("c-x", "하준"),
            order("o-x", "c-x", "b-1", "장갑", 29_000),
            json!({"id": "m-2", "type": "customer.merged", "occurred_at": now(), "from": "c-x", "into": "c-y"}),
        ])
        .await;
    assert_eq!(answer["pending"], json!(1), "{answer}");
    t.post_events(&[customer("c-y", "하준")]).await;
    let (_, record) = t.get_admin("/v1/customers/c-y").await;
    assert_eq!(record["orders"][0]["id"], json!("o-x"), "{record}");
    let (status, _) = t.get_admin("/v1/customers/c-x").await;
    assert_eq!(status, 404);
    assert_eq!(t.tg.violations(), 0);
}
