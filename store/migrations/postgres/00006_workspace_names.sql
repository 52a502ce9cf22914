-- +goose Up
-- Workspace names are labels, not identifiers: two tenants may both call
-- theirs "Shop", and creating or renaming a workspace must not tell anyone
-- which names other tenants use. Everything refers to a workspace by id.
--
-- users.last_workspace_id is the workspace the user last looked at in the
-- console: sign-in lands there (by id, never by a name that can change).
ALTER TABLE workspaces DROP CONSTRAINT workspaces_name_key;
CREATE INDEX workspaces_name ON workspaces (name);
ALTER TABLE users ADD COLUMN last_workspace_id bigint REFERENCES workspaces (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE users DROP COLUMN last_workspace_id;
DROP INDEX workspaces_name;
ALTER TABLE workspaces ADD CONSTRAINT workspaces_name_key UNIQUE (name);
