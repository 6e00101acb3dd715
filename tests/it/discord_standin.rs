//! Self-test of the Discord stand-in, driven by the real serenity client (REST and gateway), so
//! that what the stand-in sends is proven to deserialise the way serenity expects: every test
//! that expects an event fails if serenity's handler did not run (an event with a missing
//! field silently becomes `Event::Unknown` in serenity and reaches no handler).
use crate::support::discord::*;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serenity::all::{
    ApplicationId, ChannelId, Client, ClientBuilder, Command, CommandDataOptionValue,
    CommandInteraction, ComponentInteraction, ComponentInteractionDataKind, Context,
    CreateActionRow, CreateAttachment, CreateButton, CreateCommand, CreateCommandOption,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    CreateInvite, CreateMessage, EditInteractionResponse, EditMember, Event, EventHandler,
    GatewayIntents, Guild, GuildId, Http, HttpBuilder, Interaction, Member, Message, MessageId,
    Ready, RoleId, ShardManager, UserId,
};
use serenity::async_trait;
use serenity::client::RawEventHandler;
use serenity::http::HttpError;
use serenity::model::event::{GatewayEvent, ResumedEvent};

const WAIT: Duration = Duration::from_secs(10);

/// The intents an encore-like bot asks for.
fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
        | GatewayIntents::GUILD_MEMBERS
}

fn viewer(id: u64) -> DcUser {
    DcUser::new(id, format!("viewer{id}"))
        .with_global_name("Minji")
        .with_locale("ko")
}

/// A serenity `Http` pointed at the stand-in (the rate limiter must be off for the proxy to
/// be used).
fn http_for(dc: &FakeDiscord) -> Http {
    HttpBuilder::new(TOKEN)
        .proxy(dc.api_url())
        .ratelimiter_disabled(true)
        .application_id(ApplicationId::new(APPLICATION_ID))
        .build()
}

/// The status and Discord's JSON `code` of a failed serenity HTTP call.
fn discord_error(error: &serenity::Error) -> Option<(u16, isize)> {
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => {
            Some((response.status_code.as_u16(), response.error.code))
        }
        _ => None,
    }
}

/// What the bot's handlers saw.
#[derive(Default)]
struct Seen {
    ready: Vec<Ready>,
    guilds: Vec<Guild>,
    messages: Vec<Message>,
    commands: Vec<CommandInteraction>,
    components: Vec<ComponentInteraction>,
    member_joins: Vec<Member>,
    resumed: usize,
    /// Events serenity could not parse (`Event::Unknown`), by name.
    unknown: Vec<String>,
    /// Every event the raw handler got, by name.
    raw: Vec<String>,
    /// Results of the handler's own answers to interactions.
    answers: Vec<Result<(), String>>,
}

/// The bot: records every event; answers commands with a message (`/slow` with a deferred
/// answer, then an edit of the original and a follow-up) and buttons with `Acknowledge`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Seen>>);

impl Recorder {
    fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.0.lock().unwrap())
    }

    fn record(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.0.lock().unwrap());
    }

    async fn wait(&self, what: &str, condition: impl Fn(&Seen) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !self.seen(&condition) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; unknown events: {:?}, raw events: {:?}",
                self.seen(|s| s.unknown.clone()),
                self.seen(|s| s.raw.clone())
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[async_trait]
impl EventHandler for Recorder {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        self.record(|s| s.ready.push(ready));
    }

    async fn guild_create(&self, _ctx: Context, guild: Guild, _is_new: Option<bool>) {
        self.record(|s| s.guilds.push(guild));
    }

    async fn message(&self, _ctx: Context, message: Message) {
        self.record(|s| s.messages.push(message));
    }

    async fn guild_member_addition(&self, _ctx: Context, new_member: Member) {
        self.record(|s| s.member_joins.push(new_member));
    }

    async fn resume(&self, _ctx: Context, _event: ResumedEvent) {
        self.record(|s| s.resumed += 1);
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let answer = match &interaction {
            Interaction::Command(command) if command.data.name == "slow" => {
                let mut result = command.defer(&ctx.http).await;
                if result.is_ok() {
                    result = command
                        .edit_response(&ctx.http, EditInteractionResponse::new().content("Done"))
                        .await
                        .map(|_| ());
                }
                if result.is_ok() {
                    result = command
                        .create_followup(
                            &ctx.http,
                            CreateInteractionResponseFollowup::new()
                                .content("One more thing")
                                .ephemeral(true),
                        )
                        .await
                        .map(|_| ());
                }
                result
            }
            Interaction::Command(command) if command.data.name == "quiet" => Ok(()),
            Interaction::Command(command) => {
                let message = CreateInteractionResponseMessage::new()
                    .content(format!("Hello from /{}", command.data.name))
                    .components(vec![CreateActionRow::Buttons(vec![
                        CreateButton::new("again").label("Again"),
                    ])]);
                command
                    .create_response(&ctx.http, CreateInteractionResponse::Message(message))
                    .await
            }
            Interaction::Component(component) if component.data.custom_id == "edit" => {
                let update = CreateInteractionResponseMessage::new()
                    .content("Updated")
                    .components(vec![]);
                component
                    .create_response(&ctx.http, CreateInteractionResponse::UpdateMessage(update))
                    .await
            }
            Interaction::Component(component) => {
                component
                    .create_response(&ctx.http, CreateInteractionResponse::Acknowledge)
                    .await
            }
            _ => Ok(()),
        };
        self.record(|s| {
            s.answers.push(answer.map_err(|e| e.to_string()));
            match interaction {
                Interaction::Command(command) => s.commands.push(command),
                Interaction::Component(component) => s.components.push(component),
                _ => {}
            }
        });
    }
}

#[async_trait]
impl RawEventHandler for Recorder {
    async fn raw_event(&self, _ctx: Context, event: Event) {
        self.record(|s| match &event {
            Event::Unknown(unknown) => s.unknown.push(unknown.kind.clone()),
            other => s.raw.push(other.name().unwrap_or_default()),
        });
    }
}

