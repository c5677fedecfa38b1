-- Fidelis schema, PostgreSQL. Timestamps are microseconds since the Unix epoch; dates are 'YYYY-MM-DD' text.
-- No foreign keys between hot tables: the engine keeps references whole, and the checks would cost every write.

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
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
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    erased_at BIGINT
);
CREATE UNIQUE INDEX customers_source ON customers (project_id, source_id);
CREATE INDEX customers_project ON customers (project_id, id);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    source_id TEXT,
    customer_id TEXT,
    status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    discount_amount BIGINT NOT NULL,
    refunded_amount BIGINT NOT NULL,
    items TEXT NOT NULL,
    metadata TEXT NOT NULL,
    paid_at BIGINT,
    paid_on TEXT,
    earnings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
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
    occurred_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
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
    earning_every BIGINT,
    earning_points BIGINT,
    join_policy TEXT NOT NULL,
    allow_negative_balance BOOLEAN NOT NULL,
    paused BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX programs_project ON programs (project_id);

CREATE TABLE memberships (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    card_code TEXT NOT NULL,
    balance BIGINT NOT NULL,
    debt BIGINT NOT NULL,
    earned BIGINT NOT NULL,
    added BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    expired BIGINT NOT NULL,
    clawed_back BIGINT NOT NULL,
    unrecovered BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX memberships_customer ON memberships (customer_id, program_id);
CREATE UNIQUE INDEX memberships_card ON memberships (project_id, card_code);
CREATE INDEX memberships_program ON memberships (program_id, id);

CREATE TABLE lots (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL,
    membership_id TEXT NOT NULL,
    points BIGINT NOT NULL,
    remaining BIGINT NOT NULL,
    expires_on TEXT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX lots_membership ON lots (membership_id, id);
CREATE INDEX lots_due ON lots (program_id, expires_on) WHERE remaining > 0 AND expires_on IS NOT NULL;

CREATE TABLE entries (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    membership_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    points BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    lot_id TEXT,
    expires_on TEXT,
    consumed TEXT NOT NULL,
    unrecovered BIGINT NOT NULL,
    debt_repaid BIGINT NOT NULL,
    cause_type TEXT NOT NULL,
    cause_order_id TEXT,
    cause_lot_id TEXT,
    reason TEXT,
    actor TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX entries_membership ON entries (membership_id, id);

CREATE TABLE idempotency (
    project_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, key)
);
CREATE INDEX idempotency_created ON idempotency (created_at);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    customer_id TEXT,
    subject_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_project ON outbox (project_id, id);
