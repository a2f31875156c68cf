-- Schema v5: what the user decides about accounts (see api::connections).
--
-- `custom_name` is Kontor's own name for an account, shown beside the bank's (`name`, which every sync
-- overwrites); NULL: the bank's name. `position` orders accounts within their connection (NULL after the
-- ones placed, by type and name). `hidden` (schema 1) keeps an account out of the overview and the total.
ALTER TABLE accounts ADD COLUMN custom_name TEXT;
ALTER TABLE accounts ADD COLUMN position INTEGER;