/// A running serenity client and what it saw; the client stops when this is dropped.
struct Bot {
    seen: Recorder,
    http: Arc<Http>,
    shard_manager: Arc<ShardManager>,
    task: tokio::task::JoinHandle<Result<(), serenity::Error>>,
}

impl Drop for Bot {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start_bot(dc: &FakeDiscord, intents: GatewayIntents) -> Bot {
    let seen = Recorder::default();
    let mut client: Client = ClientBuilder::new_with_http(http_for(dc), intents)
        .event_handler(seen.clone())
        .raw_event_handler(seen.clone())
        .await
        .expect("client");
    let http = Arc::clone(&client.http);
    let shard_manager = Arc::clone(&client.shard_manager);
    let task = tokio::spawn(async move { client.start().await });
    Bot {
        seen,
        http,
        shard_manager,
        task,
    }
}

/// Starts a bot and waits until it has its READY and GUILD_CREATE.
async fn connected_bot(dc: &FakeDiscord) -> Bot {
    let bot = start_bot(dc, intents()).await;
    bot.seen
        .wait("READY and GUILD_CREATE", |s| {
            !s.ready.is_empty() && !s.guilds.is_empty()
        })
        .await;
    bot
}

/// Every dispatch the gateway sent parses as a known serenity event (not `Unknown`).
fn assert_every_dispatch_parses(dc: &FakeDiscord) {
    for frame in dc.frames() {
        let parsed: GatewayEvent = serde_json::from_value(frame.payload.clone())
            .unwrap_or_else(|e| panic!("frame does not parse: {e}: {}", frame.payload));
        if let GatewayEvent::Dispatch(_, Event::Unknown(unknown)) = parsed {
            panic!(
                "serenity does not understand {}: {}",
                unknown.kind, frame.payload
            );
        }
    }
}

/// A raw HTTP/1.1 request, for what serenity hides (headers of error answers).
async fn raw_request(
    dc: &FakeDiscord,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, Vec<(String, String)>, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = dc.api_url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bot {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (
        status,
        headers,
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_client_identifies_with_its_intents_and_gets_ready_and_guild_create() {
    let dc = FakeDiscord::start().await;
    let bot = connected_bot(&dc).await;

    let identifies = dc.identify_log();
    assert_eq!(identifies.len(), 1);
    assert_eq!(identifies[0].intents, intents().bits());
    assert_eq!(identifies[0].token, format!("Bot {TOKEN}"));
    assert_eq!(identifies[0].shard, Some((0, 1)));
    assert_eq!(identifies[0].refused_with, None);
    assert!(dc.connected());

    let ready = bot.seen.seen(|s| s.ready[0].clone());
    assert_eq!(ready.user.id, UserId::new(BOT_USER_ID));
    assert!(ready.user.bot);
    assert_eq!(ready.application.id, ApplicationId::new(APPLICATION_ID));
    assert_eq!(ready.guilds.len(), 1);
    assert_eq!(ready.guilds[0].id, GuildId::new(GUILD_ID));

    let guild = bot.seen.seen(|s| s.guilds[0].clone());
    assert_eq!(guild.id, GuildId::new(GUILD_ID));
    assert!(!guild.unavailable);
    assert!(
        guild
            .channels
            .contains_key(&ChannelId::new(STAFF_CHANNEL_ID))
    );
    assert!(
        guild
            .channels
            .contains_key(&ChannelId::new(COMMUNITY_CHANNEL_ID))
    );
    assert_eq!(
        guild.channels[&ChannelId::new(STAFF_CHANNEL_ID)].name,
        "staff"
    );
    let me = &guild.members[&UserId::new(BOT_USER_ID)];
    assert_eq!(me.roles, vec![RoleId::new(BOT_ROLE_ID)]);
    assert!(guild.roles[&RoleId::new(BOT_ROLE_ID)].managed);
    assert_eq!(guild.roles[&RoleId::new(VIP_ROLE_ID)].name, "VIP");

    // serenity learnt the application id from READY.
    assert_eq!(
        bot.http.application_id(),
        Some(ApplicationId::new(APPLICATION_ID))
    );
    // Start-up asked for the gateway URL only.
    let paths: Vec<String> = dc.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, vec!["/api/v10/gateway".to_owned()]);
    assert!(bot.seen.seen(|s| s.unknown.is_empty()));
    assert_every_dispatch_parses(&dc);
}

#[tokio::test]
async fn a_pushed_dm_reaches_the_message_handler_with_its_content_and_dm_channel() {
    let dc = FakeDiscord::start().await;
    let bot = connected_bot(&dc).await;
    let minji = viewer(1001);

    let id = dc.push_dm(&minji, "안녕하세요, 주문 상태가 궁금해요");
    bot.seen.wait("the DM", |s| !s.messages.is_empty()).await;

    let message = bot.seen.seen(|s| s.messages[0].clone());
    assert_eq!(message.id, MessageId::new(id));
    assert_eq!(message.content, "안녕하세요, 주문 상태가 궁금해요");
    assert_eq!(message.author.id, UserId::new(1001));
    assert_eq!(message.author.global_name.as_deref(), Some("Minji"));
    assert_eq!(message.guild_id, None);
    let dm = dc.dm_channel_of(1001).expect("DM channel");
    assert_eq!(message.channel_id, ChannelId::new(dm));
    // Opening the DM from the bot's side gives the same channel, without using the budget.
    let channel = UserId::new(1001)
        .create_dm_channel(&bot.http)
        .await
        .expect("open DM");
    assert_eq!(channel.id, ChannelId::new(dm));
    assert!(!dc.dm_opens()[0].new);
    assert_every_dispatch_parses(&dc);
}

#[tokio::test]
async fn a_guild_message_carries_guild_and_member_and_needs_the_content_intent() {
    let dc = FakeDiscord::start().await;
    let bot = connected_bot(&dc).await;
    dc.push_guild_message(COMMUNITY_CHANNEL_ID, &owner(), "배송 언제 와요?");
    bot.seen
        .wait("the guild message", |s| !s.messages.is_empty())
        .await;
    let message = bot.seen.seen(|s| s.messages[0].clone());
    assert_eq!(message.guild_id, Some(GuildId::new(GUILD_ID)));
    assert_eq!(message.channel_id, ChannelId::new(COMMUNITY_CHANNEL_ID));
    assert_eq!(message.content, "배송 언제 와요?");
    let member = message.member.expect("member");
    assert_eq!(member.roles, vec![RoleId::new(STAFF_ROLE_ID)]);
    drop(bot);

    // Without MESSAGE_CONTENT the text is empty unless the bot is mentioned.
    let dc = FakeDiscord::start().await;
    let bot = start_bot(
        &dc,
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES,
    )
    .await;
    bot.seen.wait("READY", |s| !s.guilds.is_empty()).await;
    dc.push_guild_message(COMMUNITY_CHANNEL_ID, &owner(), "secret");
    dc.push_guild_message(
        COMMUNITY_CHANNEL_ID,
        &owner(),
        &format!("<@{BOT_USER_ID}> hello"),
    );
    dc.push_dm(&viewer(7), "DMs keep their content");
    bot.seen
        .wait("three messages", |s| s.messages.len() == 3)
        .await;
    // (serenity runs each handler in its own task: compare without order.)
    let mut contents = bot.seen.seen(|s| {
        s.messages
            .iter()
            .map(|m| m.content.clone())
            .collect::<Vec<_>>()
    });
    contents.sort();
    assert_eq!(
        contents,
        vec![
            String::new(),
            format!("<@{BOT_USER_ID}> hello"),
            "DMs keep their content".to_owned(),
        ]
    );
    assert!(bot.seen.seen(|s| {
        s.messages
            .iter()
            .any(|m| m.mentions_user_id(UserId::new(BOT_USER_ID)))
    }));
}

#[tokio::test]
async fn a_slash_command_reaches_the_handler_and_its_answer_is_recorded_within_three_seconds() {
    let dc = FakeDiscord::start().await;
    let bot = connected_bot(&dc).await;
    let minji = viewer(1002);

    let pushed = dc.push_command(
        &minji,
        "order",
        vec![("number", json!("A-1001")), ("count", json!(2))],
        true,
    );
    bot.seen
        .wait("the command", |s| !s.commands.is_empty())
        .await;
    dc.wait_until(WAIT, |dc| !dc.interaction_callbacks().is_empty())
        .await;

    let command = bot.seen.seen(|s| s.commands[0].clone());
    assert_eq!(command.id.get(), pushed.id);
    assert_eq!(command.token, pushed.token);
    assert_eq!(command.data.name, "order");
    assert_eq!(command.user.id, UserId::new(1002));
    assert_eq!(command.locale, "ko");
    assert_eq!(command.guild_id, None);
    assert_eq!(command.channel_id, ChannelId::new(pushed.channel_id));
    assert_eq!(Some(pushed.channel_id), dc.dm_channel_of(1002));
    let options = &command.data.options;
    assert_eq!(options[0].name, "number");
    assert_eq!(
        options[0].value,
        CommandDataOptionValue::String("A-1001".to_owned())
    );
    assert_eq!(options[1].value, CommandDataOptionValue::Integer(2));

    let callbacks = dc.interaction_callbacks();
    assert_eq!(callbacks.len(), 1);
    assert_eq!(callbacks[0].interaction_id, pushed.id);
    assert_eq!(callbacks[0].token, pushed.token);
    assert_eq!(callbacks[0].kind, 4);
    assert_eq!(callbacks[0].status, 204);
    assert!(callbacks[0].after < Duration::from_secs(3));
    let data = callbacks[0].data.as_ref().expect("data");
    assert_eq!(data["content"], "Hello from /order");
    assert_eq!(data["components"][0]["components"][0]["custom_id"], "again");
    bot.seen.wait("the answer", |s| !s.answers.is_empty()).await;
    assert_eq!(bot.seen.seen(|s| s.answers.clone()), vec![Ok(())]);

    // A second answer is refused like Discord does.
    let again = command
        .create_response(&bot.http, CreateInteractionResponse::Acknowledge)
        .await
        .expect_err("second answer");
    assert_eq!(discord_error(&again), Some((400, 40060)));

    // A command in a guild channel carries the member and the guild.
    let pushed = dc.push_command_in(STAFF_CHANNEL_ID, &owner(), "handoff", vec![]);
    bot.seen
        .wait("the guild command", |s| s.commands.len() == 2)
        .await;
    let command = bot.seen.seen(|s| s.commands[1].clone());
    assert_eq!(command.guild_id, Some(GuildId::new(GUILD_ID)));
    assert_eq!(command.channel_id, ChannelId::new(STAFF_CHANNEL_ID));
    assert_eq!(command.user.id, UserId::new(OWNER_ID));
    assert_eq!(
        command.member.as_ref().expect("member").roles,
        vec![RoleId::new(STAFF_ROLE_ID)]
    );
    assert_eq!(pushed.guild_id, Some(GUILD_ID));
    assert_every_dispatch_parses(&dc);
}

#[tokio::test]
async fn a_late_answer_is_unknown_interaction_and_a_deferred_one_can_be_edited_and_followed_up() {
    let options = FakeDiscordOptions {
        interaction_deadline: Duration::from_secs(1),
        ..FakeDiscordOptions::default()
    };
    let dc = FakeDiscord::start_with(options).await;
    let bot = connected_bot(&dc).await;

    let pushed = dc.push_command(&viewer(1003), "slow", vec![], false);
    bot.seen.wait("the answer", |s| !s.answers.is_empty()).await;
    assert_eq!(bot.seen.seen(|s| s.answers.clone()), vec![Ok(())]);
    let callbacks = dc.interaction_callbacks();
    assert_eq!(callbacks[0].interaction_id, pushed.id);
    assert_eq!(callbacks[0].kind, 5);
    let followups = dc.followups();
    assert!(followups[0].edit_original);
    assert_eq!(followups[0].interaction_id, pushed.id);
    assert_eq!(followups[0].content.as_deref(), Some("Done"));
    assert_eq!(followups[0].status, 200);
    assert!(!followups[1].edit_original);
    assert_eq!(followups[1].content.as_deref(), Some("One more thing"));
    assert_eq!(followups[1].flags, Some(64));

    // Answering after the deadline fails with 10062, as on Discord after 3 s (the handler
    // leaves `/quiet` unanswered).
    let quiet = dc.push_command(&viewer(1004), "quiet", vec![], true);
    bot.seen
        .wait("the command", |s| s.commands.len() == 2)
        .await;
    let command = bot.seen.seen(|s| s.commands[1].clone());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let error = command
        .create_response(&bot.http, CreateInteractionResponse::Acknowledge)
        .await
        .expect_err("late answer");
    assert_eq!(discord_error(&error), Some((404, 10062)));
    let callbacks = dc.interaction_callbacks();
    let last = callbacks.last().expect("recorded");
    assert_eq!(last.interaction_id, quiet.id);
    assert_eq!(last.status, 404);
    assert!(last.after >= Duration::from_millis(1100));
}

#[tokio::test]
async fn a_button_press_reaches_the_handler_as_a_component_and_is_acknowledged() {
    let dc = FakeDiscord::start().await;
    let bot = connected_bot(&dc).await;
    let dm = UserId::new(1006)
        .create_dm_channel(&bot.http)
        .await
        .expect("open DM");
    let sent = dm
        .id
        .send_message(
            &bot.http,
            CreateMessage::new()
                .content("Did your order arrive?")
                .components(vec![CreateActionRow::Buttons(vec![
                    CreateButton::new("arrived:yes").label("Yes"),
                    CreateButton::new("arrived:no").label("No"),
                ])]),
        )
        .await
        .expect("send");

    let pushed = dc.push_component(&viewer(1006), sent.id.get(), dm.id.get(), "arrived:yes");
    bot.seen
        .wait("the button", |s| !s.components.is_empty())
        .await;
    dc.wait_until(WAIT, |dc| !dc.interaction_callbacks().is_empty())
        .await;

    let component = bot.seen.seen(|s| s.components[0].clone());
    assert_eq!(component.id.get(), pushed.id);
    assert_eq!(component.data.custom_id, "arrived:yes");
    assert!(matches!(
        component.data.kind,
        ComponentInteractionDataKind::Button
    ));
    assert_eq!(component.user.id, UserId::new(1006));
    assert_eq!(component.message.id, sent.id);
    assert_eq!(component.message.content, "Did your order arrive?");
    assert_eq!(component.message.components[0].components.len(), 2);
    let callbacks = dc.interaction_callbacks();
    assert_eq!(callbacks[0].kind, 6);
    assert_eq!(callbacks[0].status, 204);
    bot.seen.wait("the answer", |s| !s.answers.is_empty()).await;
    assert_eq!(bot.seen.seen(|s| s.answers.clone()), vec![Ok(())]);

    // A follow-up after the acknowledgement parses as a message.
    let followup = component
        .create_followup(
            &bot.http,
            CreateInteractionResponseFollowup::new().content("Thanks!"),
        )
        .await
        .expect("follow-up");
    assert_eq!(followup.content, "Thanks!");
    assert_eq!(dc.followups()[0].status, 200);

    // `UpdateMessage` changes the message the button is under.
    dc.push_component(&viewer(1006), sent.id.get(), dm.id.get(), "edit");
    bot.seen
        .wait("the second answer", |s| s.answers.len() == 2)
        .await;
    assert_eq!(bot.seen.seen(|s| s.answers[1].clone()), Ok(()));
    assert_eq!(dc.interaction_callbacks()[1].kind, 7);
    let updated = dc.message(sent.id.get()).expect("message");
    assert_eq!(updated["content"], "Updated");
    assert_eq!(updated["components"], json!([]));
    assert_every_dispatch_parses(&dc);
}

#[tokio::test]
async fn a_message_with_buttons_is_recorded_with_its_components_and_the_answer_parses() {
    let dc = FakeDiscord::start().await;
    let http = http_for(&dc);
    let message = ChannelId::new(STAFF_CHANNEL_ID)
        .send_message(
            &http,
            CreateMessage::new()
                .content("New hand-off: order A-1001")
                .components(vec![CreateActionRow::Buttons(vec![
                    CreateButton::new("claim:1").label("Claim"),
                    CreateButton::new_link("https://shop.example/orders/A-1001").label("Order"),
                ])]),
        )
        .await
        .expect("send");
    assert_eq!(message.channel_id, ChannelId::new(STAFF_CHANNEL_ID));
    assert_eq!(message.guild_id, Some(GuildId::new(GUILD_ID)));
    assert_eq!(message.author.id, UserId::new(BOT_USER_ID));
    assert_eq!(message.components[0].components.len(), 2);

    let sent = dc.sent_to(STAFF_CHANNEL_ID);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, message.id.get());
    assert_eq!(sent[0].content, "New hand-off: order A-1001");
    let components = sent[0].components.as_ref().expect("components");
    assert_eq!(components[0]["type"], 1);
    assert_eq!(components[0]["components"][0]["custom_id"], "claim:1");
    assert_eq!(components[0]["components"][0]["style"], 1);
    assert_eq!(
        components[0]["components"][1]["url"],
        "https://shop.example/orders/A-1001"
    );

    // A reply names the message it answers.
    let reply = ChannelId::new(STAFF_CHANNEL_ID)
        .send_message(
            &http,
            CreateMessage::new()
                .content("Claimed")
                .reference_message(&message),
        )
        .await
        .expect("reply");
    assert_eq!(dc.sent()[1].reply_to, Some(message.id.get()));
    assert_eq!(
        reply.referenced_message.as_ref().map(|m| m.id),
        Some(message.id)
    );

    // A file goes as multipart and is recorded by name.
    let file = CreateAttachment::bytes(b"id,total\n1,30000\n".to_vec(), "report.csv");
    let with_file = ChannelId::new(STAFF_CHANNEL_ID)
        .send_message(&http, CreateMessage::new().content("Report").add_file(file))
        .await
        .expect("file");
    assert_eq!(with_file.attachments[0].filename, "report.csv");
    assert_eq!(dc.sent()[2].files, vec!["report.csv".to_owned()]);

    // Duplicate custom ids and unknown channels are refused like Discord does.
    let duplicate = ChannelId::new(STAFF_CHANNEL_ID)
        .send_message(
            &http,
            CreateMessage::new()
                .content("x")
                .components(vec![CreateActionRow::Buttons(vec![
                    CreateButton::new("same").label("A"),
                    CreateButton::new("same").label("B"),
                ])]),
        )
        .await
        .expect_err("duplicate custom ids");
    assert_eq!(discord_error(&duplicate), Some((400, 50035)));
    let unknown = ChannelId::new(1007)
        .send_message(&http, CreateMessage::new().content("to a user id"))
        .await
        .expect_err("unknown channel");
    assert_eq!(discord_error(&unknown), Some((404, 10003)));
}

#[tokio::test]
async fn the_sixth_message_to_a_channel_within_five_seconds_is_refused_with_429() {
    let dc = FakeDiscord::start().await;
    dc.allow_violations();
    let http = http_for(&dc);
    let channel = ChannelId::new(COMMUNITY_CHANNEL_ID);
    for i in 0..5 {
        channel
            .send_message(&http, CreateMessage::new().content(format!("note {i}")))
            .await
            .expect("within the limit");
    }
    let error = channel
        .send_message(&http, CreateMessage::new().content("note 5"))
        .await
        .expect_err("sixth");
    // serenity keeps only status, `code` and `message` of an error answer; a 429 body has no
    // `code`, so serenity shows -1 (and retry_after is not reachable through the error).
    assert_eq!(discord_error(&error), Some((429, -1)));
    assert_eq!(dc.violations(), 1);
    assert_eq!(dc.invalid_requests(), 1);
    assert_eq!(dc.sent().len(), 5);
    let refused = dc.requests().last().cloned().expect("logged");
    assert_eq!(refused.status, 429);
    let retry_after = refused.retry_after.expect("retry_after");
    assert!(retry_after > Duration::from_secs(4) && retry_after <= Duration::from_secs(5));

    // The raw answer: Discord's body and headers.
    let (status, headers, body) = raw_request(
        &dc,
        "POST",
        &format!("/api/v10/channels/{COMMUNITY_CHANNEL_ID}/messages"),
        TOKEN,
        r#"{"content": "again"}"#,
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(body["message"], "You are being rate limited.");
    assert_eq!(body["global"], false);
    assert!(body["retry_after"].as_f64().expect("retry_after") > 4.0);
    assert_eq!(header(&headers, "retry-after"), Some("5"));
    assert_eq!(header(&headers, "x-ratelimit-scope"), Some("user"));
    assert_eq!(header(&headers, "x-ratelimit-limit"), Some("5"));
    assert_eq!(header(&headers, "x-ratelimit-remaining"), Some("0"));
    assert!(header(&headers, "x-ratelimit-reset-after").is_some());
    assert!(header(&headers, "x-ratelimit-bucket").is_some());
    assert_eq!(header(&headers, "x-ratelimit-global"), None);
    assert_eq!(dc.violations(), 2);

    // Another channel has its own window.
    ChannelId::new(STAFF_CHANNEL_ID)
        .send_message(&http, CreateMessage::new().content("staff"))
        .await
        .expect("other channel");
}

#[tokio::test]
async fn more_than_fifty_requests_in_the_window_hit_the_global_limit() {
    // Discord's 50 per second, with a longer window so that a loaded machine cannot spread
    // the 51 requests over more than one window.
    let options = FakeDiscordOptions {
        global_limit: Some(RateLimit {
            max: 50,
            per: Duration::from_secs(60),
        }),
        ..FakeDiscordOptions::default()
    };
    let dc = FakeDiscord::start_with(options).await;
    dc.allow_violations();
    let http = http_for(&dc);
    let mut refused = None;
    for _ in 0..51 {
        if let Err(error) = http.get_current_user().await {
            refused = Some(error);
            break;
        }
    }
    let error = refused.expect("the 51st request is refused");
    assert_eq!(discord_error(&error), Some((429, -1)));
    let (status, headers, body) = raw_request(&dc, "GET", "/api/v10/users/@me", TOKEN, "").await;
    assert_eq!(status, 429);
    assert_eq!(body["global"], true);
    assert_eq!(header(&headers, "x-ratelimit-global"), Some("true"));
    assert_eq!(header(&headers, "x-ratelimit-scope"), Some("global"));
    assert_eq!(dc.violations(), 2);
}

#[tokio::test]
async fn a_send_to_a_user_with_closed_dms_fails_with_code_50007() {
    let dc = FakeDiscord::start().await;
    let http = http_for(&dc);
    dc.close_dms(1008);
    let dm = UserId::new(1008)
        .create_dm_channel(&http)
        .await
        .expect("open DM");
    let error = dm
        .id
        .send_message(&http, CreateMessage::new().content("Thank you!"))
        .await
        .expect_err("closed DMs");
    // How to read Discord's code from a serenity error:
    match &error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => {
            assert_eq!(response.status_code.as_u16(), 403);
            assert_eq!(response.error.code, 50007);
            assert_eq!(response.error.message, "Cannot send messages to this user");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(dc.sent().is_empty());
    assert_eq!(dc.invalid_requests(), 1);
    assert_eq!(dc.violations(), 0);
}

#[tokio::test]
async fn the_eleventh_new_dm_in_a_minute_is_refused_with_40003() {
    let dc = FakeDiscord::start().await;
    let http = http_for(&dc);
    for user in 2001..=2010 {
        let channel = UserId::new(user)
            .create_dm_channel(&http)
            .await
            .expect("open");
        assert_eq!(Some(channel.id.get()), dc.dm_channel_of(user));
        assert_eq!(channel.recipient.id, UserId::new(user));
    }
    let error = UserId::new(2011)
        .create_dm_channel(&http)
        .await
        .expect_err("eleventh");
    assert_eq!(discord_error(&error), Some((403, 40003)));
    // Re-opening a DM that exists is free, and gives the same channel.
    let again = UserId::new(2001)
        .create_dm_channel(&http)
        .await
        .expect("again");
    assert_eq!(Some(again.id.get()), dc.dm_channel_of(2001));
    let opens = dc.dm_opens();
    assert_eq!(opens.len(), 12);
    assert_eq!(opens[10].status, 403);
    assert_eq!(opens[10].channel_id, None);
    assert!(!opens[11].new);
    assert_eq!(dc.dm_channel_of(2011), None);
}

#[tokio::test]
async fn global_commands_set_in_bulk_are_recorded_with_ids_and_read_back() {
    let dc = FakeDiscord::start().await;
    let http = http_for(&dc);
    let commands = Command::set_global_commands(
        &http,
        vec![
            CreateCommand::new("order")
                .description("Your order")
                .add_option(CreateCommandOption::new(
                    serenity::all::CommandOptionType::String,
                    "number",
                    "Order number",
                )),
            CreateCommand::new("stop").description("Stop messages"),
        ],
    )
    .await
    .expect("set commands");
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0].name, "order");
    assert_eq!(
        commands[0].application_id,
        ApplicationId::new(APPLICATION_ID)
    );
    assert_eq!(commands[0].options[0].name, "number");
    let recorded = dc.global_commands();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0]["id"], commands[0].id.get().to_string());
    assert_eq!(dc.command_overwrites().len(), 1);

