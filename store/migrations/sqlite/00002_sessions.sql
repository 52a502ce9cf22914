-- +goose Up
-- Console sessions. A session belongs to a user (users are global), not to a
-- workspace: workspace_id is only the one the user is looking at, and the
-- switcher changes it. token_hash is the hex SHA-256 of the cookie's token
-- (256 random bits, so a fast hash is enough, as for API keys).
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
