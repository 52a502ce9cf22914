-- +goose Up
-- products.trusted says a server key or an import defined the product:
-- events of a public (browser) write key may then no longer change it.
-- Products stored before this migration count as the store's catalogue
-- (trusted): from the upgrade on, a public key cannot rewrite them.
ALTER TABLE products ADD COLUMN trusted INTEGER NOT NULL DEFAULT 1;

-- Links other than absolute http(s) URLs were never meant to be kept
-- (touchbase.WebLink): clear those stored before the check existed.
UPDATE products SET url = '' WHERE url <> '' AND (
    (lower(substr(url, 1, 7)) <> 'http://' AND lower(substr(url, 1, 8)) <> 'https://')
    OR (lower(substr(url, 1, 7)) = 'http://' AND substr(url, 8, 1) IN ('', '/', '?', '#', '@', ':'))
    OR (lower(substr(url, 1, 8)) = 'https://' AND substr(url, 9, 1) IN ('', '/', '?', '#', '@', ':'))
    OR instr(url, ' ') > 0 OR instr(url, char(9)) > 0 OR instr(url, char(10)) > 0
    OR instr(url, char(13)) > 0 OR instr(url, char(92)) > 0);
UPDATE products SET image_url = '' WHERE image_url <> '' AND (
    (lower(substr(image_url, 1, 7)) <> 'http://' AND lower(substr(image_url, 1, 8)) <> 'https://')
    OR (lower(substr(image_url, 1, 7)) = 'http://' AND substr(image_url, 8, 1) IN ('', '/', '?', '#', '@', ':'))
    OR (lower(substr(image_url, 1, 8)) = 'https://' AND substr(image_url, 9, 1) IN ('', '/', '?', '#', '@', ':'))
    OR instr(image_url, ' ') > 0 OR instr(image_url, char(9)) > 0 OR instr(image_url, char(10)) > 0
    OR instr(image_url, char(13)) > 0 OR instr(image_url, char(92)) > 0);

-- The import report's warnings: records imported otherwise than written.
ALTER TABLE imports ADD COLUMN line_warnings TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE imports DROP COLUMN line_warnings;
ALTER TABLE products DROP COLUMN trusted;
