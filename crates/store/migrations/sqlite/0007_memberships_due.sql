-- The expiry job finds due lots through their memberships' next_expiry (a lower bound of every open lot's
-- last day) instead of a partial index on lots: a lot is written on every credit and debit, and each
-- write touched a random page of lots_due; next_expiry changes only when the earliest open lot does.
DROP INDEX lots_due;
CREATE INDEX memberships_due ON memberships (program_id, next_expiry) WHERE next_expiry IS NOT NULL;
