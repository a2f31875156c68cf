-- Schema v3: transactions that page, search and sum without scanning (see store/transactions.rs).
--
-- `amount_minor` is the amount in hundredths of the currency unit, exact (NULL only for an amount with
-- more than two decimal places, which aggregates then add from `amount`). `raw_z` is the provider's JSON,
-- deflated; `raw` stays for rows written before and is NULL for rows written since. Both are filled for
-- existing rows by the Rust step of this migration (migrations.rs), in the same transaction.
ALTER TABLE transactions ADD COLUMN amount_minor INTEGER;
ALTER TABLE transactions ADD COLUMN raw_z BLOB;

-- Keyset pages seek on (booking_date, id), with or without an account in front; the trailing columns
-- let totals and residual filters (status, amount, in/out) read the index alone.
DROP INDEX transactions_by_date;
DROP INDEX transactions_by_account_date;
CREATE INDEX transactions_by_date ON transactions (booking_date, id, status, amount_minor, currency);
CREATE INDEX transactions_by_account_date
    ON transactions (account_id, booking_date, id, status, amount_minor, currency);
-- The rare rows without minor units, which aggregates add from the decimal text; normally empty.
CREATE INDEX transactions_inexact ON transactions (id) WHERE amount_minor IS NULL;

-- Full-text search inside the encrypted file: an external-content index over the transactions table,
-- kept in step by triggers, so every write (sync inserts, updates, deletions, cascades) maintains it
-- in its own transaction.
CREATE VIRTUAL TABLE transactions_fts USING fts5(
    counterparty_name, counterparty_iban, purpose, kind,
    content = 'transactions', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER transactions_fts_insert AFTER INSERT ON transactions BEGIN
    INSERT INTO transactions_fts (rowid, counterparty_name, counterparty_iban, purpose, kind)
        VALUES (new.id, new.counterparty_name, new.counterparty_iban, new.purpose, new.kind);
END;

CREATE TRIGGER transactions_fts_delete AFTER DELETE ON transactions BEGIN
    INSERT INTO transactions_fts (transactions_fts, rowid, counterparty_name, counterparty_iban, purpose, kind)
        VALUES ('delete', old.id, old.counterparty_name, old.counterparty_iban, old.purpose, old.kind);
END;

CREATE TRIGGER transactions_fts_update
    AFTER UPDATE OF counterparty_name, counterparty_iban, purpose, kind ON transactions BEGIN
    INSERT INTO transactions_fts (transactions_fts, rowid, counterparty_name, counterparty_iban, purpose, kind)
        VALUES ('delete', old.id, old.counterparty_name, old.counterparty_iban, old.purpose, old.kind);
    INSERT INTO transactions_fts (rowid, counterparty_name, counterparty_iban, purpose, kind)
        VALUES (new.id, new.counterparty_name, new.counterparty_iban, new.purpose, new.kind);
END;

INSERT INTO transactions_fts (transactions_fts) VALUES ('rebuild');