    // Setting them again keeps the ids, as Discord does.
    let again = Command::set_global_commands(
        &http,
        vec![CreateCommand::new("order").description("Your order")],
    )
    .await
    .expect("again");
    assert_eq!(again[0].id, commands[0].id);
    assert_eq!(dc.global_commands().len(), 1);
    let read = Command::get_global_commands(&http).await.expect("read");
    assert_eq!(read.len(), 1);

    // A pushed command uses the registered id.
    let dc_bot = connected_bot(&dc).await;
    dc.push_command(&viewer(1009), "order", vec![("number", json!("A-1"))], true);
    dc_bot
        .seen
        .wait("the command", |s| !s.commands.is_empty())
        .await;
    assert_eq!(dc_bot.seen.seen(|s| s.commands[0].data.id), commands[0].id);

    // Invalid names are refused with 50035.
    let error = Command::set_global_commands(
        &http,
        vec![CreateCommand::new("Order").description("upper case")],
    )
    .await
    .expect_err("invalid name");
    assert_eq!(discord_error(&error), Some((400, 50035)));
}

#[tokio::test]
async fn after_a_dropped_connection_the_client_resumes_and_still_gets_dms() {
    let dc = FakeDiscord::start().await;
    let bot = connected_bot(&dc).await;
    dc.push_dm(&viewer(1010), "before");
    bot.seen
        .wait("the first DM", |s| s.messages.len() == 1)
        .await;

    assert_eq!(dc.drop_connection(), 1);
    // An event pushed while the bot is away is replayed on RESUME.
    dc.push_dm(&viewer(1010), "while away");
    assert!(
        dc.wait_until(WAIT, |dc| dc.resumes() == 1 && dc.connected())
            .await,
        "no resume; identifies {}",
        dc.identifies()
    );
    dc.push_dm(&viewer(1010), "after");
    bot.seen.wait("three DMs", |s| s.messages.len() == 3).await;
    bot.seen.wait("RESUMED", |s| s.resumed == 1).await;
    let mut contents: Vec<String> = bot
        .seen
        .seen(|s| s.messages.iter().map(|m| m.content.clone()).collect());
    contents.sort();
    assert_eq!(contents, vec!["after", "before", "while away"]);
    // On the wire: the missed DM is replayed on the new connection before RESUMED.
    let second: Vec<String> = dc
        .frames()
        .iter()
        .filter(|f| f.connection == 2)
        .filter_map(|f| match f.event_name() {
            Some("MESSAGE_CREATE") => Some(f.payload["d"]["content"].as_str()?.to_owned()),
            Some(name) => Some(name.to_owned()),
            None => None,
        })
        .collect();
    assert_eq!(second, vec!["while away", "RESUMED", "after"]);
    assert_eq!(dc.identifies(), 1);
    assert_eq!(dc.connections(), 2);
    assert!(bot.seen.seen(|s| s.unknown.is_empty()));
    assert_every_dispatch_parses(&dc);
}

