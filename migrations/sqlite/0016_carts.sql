-- Carts left without ordering (`cart.abandoned`, CONTRACT §6): one reminder each, at most.
-- `items` is the cart's item list as the shop sent it (JSON), read back to name the items and to
-- see whether any of them was ordered since. Forgetting deletes a customer's carts; merging moves
-- them.
CREATE TABLE carts (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    broadcast_id TEXT,
    items        TEXT NOT NULL,
    abandoned_at TEXT NOT NULL,
    received_at  TEXT NOT NULL
);
CREATE INDEX carts_by_abandoned ON carts (abandoned_at);
CREATE INDEX carts_by_customer ON carts (customer_id);
