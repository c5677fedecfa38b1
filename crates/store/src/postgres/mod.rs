//! The PostgreSQL adapter: a deadpool of read connections and dedicated writer connections. Writers lock
//! in the global order of `fidelis_engine::port` and flush with pipelined multi-row statements, so a
//! batch costs a handful of round trips; several writers (and several API nodes) share one database.
//! Everything above the connection (statements, decoding) is shared with SQLite.

mod bulk;

use crate::conn::{Begin, Conn, Dialect, EachRow, Source};
use crate::migrations;
use crate::row::{RowLike, Value};
use crate::sql::Step;
use async_trait::async_trait;
use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use fidelis_engine::port::{StoreError, StoreResult};
use std::collections::HashMap;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Config, NoTls, Statement};

/// Deadlocks PostgreSQL reported to this process (the global lock order should keep this at zero).
static DEADLOCKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn deadlocks_seen() -> u64 {
    DEADLOCKS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Read connections in the pool.
pub const READ_POOL_CONNECTIONS_MAX: usize = 16;

#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    config: Config,
}

impl PgStore {
    /// Connects, applies pending migrations (under an advisory lock, so that nodes starting together agree).
    pub async fn connect(url: &str) -> StoreResult<PgStore> {
        let mut config: Config = url.parse().map_err(|e| StoreError::Unavailable(format!("bad database URL: {e}")))?;
        // Plan every execution with its real parameters and the tables' current size. A cached generic plan
        // is made once, often while the tables are still empty, where every index looks as good as any
        // other; it then stays (seen: a lookup by source_id walking the project's whole id index, O(n) per
        // order). A flush's inserts, which have one plan whatever the statistics, switch to generic plans
        // around themselves (`plan_mode`). JIT only adds latency to such queries.
        let options =
            format!("{} -c plan_cache_mode=force_custom_plan -c jit=off", config.get_options().unwrap_or_default());
        config.options(options.trim());
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(READ_POOL_CONNECTIONS_MAX)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let store = PgStore { pool, config };
        store.migrate().await?;
        Ok(store)
    }

    /// A dedicated connection for one writer.
    pub async fn writer(&self) -> StoreResult<PgConn> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(map_error)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "PostgreSQL writer connection ended");
            }
        });
        Ok(PgConn { client: Handle::Dedicated { client, statements: HashMap::new() }, in_transaction: false })
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut client = self.pool.get().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        client.batch_execute(migrations::CREATE_MIGRATIONS_TABLE).await.map_err(map_error)?;
        let tx = client.transaction().await.map_err(map_error)?;
        tx.execute("SELECT pg_advisory_xact_lock(7313001)", &[]).await.map_err(map_error)?;
        for (version, name, sql) in migrations::POSTGRES {
            let applied = tx
                .query_opt("SELECT 1 FROM fidelis_migrations WHERE version = $1", &[version])
                .await
                .map_err(map_error)?
                .is_some();
            if !applied {
                tx.batch_execute(sql).await.map_err(map_error)?;
                let now = jiff::Timestamp::now().as_microsecond();
                tx.execute(
                    "INSERT INTO fidelis_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    &[version, name, &now],
                )
                .await
                .map_err(map_error)?;
                tracing::info!(version, name, "applied PostgreSQL migration");
            }
        }
        tx.commit().await.map_err(map_error)
    }
}

#[async_trait]
impl Source for PgStore {
    async fn conn(&self) -> StoreResult<Box<dyn Conn>> {
        let object = self.pool.get().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Box::new(PgConn { client: Handle::Pooled(Some(object)), in_transaction: false }))
    }
}

enum Handle {
    Pooled(Option<deadpool_postgres::Object>),
    Dedicated { client: Client, statements: HashMap<String, Statement> },
}

pub struct PgConn {
    client: Handle,
    in_transaction: bool,
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // A connection left inside a transaction (a dry run that failed half-way) must not go back to the
        // pool: the next user would run in it.
        if self.in_transaction
            && let Handle::Pooled(object) = &mut self.client
            && let Some(object) = object.take()
        {
            drop(deadpool_postgres::Object::take(object));
        }
    }
}

type Param<'a> = &'a (dyn ToSql + Sync);

/// The session's plan cache mode around a flush's statements. Custom plans (the session default, see
/// `connect`) are planned again at every execution, and a bulk insert's custom plan copies every value
/// of its arrays into the plan: measured 150–330 µs of planning per insert statement and batch, more than
/// executing it. An `INSERT … SELECT * FROM UNNEST(…)` has one possible plan whatever the statistics, so
/// its generic plan is made once and reused. A `SET` inside the transaction is undone if it aborts.
fn plan_mode(generic: bool) -> &'static str {
    if generic { "SET plan_cache_mode = force_generic_plan" } else { "SET plan_cache_mode = force_custom_plan" }
}

impl PgConn {
    fn client(&self) -> StoreResult<&Client> {
        match &self.client {
            Handle::Pooled(Some(object)) => Ok(object),
            Handle::Pooled(None) => Err(StoreError::Unavailable("connection returned".into())),
            Handle::Dedicated { client, .. } => Ok(client),
        }
    }

