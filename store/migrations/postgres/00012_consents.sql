-- +goose Up
-- consents are customers' permissions for marketing, per channel (email,
-- sms) and topic ('' is the whole channel): the state (subscribed,
-- unsubscribed, unknown), where it came from (trait, console, api, ...)
-- and when it last changed. A channel or topic without a row is unknown.
--
-- Every statement may run again over its own result (storetest.Remigrate
-- applies the migrations from an earlier one again).

-- ON DELETE CASCADE: a customer deleted (erased, or merged into another
-- after their rows moved) takes their consents along. The key includes
-- workspace_id, as Citus needs of a key between distributed tables.
CREATE TABLE IF NOT EXISTS consents (
    workspace_id bigint NOT NULL,
    customer_id  bigint NOT NULL,
    channel      text NOT NULL,
    topic        text NOT NULL DEFAULT '',
    state        text NOT NULL,
    source       text NOT NULL,
    at           bigint NOT NULL,
    PRIMARY KEY (workspace_id, customer_id, channel, topic),
    FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id) ON DELETE CASCADE
);

-- Back-filled from the traits that held consent until now. Only
-- 'subscribed' and 'unsubscribed' mean what they say; 'not_subscribed'
-- (never opted in, or declined) and any other value are unknown, which is
-- no consent either. The time is the profile's last change: the trait was
-- set then or before. Rows already there (run again) stay.
INSERT INTO consents (workspace_id, customer_id, channel, topic, state, source, at)
    SELECT workspace_id, id, 'email', '',
        CASE WHEN jsonb_typeof(traits -> 'email_consent') = 'string' AND traits ->> 'email_consent' IN ('subscribed', 'unsubscribed')
            THEN traits ->> 'email_consent' ELSE 'unknown' END,
        'trait', updated_at
    FROM customers WHERE traits -> 'email_consent' IS NOT NULL
    ON CONFLICT (workspace_id, customer_id, channel, topic) DO NOTHING;
INSERT INTO consents (workspace_id, customer_id, channel, topic, state, source, at)
    SELECT workspace_id, id, 'sms', '',
        CASE WHEN jsonb_typeof(traits -> 'sms_consent') = 'string' AND traits ->> 'sms_consent' IN ('subscribed', 'unsubscribed')
            THEN traits ->> 'sms_consent' ELSE 'unknown' END,
        'trait', updated_at
    FROM customers WHERE traits -> 'sms_consent' IS NOT NULL
    ON CONFLICT (workspace_id, customer_id, channel, topic) DO NOTHING;

-- +goose Down
DROP TABLE consents;
