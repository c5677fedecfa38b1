//! `counters`: how much of a project limit is used; changed only by conditional increments.

use crate::row::{Cols, RowLike, Schema};
use fidelis_core::ids::ProjectId;
use fidelis_engine::port::{CounterKey, CounterName, StoreError, StoreResult};

pub static SCHEMA: Schema = Schema { table: "counters", columns: &["project_id", "name", "used"] };

pub fn row(r: &dyn RowLike) -> StoreResult<(CounterKey, i64)> {
    let c = Cols::new(&SCHEMA, r);
    let raw = c.text("name")?;
    let name = CounterName::parse(&raw).ok_or_else(|| StoreError::Corrupt(format!("counter {raw}")))?;
    Ok((CounterKey { project_id: ProjectId::from_trusted(c.text("project_id")?), name }, c.int("used")?))
}

/// Creates a counter at zero unless it exists.
pub const ENSURE_SQL: &str = "INSERT INTO counters (project_id, name, used) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING";

/// The conditional increment: `$3` more, only while within the limit `$4` (negative: no limit). The flush
/// checks that it changed one row.
pub const INCREMENT_SQL: &str = "UPDATE counters SET used = used + $3 \
     WHERE project_id = $1 AND name = $2 AND (CAST($4 AS BIGINT) < 0 OR used + $3 <= CAST($4 AS BIGINT))";