    async fn statement(&mut self, sql: &str) -> StoreResult<Statement> {
        match &mut self.client {
            Handle::Pooled(Some(object)) => object.prepare_cached(sql).await.map_err(map_error),
            Handle::Pooled(None) => Err(StoreError::Unavailable("connection returned".into())),
            Handle::Dedicated { client, statements } => {
                if let Some(s) = statements.get(sql) {
                    return Ok(s.clone());
                }
                let prepared = client.prepare(sql).await.map_err(map_error)?;
                statements.insert(sql.to_owned(), prepared.clone());
                Ok(prepared)
            }
        }
    }
}

#[async_trait]
impl Conn for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&mut self, sql: &str, params: &[Value], each: &mut EachRow<'_>) -> StoreResult<()> {
        let statement = self.statement(sql).await?;
        let params: Vec<Param<'_>> = params.iter().map(|v| v as Param<'_>).collect();
        let rows = self.client()?.query(&statement, &params).await.map_err(map_error)?;
        for row in &rows {
            each(row as &dyn RowLike)?;
        }
        Ok(())
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> StoreResult<u64> {
        let statement = self.statement(sql).await?;
        let params: Vec<Param<'_>> = params.iter().map(|v| v as Param<'_>).collect();
        self.client()?.execute(&statement, &params).await.map_err(map_error)
    }

    async fn write_steps(&mut self, steps: &[Step]) -> StoreResult<()> {
        let built: Vec<(String, Vec<bulk::ColumnArray>)> = steps.iter().map(bulk::statement).collect();
        let no_arrays = Vec::new();
        let mut statements = Vec::with_capacity(built.len() + 2);
        let mut generic = false;
        for (step, (sql, arrays)) in steps.iter().zip(&built) {
            let fixed = bulk::plan_is_fixed(step.write);
            if fixed != generic {
                statements.push((self.statement(plan_mode(fixed)).await?, &no_arrays));
                generic = fixed;
            }
            statements.push((self.statement(sql).await?, arrays));
        }
        if generic {
            statements.push((self.statement(plan_mode(false)).await?, &no_arrays));
        }
        let params: Vec<(&Statement, Vec<Param<'_>>)> = statements
            .iter()
            .map(|(statement, arrays)| (statement, arrays.iter().map(|a| a as Param<'_>).collect()))
            .collect();
        // One statement per table, polled together so that they are pipelined: one round trip in all.
        let client = self.client()?;
        futures::future::try_join_all(params.iter().map(|(statement, p)| client.execute(*statement, p)))
            .await
            .map_err(map_error)?;
        Ok(())
    }

    async fn begin(&mut self, kind: Begin) -> StoreResult<()> {
        let sql = match kind {
            Begin::Write => "BEGIN",
            Begin::Snapshot => "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        };
        self.client()?.batch_execute(sql).await.map_err(map_error)?;
        self.in_transaction = true;
        Ok(())
    }

    async fn commit(&mut self) -> StoreResult<()> {
        self.client()?.batch_execute("COMMIT").await.map_err(map_error)?;
        self.in_transaction = false;
        Ok(())
    }

    async fn rollback(&mut self) -> StoreResult<()> {
        self.client()?.batch_execute("ROLLBACK").await.map_err(map_error)?;
        self.in_transaction = false;
        Ok(())
    }
}

pub(crate) fn map_error(e: tokio_postgres::Error) -> StoreError {
    let retryable = [SqlState::UNIQUE_VIOLATION, SqlState::T_R_SERIALIZATION_FAILURE, SqlState::T_R_DEADLOCK_DETECTED];
    // The driver's own message for server errors is only "db error"; the server's is the useful part.
    let text = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    };
    if e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED) {
        DEADLOCKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        metrics::counter!("fidelis_writer_deadlocks_total").increment(1);
    }
    match e.code() {
        Some(code) if retryable.contains(code) => StoreError::Conflict(text),
        _ => StoreError::Unavailable(text),
    }
}

fn decode_error(e: tokio_postgres::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl RowLike for tokio_postgres::Row {
    fn text(&self, i: usize) -> StoreResult<String> {
        self.try_get(i).map_err(decode_error)
    }

    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        self.try_get(i).map_err(decode_error)
    }

    fn int(&self, i: usize) -> StoreResult<i64> {
        self.try_get(i).map_err(decode_error)
    }

    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        self.try_get(i).map_err(decode_error)
    }

    fn flag(&self, i: usize) -> StoreResult<bool> {
        self.try_get(i).map_err(decode_error)
    }

    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>> {
        self.try_get(i).map_err(decode_error)
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Text(s) => s.to_sql(ty, out),
            Value::OptText(s) => s.to_sql(ty, out),
            Value::Int(i) => i.to_sql(ty, out),
            Value::OptInt(i) => i.to_sql(ty, out),
            Value::Flag(b) => b.to_sql(ty, out),
            Value::Bytes(b) => b.to_sql(ty, out),
            Value::Texts(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [Type::TEXT, Type::VARCHAR, Type::INT8, Type::BOOL, Type::BYTEA, Type::TEXT_ARRAY].contains(ty)
    }

    to_sql_checked!();
}
