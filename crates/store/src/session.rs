//! A batch's loads and writes over one connection, written once for both databases: a writer's session
//! (which on PostgreSQL locks in the global order of `fidelis_engine::port`) or a read snapshot for dry
//! runs (which locks and writes nothing).

use crate::conn::{Begin, Conn, Dialect, lookup, rows};
use crate::row::Value;
use crate::schema::{counters, customers, events, idempotency, lots, memberships, orders, programs, segments};
use crate::sql::{self, Lookup};
use async_trait::async_trait;
use fidelis_core::customer::Customer;
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{CustomerId, MembershipId, OrderId, ProgramId, ProjectId, SegmentId};
use fidelis_core::ledger::hold::Hold;
use fidelis_core::ledger::{Lot, Membership};
use fidelis_core::order::Order;
use fidelis_core::program::Program;
use fidelis_core::segment::Segment;
use fidelis_engine::port::{
    ChangeSet, CounterKey, IdempotencyRecord, Loads, MemberRef, OrderRef, Projection, Snapshot, StoreError,
    StoreResult, WriteSession,
};
use jiff::Timestamp;
use jiff::civil::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Writer,
    Snapshot,
}

pub struct Session {
    conn: Box<dyn Conn>,
    mode: Mode,
}

impl Session {
    pub fn writer(conn: Box<dyn Conn>) -> Session {
        Session { conn, mode: Mode::Writer }
    }

    /// A snapshot session; the transaction is begun here.
    pub async fn snapshot(mut conn: Box<dyn Conn>) -> StoreResult<Session> {
        conn.begin(Begin::Snapshot).await?;
        Ok(Session { conn, mode: Mode::Snapshot })
    }

    /// Whether loads take row locks: PostgreSQL writers only (SQLite has one writer).
    fn locks(&self) -> bool {
        self.mode == Mode::Writer && self.conn.dialect() == Dialect::Postgres
    }

    fn conn(&mut self) -> &mut dyn Conn {
        self.conn.as_mut()
    }

    async fn by<T: Send>(
        &mut self,
        l: &Lookup,
        keys: Vec<Vec<String>>,
        decode: fn(&dyn crate::row::RowLike) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        lookup(self.conn(), l, &keys, decode).await
    }

    /// Rows by id or `(project, alt)`: one locking statement on a PostgreSQL writer, lookups otherwise.
    async fn by_id_or<T: Send>(
        &mut self,
        (by_id, by_alt): (&Lookup, &Lookup),
        ids: Vec<String>,
        pairs: &[(ProjectId, String)],
        decode: fn(&dyn crate::row::RowLike) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        if ids.is_empty() && pairs.is_empty() {
            return Ok(Vec::new());
        }
        if self.locks() {
            let (projects, values): (Vec<String>, Vec<String>) =
                pairs.iter().map(|(p, v)| (p.to_string(), v.clone())).unzip();
            let sql = sql::lock_by_id_or(by_id.schema, by_alt.keys[1]);
            return rows(self.conn(), &sql, &[Value::Texts(ids), Value::Texts(projects), Value::Texts(values)], decode)
                .await;
        }
        let mut out = self.by(by_id, ids.into_iter().map(|i| vec![i]).collect(), decode).await?;
        out.extend(self.by(by_alt, pair_keys(pairs), decode).await?);
        Ok(out)
    }

    /// Config rows of projects, with `lock` locked first (in id order) on a PostgreSQL writer.
    async fn config<T: Send>(
        &mut self,
        of_project: &Lookup,
        projects: &[ProjectId],
        lock: &[String],
        decode: fn(&dyn crate::row::RowLike) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        if self.locks() && !lock.is_empty() {
            let sql = sql::lock_by_ids(of_project.schema);
            out = rows(self.conn(), &sql, &[Value::Texts(lock.to_vec())], decode).await?;
        }
        out.extend(self.by(of_project, projects.iter().map(|p| vec![p.to_string()]).collect(), decode).await?);
        Ok(out)
    }
}

fn pair_keys(pairs: &[(ProjectId, String)]) -> Vec<Vec<String>> {
    pairs.iter().map(|(p, v)| vec![p.to_string(), v.clone()]).collect()
}

