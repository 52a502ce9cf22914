-- +goose Up
-- segments are named sets of customers: dynamic ones by a condition (the
-- canonical JSON tree of package segment, and its text), static ones (lists)
-- by the members added to them.
CREATE TABLE segments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL,
    definition   TEXT,
    text         TEXT NOT NULL DEFAULT '',
    size         INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX segments_name ON segments (workspace_id, name);

-- segment_members are the current members of every segment: a static
-- segment's list, and a dynamic segment's members as last recorded, so that
-- a restart compares the rebuilt engine with them and records only real
-- changes.
CREATE TABLE segment_members (
    workspace_id INTEGER NOT NULL,
    segment_id   INTEGER NOT NULL,
    customer_id  INTEGER NOT NULL,
    since        INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, segment_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX segment_members_customer ON segment_members (workspace_id, customer_id);

-- membership_changes is the history: who entered or left which segment when.
CREATE TABLE membership_changes (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    segment_id   INTEGER NOT NULL,
    customer_id  INTEGER NOT NULL,
    entered      INTEGER NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX membership_changes_customer ON membership_changes (workspace_id, customer_id, id);
CREATE INDEX membership_changes_segment ON membership_changes (workspace_id, segment_id, id);

-- segment_sizes is each segment's size over time, for its chart.
CREATE TABLE segment_sizes (
    workspace_id INTEGER NOT NULL,
    segment_id   INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, segment_id, at)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE segment_sizes;
DROP TABLE membership_changes;
DROP TABLE segment_members;
DROP TABLE segments;
