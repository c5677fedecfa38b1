//! The PostgreSQL writer session: a dedicated connection; bulk loads with `= ANY($1)` that lock the rows
//! the batch may change (`FOR UPDATE`, in id order), and a flush of pipelined prepared statements.

use super::{bulk, map_error, pair_arrays};
use crate::rows::{self, *};
use crate::sql;
use async_trait::async_trait;
use fidelis_core::customer::Customer;
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{CustomerId, MembershipId, OrderId, ProgramId, ProjectId};
use fidelis_core::ledger::{Lot, Membership};
use fidelis_core::order::Order;
use fidelis_core::program::Program;
use fidelis_core::segment::Segment;
use fidelis_engine::port::{ChangeSet, IdempotencyRecord, Projection, StoreResult, WriteSession};
use jiff::Timestamp;
use jiff::civil::Date;
use std::collections::HashMap;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

type Param<'a> = &'a (dyn ToSql + Sync);

pub struct PgWriter {
    client: Client,
    statements: HashMap<String, Statement>,
}

// Lookups are written as a LATERAL subquery per key, which leaves the planner one plan: an index probe
// per key. Prepared statements run on a cached generic plan, and the plain `IN (…)`/`= ANY` forms got a
// plan made while a table was still empty (a sequential or whole-index scan) that stayed cached as the
// table grew: a millisecond of server CPU per order. Keys arrive sorted, so rows are locked in key order.

/// Rows of `table` whose `(project_id, column)` pair is among the given pairs.
fn by_pairs(columns: &str, table: &str, column: &str, lock: &str) -> String {
    format!(
        "SELECT t.* FROM UNNEST($1::text[], $2::text[]) AS k(p, v), \
         LATERAL (SELECT {columns} FROM {table} WHERE project_id = k.p AND {column} = k.v {lock}) t"
    )
}

fn by_ids(columns: &str, table: &str, column: &str, lock: &str) -> String {
    format!(
        "SELECT t.* FROM UNNEST($1::text[]) AS k(v), LATERAL (SELECT {columns} FROM {table} WHERE {column} = k.v {lock}) t"
    )
}

const LOCK: &str = "FOR UPDATE";

impl PgWriter {
    pub(crate) fn new(client: Client) -> PgWriter {
        PgWriter { client, statements: HashMap::new() }
    }

    async fn statement(&mut self, sql: &str) -> StoreResult<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.client.prepare(sql).await.map_err(map_error)?;
        self.statements.insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }

    async fn rows<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        decode: impl Fn(&dyn RowLike) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let statement = self.statement(sql).await?;
        let rows = self.client.query(&statement, params).await.map_err(map_error)?;
        rows.iter().map(|r| decode(r as &dyn RowLike)).collect()
    }

    async fn by_ids<T>(
        &mut self,
        sql: &str,
        ids: Vec<String>,
        decode: impl Fn(&dyn RowLike) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.rows(sql, &[&ids], decode).await
    }

    async fn by_pairs<T>(
        &mut self,
        sql: &str,
        keys: &[(ProjectId, String)],
        decode: impl Fn(&dyn RowLike) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let (projects, values) = pair_arrays(&keys.iter().map(|(p, k)| (p.as_str(), k.clone())).collect::<Vec<_>>());
        self.rows(sql, &[&projects, &values], decode).await
    }
}