fn strings<T: ToString>(ids: &[T]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

#[async_trait]
impl Loads for Session {
    async fn idempotency(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<IdempotencyRecord>> {
        self.by(&sql::IDEMPOTENCY_BY_KEY, pair_keys(keys), idempotency::row).await
    }

    async fn owners(
        &mut self,
        orders: &[(ProjectId, OrderRef)],
        members: &[(ProjectId, MemberRef)],
    ) -> StoreResult<Vec<CustomerId>> {
        let (mut order_ids, mut order_sources) = (Vec::new(), Vec::new());
        for (p, o) in orders {
            match o {
                OrderRef::Id(id) => order_ids.push(vec![id.to_string()]),
                OrderRef::Source(s) => order_sources.push(vec![p.to_string(), s.clone()]),
            }
        }
        let (mut member_ids, mut cards) = (Vec::new(), Vec::new());
        for (p, m) in members {
            match m {
                MemberRef::Id(id) => member_ids.push(vec![id.to_string()]),
                MemberRef::Card(code) => cards.push(vec![p.to_string(), code.clone()]),
                MemberRef::Customer(_) => {}
            }
        }
        let mut owners: Vec<CustomerId> = Vec::new();
        for order in self.by(&sql::ORDER_BY_ID, order_ids, orders::row).await? {
            owners.extend(order.customer_id);
        }
        for order in self.by(&sql::ORDER_BY_SOURCE, order_sources, orders::row).await? {
            owners.extend(order.customer_id);
        }
        for m in self.by(&sql::MEMBERSHIP_BY_ID, member_ids, memberships::row).await? {
            owners.push(m.customer_id);
        }
        for m in self.by(&sql::MEMBERSHIP_BY_CARD, cards, memberships::row).await? {
            owners.push(m.customer_id);
        }
        owners.sort();
        owners.dedup();
        Ok(owners)
    }

    async fn customers(&mut self, ids: &[CustomerId], sources: &[(ProjectId, String)]) -> StoreResult<Vec<Customer>> {
        self.by_id_or((&sql::CUSTOMER_BY_ID, &sql::CUSTOMER_BY_SOURCE), strings(ids), sources, customers::row).await
    }

    async fn orders(&mut self, ids: &[OrderId], sources: &[(ProjectId, String)]) -> StoreResult<Vec<Order>> {
        self.by_id_or((&sql::ORDER_BY_ID, &sql::ORDER_BY_SOURCE), strings(ids), sources, orders::row).await
    }

    async fn counters(&mut self, keys: &[CounterKey]) -> StoreResult<Vec<(CounterKey, i64)>> {
        let mut sorted = keys.to_vec();
        sorted.sort();
        if self.mode == Mode::Writer {
            // Counters exist from their first use on; creating them in key order keeps the lock order.
            for key in &sorted {
                let params = [Value::text(&key.project_id), Value::Text(key.name.text())];
                self.conn().execute(counters::ENSURE_SQL, &params).await?;
            }
        }
        let keyed = sorted.iter().map(|k| vec![k.project_id.to_string(), k.name.text()]).collect();
        let found = if self.locks() {
            let (projects, names): (Vec<String>, Vec<String>) =
                sorted.iter().map(|k| (k.project_id.to_string(), k.name.text())).unzip();
            let sql = format!(
                "SELECT {} FROM counters WHERE (project_id, name) IN (SELECT * FROM UNNEST($1::text[], $2::text[])) \
                 ORDER BY project_id, name FOR UPDATE",
                counters::SCHEMA.list()
            );
            rows(self.conn(), &sql, &[Value::Texts(projects), Value::Texts(names)], counters::row).await?
        } else {
            self.by(&sql::COUNTER_BY_KEY, keyed, counters::row).await?
        };
        Ok(sorted
            .into_iter()
            .map(|key| {
                let used = found.iter().find(|(k, _)| *k == key).map_or(0, |(_, used)| *used);
                (key, used)
            })
            .collect())
    }

    async fn counters_unlocked(&mut self, keys: &[CounterKey]) -> StoreResult<Vec<(CounterKey, i64)>> {
        let keyed = keys.iter().map(|k| vec![k.project_id.to_string(), k.name.text()]).collect();
        let found = self.by(&sql::COUNTER_BY_KEY, keyed, counters::row).await?;
        Ok(keys
            .iter()
            .map(|key| (key.clone(), found.iter().find(|(k, _)| k == key).map_or(0, |(_, used)| *used)))
            .collect())
    }

    async fn programs(&mut self, projects: &[ProjectId], lock: &[ProgramId]) -> StoreResult<Vec<Program>> {
        self.config(&sql::PROGRAMS_OF_PROJECT, projects, &strings(lock), programs::row).await
    }

    async fn segments(&mut self, projects: &[ProjectId], lock: &[SegmentId]) -> StoreResult<Vec<Segment>> {
        self.config(&sql::SEGMENTS_OF_PROJECT, projects, &strings(lock), segments::row).await
    }

    async fn events_by_client_id(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<CustomEvent>> {
        self.by(&sql::EVENT_BY_CLIENT, pair_keys(keys), events::row).await
    }

    async fn memberships(
        &mut self,
        ids: &[MembershipId],
        cards: &[(ProjectId, String)],
        customers: &[CustomerId],
    ) -> StoreResult<Vec<Membership>> {
        let mut out = self
            .by(&sql::MEMBERSHIP_BY_ID, strings(ids).into_iter().map(|i| vec![i]).collect(), memberships::row)
            .await?;
        out.extend(self.by(&sql::MEMBERSHIP_BY_CARD, pair_keys(cards), memberships::row).await?);
        let of = strings(customers).into_iter().map(|c| vec![c]).collect();
        out.extend(self.by(&sql::MEMBERSHIPS_OF_CUSTOMER, of, memberships::row).await?);
        Ok(out)
    }

    async fn open_lots(&mut self, memberships: &[MembershipId]) -> StoreResult<Vec<Lot>> {
        self.by(&sql::OPEN_LOTS, strings(memberships).into_iter().map(|m| vec![m]).collect(), lots::row).await
    }

    async fn holds(&mut self, memberships: &[MembershipId]) -> StoreResult<Vec<Hold>> {
        let keys = strings(memberships).into_iter().map(|m| vec![m]).collect();
        self.by(&sql::HOLDS_OF_MEMBERSHIP, keys, crate::schema::holds::row).await
    }

    async fn due_holds(&mut self, program: &ProgramId, today: Date, limit: usize) -> StoreResult<Vec<Hold>> {
        let params = [Value::text(program), Value::Text(today.to_string()), Value::Int(limit_value(limit))];
        rows(self.conn(), &crate::schema::holds::due_sql(), &params, crate::schema::holds::row).await
    }

    async fn due_tier_reviews(
        &mut self,
        program: &ProgramId,
        before: Date,
        limit: usize,
    ) -> StoreResult<Vec<Membership>> {
        let params = [Value::text(program), Value::Text(before.to_string()), Value::Int(limit_value(limit))];
        rows(self.conn(), &memberships::tier_due_sql(), &params, memberships::row).await
    }

    async fn due_occasions(
        &mut self,
        program: &ProgramId,
        at: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Membership>> {
        let params = [Value::text(program), Value::Int(crate::codec::micros(at)), Value::Int(limit_value(limit))];
        rows(self.conn(), &memberships::celebrate_due_sql(), &params, memberships::row).await
    }

    async fn order_ids_of_customer(&mut self, customer: &CustomerId) -> StoreResult<Vec<OrderId>> {
        let sql = "SELECT id FROM orders WHERE customer_id = $1 ORDER BY id";
        rows(self.conn(), sql, &[Value::text(customer)], |r| Ok(OrderId::from_trusted(r.text(0)?))).await
    }

    async fn due_lots(&mut self, program: &ProgramId, today: Date, limit: usize) -> StoreResult<Vec<Lot>> {
        let params = [Value::text(program), Value::Text(today.to_string()), Value::Int(limit_value(limit))];
        rows(self.conn(), &lots::due_sql(), &params, lots::row).await
    }

    async fn stale_idempotency(&mut self, before: Timestamp, limit: usize) -> StoreResult<Vec<(ProjectId, String)>> {
        let params = [Value::Int(before.as_microsecond()), Value::Int(limit_value(limit))];
        rows(self.conn(), idempotency::STALE_SQL, &params, |r| Ok((ProjectId::from_trusted(r.text(0)?), r.text(1)?)))
            .await
    }

    async fn customers_after(
        &mut self,
        project: &ProjectId,
        after: Option<&CustomerId>,
        limit: usize,
        projection: Projection,
    ) -> StoreResult<Vec<Customer>> {
        let mut sql = customers::scan_sql(projection);
        // Locked like every write load: a scan changes these customers' segment lists, and another writer
        // must not overwrite them with a list it read before.
        if self.locks() && projection == Projection::Full {
            sql.push_str(" FOR UPDATE");
        }
        let after = after.map_or(String::new(), ToString::to_string);
        let params = [Value::text(project), Value::Text(after), Value::Int(limit_value(limit))];
        rows(self.conn(), &sql, &params, customers::row).await
    }
}

pub(crate) fn limit_value(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl WriteSession for Session {
    async fn begin(&mut self) -> StoreResult<()> {
        self.conn().begin(Begin::Write).await
    }

    async fn commit(&mut self) -> StoreResult<()> {
        self.conn().commit().await
    }

    async fn rollback(&mut self) -> StoreResult<()> {
        self.conn().rollback().await
    }

    async fn flush(&mut self, changes: &ChangeSet<'_>) -> StoreResult<()> {
        let steps = sql::flush_steps(changes);
        self.conn().write_steps(&steps).await?;
        for delta in &changes.counters {
            if delta.key.name.is_unlocked() {
                let params = [Value::text(&delta.key.project_id), Value::Text(delta.key.name.text())];
                self.conn().execute(counters::ENSURE_SQL, &params).await?;
            }
            let params = [
                Value::text(&delta.key.project_id),
                Value::Text(delta.key.name.text()),
                Value::Int(delta.delta),
                Value::Int(delta.limit.unwrap_or(-1)),
            ];
            if self.conn().execute(counters::INCREMENT_SQL, &params).await? != 1 {
                // The batch decided on a value another writer has changed since: retry it.
                return Err(StoreError::Conflict(format!("counter {} would pass its limit", delta.key.name.text())));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Snapshot for Session {
    async fn finish(&mut self) -> StoreResult<()> {
        self.conn().rollback().await
    }
}
