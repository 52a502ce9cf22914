-- +goose Up
-- feed_entries gives the workspace's finished analysis runs and imports
-- their positions in the change feed: seq counts up per workspace in the
-- order they finished (events and membership changes have theirs, their
-- ids). A run's id is its start; runs finish in another order, and a
-- consumer following ids would miss a run that started first and finished
-- last.
--
-- It must run again over its own result (storetest.Remigrate applies
-- every migration from an earlier one again): IF NOT EXISTS, and the
-- back-fill inserts nothing twice.
CREATE TABLE IF NOT EXISTS feed_entries (
    workspace_id INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    subject_id   INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS feed_entries_subject ON feed_entries (workspace_id, kind, subject_id);

-- What finished before the feed existed, in the order it finished.
INSERT INTO feed_entries (workspace_id, seq, kind, subject_id, at)
SELECT workspace_id, row_number() OVER (PARTITION BY workspace_id ORDER BY at, kind, subject_id), kind, subject_id, at
FROM (
    SELECT workspace_id, 'analysis_run' AS kind, id AS subject_id, finished_at AS at FROM analysis_runs WHERE finished_at IS NOT NULL
    UNION ALL
    SELECT workspace_id, 'import', id, finished_at FROM imports WHERE finished_at IS NOT NULL AND status IN ('done', 'failed')
) AS finished
WHERE NOT EXISTS (SELECT 1 FROM feed_entries f WHERE f.workspace_id = finished.workspace_id)
ORDER BY workspace_id;

-- +goose Down
DROP TABLE feed_entries;
