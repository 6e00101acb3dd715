//! Where a chat lives now. A Telegram group upgraded to a supergroup changes its id
//! (`migrate_to_chat_id`, CONTRACT §9); configuration keeps naming the old id, so every lookup
//! of a configured chat goes through here. Shared by the router (which hears of a move from the
//! group itself) and the dispatcher (which hears of it from a refused send).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::Platform;

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
