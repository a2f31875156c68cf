-- Schema v2: finX income reports, kept for offline reading. `payload` is the report as JSON
-- (amounts as decimal strings); `id` is finX's link id (the callback's `flow_id`).
CREATE TABLE income_reports (
    id                 TEXT PRIMARY KEY NOT NULL,
    provider_config_id TEXT NOT NULL REFERENCES provider_configs(id) ON DELETE CASCADE,
    created_at         TEXT NOT NULL,
    payload            TEXT NOT NULL
) STRICT;
