-- +goose Up
-- consents are customers' permissions for marketing, per channel (email,
-- sms) and topic ('' is the whole channel): the state (subscribed,
-- unsubscribed, unknown), where it came from (trait, console, api, ...)
-- and when it last changed. A channel or topic without a row is unknown.
--
-- Every statement may run again over its own result (storetest.Remigrate
-- applies the migrations from an earlier one again).

-- The foreign key needs (workspace_id, id) unique on customers: the
-- index that was there already, made unique (id alone is), so that a
-- consent can only name a customer of its own workspace.
CREATE UNIQUE INDEX IF NOT EXISTS customers_workspace_id ON customers (workspace_id, id);
DROP INDEX IF EXISTS customers_workspace;

-- ON DELETE CASCADE: a customer deleted (erased, or merged into another
-- after their rows moved) takes their consents along.
CREATE TABLE IF NOT EXISTS consents (
    workspace_id INTEGER NOT NULL,
    customer_id  INTEGER NOT NULL,
    channel      TEXT NOT NULL,
    topic        TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL,
    source       TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, customer_id, channel, topic),
    FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

-- Back-filled from the traits that held consent until now. Only
-- 'subscribed' and 'unsubscribed' mean what they say; 'not_subscribed'
-- (never opted in, or declined) and any other value are unknown, which is
-- no consent either. The time is the profile's last change: the trait was
-- set then or before. Rows already there (run again) stay.
INSERT INTO consents (workspace_id, customer_id, channel, topic, state, source, at)
    SELECT workspace_id, id, 'email', '',
        CASE json_type(traits, '$.email_consent') WHEN 'text' THEN
            CASE traits ->> '$.email_consent' WHEN 'subscribed' THEN 'subscribed' WHEN 'unsubscribed' THEN 'unsubscribed' ELSE 'unknown' END
        ELSE 'unknown' END,
        'trait', updated_at
    FROM customers WHERE json_type(traits, '$.email_consent') IS NOT NULL
    ON CONFLICT (workspace_id, customer_id, channel, topic) DO NOTHING;
INSERT INTO consents (workspace_id, customer_id, channel, topic, state, source, at)
    SELECT workspace_id, id, 'sms', '',
        CASE json_type(traits, '$.sms_consent') WHEN 'text' THEN
            CASE traits ->> '$.sms_consent' WHEN 'subscribed' THEN 'subscribed' WHEN 'unsubscribed' THEN 'unsubscribed' ELSE 'unknown' END
        ELSE 'unknown' END,
        'trait', updated_at
    FROM customers WHERE json_type(traits, '$.sms_consent') IS NOT NULL
    ON CONFLICT (workspace_id, customer_id, channel, topic) DO NOTHING;

-- +goose Down
DROP TABLE consents;
CREATE INDEX IF NOT EXISTS customers_workspace ON customers (workspace_id, id);
DROP INDEX IF EXISTS customers_workspace_id;
