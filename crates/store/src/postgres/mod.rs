//! The PostgreSQL adapter: a deadpool of read connections and dedicated writer connections. Writers lock
//! the rows they load (`FOR UPDATE`) and flush with pipelined statements, so a batch costs a handful of
//! round trips; several writers (and several API nodes) can share one database.

mod bulk;
mod read;
mod write;

pub use write::PgWriter;

use crate::migrations;
use crate::rows::{RowLike, Value};
use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use fidelis_engine::port::{StoreError, StoreResult};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Config, NoTls};

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
        // order). The plans here are simple, so planning is cheap. JIT only adds latency to such queries.
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
    pub async fn writer(&self) -> StoreResult<PgWriter> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(map_error)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "PostgreSQL writer connection ended");
            }
        });
        Ok(PgWriter::new(client))
    }

    pub(crate) async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut client = self.client().await?;
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

pub(crate) fn map_error(e: tokio_postgres::Error) -> StoreError {
    let retryable = [SqlState::UNIQUE_VIOLATION, SqlState::T_R_SERIALIZATION_FAILURE, SqlState::T_R_DEADLOCK_DETECTED];
    // The driver's own message for server errors is only "db error"; the server's is the useful part.
    let text = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    };
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
        }
    }

    fn accepts(ty: &Type) -> bool {
        [Type::TEXT, Type::VARCHAR, Type::INT8, Type::BOOL, Type::BYTEA].contains(ty)
    }

    to_sql_checked!();
}

/// Customers of a project in id order after `$2`, at most `$3`; `lock` is appended (`FOR UPDATE` or empty).
pub(crate) fn customer_scan_sql(projection: fidelis_engine::port::Projection, lock: &str) -> String {
    let columns = match projection {
        fidelis_engine::port::Projection::Full => crate::rows::CUSTOMER_COLUMNS,
        fidelis_engine::port::Projection::WithoutStats => crate::rows::CUSTOMER_COLUMNS_WITHOUT_STATS,
    };
    format!("SELECT {columns} FROM customers WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3 {lock}")
}

/// Splits (project, key) pairs into the two arrays an `UNNEST($1::text[], $2::text[])` takes.
pub(crate) fn pair_arrays<P: AsRef<str>>(keys: &[(P, String)]) -> (Vec<String>, Vec<String>) {
    keys.iter().map(|(p, k)| (p.as_ref().to_owned(), k.clone())).unzip()
}
