//! Community rooms and the VIP room on Discord (issue #5): the same flows as on Telegram, through
//! the real serenity client and the Discord stand-in.

use std::time::Duration;

use crate::support::app::*;
use crate::support::discord::{self, DcUser};
use serde_json::{Value, json};

fn member(i: u64, name: &str) -> DcUser {
    DcUser::new(1_170_000_000_000_000_000 + i, name).with_locale("ko")
}

fn consenting(id: &str, name: &str) -> Value {
    json!({"id": format!("cu-{id}"), "type": "customer.upserted", "occurred_at": chrono::Utc::now().to_rfc3339(),
        "customer": {"id": id, "name": name, "locale": "ko",
            "consent": {"marketing": true, "night": true,
                "at": (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339(),
                "source": "checkout", "wording": "광고성 정보 수신에 동의합니다"}}})
}

fn ten_orders(customer: &str) -> Vec<Value> {
    (0..10)
        .map(|i| order(&format!("{customer}-{i}"), customer, "b-1", "코트", 100_000))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guild_join_is_welcomed_and_a_flooding_member_is_timed_out_on_discord() {
    let t = TestApp::start_with(DISCORD_ONLY).await;
    let newcomer = member(1, "새친구");
    t.dc.push_member_join(&newcomer);
    let welcome = wait_channel(&t.dc, discord::COMMUNITY_CHANNEL_ID, "새친구")
        .await
        .content;
    assert!(
        welcome.contains("/link"),
        "says how to link on Discord: {welcome}"
    );

    let flooder = member(2, "도배러");
    t.dc.add_member(&flooder, &[]);
    for i in 0..10 {
        t.dc.push_guild_message(
            discord::COMMUNITY_CHANNEL_ID,
            &flooder,
            &format!("광고 {i}"),
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let timed_out =
        t.dc.wait_until(Duration::from_secs(20), |dc| {
            dc.timeouts().iter().any(|m| m.user_id == flooder.id)
        })
        .await;
    assert!(timed_out, "the flooder is timed out");
    let timeout =
        t.dc.timeouts()
            .into_iter()
            .find(|m| m.user_id == flooder.id)
            .expect("timeout");
    assert_eq!(timeout.guild_id, discord::GUILD_ID);
    assert!(timeout.until.is_some());
    wait_channel(&t.dc, discord::COMMUNITY_CHANNEL_ID, "말하기가 제한").await;
    wait_channel(
        &t.dc,
        discord::STAFF_CHANNEL_ID,
        &format!("/unmute {}", flooder.id),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discord_vip_in_the_guild_gets_the_role_and_one_outside_gets_an_invite_first() {
    let t = TestApp::start_with(DISCORD_ONLY).await;
    let inside = member(11, "안쪽");
    let outside = member(12, "바깥");
    t.dc.add_member(&inside, &[]);
    let (status, _) = t
        .post_events(&[consenting("in", "안쪽"), consenting("out", "바깥")])
        .await;
    assert_eq!(status, 202);
    link_on_discord(
        &t,
        &[
            ("in".to_string(), inside.clone()),
            ("out".to_string(), outside.clone()),
        ],
    )
    .await;
    let mut orders = ten_orders("in");
    orders.extend(ten_orders("out"));
    assert_eq!(t.post_events(&orders).await.0, 202);

    let granted = wait_dm(&t.dc, inside.id, "VIP 채널").await;
    assert!(granted.content.starts_with("(광고)"), "{}", granted.content);
    assert!(
        t.dc.role_grants()
            .iter()
            .any(|g| g.user_id == inside.id && g.role_id == discord::VIP_ROLE_ID),
        "the member got the VIP role"
    );
    let invited = wait_dm(&t.dc, outside.id, "discord.gg/").await;
    assert_eq!(t.dc.invites().len(), 1, "one invite, for the one outside");
    assert!(invited.content.contains(&t.dc.invites()[0].code));
    assert!(
        !t.dc.role_grants().iter().any(|g| g.user_id == outside.id),
        "no role before joining"
    );
    t.dc.push_member_join(&outside);
    let joined =
        t.dc.wait_until(Duration::from_secs(20), |dc| {
            dc.role_grants()
                .iter()
                .any(|g| g.user_id == outside.id && g.role_id == discord::VIP_ROLE_ID)
        })
        .await;
    assert!(joined, "the role follows the join");
}
