-- Wallets hold pending and reserved points and a lower bound of their next expiry; transfers name the
-- other member; outbox events carry a typed, versioned payload; counters make project limits exact.

ALTER TABLE memberships ADD COLUMN pending BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN next_expiry TEXT;
ALTER TABLE memberships ADD COLUMN transferred_in BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN transferred_out BIGINT NOT NULL DEFAULT 0;
UPDATE memberships SET next_expiry =
    (SELECT min(expires_on) FROM lots WHERE lots.membership_id = memberships.id AND lots.remaining > 0);

ALTER TABLE entries ADD COLUMN cause_membership_id TEXT;

ALTER TABLE outbox ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE outbox ADD COLUMN payload TEXT NOT NULL DEFAULT '{}';

CREATE TABLE counters (
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (project_id, name)
);
INSERT INTO counters (project_id, name, used) SELECT project_id, 'programs', count(*) FROM programs GROUP BY project_id;
INSERT INTO counters (project_id, name, used) SELECT project_id, 'segments', count(*) FROM segments GROUP BY project_id;
