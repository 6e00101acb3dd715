-- Lifecycle journeys: next-live alert subscriptions, check-in ratings, and the A/B variant a
-- journey message was written in (the report counts sends and conversions per variant).

CREATE TABLE alert_subscriptions (
    customer_id TEXT PRIMARY KEY,
    subscribed  BIGINT NOT NULL,
    changed_at  TEXT NOT NULL
);

CREATE TABLE checkin_ratings (
    order_id    TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    rating      BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    rated_at    TEXT NOT NULL,
    PRIMARY KEY (order_id, customer_id)
);

ALTER TABLE outbox ADD COLUMN variant TEXT;
CREATE INDEX outbox_by_customer_flow ON outbox (customer_id, flow, created_at);