#[tokio::test]
async fn an_invalid_session_makes_the_client_identify_again() {
    let dc = FakeDiscord::start().await;
    let bot = connected_bot(&dc).await;
    dc.invalidate_session(false);
    assert!(
        dc.wait_until(Duration::from_secs(15), |dc| dc.identifies() == 2
            && dc.connected())
            .await
    );
    bot.seen
        .wait("a second READY", |s| s.ready.len() == 2)
        .await;
    dc.push_dm(&viewer(1011), "after identify");
    bot.seen.wait("the DM", |s| s.messages.len() == 1).await;
}

#[tokio::test]
async fn a_bot_without_the_message_content_flag_is_refused_with_close_code_4014() {
    let options = FakeDiscordOptions {
        application_flags: FLAG_GATEWAY_GUILD_MEMBERS,
        ..FakeDiscordOptions::default()
    };
    let dc = FakeDiscord::start_with(options).await;
    let http = http_for(&dc);
    let info = http
        .get_current_application_info()
        .await
        .expect("application");
    assert_eq!(info.id, ApplicationId::new(APPLICATION_ID));
    let flags = info.flags.expect("flags").bits();
    assert_eq!(flags & FLAG_GATEWAY_MESSAGE_CONTENT, 0);
    assert_ne!(flags & FLAG_GATEWAY_GUILD_MEMBERS, 0);

    let mut bot = start_bot(&dc, intents()).await;
    let result = tokio::time::timeout(WAIT, &mut bot.task)
        .await
        .expect("the client gives up")
        .expect("join");
    assert!(matches!(
        result,
        Err(serenity::Error::Gateway(
            serenity::gateway::GatewayError::DisallowedGatewayIntents
        ))
    ));
    assert_eq!(dc.identify_log()[0].refused_with, Some(4014));

    // With the flag set (in the developer portal) the same bot gets in.
    dc.set_application_flags(FLAG_GATEWAY_GUILD_MEMBERS | FLAG_GATEWAY_MESSAGE_CONTENT);
    let _bot = connected_bot(&dc).await;
}

