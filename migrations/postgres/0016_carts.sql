-- Carts left without ordering (`cart.abandoned`, CONTRACT §6): one reminder each, at most.
-- `items` is the cart's item list as the shop sent it (JSON), read back to name the items and to
-- see whether any of them was ordered since. Forgetting deletes a customer's carts; merging moves
-- them.
CREATE TABLE carts (
    id           TEXT COLLATE "C" PRIMARY KEY,
    customer_id  TEXT COLLATE "C" NOT NULL,
    broadcast_id TEXT COLLATE "C",
    items        TEXT NOT NULL,
    abandoned_at TEXT COLLATE "C" NOT NULL,
    received_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX carts_by_abandoned ON carts (abandoned_at);
CREATE INDEX carts_by_customer ON carts (customer_id);
