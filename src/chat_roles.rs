//! Which chat is which: the staff chat, the community rooms, the VIP room, who is staff — and
//! where each configured chat lives now. A Telegram group upgraded to a supergroup changes its id
//! (`migrate_to_chat_id`, CONTRACT §9); configuration keeps naming the old id, so every lookup of a
//! configured chat goes through [`ChatMoves`]. The router hears of a move from the group itself,
//! the dispatcher from a refused send. This module reads configuration; it decides no flow.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::config::Config;
use crate::domain::Platform;
use crate::platforms::Incoming;
use crate::platforms::emulator;

/// The roles of chats and people, from configuration and the moves seen since.
#[derive(Clone)]
pub struct ChatRoles {
    config: Arc<Config>,
    moves: ChatMoves,
}

impl ChatRoles {
    pub fn new(config: Arc<Config>, moves: ChatMoves) -> ChatRoles {
        ChatRoles { config, moves }
    }

    /// Where configured chats live now.
    pub fn moves(&self) -> &ChatMoves {
        &self.moves
    }

    /// Every community room, where it lives now.
    pub fn community_rooms(&self) -> Vec<(Platform, String)> {
        let mut rooms = Vec::new();
        if let Some(telegram) = &self.config.telegram {
            for id in &telegram.community_chat_ids {
                rooms.push((
                    Platform::Telegram,
                    self.moves.current(Platform::Telegram, &id.to_string()),
                ));
            }
        }
        if let Some(discord) = &self.config.discord {
            for id in &discord.community_channel_ids {
                rooms.push((Platform::Discord, id.to_string()));
            }
        }
        rooms
    }

    /// The VIP room of each platform (the Telegram VIP group, the Discord VIP channel).
    pub fn vip_rooms(&self) -> Vec<(Platform, String)> {
        let mut rooms = Vec::new();
        if let Some(id) = self.config.telegram.as_ref().and_then(|t| t.vip_chat_id) {
            rooms.push((
                Platform::Telegram,
                self.moves.current(Platform::Telegram, &id.to_string()),
            ));
        }
        if let Some(id) = self.config.discord.as_ref().and_then(|d| d.vip_channel_id) {
            rooms.push((Platform::Discord, id.to_string()));
        }
        rooms
    }

    pub fn is_vip_room(&self, platform: Platform, chat_id: &str) -> bool {
        self.vip_rooms()
            .iter()
            .any(|(p, room)| *p == platform && room == chat_id)
    }

    /// Whether `chat_id` is the configured chat `configured`, or where it moved.
    fn is_configured_chat(&self, platform: Platform, configured: &str, chat_id: &str) -> bool {
        configured == chat_id || self.moves.current(platform, configured) == chat_id
    }

    pub fn is_staff_chat(&self, platform: Platform, chat_id: &str) -> bool {
        match platform {
            Platform::Telegram => self
                .config
                .telegram
                .as_ref()
                .and_then(|t| t.staff_chat_id)
                .is_some_and(|id| self.is_configured_chat(platform, &id.to_string(), chat_id)),
            Platform::Discord => self
                .config
                .discord
                .as_ref()
                .and_then(|d| d.staff_channel_id)
                .is_some_and(|id| self.is_configured_chat(platform, &id.to_string(), chat_id)),
            Platform::Emulator => chat_id == emulator::STAFF_CHAT,
            // KakaoTalk has no chats of ours: it only carries notes to a phone.
            Platform::Kakao => false,
        }
    }

    /// A community room (CONTRACT §2 `community_chat_ids` / `community_channel_ids`).
    pub fn is_community_room(&self, platform: Platform, chat_id: &str) -> bool {
        match platform {
            Platform::Telegram => self.config.telegram.as_ref().is_some_and(|t| {
                t.community_chat_ids
                    .iter()
                    .any(|id| self.is_configured_chat(platform, &id.to_string(), chat_id))
            }),
            Platform::Discord => self.config.discord.as_ref().is_some_and(|d| {
                d.community_channel_ids
                    .iter()
                    .any(|id| self.is_configured_chat(platform, &id.to_string(), chat_id))
            }),
            Platform::Emulator | Platform::Kakao => false,
        }
    }

    /// The staff chat that hears about a viewer on `platform`: that platform's, else the other's.
    pub fn staff_chat_for(&self, platform: Platform) -> Option<(Platform, String)> {
        let telegram = self
            .config
            .telegram
            .as_ref()
            .and_then(|t| t.staff_chat_id)
            .map(|id| {
                (
                    Platform::Telegram,
                    self.moves.current(Platform::Telegram, &id.to_string()),
                )
            });
        let discord = self
            .config
            .discord
            .as_ref()
            .and_then(|d| d.staff_channel_id)
            .map(|id| (Platform::Discord, id.to_string()));
        match platform {
            // KakaoTalk's notes go one way; nobody there reaches staff through it.
            Platform::Telegram | Platform::Kakao => telegram.or(discord),
            Platform::Discord => discord.or(telegram),
            Platform::Emulator => Some((Platform::Emulator, emulator::STAFF_CHAT.to_string())),
        }
    }

    /// Staff are the listed users; on Telegram also an anonymous admin posting as the staff chat.
    pub fn is_staff_member(&self, incoming: &Incoming) -> bool {
        match incoming.platform {
            Platform::Telegram => {
                let Some(telegram) = &self.config.telegram else {
                    return false;
                };
                let listed = incoming
                    .user_id
                    .parse::<i64>()
                    .is_ok_and(|id| telegram.staff_user_ids.contains(&id));
                listed
                    || (incoming.sent_as_chat
                        && self.is_staff_chat(Platform::Telegram, &incoming.chat_id))
            }
            Platform::Discord => {
                let Some(discord) = &self.config.discord else {
                    return false;
                };
                incoming
                    .user_id
                    .parse::<u64>()
                    .is_ok_and(|id| discord.staff_user_ids.contains(&id))
            }
            Platform::Emulator => incoming.user_id == emulator::STAFF_USER,
            Platform::Kakao => false,
        }
    }
}

/// Where each moved chat lives now, shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct ChatMoves {
    moves: Arc<RwLock<HashMap<(Platform, String), String>>>,
}

impl ChatMoves {
    pub fn new(known: impl IntoIterator<Item = (Platform, String, String)>) -> ChatMoves {
        let moves = known
            .into_iter()
            .map(|(p, old, new)| ((p, old), new))
            .collect();
        ChatMoves {
            moves: Arc::new(RwLock::new(moves)),
        }
    }

    pub fn record(&self, platform: Platform, old: &str, new: &str) {
        if let Ok(mut moves) = self.moves.write() {
            moves.insert((platform, old.to_string()), new.to_string());
        }
    }

    /// The chat's id now (following a chain of moves, at most a few long).
    pub fn current(&self, platform: Platform, chat_id: &str) -> String {
        let Ok(moves) = self.moves.read() else {
            return chat_id.to_string();
        };
        let mut current = chat_id.to_string();
        for _ in 0..5 {
            match moves.get(&(platform, current.clone())) {
                Some(next) => current = next.clone(),
                None => break,
            }
        }
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_chat_is_found_by_its_old_id() {
        let moves = ChatMoves::default();
        assert_eq!(moves.current(Platform::Telegram, "-1001"), "-1001");
        moves.record(Platform::Telegram, "-1001", "-1002003");
        assert_eq!(moves.current(Platform::Telegram, "-1001"), "-1002003");
        assert_eq!(moves.current(Platform::Discord, "-1001"), "-1001");
    }
}
