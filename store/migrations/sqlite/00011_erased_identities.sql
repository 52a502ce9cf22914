-- +goose Up
-- The identifiers of erased customers, kept as SHA-256 hashes so that late
-- events do not recreate them, were named suppressed_identities.
-- Suppression is to mean the addresses never to send to, so they are
-- erased_identities: the same rows under a name that says what they are
-- (the table has no index but its primary key). Imports recorded their
-- count of records naming an erased customer as "suppressed"; it is
-- "erased" now.
--
-- The rows are copied rather than the table renamed because SQLite cannot
-- rename a table only if it exists, and this must run again over its own
-- result (storetest.Remigrate applies every migration from an earlier one
-- again): run again, the first statement makes an empty old table, and
-- nothing is copied. The table holds one row per erased identifier.
CREATE TABLE IF NOT EXISTS suppressed_identities (
    workspace_id INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    value_hash   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, kind, value_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS erased_identities (
    workspace_id INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    value_hash   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, kind, value_hash)
) WITHOUT ROWID;
INSERT INTO erased_identities (workspace_id, kind, value_hash, created_at)
    SELECT workspace_id, kind, value_hash, created_at FROM suppressed_identities WHERE true
    ON CONFLICT (workspace_id, kind, value_hash) DO NOTHING;
DROP TABLE suppressed_identities;

UPDATE imports SET counts = json_remove(json_set(counts, '$.erased', json_extract(counts, '$.suppressed')), '$.suppressed')
WHERE CASE WHEN json_valid(counts) THEN json_type(counts, '$.suppressed') IS NOT NULL ELSE 0 END;

-- +goose Down
UPDATE imports SET counts = json_remove(json_set(counts, '$.suppressed', json_extract(counts, '$.erased')), '$.erased')
WHERE CASE WHEN json_valid(counts) THEN json_type(counts, '$.erased') IS NOT NULL ELSE 0 END;

ALTER TABLE erased_identities RENAME TO suppressed_identities;
