//! SQL written once for both databases. Statements use `$n` placeholders (the SQLite adapter binds them
//! by number as `?n`). Keyed lookups are defined once (`Lookup`) and rendered per database: SQLite runs
//! the single-key form once per key (in-process calls are cheap), PostgreSQL one statement over
//! `UNNEST`ed key arrays (round trips are not). A flush is a list of `Step`s (a table, its columns, how
//! rows are written, the rows): SQLite writes row by row, PostgreSQL one multi-row statement per step.

use crate::row::{Schema, Value};
use crate::schema::{customers, entries, events, idempotency, lots, memberships, orders, outbox, programs, segments};
use fidelis_engine::port::ChangeSet;

fn placeholders(count: usize) -> String {
    (1..=count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

pub fn insert(schema: &Schema) -> String {
    format!("INSERT INTO {} ({}) VALUES ({})", schema.table, schema.list(), placeholders(schema.columns.len()))
}

/// Rows of a table found by one or more key columns, plus a fixed condition (`AND remaining > 0`).
pub struct Lookup {
    pub schema: &'static Schema,
    pub keys: &'static [&'static str],
    pub filter: &'static str,
}

impl Lookup {
    /// The single-key form: `$1…$n` are the key columns.
    pub fn single(&self) -> String {
        let conds: Vec<String> = self.keys.iter().enumerate().map(|(i, k)| format!("{k} = ${}", i + 1)).collect();
        format!("SELECT {} FROM {} WHERE {}{}", self.schema.list(), self.schema.table, conds.join(" AND "), self.filter)
    }

    /// The bulk form (PostgreSQL): one `text[]` per key column, and a LATERAL subquery per key that
    /// `OFFSET 0` keeps from being flattened into a join, so the plan is an index probe per key whatever
    /// the statistics say. Flattened, a table never analyzed yet (a fresh database under load) estimated
    /// ~90 memberships per customer, and the planner chose a hash join over a sequential scan of the whole
    /// table for every batch: PostgreSQL orders fell from ~6,500/s to ~3,000/s as memberships grew.
    pub fn bulk(&self) -> String {
        let arrays: Vec<String> = (1..=self.keys.len()).map(|i| format!("${i}::text[]")).collect();
        let names: Vec<String> = (1..=self.keys.len()).map(|i| format!("k{i}")).collect();
        let conds: Vec<String> = self.keys.iter().zip(&names).map(|(k, n)| format!("{k} = k.{n}")).collect();
        format!(
            "SELECT t.* FROM UNNEST({}) AS k({}), LATERAL (SELECT {} FROM {} WHERE {}{} OFFSET 0) t",
            arrays.join(", "),
            names.join(", "),
            self.schema.list(),
            self.schema.table,
            conds.join(" AND "),
            self.filter
        )
    }
}

pub static IDEMPOTENCY_BY_KEY: Lookup =
    Lookup { schema: &idempotency::SCHEMA, keys: &["project_id", "key"], filter: "" };
pub static CUSTOMER_BY_ID: Lookup = Lookup { schema: &customers::SCHEMA, keys: &["id"], filter: "" };
pub static CUSTOMER_BY_SOURCE: Lookup =
    Lookup { schema: &customers::SCHEMA, keys: &["project_id", "source_id"], filter: "" };
pub static ORDER_BY_ID: Lookup = Lookup { schema: &orders::SCHEMA, keys: &["id"], filter: "" };
pub static ORDER_BY_SOURCE: Lookup = Lookup { schema: &orders::SCHEMA, keys: &["project_id", "source_id"], filter: "" };
pub static EVENT_BY_CLIENT: Lookup =
    Lookup { schema: &events::SCHEMA, keys: &["project_id", "client_event_id"], filter: "" };
pub static PROGRAMS_OF_PROJECT: Lookup = Lookup { schema: &programs::SCHEMA, keys: &["project_id"], filter: "" };
pub static SEGMENTS_OF_PROJECT: Lookup = Lookup { schema: &segments::SCHEMA, keys: &["project_id"], filter: "" };
pub static MEMBERSHIP_BY_ID: Lookup = Lookup { schema: &memberships::SCHEMA, keys: &["id"], filter: "" };
pub static MEMBERSHIP_BY_CARD: Lookup =
    Lookup { schema: &memberships::SCHEMA, keys: &["project_id", "card_code"], filter: "" };
pub static MEMBERSHIPS_OF_CUSTOMER: Lookup =
    Lookup { schema: &memberships::SCHEMA, keys: &["customer_id"], filter: "" };
pub static HOLDS_OF_MEMBERSHIP: Lookup =
    Lookup { schema: &crate::schema::holds::SCHEMA, keys: &["membership_id"], filter: "" };
pub static OPEN_LOTS: Lookup = Lookup { schema: &lots::SCHEMA, keys: &["membership_id"], filter: " AND remaining > 0" };
pub static COUNTER_BY_KEY: Lookup =
    Lookup { schema: &crate::schema::counters::SCHEMA, keys: &["project_id", "name"], filter: "" };

/// PostgreSQL's lock of a batch's rows of one class: by id (`$1`) or by `(project_id, {alt})` pairs
/// (`$2`, `$3`), locked in id order. Every row is found by an index probe (LATERAL with `OFFSET 0` or a
/// lock, which PostgreSQL does not flatten, as in `Lookup::bulk`): written as joins, a table not analyzed
/// yet was read whole by hash joins (seen: ~100 sequential scans of customers and orders in an 8 s orders
/// run, PostgreSQL orders 13 % below the code before the lock). The ids are sorted before the nested loop
/// that locks them, so rows are locked in id order.
pub fn lock_by_id_or(schema: &Schema, alt: &str) -> String {
    format!(
        "SELECT r.* FROM (SELECT id FROM (SELECT unnest($1::text[]) AS id UNION \
         SELECT t.id FROM UNNEST($2::text[], $3::text[]) AS k(p, v), \
         LATERAL (SELECT x.id FROM {table} x WHERE x.project_id = k.p AND x.{alt} = k.v OFFSET 0) t) u \
         ORDER BY id) k, LATERAL (SELECT {cols} FROM {table} WHERE id = k.id FOR UPDATE) r",
        cols = schema.list(),
        table = schema.table
    )
}

/// PostgreSQL's lock of config rows by id, in id order.
pub fn lock_by_ids(schema: &Schema) -> String {
    format!("SELECT {} FROM {} WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE", schema.list(), schema.table)
}

/// A newest-first page of a table's rows where `column = $1`, below the cursor `$2` (or all).
pub fn page(schema: &Schema, column: &str, with_cursor: bool) -> String {
    let (table, cols) = (schema.table, schema.list());
    if with_cursor {
        format!("SELECT {cols} FROM {table} WHERE {column} = $1 AND id < $2 ORDER BY id DESC LIMIT $3")
    } else {
        format!("SELECT {cols} FROM {table} WHERE {column} = $1 ORDER BY id DESC LIMIT $2")
    }
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
    /// An UPDATE of all rows of a customer: `SET {set} WHERE {key_column} = …`.
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
    pub columns: Vec<&'static str>,
    pub write: Write,
    pub rows: Vec<Vec<Value>>,
}

/// `ON CONFLICT … DO UPDATE SET …` for an upsert.
pub fn conflict_clause(columns: &[&str], key: &str, fixed: &[&str]) -> String {
    let keys: Vec<&str> = key.split(',').map(str::trim).collect();
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !keys.contains(c) && **c != "created_at" && !fixed.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(" ON CONFLICT ({key}) DO UPDATE SET {}", updates.join(", "))
}

/// The single-row statement of a step.
pub fn row_sql(step: &Step) -> String {
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        step.table,
        step.columns.join(", "),
        placeholders(step.columns.len())
    );
    match step.write {
        Write::Insert => insert,
        Write::Upsert { key, fixed } => format!("{insert}{}", conflict_clause(&step.columns, key, fixed)),
        Write::InsertIgnore => format!("{insert} ON CONFLICT DO NOTHING"),
        Write::Erase { set, key_column } => format!("UPDATE {} SET {set} WHERE {key_column} = $1", step.table),
        Write::Update => {
            let sets: Vec<String> =
                step.columns.iter().enumerate().skip(1).map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
            format!("UPDATE {} SET {} WHERE {} = $1", step.table, sets.join(", "), step.columns[0])
        }
        Write::Delete => {
            let conds: Vec<String> =
                step.columns.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
            format!("DELETE FROM {} WHERE {}", step.table, conds.join(" AND "))
        }
    }
}

