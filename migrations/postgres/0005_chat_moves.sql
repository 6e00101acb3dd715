-- A Telegram group upgraded to a supergroup changes its id (migrate_to_chat_id): the old id
-- is remembered with the new one, so staff chats and rooms named by the old id keep working.

CREATE TABLE chat_moves (
    platform    TEXT NOT NULL,
    old_chat_id TEXT NOT NULL,
    new_chat_id TEXT NOT NULL,
    moved_at    TEXT NOT NULL,
    PRIMARY KEY (platform, old_chat_id)
);