fn strings<T: ToString>(ids: &[T]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

#[async_trait]
impl WriteSession for PgWriter {
    async fn begin(&mut self) -> StoreResult<()> {
        self.client.batch_execute("BEGIN").await.map_err(map_error)
    }

    async fn commit(&mut self) -> StoreResult<()> {
        self.client.batch_execute("COMMIT").await.map_err(map_error)
    }

    async fn rollback(&mut self) -> StoreResult<()> {
        self.client.batch_execute("ROLLBACK").await.map_err(map_error)
    }

    async fn idempotency(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<IdempotencyRecord>> {
        self.by_pairs(&by_pairs(IDEMPOTENCY_COLUMNS, "idempotency", "key", ""), keys, rows::idempotency).await
    }

    async fn programs(&mut self, projects: &[ProjectId]) -> StoreResult<Vec<Program>> {
        self.by_ids(&by_ids(PROGRAM_COLUMNS, "programs", "project_id", ""), strings(projects), rows::program).await
    }

    async fn customers(&mut self, ids: &[CustomerId]) -> StoreResult<Vec<Customer>> {
        self.by_ids(&by_ids(CUSTOMER_COLUMNS, "customers", "id", LOCK), strings(ids), rows::customer).await
    }

    async fn customers_by_source(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<Customer>> {
        self.by_pairs(&by_pairs(CUSTOMER_COLUMNS, "customers", "source_id", LOCK), keys, rows::customer).await
    }

    async fn orders(&mut self, ids: &[OrderId]) -> StoreResult<Vec<Order>> {
        self.by_ids(&by_ids(ORDER_COLUMNS, "orders", "id", LOCK), strings(ids), rows::order).await
    }

    async fn order_ids_of_customer(&mut self, customer: &CustomerId) -> StoreResult<Vec<OrderId>> {
        let sql = "SELECT id FROM orders WHERE customer_id = $1 ORDER BY id";
        let rows = self.client.query(sql, &[&customer.as_str()]).await.map_err(map_error)?;
        Ok(rows.iter().map(|r| OrderId::from_trusted(r.get(0))).collect())
    }

    async fn orders_by_source(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<Order>> {
        self.by_pairs(&by_pairs(ORDER_COLUMNS, "orders", "source_id", LOCK), keys, rows::order).await
    }

    async fn events_by_client_id(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<CustomEvent>> {
        self.by_pairs(&by_pairs(EVENT_COLUMNS, "events", "client_event_id", ""), keys, rows::event).await
    }

    async fn memberships(&mut self, ids: &[MembershipId]) -> StoreResult<Vec<Membership>> {
        self.by_ids(&by_ids(MEMBERSHIP_COLUMNS, "memberships", "id", LOCK), strings(ids), rows::membership).await
    }

    async fn memberships_of_customers(&mut self, customers: &[CustomerId]) -> StoreResult<Vec<Membership>> {
        let sql = by_ids(MEMBERSHIP_COLUMNS, "memberships", "customer_id", LOCK);
        self.by_ids(&sql, strings(customers), rows::membership).await
    }

    async fn memberships_by_card(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<Membership>> {
        self.by_pairs(&by_pairs(MEMBERSHIP_COLUMNS, "memberships", "card_code", LOCK), keys, rows::membership).await
    }

    async fn open_lots(&mut self, memberships: &[MembershipId]) -> StoreResult<Vec<Lot>> {
        let sql = format!(
            "SELECT t.* FROM UNNEST($1::text[]) AS k(v), \
             LATERAL (SELECT {LOT_COLUMNS} FROM lots WHERE membership_id = k.v AND remaining > 0 {LOCK}) t"
        );
        self.by_ids(&sql, strings(memberships), rows::lot).await
    }

    async fn due_lots(&mut self, program: &ProgramId, today: Date, limit: usize) -> StoreResult<Vec<Lot>> {
        let sql = format!(
            "SELECT {LOT_COLUMNS} FROM lots WHERE program_id = $1 AND remaining > 0 AND expires_on IS NOT NULL \
             AND expires_on < $2 ORDER BY expires_on, id LIMIT $3 {LOCK}"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.rows(&sql, &[&program.as_str(), &today.to_string(), &limit], rows::lot).await
    }

    async fn segments(&mut self, projects: &[ProjectId]) -> StoreResult<Vec<Segment>> {
        self.by_ids(&by_ids(SEGMENT_COLUMNS, "segments", "project_id", ""), strings(projects), rows::segment).await
    }

    async fn customers_after(
        &mut self,
        project: &ProjectId,
        after: Option<&CustomerId>,
        limit: usize,
        projection: Projection,
    ) -> StoreResult<Vec<Customer>> {
        // Locked like every write load: a scan changes these customers' segment lists, and another writer
        // must not overwrite them with a list it read before.
        let sql = super::customer_scan_sql(projection, LOCK);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let after = after.map_or("", |a| a.as_str());
        self.rows(&sql, &[&project.as_str(), &after, &limit], rows::customer).await
    }

    async fn flush(&mut self, changes: &ChangeSet<'_>) -> StoreResult<()> {
        let steps: Vec<(String, Vec<bulk::ColumnArray>)> =
            sql::flush_steps(changes).iter().map(bulk::statement).collect();
        let mut statements = Vec::with_capacity(steps.len());
        for (sql, arrays) in &steps {
            statements.push((self.statement(sql).await?, arrays));
        }
        let params: Vec<(&Statement, Vec<Param<'_>>)> = statements
            .iter()
            .map(|(statement, arrays)| (statement, arrays.iter().map(|a| a as Param<'_>).collect()))
            .collect();
        // One statement per table, polled together so that they are pipelined: one round trip in all.
        let client = &self.client;
        futures::future::try_join_all(params.iter().map(|(statement, p)| client.execute(*statement, p)))
            .await
            .map_err(map_error)?;
        Ok(())
    }

    async fn prune_idempotency(&mut self, before: Timestamp, limit: usize) -> StoreResult<u64> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = "DELETE FROM idempotency WHERE ctid IN (SELECT ctid FROM idempotency WHERE created_at < $1 LIMIT $2)";
        let statement = self.statement(sql).await?;
        self.client.execute(&statement, &[&before.as_microsecond(), &limit]).await.map_err(map_error)
    }
}
