-- Earning rules live in their program's row (they are read with it, per batch, and change with it: every
-- change makes a new rules_version). Members keep what capped rules credited them; entries name the rule.
ALTER TABLE programs ADD COLUMN earning_rules TEXT NOT NULL DEFAULT '[]';
ALTER TABLE programs ADD COLUMN rules_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN rule_usage TEXT;
-- Tiers: the program's levels; the member's level and earned months (JSON) and the last day its status is
-- guaranteed (tier_until, found by the daily review through memberships_tier_due, written only when it changes).
ALTER TABLE programs ADD COLUMN tiers TEXT;
ALTER TABLE memberships ADD COLUMN tier TEXT;
ALTER TABLE memberships ADD COLUMN tier_until TEXT;
CREATE INDEX memberships_tier_due ON memberships (program_id, tier_until) WHERE tier_until IS NOT NULL;
ALTER TABLE entries ADD COLUMN rule_id TEXT;
ALTER TABLE entries ADD COLUMN rule_version INTEGER;
ALTER TABLE entries ADD COLUMN cause_event_id TEXT;
ALTER TABLE entries ADD COLUMN cause_segment_id TEXT;

-- Pending points (holds): promised by an order rule, spendable from `until` on; found by the activation job
-- through holds_due, and by member.
CREATE TABLE holds (
    id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    membership_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    points INTEGER NOT NULL,
    state TEXT NOT NULL,
    until TEXT NOT NULL,
    cause_type TEXT NOT NULL,
    cause_order_id TEXT,
    cause_event_id TEXT,
    reason TEXT,
    actor TEXT,
    rule_id TEXT,
    rule_version INTEGER,
    expiry TEXT,
    created_at INTEGER NOT NULL,
    resolved_at INTEGER,
    PRIMARY KEY (membership_id, id)
) WITHOUT ROWID;
CREATE INDEX holds_due ON holds (program_id, until) WHERE state = 'pending';

-- Every version of a program's rule set, as it was made (insert-only): listable and diffable.
CREATE TABLE rule_sets (
    program_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    project_id TEXT NOT NULL,
    rules TEXT NOT NULL,
    tiers TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (program_id, version)
) WITHOUT ROWID;