fn step<T>(schema: &'static Schema, write: Write, rows: &[&T], values: fn(&T) -> Vec<Value>) -> Step {
    Step {
        table: schema.table,
        columns: schema.columns.to_vec(),
        write,
        rows: rows.iter().map(|r| values(r)).collect(),
    }
}

fn erase(changes: &ChangeSet<'_>, table: &'static str, set: &'static str, key_column: &'static str) -> Step {
    let rows = changes.erased_customers.iter().map(|c| vec![Value::text(c)]).collect();
    Step { table, columns: vec![key_column], write: Write::Erase { set, key_column }, rows }
}

/// Every write of a flush, in a fixed order, empty steps left out. Counters are written apart
/// (conditional increments, each checked).
pub fn flush_steps(changes: &ChangeSet<'_>) -> Vec<Step> {
    use Write::{Delete, Insert, InsertIgnore, Update, Upsert};
    let steps = vec![
        // `source_id` changes only on erasure, which has a step of its own.
        step(
            &customers::SCHEMA,
            Upsert { key: "id", fixed: &["project_id", "source_id"] },
            &changes.customers,
            customers::values,
        ),
        step(
            &orders::SCHEMA,
            Upsert { key: "id", fixed: &["project_id", "source_id"] },
            &changes.orders,
            orders::values,
        ),
        step(&events::SCHEMA, Insert, &changes.events, events::values),
        step(&programs::SCHEMA, Upsert { key: "id", fixed: &["project_id"] }, &changes.programs, programs::values),
        // `next_expiry`, `tier_until` and `celebrate_at` are indexed (the jobs' scans): written on insert, and
        // on update only where they changed (next step), so that most upserts leave the indexes alone.
        step(
            &memberships::SCHEMA,
            Upsert {
                key: "id",
                fixed: &[
                    "project_id",
                    "program_id",
                    "customer_id",
                    "card_code",
                    "next_expiry",
                    "tier_until",
                    "celebrate_at",
                ],
            },
            &changes.memberships,
            memberships::values,
        ),
        Step {
            table: "memberships",
            columns: vec!["id", "next_expiry", "tier_until", "celebrate_at"],
            write: Update,
            rows: changes.membership_dues.iter().map(memberships::due_values).collect(),
        },
        // Only a lot's remainder ever changes.
        step(
            &lots::SCHEMA,
            Upsert { key: "membership_id, id", fixed: &["program_id", "points", "expires_on"] },
            &changes.lots,
            lots::values,
        ),
        step(&entries::SCHEMA, Insert, &changes.entries, entries::values),
        step(&crate::schema::rule_sets::SCHEMA, Insert, &changes.rule_sets, crate::schema::rule_sets::values),
        step(&crate::schema::tier_history::SCHEMA, Insert, &changes.tier_moves, crate::schema::tier_history::values),
        step(
            &crate::schema::holds::SCHEMA,
            Upsert {
                key: "membership_id, id",
                fixed: &["project_id", "program_id", "customer_id", "kind", "until", "cause_type", "created_at"],
            },
            &changes.holds,
            crate::schema::holds::values,
        ),
        step(&idempotency::SCHEMA, Insert, &changes.idempotency, idempotency::values),
        Step {
            table: "idempotency",
            columns: vec!["project_id", "key"],
            write: Delete,
            rows: changes
                .idempotency_pruned
                .iter()
                .map(|(p, k)| vec![Value::text(p), Value::Text(k.clone())])
                .collect(),
        },
        Step {
            table: outbox::SCHEMA.table,
            columns: outbox::SCHEMA.columns.to_vec(),
            write: Insert,
            rows: outbox::chunks(&changes.outbox).iter().filter_map(|chunk| outbox::values(chunk)).collect(),
        },
        step(&segments::SCHEMA, Upsert { key: "id", fixed: &["project_id"] }, &changes.segments, segments::values),
        Step {
            table: "customers",
            columns: vec!["id", "segments"],
            write: Update,
            rows: changes.customer_segments.iter().map(|(c, s)| customers::segment_values(c, s)).collect(),
        },
        Step {
            table: "segment_members",
            columns: vec!["segment_id", "customer_id"],
            write: Delete,
            rows: changes.members_removed.iter().map(|(s, c)| vec![Value::text(s), Value::text(c)]).collect(),
        },
        Step {
            table: "segment_members",
            columns: segments::MEMBERS.columns.to_vec(),
            write: InsertIgnore,
            rows: changes.members_added.iter().map(|(s, c, since)| segments::member_values(s, c, *since)).collect(),
        },
        // Erasure reaches the metadata of a customer's events, where merchants put personal details.
        erase(changes, "customers", "source_id = NULL", "id"),
        erase(changes, "events", "metadata = '{}'", "customer_id"),
    ];
    steps.into_iter().filter(|s| !s.rows.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upsert_overwrites_only_what_can_change() {
        let step = Step {
            table: "t",
            columns: vec!["id", "a", "b", "created_at"],
            write: Write::Upsert { key: "id", fixed: &["b"] },
            rows: Vec::new(),
        };
        assert_eq!(
            row_sql(&step),
            "INSERT INTO t (id, a, b, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET a = excluded.a"
        );
    }

    #[test]
    fn a_lookup_is_one_definition_with_a_single_key_and_a_bulk_form() {
        assert_eq!(
            OPEN_LOTS.single(),
            format!("SELECT {} FROM lots WHERE membership_id = $1 AND remaining > 0", lots::SCHEMA.list())
        );
        assert!(OPEN_LOTS.bulk().starts_with("SELECT t.* FROM UNNEST($1::text[]) AS k(k1), LATERAL (SELECT"));
        assert!(CUSTOMER_BY_SOURCE.bulk().contains("project_id = k.k1 AND source_id = k.k2"));
    }
}
