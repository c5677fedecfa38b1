-- Earning rules live in their program's row (they are read with it, per batch, and change with it: every
-- change makes a new rules_version). Members keep what capped rules credited them; entries name the rule.
ALTER TABLE programs ADD COLUMN earning_rules TEXT NOT NULL DEFAULT '[]';
ALTER TABLE programs ADD COLUMN rules_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN rule_usage TEXT;
ALTER TABLE entries ADD COLUMN rule_id TEXT;
ALTER TABLE entries ADD COLUMN rule_version INTEGER;
ALTER TABLE entries ADD COLUMN cause_event_id TEXT;
