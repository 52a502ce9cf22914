-- +goose Up
-- The identifiers of erased customers, kept as SHA-256 hashes so that late
-- events do not recreate them, were named suppressed_identities.
-- Suppression is to mean the addresses never to send to, so they are
-- erased_identities: the same rows under a name that says what they are,
-- with the primary key's index renamed to match. Imports recorded their
-- count of records naming an erased customer as "suppressed"; it is
-- "erased" now.
--
-- It must run again over its own result (storetest.Remigrate applies
-- every migration from an earlier one again), hence the test for the old
-- table.
-- +goose StatementBegin
DO $$
BEGIN
    IF to_regclass('suppressed_identities') IS NOT NULL THEN
        ALTER TABLE suppressed_identities RENAME TO erased_identities;
        ALTER TABLE erased_identities RENAME CONSTRAINT suppressed_identities_pkey TO erased_identities_pkey;
    END IF;
END
$$;
-- +goose StatementEnd

UPDATE imports SET counts = ((counts::jsonb - 'suppressed') || jsonb_build_object('erased', counts::jsonb -> 'suppressed'))::text
WHERE counts::jsonb -> 'suppressed' IS NOT NULL;

-- +goose Down
UPDATE imports SET counts = ((counts::jsonb - 'erased') || jsonb_build_object('suppressed', counts::jsonb -> 'erased'))::text
WHERE counts::jsonb -> 'erased' IS NOT NULL;

ALTER TABLE erased_identities RENAME CONSTRAINT erased_identities_pkey TO suppressed_identities_pkey;
ALTER TABLE erased_identities RENAME TO suppressed_identities;
