-- Every part of a message sent to a chat (the staff chat, rooms) by its platform id, so a staff
-- reply to any part of a split ticket card finds its ticket.

CREATE TABLE sent_parts (
    platform   TEXT COLLATE "C" NOT NULL,
    chat_id    TEXT COLLATE "C" NOT NULL,
    message_id TEXT COLLATE "C" NOT NULL,
    outbox_id  BIGINT NOT NULL,
    PRIMARY KEY (platform, chat_id, message_id)
);
