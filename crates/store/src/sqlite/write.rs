//! The SQLite writer session: the one connection that writes, `BEGIN IMMEDIATE` per batch, cached
//! statements for every load and for the flush.

use super::read::{customer_by_ref, order_by_ref};
use super::{map_error, query_all};
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
use fidelis_engine::port::{
    ChangeSet, CustomerRef, IdempotencyRecord, OrderRef, Projection, StoreResult, WriteSession,
};
use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, ToSql};

pub struct SqliteWriter {
    conn: Connection,
    last_checkpoint: std::time::Instant,
    /// Stops the checkpoint thread when the writer goes away.
    checkpoints: super::checkpointer::Checkpoints,
}

impl SqliteWriter {
    pub(crate) fn new(conn: Connection, checkpoints: super::checkpointer::Checkpoints) -> SqliteWriter {
        SqliteWriter { conn, last_checkpoint: std::time::Instant::now(), checkpoints }
    }

    /// One query per key: in-process lookups cost microseconds, so bulk SQL would not pay for itself.
    fn each<K, T>(&self, keys: &[K], one: impl Fn(&Connection, &K) -> StoreResult<Vec<T>>) -> StoreResult<Vec<T>> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.extend(one(&self.conn, key)?);
        }
        Ok(out)
    }
}

fn by_one<T>(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    decode: impl Fn(&dyn RowLike) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    query_all(conn, sql, params, decode)
}

#[async_trait]
impl WriteSession for SqliteWriter {
    async fn begin(&mut self) -> StoreResult<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(map_error)
    }

    async fn commit(&mut self) -> StoreResult<()> {
        self.conn.execute_batch("COMMIT").map_err(map_error)?;
        if self.last_checkpoint.elapsed() >= super::checkpointer::WRITER_CHECKPOINT_INTERVAL {
            self.last_checkpoint = std::time::Instant::now();
            // After the commit, so a failure here cannot undo it; the next interval tries again.
            super::checkpointer::checkpoint(&self.conn, "writer");
        } else {
            self.checkpoints.nudge();
        }
        Ok(())
    }

    async fn rollback(&mut self) -> StoreResult<()> {
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.conn.execute_batch("ROLLBACK").map_err(map_error)
    }

    async fn idempotency(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<IdempotencyRecord>> {
        let sql = format!("SELECT {IDEMPOTENCY_COLUMNS} FROM idempotency WHERE project_id = ?1 AND key = ?2");
        self.each(keys, |c, (p, k)| by_one(c, &sql, &[&p.as_str(), k], rows::idempotency))
    }

    async fn programs(&mut self, projects: &[ProjectId]) -> StoreResult<Vec<Program>> {
        let sql = format!("SELECT {PROGRAM_COLUMNS} FROM programs WHERE project_id = ?1");
        self.each(projects, |c, p| by_one(c, &sql, &[&p.as_str()], rows::program))
    }

    async fn customers(&mut self, ids: &[CustomerId]) -> StoreResult<Vec<Customer>> {
        let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?1");
        self.each(ids, |c, id| by_one(c, &sql, &[&id.as_str()], rows::customer))
    }

    async fn customers_by_source(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<Customer>> {
        self.each(keys, |c, (p, s)| Ok(customer_by_ref(c, p, &CustomerRef::Source(s.clone()))?.into_iter().collect()))
    }

    async fn orders(&mut self, ids: &[OrderId]) -> StoreResult<Vec<Order>> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1");
        self.each(ids, |c, id| by_one(c, &sql, &[&id.as_str()], rows::order))
    }

    async fn order_ids_of_customer(&mut self, customer: &CustomerId) -> StoreResult<Vec<OrderId>> {
        let sql = "SELECT id FROM orders WHERE customer_id = ?1 ORDER BY id";
        super::query_all(&self.conn, sql, &[&customer.as_str()], |r| Ok(OrderId::from_trusted(r.text(0)?)))
    }

    async fn orders_by_source(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<Order>> {
        self.each(keys, |c, (p, s)| Ok(order_by_ref(c, p, &OrderRef::Source(s.clone()))?.into_iter().collect()))
    }

    async fn events_by_client_id(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<CustomEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE project_id = ?1 AND client_event_id = ?2");
        self.each(keys, |c, (p, k)| by_one(c, &sql, &[&p.as_str(), k], rows::event))
    }

    async fn memberships(&mut self, ids: &[MembershipId]) -> StoreResult<Vec<Membership>> {
        let sql = format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE id = ?1");
        self.each(ids, |c, id| by_one(c, &sql, &[&id.as_str()], rows::membership))
    }

    async fn memberships_of_customers(&mut self, customers: &[CustomerId]) -> StoreResult<Vec<Membership>> {
        let sql = format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE customer_id = ?1");
        self.each(customers, |c, id| by_one(c, &sql, &[&id.as_str()], rows::membership))
    }

    async fn memberships_by_card(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<Membership>> {
        let sql = format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE project_id = ?1 AND card_code = ?2");
        self.each(keys, |c, (p, code)| by_one(c, &sql, &[&p.as_str(), code], rows::membership))
    }

    async fn open_lots(&mut self, memberships: &[MembershipId]) -> StoreResult<Vec<Lot>> {
        let sql = format!("SELECT {LOT_COLUMNS} FROM lots WHERE membership_id = ?1 AND remaining > 0");
        self.each(memberships, |c, id| by_one(c, &sql, &[&id.as_str()], rows::lot))
    }

    async fn due_lots(&mut self, program: &ProgramId, today: Date, limit: usize) -> StoreResult<Vec<Lot>> {
        let sql = format!(
            "SELECT {LOT_COLUMNS} FROM lots WHERE program_id = ?1 AND remaining > 0 AND expires_on IS NOT NULL \
             AND expires_on < ?2 ORDER BY expires_on, id LIMIT ?3"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        query_all(&self.conn, &sql, &[&program.as_str(), &today.to_string(), &limit], rows::lot)
    }

    async fn segments(&mut self, projects: &[ProjectId]) -> StoreResult<Vec<Segment>> {
        let sql = format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE project_id = ?1");
        self.each(projects, |c, p| by_one(c, &sql, &[&p.as_str()], rows::segment))
    }

    async fn customers_after(
        &mut self,
        project: &ProjectId,
        after: Option<&CustomerId>,
        limit: usize,
        projection: Projection,
    ) -> StoreResult<Vec<Customer>> {
        super::customer_scan(&self.conn, project, after, limit, projection)
    }

    async fn flush(&mut self, changes: &ChangeSet<'_>) -> StoreResult<()> {
        for step in sql::flush_steps(changes) {
            // `?N` binds by number; SQLite would number `$N` names by first appearance instead.
            let statement = sql::row_sql(&step).replace('$', "?");
            let mut prepared = self.conn.prepare_cached(&statement).map_err(map_error)?;
            for values in &step.rows {
                let params: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
                prepared.execute(params.as_slice()).map_err(map_error)?;
            }
        }
        Ok(())
    }

    async fn prune_idempotency(&mut self, before: Timestamp, limit: usize) -> StoreResult<u64> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let deleted = self
            .conn
            .execute(
                "DELETE FROM idempotency WHERE (project_id, key) IN \
                 (SELECT project_id, key FROM idempotency WHERE created_at < ?1 LIMIT ?2)",
                rusqlite::params![before.as_microsecond(), limit],
            )
            .map_err(map_error)?;
        Ok(u64::try_from(deleted).unwrap_or(0))
    }
}
