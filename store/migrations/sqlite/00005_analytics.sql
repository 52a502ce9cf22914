-- +goose Up
-- customer_scores are what the analyses last computed for each customer
-- (RFM, cluster, lifetime value): derived data, rewritten by every run,
-- read with the customer and by segments as features. A NULL was not
-- computed for that customer.
CREATE TABLE customer_scores (
    workspace_id       INTEGER NOT NULL,
    customer_id        INTEGER NOT NULL,
    rfm_recency        REAL,
    rfm_frequency      REAL,
    rfm_monetary       REAL,
    rfm_r              INTEGER,
    rfm_f              INTEGER,
    rfm_m              INTEGER,
    rfm_segment        TEXT,
    cluster            INTEGER,
    p_alive            REAL,
    expected_purchases REAL,
    predicted_clv      REAL,
    churn_risk         TEXT,
    next_order_at      INTEGER,
    -- the run that wrote each analysis's columns, so that a run clears
    -- what an earlier one computed for customers it no longer scores
    rfm_run            INTEGER,
    cluster_run        INTEGER,
    clv_run            INTEGER,
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, customer_id)
) WITHOUT ROWID;

-- analysis_runs records every run of an analysis: when, on how many
-- customers, its parameters and its result (the summary the console and
-- the API show: RFM's groups, the clusters, CLV's fit, the basket rules,
-- the cohorts).
CREATE TABLE analysis_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    customers    INTEGER NOT NULL DEFAULT 0,
    params       TEXT NOT NULL DEFAULT '{}',
    result       TEXT,
    error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX analysis_runs_kind ON analysis_runs (workspace_id, kind, id);

-- +goose Down
DROP TABLE analysis_runs;
DROP TABLE customer_scores;
