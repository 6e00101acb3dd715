-- Delivery bookkeeping: when a message was claimed (so a row stranded by a failed task is found
-- and retried without a restart), how many parts of a split message already went out (so a
-- retry does not repeat them), and where an order status came from (an import never rolls
-- back a status the shop's events set).

ALTER TABLE outbox ADD COLUMN claimed_at TEXT COLLATE "C";
ALTER TABLE outbox ADD COLUMN parts_sent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_status_history ADD COLUMN source TEXT COLLATE "C" NOT NULL DEFAULT 'event';
