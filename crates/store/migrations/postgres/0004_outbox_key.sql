-- Every change now writes one to three outbox rows: key them by (project_id, id), the order they are paged
-- in, with one index instead of a primary key on id plus a second index.
ALTER TABLE outbox DROP CONSTRAINT outbox_pkey;
DROP INDEX outbox_project;
ALTER TABLE outbox ADD PRIMARY KEY (project_id, id);
