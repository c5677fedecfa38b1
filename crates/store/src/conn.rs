//! A database connection, whatever the database: what the shared read side and session need. Each
//! adapter implements it once (`sqlite::SqliteConn`, `postgres::PgConn`).

use crate::row::{RowLike, Value};
use crate::sql::Step;
use async_trait::async_trait;
use fidelis_engine::port::StoreResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// How a transaction starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begin {
    /// A writer's transaction (SQLite takes the write lock at once: `BEGIN IMMEDIATE`).
    Write,
    /// A consistent read-only snapshot for a dry run.
    Snapshot,
}

pub type EachRow<'a> = dyn FnMut(&dyn RowLike) -> StoreResult<()> + Send + 'a;

#[async_trait]
pub trait Conn: Send {
    fn dialect(&self) -> Dialect;
    /// Runs a query and hands every row to `each`.
    async fn query(&mut self, sql: &str, params: &[Value], each: &mut EachRow<'_>) -> StoreResult<()>;
    /// Runs a statement; returns the rows it changed.
    async fn execute(&mut self, sql: &str, params: &[Value]) -> StoreResult<u64>;
    /// Writes a flush (SQLite: each row; PostgreSQL: one statement per step, pipelined).
    async fn write_steps(&mut self, steps: &[Step]) -> StoreResult<()>;
    async fn begin(&mut self, kind: Begin) -> StoreResult<()>;
    async fn commit(&mut self) -> StoreResult<()>;
    async fn rollback(&mut self) -> StoreResult<()>;
}

/// Every row of a query, decoded.
pub async fn rows<T: Send>(
    conn: &mut dyn Conn,
    sql: &str,
    params: &[Value],
    decode: fn(&dyn RowLike) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut out = Vec::new();
    conn.query(sql, params, &mut |r| {
        out.push(decode(r)?);
        Ok(())
    })
    .await?;
    Ok(out)
}

/// The first row of a query, decoded.
pub async fn one<T: Send>(
    conn: &mut dyn Conn,
    sql: &str,
    params: &[Value],
    decode: fn(&dyn RowLike) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    Ok(rows(conn, sql, params, decode).await?.into_iter().next())
}

/// Where connections come from: a pool for reads and snapshots.
#[async_trait]
pub trait Source: Send + Sync {
    async fn conn(&self) -> StoreResult<Box<dyn Conn>>;
}

/// Runs a lookup for many keys: once per key on SQLite, once in all on PostgreSQL (one array per key
/// column). `keys` holds one value per key column for each key.
pub async fn lookup<T: Send>(
    conn: &mut dyn Conn,
    lookup: &crate::sql::Lookup,
    keys: &[Vec<String>],
    decode: fn(&dyn RowLike) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    match conn.dialect() {
        Dialect::Sqlite => {
            let sql = lookup.single();
            let mut out = Vec::with_capacity(keys.len());
            for key in keys {
                let params: Vec<Value> = key.iter().cloned().map(Value::Text).collect();
                out.extend(rows(conn, &sql, &params, decode).await?);
            }
            Ok(out)
        }
        Dialect::Postgres => {
            let columns = lookup.keys.len();
            let arrays: Vec<Value> =
                (0..columns).map(|i| Value::Texts(keys.iter().map(|k| k[i].clone()).collect())).collect();
            rows(conn, &lookup.bulk(), &arrays, decode).await
        }
    }
}
