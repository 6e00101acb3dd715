-- Who watched which broadcast (`viewer.engaged`), kept for the report's come-back block
-- (CONTRACT §7: "watched the next live"). Stored events lose their payloads after
-- `retention.event_days`; this row keeps only the two ids and the first time, so a broadcast's
-- report reads the same months later. Forgetting pseudonymises the customer id, as for orders.
CREATE TABLE broadcast_viewers (
    broadcast_id  TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (broadcast_id, customer_id)
);

-- A buyer's orders in time: "did they order again after the broadcast?"
CREATE INDEX orders_by_customer_placed ON orders (customer_id, placed_at);
