-- Fidelis schema, SQLite. Timestamps are microseconds since the Unix epoch; dates are 'YYYY-MM-DD' text.
-- No foreign keys between hot tables: the engine keeps references whole, and the checks would cost every write.
-- Tables with small rows are WITHOUT ROWID, clustered on their key: one B-tree per row instead of a rowid
-- table plus a key index. Lots and entries cluster by membership, which is how they are read.

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_project ON api_keys (project_id);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    source_id TEXT,
    name TEXT,
    email TEXT,
    phone TEXT,
    birthdate TEXT,
    timezone TEXT,
    address TEXT NOT NULL,
    metadata TEXT NOT NULL,
    stats TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    erased_at INTEGER
);
CREATE UNIQUE INDEX customers_source ON customers (project_id, source_id);
CREATE INDEX customers_project ON customers (project_id, id);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    source_id TEXT,
    customer_id TEXT,
    status TEXT NOT NULL,
    amount INTEGER NOT NULL,
    discount_amount INTEGER NOT NULL,
    refunded_amount INTEGER NOT NULL,
    items TEXT NOT NULL,
    metadata TEXT NOT NULL,
    paid_at INTEGER,
    paid_on TEXT,
    earnings TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX orders_source ON orders (project_id, source_id);
CREATE INDEX orders_project ON orders (project_id, id);
CREATE INDEX orders_customer ON orders (customer_id, id);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    name TEXT NOT NULL,
    client_event_id TEXT,
    metadata TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_client ON events (project_id, client_event_id);
CREATE INDEX events_project ON events (project_id, id);
CREATE INDEX events_customer ON events (customer_id, id);

CREATE TABLE programs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    points_label TEXT NOT NULL,
    time_zone TEXT,
    expiry TEXT NOT NULL,
    earning_every INTEGER,
    earning_points INTEGER,
    join_policy TEXT NOT NULL,
    allow_negative_balance INTEGER NOT NULL,
    paused INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX programs_project ON programs (project_id);

CREATE TABLE memberships (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    card_code TEXT NOT NULL,
    balance INTEGER NOT NULL,
    debt INTEGER NOT NULL,
    earned INTEGER NOT NULL,
    added INTEGER NOT NULL,
    removed INTEGER NOT NULL,
    expired INTEGER NOT NULL,
    clawed_back INTEGER NOT NULL,
    unrecovered INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX memberships_customer ON memberships (customer_id, program_id);
CREATE UNIQUE INDEX memberships_card ON memberships (project_id, card_code);
CREATE INDEX memberships_program ON memberships (program_id, id);

CREATE TABLE lots (
    id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    membership_id TEXT NOT NULL,
    points INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    expires_on TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (membership_id, id)
) WITHOUT ROWID;
CREATE INDEX lots_due ON lots (program_id, expires_on) WHERE remaining > 0 AND expires_on IS NOT NULL;

CREATE TABLE entries (
    id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    membership_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    points INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    lot_id TEXT,
    expires_on TEXT,
    consumed TEXT NOT NULL,
    unrecovered INTEGER NOT NULL,
    debt_repaid INTEGER NOT NULL,
    cause_type TEXT NOT NULL,
    cause_order_id TEXT,
    cause_lot_id TEXT,
    reason TEXT,
    actor TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (membership_id, id)
) WITHOUT ROWID;

CREATE TABLE idempotency (
    project_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_created ON idempotency (created_at);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    customer_id TEXT,
    subject_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

