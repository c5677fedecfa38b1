//! The ordered schema migrations of each database, embedded in the binary.

/// (version, name, SQL). Applied in order; each version once, recorded in `fidelis_migrations`.
pub type Migration = (i64, &'static str, &'static str);

pub const SQLITE: &[Migration] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "segments", include_str!("../migrations/sqlite/0002_segments.sql")),
    (3, "architecture", include_str!("../migrations/sqlite/0003_architecture.sql")),
    (4, "outbox_key", include_str!("../migrations/sqlite/0004_outbox_key.sql")),
    (5, "outbox_in_place", include_str!("../migrations/sqlite/0005_outbox_in_place.sql")),
    (6, "outbox_chunks", include_str!("../migrations/sqlite/0006_outbox_chunks.sql")),
    (7, "memberships_due", include_str!("../migrations/sqlite/0007_memberships_due.sql")),
    (8, "earning_rules", include_str!("../migrations/sqlite/0008_earning_rules.sql")),
    (9, "occasions_tier_history", include_str!("../migrations/sqlite/0009_occasions_tier_history.sql")),
];

pub const POSTGRES: &[Migration] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (2, "segments", include_str!("../migrations/postgres/0002_segments.sql")),
    (3, "architecture", include_str!("../migrations/postgres/0003_architecture.sql")),
    (4, "outbox_key", include_str!("../migrations/postgres/0004_outbox_key.sql")),
    (5, "outbox_in_place", include_str!("../migrations/postgres/0005_outbox_in_place.sql")),
    (6, "outbox_chunks", include_str!("../migrations/postgres/0006_outbox_chunks.sql")),
    (7, "memberships_due", include_str!("../migrations/postgres/0007_memberships_due.sql")),
    (8, "entries_key", include_str!("../migrations/postgres/0008_entries_key.sql")),
    (9, "earning_rules", include_str!("../migrations/postgres/0009_earning_rules.sql")),
    (10, "occasions_tier_history", include_str!("../migrations/postgres/0010_occasions_tier_history.sql")),
];

pub const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS fidelis_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";
