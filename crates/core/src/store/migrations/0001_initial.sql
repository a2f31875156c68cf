-- Schema v1. Money is decimal TEXT; timestamps are RFC 3339 UTC TEXT; dates are YYYY-MM-DD TEXT.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- One set of aggregator client credentials. The client secret is in the OS keyring.
CREATE TABLE provider_configs (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('finapi', 'finx')),
    label       TEXT NOT NULL,
    base_url    TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    api_version TEXT NOT NULL,
    is_demo     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
) STRICT;

-- Provider-side users and tokens (finAPI user, finX refresh token). Encrypted with the vault.
CREATE TABLE provider_sessions (
    provider_config_id TEXT NOT NULL REFERENCES provider_configs(id) ON DELETE CASCADE,
    scope              TEXT NOT NULL,
    payload            TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (provider_config_id, scope)
) STRICT;

CREATE TABLE connections (
    id                     TEXT PRIMARY KEY NOT NULL,
    provider_config_id     TEXT NOT NULL REFERENCES provider_configs(id) ON DELETE CASCADE,
    provider_connection_id TEXT NOT NULL,
    bank_id                TEXT,
    bank_name              TEXT NOT NULL,
    bank_bic               TEXT,
    interface              TEXT,
    status                 TEXT NOT NULL CHECK (status IN ('active', 'needs_authentication', 'consent_expired', 'failed')),
    consent_expires_at     TEXT,
    last_synced_at         TEXT,
    created_at             TEXT NOT NULL,
    UNIQUE (provider_config_id, provider_connection_id)
) STRICT;

CREATE TABLE accounts (
    id                     TEXT PRIMARY KEY NOT NULL,
    connection_id          TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    provider_account_id    TEXT NOT NULL,
    iban                   TEXT,
    name                   TEXT NOT NULL,
    holder                 TEXT,
    account_type           TEXT NOT NULL,
    currency               TEXT NOT NULL,
    balance_booked         TEXT,
    balance_booked_date    TEXT,
    balance_available      TEXT,
    balance_available_date TEXT,
    hidden                 INTEGER NOT NULL DEFAULT 0,
    UNIQUE (connection_id, provider_account_id)
) STRICT;

CREATE TABLE transactions (
    id                 INTEGER PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    provider_id        TEXT NOT NULL,
    booking_date       TEXT NOT NULL,
    value_date         TEXT,
    amount             TEXT NOT NULL,
    currency           TEXT NOT NULL,
    counterparty_name  TEXT,
    counterparty_iban  TEXT,
    counterparty_bic   TEXT,
    purpose            TEXT,
    kind               TEXT,
    status             TEXT NOT NULL CHECK (status IN ('booked', 'pending')),
    raw                TEXT,
    first_seen_at      TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (account_id, provider_id)
) STRICT;

-- The transaction list pages newest first by (booking_date, id).
CREATE INDEX transactions_by_date ON transactions (booking_date DESC, id DESC);
CREATE INDEX transactions_by_account_date ON transactions (account_id, booking_date DESC, id DESC);

CREATE TABLE balances (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    date       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('booked', 'available')),
    amount     TEXT NOT NULL,
    currency   TEXT NOT NULL,
    PRIMARY KEY (account_id, date, kind)
) STRICT;

-- Pending SCA flows survive a restart. `callback_state` is what a redirect must bring back.
CREATE TABLE sca_flows (
    id                 TEXT PRIMARY KEY NOT NULL,
    provider_config_id TEXT NOT NULL REFERENCES provider_configs(id) ON DELETE CASCADE,
    purpose            TEXT NOT NULL,
    state              TEXT NOT NULL,
    callback_state     TEXT UNIQUE,
    created_at         TEXT NOT NULL,
    expires_at         TEXT,
    updated_at         TEXT NOT NULL
) STRICT;

CREATE TABLE sync_journal (
    id            INTEGER PRIMARY KEY,
    connection_id TEXT REFERENCES connections(id) ON DELETE SET NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'cancelled')),
    added         INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    removed       INTEGER NOT NULL DEFAULT 0,
    error_code    TEXT,
    error_message TEXT
) STRICT;
