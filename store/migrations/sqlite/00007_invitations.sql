-- +goose Up
-- Invitations to join a workspace with a role. A person becomes a member
-- only by accepting one (through the link with its token), never because
-- someone typed their email. token_hash is the hex SHA-256 of the link's
-- token (256 random bits, as for sessions). An invitation is pending while
-- accepted_at and revoked_at are NULL and expires_at is ahead; a workspace
-- has at most one not accepted and not revoked per email (inviting again
-- revokes the old one).
CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL,
    invited_by   TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    accepted_at  INTEGER,
    accepted_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    revoked_at   INTEGER
);
CREATE INDEX invitations_workspace ON invitations (workspace_id, id);
CREATE UNIQUE INDEX invitations_open ON invitations (workspace_id, email) WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- +goose Down
DROP TABLE invitations;
