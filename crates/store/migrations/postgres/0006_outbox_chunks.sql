-- The outbox keeps one row per batch and project (a chunk) instead of one per event: a JSON array of the
-- batch's events, the first event's id as the row's id, event n at id + n (see store::schema::outbox).
-- Existing rows become chunks of one; segment events written before payloads existed get theirs.
CREATE TABLE outbox_chunks (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
INSERT INTO outbox_chunks (project_id, id, events, created_at)
    SELECT project_id, id,
        json_build_array(json_build_object('topic', topic, 'version', version, 'payload',
            CASE WHEN payload = '{}' AND topic IN ('segment.entered', 'segment.left')
                THEN json_build_object('segment_id', subject_id, 'customer_id', customer_id)
                ELSE payload::json END))::text,
        created_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_chunks RENAME TO outbox;
