//! SQL shared by both databases: the flush's upserts and inserts (both accept `$n` placeholders and
//! `ON CONFLICT … DO UPDATE`), built once from the column lists in `rows`.

use crate::rows::*;
use std::sync::LazyLock;

fn placeholders(count: usize) -> String {
    (1..=count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

fn columns(list: &str) -> Vec<&str> {
    list.split(',').map(str::trim).collect()
}

pub fn insert(table: &str, list: &str) -> String {
    let cols = columns(list);
    format!("INSERT INTO {table} ({}) VALUES ({})", cols.join(", "), placeholders(cols.len()))
}

/// Insert, or overwrite the columns that can change when the key exists. Columns that never change after
/// insert (`fixed`) are left out of the update: assigning them, even to the same value, rewrites their
/// index entries and costs page writes.
pub fn upsert(table: &str, list: &str, key: &str, fixed: &[&str]) -> String {
    let cols = columns(list);
    let keys = columns(key);
    let updates: Vec<String> = cols
        .iter()
        .filter(|c| !keys.contains(c) && **c != "created_at" && !fixed.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!("{} ON CONFLICT ({key}) DO UPDATE SET {}", insert(table, list), updates.join(", "))
}

/// `source_id` changes only on erasure, which has a statement of its own.
pub static UPSERT_CUSTOMER: LazyLock<String> =
    LazyLock::new(|| upsert("customers", CUSTOMER_COLUMNS, "id", &["project_id", "source_id"]));
pub static UPSERT_ORDER: LazyLock<String> =
    LazyLock::new(|| upsert("orders", ORDER_COLUMNS, "id", &["project_id", "source_id"]));
pub static INSERT_EVENT: LazyLock<String> = LazyLock::new(|| insert("events", EVENT_COLUMNS));
pub static UPSERT_PROGRAM: LazyLock<String> =
    LazyLock::new(|| upsert("programs", PROGRAM_COLUMNS, "id", &["project_id"]));
pub static UPSERT_MEMBERSHIP: LazyLock<String> = LazyLock::new(|| {
    upsert("memberships", MEMBERSHIP_COLUMNS, "id", &["project_id", "program_id", "customer_id", "card_code"])
});
/// Only a lot's remainder ever changes.
pub static UPSERT_LOT: LazyLock<String> = LazyLock::new(|| {
    upsert("lots", LOT_COLUMNS, "membership_id, id", &["program_id", "points", "expires_on"])
});
pub static INSERT_ENTRY: LazyLock<String> = LazyLock::new(|| insert("entries", ENTRY_COLUMNS));
pub static INSERT_IDEMPOTENCY: LazyLock<String> = LazyLock::new(|| insert("idempotency", IDEMPOTENCY_COLUMNS));
pub static INSERT_OUTBOX: LazyLock<String> = LazyLock::new(|| insert("outbox", OUTBOX_COLUMNS));
pub static INSERT_PROJECT: LazyLock<String> = LazyLock::new(|| insert("projects", PROJECT_COLUMNS));
pub static INSERT_API_KEY: LazyLock<String> = LazyLock::new(|| insert("api_keys", API_KEY_COLUMNS));

/// Erasure reaches the metadata of a customer's orders and events, where merchants put personal details.
pub const ERASE_CUSTOMER_SOURCE: &str = "UPDATE customers SET source_id = NULL WHERE id = $1";
pub const ERASE_ORDER_METADATA: &str = "UPDATE orders SET metadata = '{}' WHERE customer_id = $1";
pub const ERASE_EVENT_METADATA: &str = "UPDATE events SET metadata = '{}' WHERE customer_id = $1";
pub const REVOKE_API_KEY: &str =
    "UPDATE api_keys SET revoked_at = $1 WHERE project_id = $2 AND id = $3 AND revoked_at IS NULL";

/// Every write statement of a flush with its rows, in a fixed order.
pub fn flush_plan(changes: &fidelis_engine::port::ChangeSet<'_>) -> Vec<(&'static str, Vec<Vec<Value>>)> {
    let statement = |s: &'static LazyLock<String>| -> &'static str { s.as_str() };
    vec![
        (statement(&UPSERT_CUSTOMER), changes.customers.iter().map(|c| customer_values(c)).collect()),
        (statement(&UPSERT_ORDER), changes.orders.iter().map(|o| order_values(o)).collect()),
        (statement(&INSERT_EVENT), changes.events.iter().map(|e| event_values(e)).collect()),
        (statement(&UPSERT_PROGRAM), changes.programs.iter().map(|p| program_values(p)).collect()),
        (statement(&UPSERT_MEMBERSHIP), changes.memberships.iter().map(|m| membership_values(m)).collect()),
        (statement(&UPSERT_LOT), changes.lots.iter().map(|l| lot_values(l)).collect()),
        (statement(&INSERT_ENTRY), changes.entries.iter().map(|e| entry_values(e)).collect()),
        (statement(&INSERT_IDEMPOTENCY), changes.idempotency.iter().map(|i| idempotency_values(i)).collect()),
        (statement(&INSERT_OUTBOX), changes.outbox.iter().map(|o| outbox_values(o)).collect()),
        (ERASE_CUSTOMER_SOURCE, changes.erased_customers.iter().map(|c| vec![Value::Text(c.to_string())]).collect()),
        (ERASE_ORDER_METADATA, changes.erased_customers.iter().map(|c| vec![Value::Text(c.to_string())]).collect()),
        (ERASE_EVENT_METADATA, changes.erased_customers.iter().map(|c| vec![Value::Text(c.to_string())]).collect()),
    ]
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