#[tokio::test]
async fn roles_are_granted_within_the_hierarchy_and_members_are_looked_up() {
    let dc = FakeDiscord::start().await;
    let http = http_for(&dc);
    let minji = viewer(1012);
    let guild = GuildId::new(GUILD_ID);

    let error = guild
        .member(&http, UserId::new(1012))
        .await
        .expect_err("not a member");
    assert_eq!(discord_error(&error), Some((404, 10007)));

    dc.add_member(&minji, &[]);
    let member = guild
        .member(&http, UserId::new(1012))
        .await
        .expect("member");
    assert_eq!(member.user.id, UserId::new(1012));
    assert!(member.roles.is_empty());

    http.add_member_role(
        guild,
        UserId::new(1012),
        RoleId::new(VIP_ROLE_ID),
        Some("VIP tier"),
    )
    .await
    .expect("grant VIP");
    let grants = dc.role_grants();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].user_id, 1012);
    assert_eq!(grants[0].role_id, VIP_ROLE_ID);
    assert_eq!(grants[0].reason.as_deref(), Some("VIP tier"));
    assert_eq!(dc.member_roles(1012), Some(vec![VIP_ROLE_ID]));

    // Staff is below the bot too, but its own role and anything above are not grantable.
    let error = http
        .add_member_role(guild, UserId::new(1012), RoleId::new(BOT_ROLE_ID), None)
        .await
        .expect_err("managed role");
    assert_eq!(discord_error(&error), Some((403, 50013)));
    http.remove_member_role(guild, UserId::new(1012), RoleId::new(VIP_ROLE_ID), None)
        .await
        .expect("remove");
    assert_eq!(dc.role_removals().len(), 1);
    assert_eq!(dc.member_roles(1012), Some(vec![]));
}

