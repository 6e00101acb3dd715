//! Community rooms, tiers, the VIP room and VIP codes (issue #5), against the Telegram
//! stand-in: what members, viewers and staff see.

use std::time::Duration;

use crate::support::app::*;
use crate::support::telegram::{FakeTelegram, MemberStatus, TgUser};
use serde_json::{Value, json};

fn make_bot_admin(tg: &FakeTelegram, chat: i64) {
    tg.set_chat_member_status(chat, tg.bot_user_id(), MemberStatus::Administrator);
}

fn texts_to(tg: &FakeTelegram, chat: i64, needle: &str) -> Vec<String> {
    tg.sent_to(chat)
        .into_iter()
        .map(|m| m.text)
        .filter(|t| t.contains(needle))
        .collect()
}

/// A customer record from the shop, with (or without) marketing and night consent.
fn customer_with_consent(id: &str, name: &str, consent: bool) -> Value {
    json!({"id": format!("cu-{id}-{consent}"), "type": "customer.upserted",
        "occurred_at": chrono::Utc::now().to_rfc3339(),
        "customer": {"id": id, "name": name, "locale": "ko",
            "consent": {"marketing": consent, "night": consent,
                "at": (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339(),
                "source": "checkout", "wording": "광고성 정보 수신에 동의합니다"}}})
}

#[tokio::test]
async fn a_raid_of_fifty_joins_gets_at_most_three_welcomes_and_everyone_is_welcomed_once_across_restarts()
 {
    let clock = WallClock::default();
    let mut t = TestApp::start_with_clock(std::sync::Arc::new(clock.clone())).await;
    make_bot_admin(&t.tg, ROOM);
    let members: Vec<TgUser> = (0..50)
        .map(|i| {
            let lang = if i % 5 == 0 { "en" } else { "ko" };
            TgUser::new(5_000 + i, format!("Joiner{i:02}x")).with_language(lang)
        })
        .collect();
    let started = std::time::Instant::now();
    let mut first_update = None;
    for (i, member) in members.iter().enumerate() {
        // Telegram reports a join both ways; some arrive as both, which is still one join.
        if i % 2 == 0 || i % 7 == 0 {
            let id = t.tg.push_chat_member_joined(ROOM, "라이브 수다방", member);
            first_update.get_or_insert(id);
        }
        if i % 2 == 1 || i % 7 == 0 {
            t.tg.push_new_chat_members(ROOM, "라이브 수다방", std::slice::from_ref(member));
        }
        tokio::time::sleep(Duration::from_millis(90)).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the raid took under 5 s"
    );
    let everyone =
        t.tg.wait_until(Duration::from_secs(30), |tg| {
            let all: String = tg.sent_to(ROOM).iter().map(|m| m.text.clone()).collect();
            members.iter().all(|m| all.contains(&m.first_name))
        })
        .await;
    assert!(everyone, "every newcomer was welcomed");
    let welcomes = t.tg.sent_to(ROOM);
    eprintln!(
        "50 joins, everyone welcomed {:?} after the first: {} welcome message(s), {} 429(s)",
        started.elapsed(),
        welcomes.len(),
        t.tg.violations()
    );
    assert!(
        welcomes.len() <= 3,
        "at most 3 welcomes for the raid, got {}: {:?}",
        welcomes.len(),
        welcomes.iter().map(|m| &m.text).collect::<Vec<_>>()
    );
    assert_eq!(t.tg.violations(), 0, "the stand-in saw no 429");
    let all: String = welcomes.iter().map(|m| m.text.clone()).collect();
    for member in &members {
        assert_eq!(
            all.matches(&member.first_name).count(),
            1,
            "{} is named exactly once",
            member.first_name
        );
    }
    assert!(
        all.contains("Joiner01x님"),
        "Korean members are addressed with 님"
    );
    assert!(
        all.contains("Welcome, "),
        "English members get the English paragraph"
    );
    assert!(
        all.contains("/start"),
        "the welcome says how to link the order account"
    );

    // A restart, Telegram delivering the raid again, and a member leaving and coming back:
    // nobody is welcomed a second time.
    t.restart().await;
    if let Some(first) = first_update {
        t.tg.redeliver_from(first);
    }
    t.tg.push_chat_member_joined(ROOM, "라이브 수다방", &members[3]);
    // A welcome waits a moment to gather a burst of joins: any welcome these updates queued is
    // due once the clock has moved past that moment.
    t.updates_handled().await;
    clock.advance(chrono::Duration::seconds(10));
    t.settle().await;
    assert_eq!(
        t.tg.sent_to(ROOM).len(),
        welcomes.len(),
        "no welcome after the restart"
    );
}

#[tokio::test]
async fn a_scheduled_broadcast_replayed_is_announced_once_per_room_and_pinned_where_allowed() {
    let t = TestApp::start().await;
    make_bot_admin(&t.tg, ROOM);
    let starts = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let scheduled = |id: &str| {
        json!({"id": id, "type": "broadcast.scheduled", "occurred_at": chrono::Utc::now().to_rfc3339(),
            "broadcast": {"id": "b-9", "title": "겨울 니트 특가", "starts_at": starts, "url": "https://live.example/b-9"}})
    };
    assert_eq!(t.post_events(&[scheduled("s-1")]).await.0, 202);
    assert_eq!(t.post_events(&[scheduled("s-2")]).await.0, 202);
    let announcement = wait_text(&t.tg, ROOM, "겨울 니트 특가").await;
    wait_text(&t.tg, COMMUNITY_CHAT, "겨울 니트 특가").await;
    let pinned =
        t.tg.wait_until(Duration::from_secs(10), |tg| {
            tg.pinned_in(ROOM).contains(&announcement.message_id)
        })
        .await;
    assert!(pinned, "the announcement is pinned where the bot may pin");

    let started = |id: &str| {
        json!({"id": id, "type": "broadcast.started", "occurred_at": chrono::Utc::now().to_rfc3339(),
            "broadcast": {"id": "b-9"}})
    };
    assert_eq!(t.post_events(&[started("go-1")]).await.0, 202);
    assert_eq!(t.post_events(&[started("go-2")]).await.0, 202);
    let live = wait_text(&t.tg, ROOM, "지금 라이브").await;
    assert!(
        live.text.contains("https://live.example/b-9"),
        "we-are-live carries the link: {}",
        live.text
    );
    wait_text(&t.tg, COMMUNITY_CHAT, "지금 라이브").await;
    t.settle().await;
    for room in [ROOM, COMMUNITY_CHAT] {
        assert_eq!(
            texts_to(&t.tg, room, "다음 라이브 예고").len(),
            1,
            "one announcement in {room}"
        );
        assert_eq!(
            texts_to(&t.tg, room, "지금 라이브").len(),
            1,
            "one live notice in {room}"
        );
        assert!(
            !texts_to(&t.tg, room, "다음 라이브 예고")[0].starts_with("(광고)"),
            "a room announcement is not advertising to a person"
        );
    }
    assert_eq!(t.tg.violations(), 0);
}

#[tokio::test]
async fn a_member_flooding_a_room_is_muted_and_staff_are_told_but_staff_and_admins_never_are() {
    let t = TestApp::start().await;
    make_bot_admin(&t.tg, ROOM);
    let member = TgUser::new(6_001, "도배왕").with_language("ko");
    let admin = TgUser::new(6_002, "방장").with_language("ko");
    t.tg.set_chat_member_status(ROOM, admin.id, MemberStatus::Administrator);
    let staff = TgUser::new(STAFF_USER, "매니저");

    for i in 0..10 {
        t.tg.push_group_text(ROOM, "라이브 수다방", &staff, &format!("공지 {i}"), None);
        t.tg.push_group_text(ROOM, "라이브 수다방", &admin, &format!("안내 {i}"), None);
    }
    for i in 0..10 {
        t.tg.push_group_text(ROOM, "라이브 수다방", &member, &format!("사세요 {i}"), None);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let muted =
        t.tg.wait_until(Duration::from_secs(20), |tg| {
            tg.restrictions().iter().any(|r| r.user_id == member.id)
        })
        .await;
    assert!(
        muted,
        "the member who posted 10 messages in 5 seconds is muted"
    );
    let notice = wait_text(&t.tg, ROOM, "말하기가 제한").await;
    assert!(notice.text.contains("도배왕님"), "{}", notice.text);
    assert!(notice.text.contains("30분"), "{}", notice.text);
    let staff_note = wait_text(&t.tg, STAFF_CHAT, &format!("/unmute {}", member.id)).await;
    assert!(staff_note.text.contains("도배왕"), "{}", staff_note.text);
    let restrictions = t.tg.restrictions();
    let mute: Vec<_> = restrictions
        .iter()
        .filter(|r| r.user_id == member.id)
        .collect();
    assert_eq!(mute.len(), 1, "muted once");
    let until = mute[0].until_date.expect("a mute has an end");
    let expected = chrono::Utc::now().timestamp() + 30 * 60;
    assert!((until - expected).abs() < 60, "muted for 30 minutes");
    assert!(
        restrictions
            .iter()
            .all(|r| r.user_id != STAFF_USER && r.user_id != admin.id),
        "staff and admins are never moderated"
    );

    staff_says(&t, &format!("/unmute {}", member.id));
    wait_text(&t.tg, STAFF_CHAT, "제한을 풀었어요").await;
    let lifted =
        t.tg.wait_until(Duration::from_secs(10), |tg| {
            tg.restrictions()
                .iter()
                .filter(|r| r.user_id == member.id)
                .count()
                == 2
        })
        .await;
    assert!(lifted, "/unmute lifts the mute");
    let last =
        t.tg.restrictions()
            .into_iter()
            .rfind(|r| r.user_id == member.id)
            .expect("unmute");
    assert_eq!(last.permissions["can_send_messages"], json!(true));
}

#[tokio::test]
async fn links_from_members_who_just_joined_are_removed_with_a_notice() {
    let t = TestApp::start().await;
    make_bot_admin(&t.tg, ROOM);
    let newcomer = TgUser::new(6_101, "새내기").with_language("ko");
    let regular = TgUser::new(6_102, "단골").with_language("ko");
    t.tg.push_chat_member_joined(ROOM, "라이브 수다방", &newcomer);
    wait_text(&t.tg, ROOM, "새내기").await;
    let spam = t.tg.push_group_text(
        ROOM,
        "라이브 수다방",
        &newcomer,
        "여기서 더 싸게 팔아요 https://cheap.example.com/deal",
        None,
    );
    let fine = t.tg.push_group_text(
        ROOM,
        "라이브 수다방",
        &regular,
        "후기는 https://blog.example.com 에 올렸어요",
        None,
    );
    let removed =
        t.tg.wait_until(Duration::from_secs(20), |tg| {
            tg.deleted_messages().contains(&(ROOM, spam))
        })
        .await;
    assert!(removed, "the newcomer's link is removed");
    wait_text(&t.tg, ROOM, "링크를 올릴 수 있어서").await;
    t.settle().await;
    assert!(
        !t.tg.deleted_messages().contains(&(ROOM, fine)),
        "a member we did not see join just now keeps their link"
    );
}

#[tokio::test]
async fn orders_that_lift_a_customer_to_vip_bring_one_personal_join_link_only_they_can_use() {
    let t = TestApp::start().await;
    make_bot_admin(&t.tg, VIP_CHAT);
    let buyer = TgUser::new(7_001, "지현").with_language("ko");
    let stranger = TgUser::new(7_002, "남").with_language("ko");
    assert_eq!(
        t.post_events(&[customer_with_consent("vip-1", "지현", true)])
            .await
            .0,
        202
    );
    t.link_viewer("vip-1", &buyer).await;
    let orders: Vec<Value> = (0..10)
        .map(|i| order(&format!("v{i}"), "vip-1", "b-1", "캐시미어 코트", 100_000))
        .collect();
    assert_eq!(t.post_events(&orders).await.0, 202);

    let welcome = wait_text(&t.tg, buyer.id, "t.me/+").await;
    assert!(welcome.text.starts_with("(광고)"), "{}", welcome.text);
    assert!(
        welcome.text.trim_end().ends_with("무료수신거부: /stop"),
        "{}",
        welcome.text
    );
    let links = t.tg.invite_links();
    assert_eq!(links.len(), 1, "one personal link");
    assert!(links[0].creates_join_request);
    assert_eq!(links[0].chat_id, VIP_CHAT);
    let link = links[0].invite_link.clone();
    assert!(welcome.text.contains(&link));
    assert_eq!(
        t.tg.sent_to(buyer.id)
            .iter()
            .filter(|m| m.text.contains("등급이 되셨어요"))
            .count(),
        1,
        "one congratulation, for the highest tier reached"
    );

    // A forwarded link is useless: only the customer's own account is let in.
    t.tg.push_join_request(VIP_CHAT, "VIP 라운지", &stranger, &link);
    t.tg.push_join_request(VIP_CHAT, "VIP 라운지", &buyer, &link);
    let decided =
        t.tg.wait_until(Duration::from_secs(20), |tg| {
            tg.join_request_decisions().len() == 2
        })
        .await;
    assert!(decided, "both requests were answered");
    let decisions = t.tg.join_request_decisions();
    assert!(
        decisions.contains(&(VIP_CHAT, stranger.id, false)),
        "{decisions:?}"
    );
    assert!(
        decisions.contains(&(VIP_CHAT, buyer.id, true)),
        "{decisions:?}"
    );

    // More orders do not make a second link; /vip shows the tier and the same link.
    assert_eq!(
        t.post_events(&[order("v10", "vip-1", "b-1", "목도리", 50_000)])
            .await
            .0,
        202
    );
    t.tg.push_private_text(&buyer, "/vip");
    let status = wait_text(&t.tg, buyer.id, "등급은 vip").await;
    assert!(status.text.contains(&link), "{}", status.text);
    assert_eq!(t.tg.invite_links().len(), 1);
}

/// Four customers with history imported silently (no congratulations) and linked.
async fn tiered_customers(t: &TestApp) -> [TgUser; 4] {
    let people = [
        ("gold-a", "가을", true, 6, 60_000),
        ("vip-b", "나래", true, 10, 120_000),
        ("silver-c", "다온", true, 3, 10_000),
        ("gold-d", "라희", false, 7, 60_000),
    ];
    let events: Vec<Value> = people
        .iter()
        .map(|(id, name, consent, _, _)| customer_with_consent(id, name, *consent))
        .collect();
    assert_eq!(t.post_events(&events).await.0, 202);
    let mut csv = String::from(
        "order_id,customer_id,customer_name,broadcast_id,status,total,currency,placed_at,locale,items\n",
    );
    for (id, name, _, count, price) in &people {
        for i in 0..*count {
            csv.push_str(&format!(
                "{id}-{i},{id},{name},b-0,delivered,{price},KRW,2026-01-0{}T10:00:00Z,ko,sku:니트::1:{price}\n",
                1 + i % 9
            ));
        }
    }
    let file = t.dir.path().join("history.csv");
    std::fs::write(&file, csv).expect("csv");
    encore::import::import_orders(t.ctx(), &file, false, false)
        .await
        .expect("history imports");
    let users = [
        TgUser::new(7_101, "가을").with_language("ko"),
        TgUser::new(7_102, "나래").with_language("ko"),
        TgUser::new(7_103, "다온").with_language("ko"),
        TgUser::new(7_104, "라희").with_language("ko"),
    ];
    let viewers: Vec<(String, TgUser)> = people
        .iter()
        .zip(users.iter())
        .map(|((id, ..), user)| (id.to_string(), user.clone()))
        .collect();
    t.link_viewers(&viewers).await;
    users
}

#[tokio::test]
async fn vip_codes_reach_exactly_the_consenting_customers_of_the_tier_or_higher_once_each() {
    let t = TestApp::start().await;
    let [gold, vip, silver, gold_without_consent] = tiered_customers(&t).await;

    staff_says(&t, "/vipcode WINTER gold");
    let to_gold = wait_text(&t.tg, gold.id, "WINTER").await;
    wait_text(&t.tg, vip.id, "WINTER").await;
    wait_text(&t.tg, STAFF_CHAT, "고객 2명에게 코드").await;
    assert!(to_gold.text.starts_with("(광고)"), "{}", to_gold.text);
    assert!(to_gold.text.contains("미나의 옷장") && to_gold.text.contains("02-123-4567"));
    assert!(
        to_gold.text.trim_end().ends_with("무료수신거부: /stop"),
        "{}",
        to_gold.text
    );
    // Asked twice: nobody gets it twice.
    staff_says(&t, "/vipcode WINTER gold");
    wait_text(&t.tg, STAFF_CHAT, "고객 0명에게 코드").await;

    // From a pool: one each, different codes; the pool running out is reported.
    assert_eq!(
        t.post_events(&[json!({"id": "pool-1", "type": "code.pool_added",
            "occurred_at": chrono::Utc::now().to_rfc3339(), "campaign": "XMAS", "codes": ["XMAS-001"]})])
            .await
            .0,
        202
    );
    staff_says(&t, "/vipcode pool=XMAS gold");
    wait_text(&t.tg, STAFF_CHAT, "모두 소진").await;
    encore::import::import_codes(t.ctx(), "XMAS", "code\nXMAS-002\nXMAS-003\n")
        .await
        .expect("codes import");
    staff_says(&t, "/vipcode pool=XMAS gold");
    let found =
        t.tg.wait_until(Duration::from_secs(20), |tg| {
            [gold.id, vip.id]
                .iter()
                .all(|&chat| tg.sent_to(chat).iter().any(|m| m.text.contains("XMAS-")))
        })
        .await;
    assert!(
        found,
        "each consenting gold-or-higher customer got a pool code"
    );
    t.settle().await;
    let pool_code = |chat: i64| -> Vec<String> {
        t.tg.sent_to(chat)
            .iter()
            .flat_map(|m| {
                ["XMAS-001", "XMAS-002", "XMAS-003"]
                    .into_iter()
                    .filter(|c| m.text.contains(c))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (gold_codes, vip_codes) = (pool_code(gold.id), pool_code(vip.id));
    assert_eq!(gold_codes.len(), 1, "{gold_codes:?}");
    assert_eq!(vip_codes.len(), 1, "{vip_codes:?}");
    assert_ne!(gold_codes, vip_codes, "each gets a different code");
    for chat in [gold.id, vip.id] {
        assert_eq!(texts_to(&t.tg, chat, "WINTER").len(), 1, "WINTER once");
    }
    for chat in [silver.id, gold_without_consent.id] {
        assert!(
            texts_to(&t.tg, chat, "WINTER").is_empty() && pool_code(chat).is_empty(),
            "a silver customer and a non-consenting gold customer get nothing"
        );
    }

    // Redemptions: by the customer it was sent to, and by one it was not (a violation).
    let redeemed = |id: &str, code: &str, customer: &str| {
        json!({"id": id, "type": "code.redeemed", "occurred_at": chrono::Utc::now().to_rfc3339(),
            "code": code, "customer_id": customer})
    };
    assert_eq!(
        t.post_events(&[
            redeemed("r-1", &gold_codes[0], "gold-a"),
            redeemed("r-2", "WINTER", "silver-c"),
        ])
        .await
        .0,
        202
    );
    let today = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    let (status, report) = t.get_admin(&format!("/v1/report?since={today}")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["codes"]["sent"], json!(4), "{report}");
    assert_eq!(report["codes"]["redeemed"], json!(2), "{report}");
    assert_eq!(report["codes"]["violations"], json!(1), "{report}");
    let xmas = report["campaigns"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["campaign"] == "XMAS"))
        .cloned()
        .expect("XMAS in the report");
    assert_eq!(xmas["sent"], json!(2));
    assert_eq!(xmas["pool_left"], json!(1));
    // The non-consenting gold customer was never chosen, so nothing was even refused.
    assert_eq!(
        report["advertising"]["refused_without_consent"],
        json!(0),
        "{report}"
    );
}

#[tokio::test]
async fn vipcode_from_anyone_but_staff_gets_only_a_polite_refusal() {
    let t = TestApp::start().await;
    let [gold, ..] = tiered_customers(&t).await;
    let outsider = TgUser::new(8_001, "손님").with_language("ko");
    t.tg.push_group_text(STAFF_CHAT, "staff", &outsider, "/vipcode FREE gold", None);
    wait_text(&t.tg, STAFF_CHAT, "등록된 직원만").await;
    t.tg.push_private_text(&gold, "/vipcode FREE gold");
    wait_text(&t.tg, gold.id, "직원만 쓸 수 있어요").await;
    t.tg.push_group_text(ROOM, "라이브 수다방", &outsider, "/vipcode FREE gold", None);
    wait_text(&t.tg, ROOM, "직원만 쓸 수 있어요").await;
    t.settle().await;
    assert!(
        t.tg.sent().iter().all(|m| !m.text.contains("FREE")),
        "no code went anywhere"
    );
}

#[tokio::test]
async fn a_vip_post_goes_to_the_vip_room_and_to_vips_who_are_not_in_it_once() {
    let t = TestApp::start().await;
    make_bot_admin(&t.tg, VIP_CHAT);
    let inside = TgUser::new(7_201, "안쪽").with_language("ko");
    let outside = TgUser::new(7_202, "바깥").with_language("ko");
    assert_eq!(
        t.post_events(&[
            customer_with_consent("vip-in", "안쪽", true),
            customer_with_consent("vip-out", "바깥", true),
        ])
        .await
        .0,
        202
    );
    t.link_viewers(&[
        ("vip-in".to_string(), inside.clone()),
        ("vip-out".to_string(), outside.clone()),
    ])
    .await;
    let mut orders = Vec::new();
    for customer in ["vip-in", "vip-out"] {
        for i in 0..10 {
            orders.push(order(
                &format!("{customer}-{i}"),
                customer,
                "b-1",
                "코트",
                100_000,
            ));
        }
    }
    assert_eq!(t.post_events(&orders).await.0, 202);
    wait_text(&t.tg, inside.id, "t.me/+").await;
    wait_text(&t.tg, outside.id, "t.me/+").await;
    t.tg.push_chat_member_joined(VIP_CHAT, "VIP 라운지", &inside);

    staff_says(
        &t,
        "/vippost 신상 미리보기: 캐시미어 코트가 금요일에 나와요",
    );
    let post = wait_text(&t.tg, VIP_CHAT, "신상 미리보기").await;
    assert!(post.text.starts_with("(광고)"), "{}", post.text);
    let dm = wait_text(&t.tg, outside.id, "신상 미리보기").await;
    assert!(
        dm.text.trim_end().ends_with("무료수신거부: /stop"),
        "{}",
        dm.text
    );
    t.settle().await;
    assert!(
        texts_to(&t.tg, inside.id, "신상 미리보기").is_empty(),
        "a VIP in the room is not sent a DM"
    );
    assert_eq!(
        texts_to(&t.tg, outside.id, "신상 미리보기").len(),
        1,
        "once"
    );
    assert_eq!(
        texts_to(&t.tg, VIP_CHAT, "신상 미리보기").len(),
        1,
        "one post"
    );
}
