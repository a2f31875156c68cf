-- Schema v4: the sync engine (see sync/).
--
-- `pending_match` is set on a row when a sync turned a pending booking into this booked one: the rule
-- that matched and the fields it compared, as JSON (domain::PendingMatch). NULL for every other row.
ALTER TABLE transactions ADD COLUMN pending_match TEXT;

-- What a sync that succeeded wants the user to know (a balance that does not add up, accounts the bank
-- could not deliver, …): a JSON array of domain::SyncWarning, codes with parameters, never sentences.
ALTER TABLE sync_journal ADD COLUMN warnings TEXT;

-- A sync reads an account's pending rows (candidates for pending → booked, and those the bank no
-- longer delivers) with one seek, however many booked rows the account has. The trailing columns let
-- totals of pending rows read this small index alone.
CREATE INDEX transactions_pending
    ON transactions (account_id, booking_date, id, amount_minor, currency) WHERE status = 'pending';
