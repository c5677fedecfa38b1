-- Outbox rows are paged per project: key them by (project_id, id), as on PostgreSQL, so a page of one
-- project never scans another's rows (still one b-tree per row written).
CREATE TABLE outbox_keyed (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    topic TEXT NOT NULL,
    customer_id TEXT,
    subject_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    payload TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (project_id, id)
) WITHOUT ROWID;
INSERT INTO outbox_keyed (project_id, id, topic, customer_id, subject_id, created_at, version, payload)
    SELECT project_id, id, topic, customer_id, subject_id, created_at, version, payload FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_keyed RENAME TO outbox;
