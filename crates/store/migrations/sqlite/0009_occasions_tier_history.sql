-- Birthdays and anniversaries: each member's next occasions (JSON) and the instant the first of them is
-- due (celebrate_at, µs; NULL until the occasions job first plans the member), found by the job through
-- memberships_celebrate_due and written only when it changes.
ALTER TABLE memberships ADD COLUMN occasions TEXT;
ALTER TABLE memberships ADD COLUMN celebrate_at INTEGER;
CREATE INDEX memberships_celebrate_due ON memberships (program_id, COALESCE(celebrate_at, 0));

-- Tier history: every move of a member's tier (joined, upgraded, downgraded, left, prolonged), insert-only,
-- read by member, newest first.
CREATE TABLE tier_history (
    membership_id TEXT NOT NULL,
    id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_level TEXT,
    to_level TEXT,
    until TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (membership_id, id)
) WITHOUT ROWID;
