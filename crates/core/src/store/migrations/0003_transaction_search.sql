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

-- Counts and sums per account, month, currency and status, kept by triggers in the transaction of every
-- write, so charts and the totals of month-aligned filters read a few hundred rows instead of every
-- transaction. `inexact` counts rows without minor units (their amounts are added from the text).
CREATE TABLE transaction_months (
    account_id     TEXT NOT NULL,
    month          TEXT NOT NULL,
    currency       TEXT NOT NULL,
    status         TEXT NOT NULL,
    count          INTEGER NOT NULL,
    count_in       INTEGER NOT NULL,
    count_out      INTEGER NOT NULL,
    income_minor   INTEGER NOT NULL,
    spending_minor INTEGER NOT NULL,
    inexact        INTEGER NOT NULL,
    PRIMARY KEY (account_id, month, currency, status)
) STRICT, WITHOUT ROWID;

INSERT INTO transaction_months
    SELECT account_id, substr(booking_date, 1, 7), currency, status, count(*),
           count(CASE WHEN amount_minor > 0 THEN 1 END), count(CASE WHEN amount_minor < 0 THEN 1 END),
           coalesce(sum(CASE WHEN amount_minor > 0 THEN amount_minor END), 0),
           coalesce(sum(CASE WHEN amount_minor < 0 THEN amount_minor END), 0),
           count(*) - count(amount_minor)
    FROM transactions GROUP BY 1, 2, 3, 4;

CREATE TRIGGER transaction_months_insert AFTER INSERT ON transactions BEGIN
    INSERT INTO transaction_months
        VALUES (new.account_id, substr(new.booking_date, 1, 7), new.currency, new.status, 1,
                coalesce(new.amount_minor > 0, 0), coalesce(new.amount_minor < 0, 0),
                max(coalesce(new.amount_minor, 0), 0), min(coalesce(new.amount_minor, 0), 0),
                new.amount_minor IS NULL)
        ON CONFLICT DO UPDATE SET count = count + 1, count_in = count_in + excluded.count_in,
            count_out = count_out + excluded.count_out, income_minor = income_minor + excluded.income_minor,
            spending_minor = spending_minor + excluded.spending_minor, inexact = inexact + excluded.inexact;
END;

CREATE TRIGGER transaction_months_delete AFTER DELETE ON transactions BEGIN
    UPDATE transaction_months SET count = count - 1, count_in = count_in - coalesce(old.amount_minor > 0, 0),
            count_out = count_out - coalesce(old.amount_minor < 0, 0),
            income_minor = income_minor - max(coalesce(old.amount_minor, 0), 0),
            spending_minor = spending_minor - min(coalesce(old.amount_minor, 0), 0),
            inexact = inexact - (old.amount_minor IS NULL)
        WHERE account_id = old.account_id AND month = substr(old.booking_date, 1, 7)
          AND currency = old.currency AND status = old.status;
END;

CREATE TRIGGER transaction_months_update
    AFTER UPDATE OF account_id, booking_date, currency, status, amount_minor ON transactions BEGIN
    UPDATE transaction_months SET count = count - 1, count_in = count_in - coalesce(old.amount_minor > 0, 0),
            count_out = count_out - coalesce(old.amount_minor < 0, 0),
            income_minor = income_minor - max(coalesce(old.amount_minor, 0), 0),
            spending_minor = spending_minor - min(coalesce(old.amount_minor, 0), 0),
            inexact = inexact - (old.amount_minor IS NULL)
        WHERE account_id = old.account_id AND month = substr(old.booking_date, 1, 7)
          AND currency = old.currency AND status = old.status;
    INSERT INTO transaction_months
        VALUES (new.account_id, substr(new.booking_date, 1, 7), new.currency, new.status, 1,
                coalesce(new.amount_minor > 0, 0), coalesce(new.amount_minor < 0, 0),
                max(coalesce(new.amount_minor, 0), 0), min(coalesce(new.amount_minor, 0), 0),
                new.amount_minor IS NULL)
        ON CONFLICT DO UPDATE SET count = count + 1, count_in = count_in + excluded.count_in,
            count_out = count_out + excluded.count_out, income_minor = income_minor + excluded.income_minor,
            spending_minor = spending_minor + excluded.spending_minor, inexact = inexact + excluded.inexact;
END;