#[tokio::test]
async fn a_member_join_reaches_the_handler_as_a_guild_member_addition() {
    let dc = FakeDiscord::start().await;
    let bot = connected_bot(&dc).await;
    let minji = viewer(1030);

    let joined_at = dc.push_member_join(&minji);

    bot.seen
        .wait("GUILD_MEMBER_ADD", |s| !s.member_joins.is_empty())
        .await;
    let member = bot.seen.seen(|s| s.member_joins[0].clone());
    assert_eq!(member.user.id, UserId::new(1030));
    assert_eq!(member.user.global_name.as_deref(), Some("Minji"));
    assert_eq!(member.guild_id, GuildId::new(GUILD_ID));
    assert!(member.roles.is_empty());
    let joined = member.joined_at.expect("joined_at");
    assert_eq!(
        joined.unix_timestamp(),
        chrono::DateTime::parse_from_rfc3339(&joined_at)
            .unwrap()
            .timestamp()
    );
    assert_eq!(dc.member_roles(1030), Some(vec![]));
    assert_every_dispatch_parses(&dc);

    // Without the GUILD_MEMBERS intent, no join events.
    let dc = FakeDiscord::start().await;
    let bot = start_bot(&dc, intents() - GatewayIntents::GUILD_MEMBERS).await;
    bot.seen.wait("READY", |s| !s.ready.is_empty()).await;
    dc.push_member_join(&viewer(1031));
    dc.push_dm(&viewer(1032), "after the join");
    bot.seen.wait("the DM", |s| !s.messages.is_empty()).await;
    assert!(bot.seen.seen(|s| s.member_joins.is_empty()));
}

