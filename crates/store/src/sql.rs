//! SQL shared by both databases. A flush is a list of `Step`s (a table, its columns, how rows are
//! written, the rows); SQLite runs each row through a single-row statement (in-process calls are cheap),
//! PostgreSQL runs each step as one multi-row statement over `UNNEST`ed column arrays (round trips and
//! per-statement overhead are not).

use crate::rows::*;
use fidelis_core::ids::{CustomerId, SegmentId};
use fidelis_engine::port::ChangeSet;
use std::sync::LazyLock;

fn placeholders(count: usize) -> String {
    (1..=count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

pub fn columns(list: &str) -> Vec<&str> {
    list.split(',').map(str::trim).collect()
}

pub fn insert(table: &str, list: &str) -> String {
    let cols = columns(list);
    format!("INSERT INTO {table} ({}) VALUES ({})", cols.join(", "), placeholders(cols.len()))
}

/// How a step writes its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    Insert,
    /// Insert, or on a key conflict overwrite the columns that can change. Columns that never change after
    /// insert (`fixed`) are left out of the update: assigning them, even to the same value, rewrites their
    /// index entries and costs page writes.
    Upsert {
        key: &'static str,
        fixed: &'static [&'static str],
    },
    /// Insert, leaving rows whose key exists as they are.
    InsertIgnore,
    /// An UPDATE of all rows of a customer: `SET {set} WHERE customer_id = …` (or `id` for customers).
    Erase {
        set: &'static str,
        key_column: &'static str,
    },
    /// Set the columns after the first to the given values where the first column (the key) matches.
    Update,
    /// Delete the rows whose columns all match.
    Delete,
}

pub struct Step {
    pub table: &'static str,
    pub columns: &'static str,
    pub write: Write,
    pub rows: Vec<Vec<Value>>,
}

