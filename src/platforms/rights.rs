//! `encore config check --online` (CONTRACT §9): asks each configured platform whether the bot
//! has the rights and settings encore needs, and says what to change where it does not; for
//! KakaoTalk, whether the dealer accepts the key and secret.

use secrecy::ExposeSecret;
use serenity::all::{ApplicationFlags, HttpBuilder};
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, ChatMemberKind};

use crate::config::Config;

/// One thing checked: what, whether it holds, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub platform: &'static str,
    pub what: String,
    pub ok: bool,
    /// What the host should do when it does not hold.
    pub fix: String,
}

impl Finding {
    fn new(
        platform: &'static str,
        what: impl Into<String>,
        ok: bool,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            platform,
            what: what.into(),
            ok,
            fix: fix.into(),
        }
    }

    pub fn line(&self) -> String {
        if self.ok {
            format!("ok       {}: {}", self.platform, self.what)
        } else {
            format!("MISSING  {}: {} — {}", self.platform, self.what, self.fix)
        }
    }
}

pub async fn check_online(config: &Config) -> Vec<Finding> {
    let mut findings = Vec::new();
    if config.telegram.is_some() {
        findings.extend(check_telegram(config).await);
    }
    if config.discord.is_some() {
        findings.extend(check_discord(config).await);
    }
    if let Some(kakao) = &config.kakao {
        findings.push(check_kakao(kakao).await);
    }
    findings
}

/// KakaoTalk: the key and secret work, proved by reading the account's daily quota — a request
/// that sends nothing. The channel and templates are judged by Kakao when a note goes out.
async fn check_kakao(kakao: &crate::config::KakaoConfig) -> Finding {
    match super::kakao::Solapi::new(kakao).daily_quota().await {
        Ok(quota) => Finding::new(
            "kakao",
            format!("SOLAPI accepts the API key and secret (daily quota {quota})"),
            true,
            "",
        ),
        Err(err) => Finding::new(
            "kakao",
            "SOLAPI accepts the API key and secret",
            false,
            format!(
                "{err}; copy kakao.api_key and kakao.api_secret again from the SOLAPI console (API Key 관리)"
            ),
        ),
    }
}

async fn check_telegram(config: &Config) -> Vec<Finding> {
    let Some(tg) = &config.telegram else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let Ok(url) = url::Url::parse(&tg.api_url) else {
        return vec![Finding::new(
            "telegram",
            "api_url",
            false,
            "telegram.api_url is not a URL",
        )];
    };
    let bot = teloxide::Bot::new(tg.token.expose_secret()).set_api_url(url);
    let me = match bot.get_me().await {
        Ok(me) => me,
        Err(err) => {
            return vec![Finding::new(
                "telegram",
                "the bot token works (getMe)",
                false,
                format!("Telegram answered: {err}"),
            )];
        }
    };
    out.push(Finding::new(
        "telegram",
        format!(
            "the token belongs to @{}",
            me.user.username.clone().unwrap_or_default()
        ),
        true,
        "",
    ));
    let privacy_off = me.can_read_all_group_messages;
    let mut chats: Vec<(String, i64, &[&str])> = Vec::new();
    if let Some(id) = tg.staff_chat_id {
        chats.push(("staff chat".into(), id, &["admin"]));
    }
    for id in &tg.community_chat_ids {
        chats.push((
            format!("community room {id}"),
            *id,
            &["admin", "can_restrict_members"],
        ));
    }
    if let Some(id) = tg.vip_chat_id {
        chats.push(("VIP room".into(), id, &["admin", "can_invite_users"]));
    }
    for (name, id, needs) in chats {
        let member = bot.get_chat_member(ChatId(id), me.user.id).await;
        let admin = match &member {
            Ok(m) => match &m.kind {
                ChatMemberKind::Owner(_) => Some((true, true, true)),
                ChatMemberKind::Administrator(a) => Some((
                    a.can_restrict_members,
                    a.can_invite_users,
                    a.can_manage_topics,
                )),
                _ => None,
            },
            Err(_) => None,
        };
        if let Err(err) = &member {
            out.push(Finding::new(
                "telegram",
                format!("the bot is in the {name}"),
                false,
                format!("add the bot to chat {id} ({err})"),
            ));
            continue;
        }
        // Ordinary messages reach the bot in groups only as an admin or with privacy mode off.
        out.push(Finding::new(
            "telegram",
            format!("the bot sees messages in the {name}"),
            admin.is_some() || privacy_off,
            "make the bot an admin there, or turn its privacy mode off in BotFather (/setprivacy → Disable)",
        ));
        for need in needs {
            let (ok, fix) = match *need {
                "admin" => (
                    admin.is_some(),
                    "make the bot an administrator (join updates need it)",
                ),
                "can_restrict_members" => (
                    admin.is_some_and(|a| a.0),
                    "give the bot the right to ban users (muting flooders)",
                ),
                "can_invite_users" => (
                    admin.is_some_and(|a| a.1),
                    "give the bot the right to invite users via link (VIP join requests)",
                ),
                _ => continue,
            };
            out.push(Finding::new(
                "telegram",
                format!("{need} in the {name}"),
                ok,
                fix,
            ));
        }
    }
    out
}

async fn check_discord(config: &Config) -> Vec<Finding> {
    let Some(dc) = &config.discord else {
        return Vec::new();
    };
    let http = HttpBuilder::new(dc.token.expose_secret())
        .proxy(dc.api_url.clone())
        .ratelimiter_disabled(true)
        .build();
    let app = match http.get_current_application_info().await {
        Ok(app) => app,
        Err(err) => {
            return vec![Finding::new(
                "discord",
                "the bot token works",
                false,
                format!("Discord answered: {err}"),
            )];
        }
    };
    let flags = app.flags.unwrap_or(ApplicationFlags::empty());
    let content = flags.intersects(
        ApplicationFlags::GATEWAY_MESSAGE_CONTENT
            | ApplicationFlags::GATEWAY_MESSAGE_CONTENT_LIMITED,
    );
    let members = flags.intersects(
        ApplicationFlags::GATEWAY_GUILD_MEMBERS | ApplicationFlags::GATEWAY_GUILD_MEMBERS_LIMITED,
    );
    let portal =
        "switch it on in the Developer Portal → your app → Bot → Privileged Gateway Intents";
    vec![
        Finding::new(
            "discord",
            format!("the token belongs to the application {}", app.name),
            true,
            "",
        ),
        Finding::new("discord", "the MESSAGE_CONTENT intent", content, portal),
        Finding::new("discord", "the GUILD_MEMBERS intent", members, portal),
    ]
}