#[tokio::test]
async fn moderation_routes_are_recorded_and_their_answers_parse_in_serenity() {
    let dc = FakeDiscord::start().await;
    let http = http_for(&dc);
    let guild = GuildId::new(GUILD_ID);
    let channel = ChannelId::new(COMMUNITY_CHANNEL_ID);
    let minji = viewer(1040);
    dc.add_member(&minji, &[]);

    // Deleting someone's message (the bot may manage messages); then it is gone.
    let spam = dc.push_guild_message(COMMUNITY_CHANNEL_ID, &minji, "spam spam");
    http.delete_message(channel, MessageId::new(spam), Some("flood"))
        .await
        .expect("delete");
    assert_eq!(dc.deleted_messages(), vec![(COMMUNITY_CHANNEL_ID, spam)]);
    assert!(dc.message(spam).is_none());
    let error = http
        .delete_message(channel, MessageId::new(spam), None)
        .await
        .expect_err("already gone");
    assert_eq!(discord_error(&error), Some((404, 10008)));

    // Pinning the bot's own message.
    let rules = channel
        .send_message(&http, CreateMessage::new().content("Rules"))
        .await
        .expect("send");
    http.pin_message(channel, rules.id, None)
        .await
        .expect("pin");
    let pins = dc.pins();
    assert_eq!(pins.len(), 1);
    assert_eq!(
        (pins[0].channel_id, pins[0].message_id),
        (COMMUNITY_CHANNEL_ID, rules.id.get())
    );
    let error = http
        .pin_message(channel, MessageId::new(spam), None)
        .await
        .expect_err("unknown message");
    assert_eq!(discord_error(&error), Some((404, 10008)));

    // One-use invites, each with its own code.
    let invite = channel
        .create_invite(
            &http,
            CreateInvite::new()
                .max_age(604_800)
                .max_uses(1)
                .unique(true),
        )
        .await
        .expect("invite");
    let again = channel
        .create_invite(&http, CreateInvite::new().max_uses(1).unique(true))
        .await
        .expect("second invite");
    assert_ne!(invite.code, again.code);
    assert_eq!((invite.max_age, invite.max_uses), (604_800, 1));
    let invites = dc.invites();
    assert_eq!(invites.len(), 2);
    assert_eq!(invites[0].code, invite.code);
    assert_eq!((invites[0].max_age, invites[0].max_uses), (604_800, 1));
    assert!(invites[0].unique);
    assert_eq!(invites[1].max_age, 86_400, "Discord's default");

    // A timeout, shown on the member, then lifted.
    let until = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let member = guild
        .edit_member(
            &http,
            UserId::new(1040),
            EditMember::new().disable_communication_until(until.clone()),
        )
        .await
        .expect("timeout");
    assert!(member.communication_disabled_until.is_some());
    let timeouts = dc.timeouts();
    assert_eq!(timeouts.len(), 1);
    assert_eq!(timeouts[0].user_id, 1040);
    assert_eq!(timeouts[0].until.as_deref(), Some(until.as_str()));
    let member = guild
        .edit_member(
            &http,
            UserId::new(1040),
            EditMember::new().enable_communication(),
        )
        .await
        .expect("lift");
    assert!(member.communication_disabled_until.is_none());
    assert_eq!(dc.timeouts()[1].until, None);

    // Not the owner, not beyond 28 days, not someone who is not a member.
    let error = guild
        .edit_member(
            &http,
            UserId::new(OWNER_ID),
            EditMember::new().disable_communication_until(until.clone()),
        )
        .await
        .expect_err("the owner");
    assert_eq!(discord_error(&error), Some((403, 50013)));
    let far = (chrono::Utc::now() + chrono::Duration::days(29)).to_rfc3339();
    let error = guild
        .edit_member(
            &http,
            UserId::new(1040),
            EditMember::new().disable_communication_until(far),
        )
        .await
        .expect_err("too long");
    assert_eq!(discord_error(&error), Some((400, 50035)));
    let error = guild
        .edit_member(
            &http,
            UserId::new(1049),
            EditMember::new().disable_communication_until(until),
        )
        .await
        .expect_err("not a member");
    assert_eq!(discord_error(&error), Some((404, 10007)));
    assert_eq!(dc.timeouts().len(), 2);
}

