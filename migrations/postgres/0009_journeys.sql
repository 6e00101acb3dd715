-- Lifecycle journeys: next-live alert subscriptions, check-in ratings, and the A/B variant a
-- journey message was written in (the report counts sends and conversions per variant).

CREATE TABLE alert_subscriptions (
    customer_id TEXT COLLATE "C" PRIMARY KEY,
    subscribed  BIGINT NOT NULL,
    changed_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE checkin_ratings (
    order_id    TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    rating      BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    rated_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (order_id, customer_id)
);

ALTER TABLE outbox ADD COLUMN variant TEXT COLLATE "C";
CREATE INDEX outbox_by_customer_flow ON outbox (customer_id, flow, created_at);
