-- Community rooms, tiers, the VIP room, VIP codes, and the advertising gate's bookkeeping.

-- Who joined a community room and when (links from new members are removed), and which
-- welcome named them (a batched welcome names everyone not yet welcomed; a restart re-renders
-- the same list, so nobody is welcomed twice).
CREATE TABLE room_members (
    platform   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    name       TEXT NOT NULL,
    lang       TEXT,
    joined_at  TEXT NOT NULL,
    welcome_id INTEGER,
    PRIMARY KEY (platform, chat_id, user_id)
);

-- Moderation mutes, so staff can /unmute and a muted member is not muted again for the
-- messages already on their way.
CREATE TABLE mutes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    platform  TEXT NOT NULL,
    chat_id   TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    muted_at  TEXT NOT NULL,
    until     TEXT NOT NULL,
    lifted_at TEXT
);
CREATE INDEX mutes_by_user ON mutes (platform, user_id);

-- The customer's tier as last computed (CONTRACT §2 [[tiers]]); NULL = below every tier.
ALTER TABLE customers ADD COLUMN tier TEXT;

-- VIP room access per customer and platform: the personal join-request link (Telegram) or the
-- guild invite (Discord), and when access was granted (join request approved, role given).
CREATE TABLE vip_access (
    customer_id TEXT NOT NULL,
    platform    TEXT NOT NULL,
    invite_link TEXT,
    created_at  TEXT NOT NULL,
    granted_at  TEXT,
    PRIMARY KEY (customer_id, platform)
);
CREATE INDEX vip_access_by_link ON vip_access (invite_link);

-- One-per-customer codes the shop's checkout made, by campaign; assigned once.
CREATE TABLE code_pool (
    campaign    TEXT NOT NULL,
    code        TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    customer_id TEXT,
    assigned_at TEXT,
    PRIMARY KEY (campaign, code)
);

-- Which code was sent (enqueued) to whom: shared codes (campaign NULL) and pool codes.
CREATE TABLE code_sends (
    code        TEXT NOT NULL,
    campaign    TEXT,
    customer_id TEXT NOT NULL,
    tier        TEXT NOT NULL,
    message_key TEXT NOT NULL,
    expires_at  TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (code, customer_id)
);

-- `code.redeemed`: a redemption by a customer the code was not sent to is a violation.
CREATE TABLE code_redemptions (
    event_id    TEXT PRIMARY KEY,
    code        TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    order_id    TEXT,
    redeemed_at TEXT NOT NULL,
    violation   BOOLEAN NOT NULL
);

-- The advertising gate: a message's expiry, and why it waits (`quiet_hours`, `weekly_cap`) —
-- a waiting advertisement does not hold up the viewer's transactional messages behind it.
ALTER TABLE outbox ADD COLUMN expires_at TEXT;
ALTER TABLE outbox ADD COLUMN hold_reason TEXT;
ALTER TABLE outbox ADD COLUMN held_for_quiet_hours BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE outbox ADD COLUMN postponed_by_cap BOOLEAN NOT NULL DEFAULT FALSE;