/// `ON CONFLICT … DO UPDATE SET …` for an upsert.
pub fn conflict_clause(list: &str, key: &str, fixed: &[&str]) -> String {
    let keys = columns(key);
    let updates: Vec<String> = columns(list)
        .iter()
        .filter(|c| !keys.contains(c) && **c != "created_at" && !fixed.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(" ON CONFLICT ({key}) DO UPDATE SET {}", updates.join(", "))
}

pub fn upsert(table: &str, list: &str, key: &str, fixed: &[&str]) -> String {
    format!("{}{}", insert(table, list), conflict_clause(list, key, fixed))
}

/// The single-row statement of a step.
pub fn row_sql(step: &Step) -> String {
    match step.write {
        Write::Insert => insert(step.table, step.columns),
        Write::Upsert { key, fixed } => upsert(step.table, step.columns, key, fixed),
        Write::InsertIgnore => format!("{} ON CONFLICT DO NOTHING", insert(step.table, step.columns)),
        Write::Erase { set, key_column } => format!("UPDATE {} SET {set} WHERE {key_column} = $1", step.table),
        Write::Update => {
            let cols = columns(step.columns);
            let sets: Vec<String> = cols.iter().enumerate().skip(1).map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
            format!("UPDATE {} SET {} WHERE {} = $1", step.table, sets.join(", "), cols[0])
        }
        Write::Delete => {
            let conds: Vec<String> =
                columns(step.columns).iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
            format!("DELETE FROM {} WHERE {}", step.table, conds.join(" AND "))
        }
    }
}

pub static INSERT_PROJECT: LazyLock<String> = LazyLock::new(|| insert("projects", PROJECT_COLUMNS));
pub static INSERT_API_KEY: LazyLock<String> = LazyLock::new(|| insert("api_keys", API_KEY_COLUMNS));
pub const REVOKE_API_KEY: &str =
    "UPDATE api_keys SET revoked_at = $1 WHERE project_id = $2 AND id = $3 AND revoked_at IS NULL";

fn step<T>(
    table: &'static str,
    columns: &'static str,
    write: Write,
    rows: &[&T],
    values: fn(&T) -> Vec<Value>,
) -> Step {
    Step { table, columns, write, rows: rows.iter().map(|r| values(r)).collect() }
}

fn erase(changes: &ChangeSet<'_>, table: &'static str, set: &'static str, key_column: &'static str) -> Step {
    let rows = changes.erased_customers.iter().map(|c| vec![Value::Text(c.to_string())]).collect();
    Step { table, columns: key_column, write: Write::Erase { set, key_column }, rows }
}

/// Every write of a flush, in a fixed order, empty steps left out.
pub fn flush_steps(changes: &ChangeSet<'_>) -> Vec<Step> {
    use Write::{Delete, Insert, InsertIgnore, Update, Upsert};
    let member = |(s, c): &(&SegmentId, &CustomerId)| vec![Value::Text(s.to_string()), Value::Text(c.to_string())];
    let steps = vec![
        // `source_id` changes only on erasure, which has a step of its own.
        step(
            "customers",
            CUSTOMER_COLUMNS,
            Upsert { key: "id", fixed: &["project_id", "source_id"] },
            &changes.customers,
            customer_values,
        ),
        step(
            "orders",
            ORDER_COLUMNS,
            Upsert { key: "id", fixed: &["project_id", "source_id"] },
            &changes.orders,
            order_values,
        ),
        step("events", EVENT_COLUMNS, Insert, &changes.events, event_values),
        step(
            "programs",
            PROGRAM_COLUMNS,
            Upsert { key: "id", fixed: &["project_id"] },
            &changes.programs,
            program_values,
        ),
        step(
            "memberships",
            MEMBERSHIP_COLUMNS,
            Upsert { key: "id", fixed: &["project_id", "program_id", "customer_id", "card_code"] },
            &changes.memberships,
            membership_values,
        ),
        // Only a lot's remainder ever changes.
        step(
            "lots",
            LOT_COLUMNS,
            Upsert { key: "membership_id, id", fixed: &["program_id", "points", "expires_on"] },
            &changes.lots,
            lot_values,
        ),
        step("entries", ENTRY_COLUMNS, Insert, &changes.entries, entry_values),
        step("idempotency", IDEMPOTENCY_COLUMNS, Insert, &changes.idempotency, idempotency_values),
        step("outbox", OUTBOX_COLUMNS, Insert, &changes.outbox, outbox_values),
        step(
            "segments",
            SEGMENT_COLUMNS,
            Upsert { key: "id", fixed: &["project_id"] },
            &changes.segments,
            segment_values,
        ),
        Step {
            table: "customers",
            columns: "id, segments",
            write: Update,
            rows: changes.customer_segments.iter().map(|(c, s)| customer_segment_values(c, s)).collect(),
        },
        Step {
            table: "segment_members",
            columns: "segment_id, customer_id",
            write: Delete,
            rows: changes.members_removed.iter().map(member).collect(),
        },
        Step {
            table: "segment_members",
            columns: SEGMENT_MEMBER_COLUMNS,
            write: InsertIgnore,
            rows: changes
                .members_added
                .iter()
                .map(|(s, c, since)| {
                    vec![Value::Text(s.to_string()), Value::Text(c.to_string()), Value::Int(since.as_microsecond())]
                })
                .collect(),
        },
        // Erasure reaches the metadata of a customer's orders and events, where merchants put personal details.
        erase(changes, "customers", "source_id = NULL", "id"),
        erase(changes, "orders", "metadata = '{}'", "customer_id"),
        erase(changes, "events", "metadata = '{}'", "customer_id"),
    ];
    steps.into_iter().filter(|s| !s.rows.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upsert_overwrites_only_what_can_change() {
        let sql = upsert("t", "id, a, b, created_at", "id", &["b"]);
        assert_eq!(
            sql,
            "INSERT INTO t (id, a, b, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET a = excluded.a"
        );
    }
}
