-- +goose Up
-- products.trusted says a server key or an import defined the product:
-- events of a public (browser) write key may then no longer change it.
-- Products stored before this migration count as the store's catalogue
-- (trusted): from the upgrade on, a public key cannot rewrite them.
ALTER TABLE products ADD COLUMN trusted smallint NOT NULL DEFAULT 1;

-- Links other than absolute http(s) URLs were never meant to be kept
-- (touchbase.WebLink): clear those stored before the check existed.
UPDATE products SET url = '' WHERE url <> ''
    AND (url !~* '^https?://[^/?#@:]' OR url ~ '[\x01-\x20\x7f\\]');
UPDATE products SET image_url = '' WHERE image_url <> ''
    AND (image_url !~* '^https?://[^/?#@:]' OR image_url ~ '[\x01-\x20\x7f\\]');

-- The import report's warnings: records imported otherwise than written.
ALTER TABLE imports ADD COLUMN line_warnings text NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE imports DROP COLUMN line_warnings;
ALTER TABLE products DROP COLUMN trusted;