#[tokio::test]
async fn a_wrong_token_is_401_and_scripted_faults_come_first() {
    let dc = FakeDiscord::start().await;
    let wrong = HttpBuilder::new("not-the-token")
        .proxy(dc.api_url())
        .ratelimiter_disabled(true)
        .build();
    let error = wrong.get_current_user().await.expect_err("401");
    assert_eq!(discord_error(&error), Some((401, 0)));
    assert_eq!(dc.invalid_requests(), 1);

    let http = http_for(&dc);
    let me = http.get_current_user().await.expect("me");
    assert_eq!(me.id, UserId::new(BOT_USER_ID));
    assert!(me.bot);

    dc.fail_next(1, Fault::ServerError);
    dc.fail_next(
        1,
        Fault::TooManyRequests {
            retry_after_ms: 1500,
            global: false,
        },
    );
    let channel = ChannelId::new(COMMUNITY_CHANNEL_ID);
    let first = channel
        .send_message(&http, CreateMessage::new().content("a"))
        .await
        .expect_err("500");
    assert_eq!(discord_error(&first), Some((500, 0)));
    let second = channel
        .send_message(&http, CreateMessage::new().content("b"))
        .await
        .expect_err("429");
    assert_eq!(discord_error(&second), Some((429, -1)));
    channel
        .send_message(&http, CreateMessage::new().content("c"))
        .await
        .expect("third goes through");
    assert_eq!(dc.scripted_faults(), 2);
    assert_eq!(dc.violations(), 0);
    assert_eq!(dc.invalid_requests(), 1);
    let retry = dc.requests().iter().find(|r| r.status == 429).cloned();
    assert_eq!(
        retry.and_then(|r| r.retry_after),
        Some(Duration::from_millis(1500))
    );

    let (status, _, body) = raw_request(&dc, "GET", "/api/v10/nowhere", TOKEN, "").await;
    assert_eq!((status, body["code"].as_i64()), (404, Some(0)));
    assert_eq!(body["message"], "404: Not Found");
}

#[tokio::test]
async fn heartbeats_are_acknowledged() {
    let options = FakeDiscordOptions {
        heartbeat_interval: Duration::from_millis(200),
        ..FakeDiscordOptions::default()
    };
    let dc = FakeDiscord::start_with(options).await;
    let bot = connected_bot(&dc).await;
    assert!(dc.wait_until(WAIT, |dc| dc.heartbeats() >= 3).await);
    let acks = dc.frames().iter().filter(|f| f.op() == 11).count();
    assert!(acks >= 3);
    assert_eq!(dc.identifies(), 1);
    assert!(dc.connected());

    // Shutting down does not wait for the gateway connection.
    let started = Instant::now();
    dc.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(bot);
}

#[tokio::test]
async fn events_pushed_before_the_bot_connects_are_held_for_it() {
    let dc = FakeDiscord::start().await;
    dc.push_dm(&viewer(1013), "early bird");
    assert_eq!(dc.undelivered_events(), 1);
    let bot = start_bot(&dc, intents()).await;
    bot.seen
        .wait("the early DM", |s| s.messages.len() == 1)
        .await;
    assert_eq!(dc.undelivered_events(), 0);
    let names: Vec<String> = dc
        .frames()
        .iter()
        .filter_map(|f| f.event_name().map(str::to_owned))
        .collect();
    assert_eq!(names, vec!["READY", "GUILD_CREATE", "MESSAGE_CREATE"]);
    bot.shard_manager.shutdown_all().await;
}
