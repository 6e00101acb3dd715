-- Personalised picks and trust recovery (CONTRACT §6).
-- The shop's own "goes with" pairs (`product.related`): a product.related for a sku replaces
-- that sku's list. encore reads the pairs both ways.
CREATE TABLE product_relations (
    sku      TEXT NOT NULL,
    related  TEXT NOT NULL,
    noted_at TEXT NOT NULL,
    PRIMARY KEY (sku, related)
);
CREATE INDEX product_relations_by_related ON product_relations (related);

-- What the shop changed (`/changed CAUSE text`), quoted by trust-recovery win-backs.
CREATE TABLE shop_changes (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    cause    TEXT NOT NULL CHECK (cause IN ('delivery', 'quality', 'service', 'price')),
    note     TEXT NOT NULL,
    noted_at TEXT NOT NULL
);
CREATE INDEX shop_changes_by_cause ON shop_changes (cause, noted_at);

-- What a message was about, for the reports: a trust-recovery win-back's cause, a pick's product.
ALTER TABLE outbox ADD COLUMN cause TEXT;
ALTER TABLE outbox ADD COLUMN pick_sku TEXT;

-- "Goes with" is learnt from orders by sku.
CREATE INDEX order_items_by_sku ON order_items (sku);
