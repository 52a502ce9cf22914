-- +goose NO TRANSACTION
-- +goose Up
-- Workspace names are labels, not identifiers: two tenants may both call
-- theirs "Shop", and creating or renaming a workspace must not tell anyone
-- which names other tenants use. Everything refers to a workspace by id.
-- SQLite cannot drop a column's UNIQUE constraint, so the table is rebuilt
-- as https://sqlite.org/lang_altertable.html#otheralter describes: foreign
-- keys off (only outside a transaction, hence NO TRANSACTION; the store's
-- writer is one connection, so every statement here runs on it), the copy
-- in one transaction, foreign keys on again. The tables that refer to
-- workspaces keep referring to it by name and find the new table.
--
-- users.last_workspace_id is the workspace the user last looked at in the
-- console: sign-in lands there (by id, never by a name that can change).
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE workspaces_new (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
INSERT INTO workspaces_new (id, name, settings, created_at) SELECT id, name, settings, created_at FROM workspaces;
DROP TABLE workspaces;
ALTER TABLE workspaces_new RENAME TO workspaces;
CREATE INDEX workspaces_name ON workspaces (name);
ALTER TABLE users ADD COLUMN last_workspace_id INTEGER REFERENCES workspaces (id) ON DELETE SET NULL;
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
ALTER TABLE users DROP COLUMN last_workspace_id;
CREATE TABLE workspaces_old (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
INSERT INTO workspaces_old (id, name, settings, created_at) SELECT id, name, settings, created_at FROM workspaces;
DROP TABLE workspaces;
ALTER TABLE workspaces_old RENAME TO workspaces;
COMMIT;
PRAGMA foreign_keys = ON;
