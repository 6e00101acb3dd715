//! `encore demo`: a complete, scripted after-broadcast on the built-in chat emulator and an
//! embedded SQLite database. No token, no network. It runs the real code — events in, flows,
//! outbox, dispatcher, rendering — and prints what each viewer received, then the report.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::context::AppContext;
use crate::domain::faq::Faq;
use crate::domain::{Lang, Platform};
use crate::flows::linking::{MARKETING_NO, MARKETING_YES, NIGHT_NO, create_link_token};
use crate::i18n::Texts;
use crate::outbox::dispatcher::{Dispatcher, wait_until_idle};
use crate::outbox::render::Renderer;
use crate::platforms::emulator::{Emulator, STAFF_CHAT, STAFF_USER};
use crate::platforms::{Incoming, IncomingContent, Messenger};
use crate::store::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub viewers: usize,
    pub lang: Lang,
    /// A database URL; `None` uses a temporary SQLite file, removed afterwards.
    pub db_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the texts in locales/ are broken: {0}")]
    Texts(#[from] crate::i18n::I18nError),
    #[error("the scripted events were refused: {0}")]
    Events(#[from] crate::ingest::IngestError),
    #[error("cannot write the transcript: {0}")]
    Output(#[from] std::io::Error),
    #[error("--viewers must be between 1 and 10000, not {0}")]
    Viewers(usize),
    #[error("the shipped faq.toml is broken: {0}")]
    Faq(#[from] crate::domain::faq::FaqError),
    #[error("the messages did not all go out within a minute")]
    Stuck,
}

const BROADCAST: &str = "live-demo";

struct Script {
    shop: &'static str,
    title: &'static str,
    names: &'static [&'static str],
    products: &'static [(&'static str, i64)],
    delay_reason: &'static str,
    carrier: &'static str,
    comment: &'static str,
    question: &'static str,
    ask_for_person: &'static str,
    host_reply: &'static str,
}

fn script(lang: Lang) -> Script {
    match lang {
        Lang::Ko => Script {
            shop: "미나의 옷장",
            title: "겨울 아우터 라이브",
            names: &[
                "민수", "지은", "서연", "도윤", "하준", "수아", "예준", "지우", "시우", "하은",
            ],
            products: &[
                ("울 코트", 189_000),
                ("캐시미어 머플러", 49_000),
                ("Coat", 159_000),
                ("니트 3종", 69_000),
                ("패딩 점퍼", 129_000),
                ("가죽 장갑", 39_000),
            ],
            delay_reason: "원단 입고가 예상보다 늦어졌어요",
            carrier: "CJ대한통운",
            comment: "코트 색감이 사진이랑 똑같아서 좋아요!",
            question: "배송은 언제 되나요?",
            ask_for_person: "머플러 색을 바꾸고 싶은데 상담원 연결해주세요",
            host_reply: "안녕하세요, 미나예요. 내일 오전에 색상 변경해서 보내 드릴게요!",
        },
        Lang::En => Script {
            shop: "Mina's Closet",
            title: "Winter Outerwear Live",
            names: &[
                "Minsu", "Jieun", "Seoyeon", "Doyun", "Hajun", "Sua", "Yejun", "Jiwoo", "Siwoo",
                "Haeun",
            ],
            products: &[
                ("Wool Coat", 189_000),
                ("Cashmere Scarf", 49_000),
                ("Puffer Jacket", 129_000),
                ("Knit Set of 3", 69_000),
                ("Leather Gloves", 39_000),
            ],
            delay_reason: "the fabric arrived later than planned",
            carrier: "CJ Logistics",
            comment: "The coat's colour is exactly like in the photos!",
            question: "When will my order ship?",
            ask_for_person: "I want to change the scarf colour, can I talk to a human?",
            host_reply: "Hi, this is Mina. We will swap the colour and ship it tomorrow morning!",
        },
    }
}

