-- Schema v6: the net of each account's booked transactions per day, for the balance after each booking
-- (store/running_balance.rs). With `transaction_months` it answers "the sum of everything booked after
-- this row" from a few dozen summary rows and one day's transactions, at any depth of any account.
--
-- Only booked rows count (a pending row moves no balance); triggers keep it in the transaction of every
-- write, like `transaction_months`. `inexact` counts rows without minor units (no exact balance then).
CREATE TABLE transaction_days (
    account_id TEXT NOT NULL,
    day        TEXT NOT NULL,
    currency   TEXT NOT NULL,
    net_minor  INTEGER NOT NULL,
    inexact    INTEGER NOT NULL,
    PRIMARY KEY (account_id, day, currency)
) STRICT, WITHOUT ROWID;

INSERT INTO transaction_days
    SELECT account_id, booking_date, currency, coalesce(sum(amount_minor), 0), count(*) - count(amount_minor)
    FROM transactions WHERE status = 'booked' GROUP BY 1, 2, 3;

CREATE TRIGGER transaction_days_insert AFTER INSERT ON transactions WHEN new.status = 'booked' BEGIN
    INSERT INTO transaction_days
        VALUES (new.account_id, new.booking_date, new.currency, coalesce(new.amount_minor, 0),
                new.amount_minor IS NULL)
        ON CONFLICT DO UPDATE SET net_minor = net_minor + excluded.net_minor, inexact = inexact + excluded.inexact;
END;

CREATE TRIGGER transaction_days_delete AFTER DELETE ON transactions WHEN old.status = 'booked' BEGIN
    UPDATE transaction_days SET net_minor = net_minor - coalesce(old.amount_minor, 0),
            inexact = inexact - (old.amount_minor IS NULL)
        WHERE account_id = old.account_id AND day = old.booking_date AND currency = old.currency;
END;

CREATE TRIGGER transaction_days_update_old
    AFTER UPDATE OF account_id, booking_date, currency, status, amount_minor ON transactions
    WHEN old.status = 'booked' BEGIN
    UPDATE transaction_days SET net_minor = net_minor - coalesce(old.amount_minor, 0),
            inexact = inexact - (old.amount_minor IS NULL)
        WHERE account_id = old.account_id AND day = old.booking_date AND currency = old.currency;
END;

CREATE TRIGGER transaction_days_update_new
    AFTER UPDATE OF account_id, booking_date, currency, status, amount_minor ON transactions
    WHEN new.status = 'booked' BEGIN
    INSERT INTO transaction_days
        VALUES (new.account_id, new.booking_date, new.currency, coalesce(new.amount_minor, 0),
                new.amount_minor IS NULL)
        ON CONFLICT DO UPDATE SET net_minor = net_minor + excluded.net_minor, inexact = inexact + excluded.inexact;
END;
