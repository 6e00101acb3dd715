-- A Telegram group upgraded to a supergroup changes its id (migrate_to_chat_id): the old id
-- is remembered with the new one, so staff chats and rooms named by the old id keep working.

CREATE TABLE chat_moves (
    platform    TEXT COLLATE "C" NOT NULL,
    old_chat_id TEXT COLLATE "C" NOT NULL,
    new_chat_id TEXT COLLATE "C" NOT NULL,
    moved_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (platform, old_chat_id)
);
