-- Custom events and ledger entries are immutable rows written in the same commit as their outbox event:
-- the outbox reads them in place (paged by project like the outbox) instead of keeping a copy of each.
CREATE INDEX entries_project ON entries (project_id, id);
DELETE FROM outbox WHERE topic IN ('event.recorded', 'points.credited', 'points.debited', 'points.expired');
