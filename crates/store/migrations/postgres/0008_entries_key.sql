-- Ledger entries are read by membership and, for the outbox, by project in id order; never by id alone.
-- Keyed by (project_id, id), the key's index serves the outbox page, and the project index of 0005 (one
-- more index entry for every ledger entry written) goes. SQLite clusters entries by membership and keeps
-- its project index: there the key is the table itself.
ALTER TABLE entries DROP CONSTRAINT entries_pkey, ADD PRIMARY KEY (project_id, id);
DROP INDEX entries_project;
