-- Segments (C5): definitions, members, and each customer's segment list (for rules and incremental upkeep).

ALTER TABLE customers ADD COLUMN segments TEXT NOT NULL DEFAULT '[]';

CREATE TABLE segments (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    rule TEXT,
    version BIGINT NOT NULL,
    time_dependent BOOLEAN NOT NULL,
    swept_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX segments_project ON segments (project_id);

CREATE TABLE segment_members (
    segment_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (segment_id, customer_id)
);
