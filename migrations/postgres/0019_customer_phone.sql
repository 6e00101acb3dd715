-- A customer's Korean mobile number (`customer.phone`, CONTRACT §3), used only for KakaoTalk
-- 알림톡 (§11), digits only. `phone_unreachable_at`: when KakaoTalk (the dealer) refused this
-- number; it is not tried again until the shop sends another number. Forgetting deletes the
-- customer row, and the number with it; a merge fills a missing number from the merged customer.
ALTER TABLE customers ADD COLUMN phone TEXT COLLATE "C";
ALTER TABLE customers ADD COLUMN phone_unreachable_at TEXT COLLATE "C";
CREATE INDEX customers_by_phone ON customers (phone);
