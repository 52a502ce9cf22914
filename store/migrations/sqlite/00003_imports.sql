-- +goose Up
-- imports record each run of an import file: what, how, how far, and the
-- first bad lines. 00002 is taken by the console's sessions.
CREATE TABLE imports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    file_name    TEXT NOT NULL DEFAULT '',
    size         INTEGER NOT NULL DEFAULT 0,
    options      TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL,
    counts       TEXT NOT NULL DEFAULT '{}',
    line_errors  TEXT NOT NULL DEFAULT '[]',
    error        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER
);
CREATE INDEX imports_workspace ON imports (workspace_id, id);
CREATE INDEX imports_status ON imports (status, id);

-- +goose Down
DROP TABLE imports;