pub async fn run(options: &DemoOptions, out: &mut dyn Write) -> Result<(), DemoError> {
    if !(1..=10_000).contains(&options.viewers) {
        return Err(DemoError::Viewers(options.viewers));
    }
    let temp_file = options.db_url.is_none().then(|| {
        std::env::temp_dir().join(format!(
            "encore-demo-{}-{}.db",
            std::process::id(),
            Utc::now().timestamp_millis()
        ))
    });
    let url = match (&options.db_url, &temp_file) {
        (Some(url), _) => url.clone(),
        (None, Some(path)) => format!("sqlite://{}?mode=rwc", path.display()),
        (None, None) => unreachable!("one of the two is set"),
    };
    let result = run_on(options, &url, out).await;
    if let Some(path) = temp_file {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    result
}

async fn run_on(options: &DemoOptions, url: &str, out: &mut dyn Write) -> Result<(), DemoError> {
    let script = script(options.lang);
    let mut config = Config::default();
    config.shop.name = script.shop.to_string();
    config.shop.contact = "02-123-4567".to_string();
    config.shop.default_locale = options.lang;
    config.database.url = url.to_string();

    let store = Store::open_and_migrate(url).await?;
    let texts = Arc::new(Texts::load()?);
    let mut ctx = AppContext::new(config, store.clone(), Arc::new(SystemClock), texts.clone());
    // The FAQ file shipped with encore, so the demo can answer questions.
    ctx.faq = Arc::new(Faq::from_toml(include_str!("../faq.toml"), "faq.toml")?);
    let emulator = Emulator::new();
    let messengers: Vec<Arc<dyn Messenger>> = vec![Arc::new(emulator.clone())];
    let dispatcher = Arc::new(Dispatcher::new(
        store.clone(),
        Arc::new(Renderer::new(texts.clone(), &ctx.config, ctx.clock.clone())),
        messengers,
        ctx.clock.clone(),
        ctx.outbox.doorbell(),
        ctx.roles.moves().clone(),
        &ctx.config,
    ));
    let (stop, stop_rx) = watch::channel(false);
    let running = tokio::spawn(dispatcher.run(stop_rx));

    let outcome = play(&ctx, &script, options, &emulator, out).await;
    let _ = stop.send(true);
    let _ = running.await;
    store.close().await;
    outcome
}

async fn play(
    ctx: &AppContext,
    script: &Script,
    options: &DemoOptions,
    emulator: &Emulator,
    out: &mut dyn Write,
) -> Result<(), DemoError> {
    let lang = options.lang.code();
    let now = Utc::now();
    let at = |minutes: i64| (now - chrono::Duration::minutes(120 - minutes)).to_rfc3339();
    let mut update = 0u64;
    let mut next_update = || {
        update += 1;
        update.to_string()
    };

    // 1. The shop announces the broadcast and its buyers; viewers link and answer consent.
    let mut events = vec![
        json!({"id": "demo-b-scheduled", "type": "broadcast.scheduled", "occurred_at": at(0),
        "broadcast": {"id": BROADCAST, "title": script.title, "starts_at": at(30)}}),
    ];
    for i in 0..options.viewers {
        let name = format!(
            "{}{}",
            script.names[i % script.names.len()],
            suffix(i, script.names.len())
        );
        events.push(
            json!({"id": format!("demo-c-{i}"), "type": "customer.upserted", "occurred_at": at(1),
            "customer": {"id": format!("c-{i}"), "name": name, "locale": lang}}),
        );
    }
    crate::ingest::ingest(ctx, &events).await?;
    for i in 0..options.viewers {
        let Some(link) = create_link_token(ctx, &format!("c-{i}")).await? else {
            continue;
        };
        say(
            ctx,
            i,
            &next_update(),
            IncomingContent::Text(format!("/start {}", link.token)),
        )
        .await?;
        let answer = if i % 5 == 4 {
            MARKETING_NO
        } else {
            MARKETING_YES
        };
        say(
            ctx,
            i,
            &next_update(),
            IncomingContent::Button {
                data: answer.to_string(),
            },
        )
        .await?;
        if answer == MARKETING_YES {
            say(
                ctx,
                i,
                &next_update(),
                IncomingContent::Button {
                    data: NIGHT_NO.to_string(),
                },
            )
            .await?;
        }
    }

    // 2. During the live: everyone buys; the first viewer buys twice.
    let mut orders = Vec::new();
    for i in 0..options.viewers {
        let count = if i == 0 { 2 } else { 1 };
        for n in 0..count {
            let (product, price) = script.products[(i + n * 3) % script.products.len()];
            let order_id = format!("o-{i}-{n}");
            orders.push(json!({"id": format!("demo-o-{i}-{n}"), "type": "order.placed", "occurred_at": at(40 + n as i64),
                "order": {"id": order_id, "customer_id": format!("c-{i}"), "broadcast_id": BROADCAST,
                    "items": [{"sku": format!("SKU-{}", (i + n * 3) % script.products.len()), "name": product, "quantity": 1, "unit_price": price}],
                    "total": price, "currency": "KRW"}}));
        }
    }
    orders.push(
        json!({"id": "demo-o-0-0-paid", "type": "order.status_changed", "occurred_at": at(50),
        "order_id": "o-0-0", "status": "paid"}),
    );
    crate::ingest::ingest(ctx, &orders).await?;

    // 3. The broadcast ends: one thank-you per buyer, naming all their orders.
    crate::ingest::ingest(
        ctx,
        &[
            json!({"id": "demo-b-ended", "type": "broadcast.ended", "occurred_at": at(90),
        "broadcast": {"id": BROADCAST}}),
        ],
    )
    .await?;
    drain(&ctx.store).await?;

    // 4. Afterwards: one order slips, two ship, a late order, and a second "ended" that
    //    thanks nobody twice.
    let eta = (now + chrono::Duration::days(5)).date_naive().to_string();
    let last = options.viewers.saturating_sub(1);
    let mut after: Vec<Value> = vec![
        json!({"id": "demo-delay", "type": "order.status_changed", "occurred_at": at(100), "order_id": "o-0-0",
            "status": "delayed", "delay": {"reason": script.delay_reason, "new_eta": eta}}),
        json!({"id": "demo-ship", "type": "order.status_changed", "occurred_at": at(101), "order_id": format!("o-{last}-0"),
            "status": "shipped", "tracking": {"carrier": script.carrier, "number": "6311-2048-7781"}}),
        json!({"id": "demo-b-ended-again", "type": "broadcast.ended", "occurred_at": at(102), "broadcast": {"id": BROADCAST}}),
    ];
    if last.min(2) != last {
        after.push(json!({"id": "demo-ship-2", "type": "order.status_changed", "occurred_at": at(101), "order_id": "o-2-0",
            "status": "shipped", "tracking": {"carrier": script.carrier, "number": "6311-2048-7782"}}));
    }
    if options.viewers > 1 {
        let (product, price) = script.products[script.products.len() - 1];
        after.push(json!({"id": "demo-late", "type": "order.placed", "occurred_at": at(110),
            "order": {"id": "o-1-late", "customer_id": "c-1", "broadcast_id": BROADCAST,
                "items": [{"sku": "SKU-LATE", "name": product, "quantity": 1, "unit_price": price}], "total": price, "currency": "KRW"}}));
    }
    crate::ingest::ingest(ctx, &after).await?;
    drain(&ctx.store).await?;

    // 5. The conversation goes on: a rating with a comment, an FAQ answer, a hand-off that the
    //    host answers from the staff chat.
    let rate = emulator
        .received(&viewer_chat(0))
        .iter()
        .flat_map(|p| p.buttons.iter().flatten())
        .find(|b| b.data.starts_with("rate:") && b.data.ends_with(":5"))
        .map(|b| b.data.clone());
    if let Some(rate) = rate {
        say(
            ctx,
            0,
            &next_update(),
            IncomingContent::Button { data: rate },
        )
        .await?;
        say(
            ctx,
            0,
            &next_update(),
            IncomingContent::Text(script.comment.to_string()),
        )
        .await?;
    }
    if options.viewers > 1 {
        for question in [script.question, script.ask_for_person] {
            say(
                ctx,
                1,
                &next_update(),
                IncomingContent::Text(question.to_string()),
            )
            .await?;
        }
        drain(&ctx.store).await?;
        let host_reply = Incoming {
            content: IncomingContent::Text(format!("/reply 1 {}", script.host_reply)),
            ..staff_message(&next_update(), lang)
        };
        crate::router::handle(ctx, &host_reply).await?;
    }
    drain(&ctx.store).await?;
    let staff = Incoming {
        content: IncomingContent::Text(format!("/report {BROADCAST}")),
        ..staff_message(&next_update(), lang)
    };
    crate::router::handle(ctx, &staff).await?;
    drain(&ctx.store).await?;

    // 6. The transcript.
    for i in 0..options.viewers {
        let chat = viewer_chat(i);
        let name = format!(
            "{}{}",
            script.names[i % script.names.len()],
            suffix(i, script.names.len())
        );
        writeln!(out, "━━━ {name} ({chat}) ━━━")?;
        for part in emulator.received(&chat) {
            writeln!(out, "{}", part.text)?;
            for row in &part.buttons {
                let labels: Vec<String> = row.iter().map(|b| format!("[ {} ]", b.label)).collect();
                writeln!(out, "{}", labels.join(" "))?;
            }
            writeln!(out)?;
        }
    }
    writeln!(out, "━━━ staff chat ━━━")?;
    for part in emulator.received(STAFF_CHAT) {
        match &part.attachment {
            // The report's chart: a picture in a real chat, its name here.
            Some(picture) => writeln!(out, "[picture: {}]", picture.file_name)?,
            None => writeln!(out, "{}", part.text)?,
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "{} messages delivered to {} viewers and the staff chat.",
        emulator.total_received(),
        options.viewers
    )?;
    Ok(())
}

/// A message from the host in the emulator's staff chat.
fn staff_message(update_id: &str, lang: &str) -> Incoming {
    Incoming {
        platform: Platform::Emulator,
        update_id: update_id.to_string(),
        chat_id: STAFF_CHAT.to_string(),
        chat_is_private: false,
        user_id: STAFF_USER.to_string(),
        user_name: Some("host".to_string()),
        user_lang: Some(lang.to_string()),
        sent_as_chat: false,
        from_admin: false,
        message_id: None,
        reply_to: None,
        private_reply_to: None,
        content: IncomingContent::Text(String::new()),
    }
}

fn viewer_chat(i: usize) -> String {
    format!("viewer-{}", i + 1)
}

/// Names repeat after the list runs out: 민수, …, 민수2.
fn suffix(i: usize, names: usize) -> String {
    match i / names {
        0 => String::new(),
        n => (n + 1).to_string(),
    }
}

async fn say(
    ctx: &AppContext,
    i: usize,
    update_id: &str,
    content: IncomingContent,
) -> Result<(), DemoError> {
    let incoming = Incoming {
        platform: Platform::Emulator,
        update_id: update_id.to_string(),
        chat_id: viewer_chat(i),
        chat_is_private: true,
        user_id: format!("user-{}", i + 1),
        user_name: None,
        user_lang: None,
        sent_as_chat: false,
        from_admin: false,
        message_id: None,
        reply_to: None,
        private_reply_to: None,
        content,
    };
    crate::router::handle(ctx, &incoming).await?;
    Ok(())
}

async fn drain(store: &Store) -> Result<(), DemoError> {
    if wait_until_idle(store, Duration::from_secs(60)).await? {
        Ok(())
    } else {
        Err(DemoError::Stuck)
    }
}
