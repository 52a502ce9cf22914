-- +goose Up
-- The core schema on SQLite. Times are integer Unix milliseconds UTC; JSON
-- is TEXT. Tables use a rowid primary key for speed and lead every index with
-- workspace_id; the PostgreSQL schema puts workspace_id first in the primary
-- keys instead (the Citus distribution column).

CREATE TABLE workspaces (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);

CREATE TABLE memberships (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    role         TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, id);

-- AUTOINCREMENT on customers and orders: an id, once handed out (and
-- perhaps kept by an API client), never comes back as another person.
CREATE TABLE customers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL,
    user_id      TEXT,
    email        TEXT,
    phone        TEXT,
    traits       TEXT NOT NULL DEFAULT '{}',
    orders       INTEGER NOT NULL DEFAULT 0,
    revenue      REAL NOT NULL DEFAULT 0,
    first_order_at INTEGER,
    last_order_at  INTEGER,
    first_seen_at  INTEGER,
    last_seen_at   INTEGER,
    refunds      INTEGER NOT NULL DEFAULT 0,
    refund_total REAL NOT NULL DEFAULT 0,
    events       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX customers_workspace ON customers (workspace_id, id);
CREATE INDEX customers_last_seen ON customers (workspace_id, last_seen_at, id);
CREATE INDEX customers_revenue ON customers (workspace_id, revenue, id);
CREATE INDEX customers_orders ON customers (workspace_id, orders, id);
CREATE INDEX customers_created ON customers (workspace_id, created_at, id);

-- identities point identifiers at customers; a value belongs to one
-- customer per workspace and kind.
CREATE TABLE identities (
    workspace_id INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    customer_id  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX identities_customer ON identities (workspace_id, customer_id);

-- suppressed_identities hold SHA-256 hashes of erased customers'
-- identifiers, so that late events do not recreate them.
CREATE TABLE suppressed_identities (
    workspace_id INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    value_hash   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, kind, value_hash)
) WITHOUT ROWID;

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    customer_id  INTEGER NOT NULL,
    message_id   TEXT NOT NULL,
    type         TEXT NOT NULL,
    event        TEXT NOT NULL DEFAULT '',
    user_id      TEXT NOT NULL DEFAULT '',
    anonymous_id TEXT NOT NULL DEFAULT '',
    timestamp    INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    properties   TEXT,
    context      TEXT
);
CREATE UNIQUE INDEX events_message_id ON events (workspace_id, message_id);
CREATE INDEX events_customer ON events (workspace_id, customer_id, timestamp);

CREATE TABLE products (
    workspace_id INTEGER NOT NULL,
    product_id   TEXT NOT NULL,
    sku          TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL DEFAULT '',
    category     TEXT NOT NULL DEFAULT '',
    brand        TEXT NOT NULL DEFAULT '',
    variant      TEXT NOT NULL DEFAULT '',
    price        REAL NOT NULL DEFAULT 0,
    currency     TEXT NOT NULL DEFAULT '',
    url          TEXT NOT NULL DEFAULT '',
    image_url    TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, product_id)
) WITHOUT ROWID;

CREATE TABLE orders (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL,
    order_id     TEXT NOT NULL,
    customer_id  INTEGER,
    status       TEXT NOT NULL,
    revenue      REAL NOT NULL DEFAULT 0,
    total        REAL NOT NULL DEFAULT 0,
    subtotal     REAL NOT NULL DEFAULT 0,
    shipping     REAL NOT NULL DEFAULT 0,
    tax          REAL NOT NULL DEFAULT 0,
    discount     REAL NOT NULL DEFAULT 0,
    refunded     REAL NOT NULL DEFAULT 0,
    currency     TEXT NOT NULL DEFAULT '',
    coupon       TEXT NOT NULL DEFAULT '',
    placed_at    INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX orders_order_id ON orders (workspace_id, order_id);
CREATE INDEX orders_customer ON orders (workspace_id, customer_id, placed_at);
CREATE INDEX orders_placed ON orders (workspace_id, placed_at, id);

-- order_items.order_id is orders.id (the internal id).
CREATE TABLE order_items (
    workspace_id INTEGER NOT NULL,
    order_id     INTEGER NOT NULL,
    line         INTEGER NOT NULL,
    product_id   TEXT NOT NULL DEFAULT '',
    sku          TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL DEFAULT '',
    category     TEXT NOT NULL DEFAULT '',
    brand        TEXT NOT NULL DEFAULT '',
    variant      TEXT NOT NULL DEFAULT '',
    price        REAL NOT NULL DEFAULT 0,
    quantity     REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, order_id, line)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE order_items;
DROP TABLE orders;
DROP TABLE products;
DROP TABLE events;
DROP TABLE suppressed_identities;
DROP TABLE identities;
DROP TABLE customers;
DROP TABLE api_keys;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE workspaces;
