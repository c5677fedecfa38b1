//! The embedded SQLite adapter (default): WAL, `synchronous=FULL`, one writer connection driven by the
//! engine's writer thread (`BEGIN IMMEDIATE`), and a pool of read connections that never wait for it.

mod checkpointer;
mod read;
mod write;

pub use write::SqliteWriter;

use crate::migrations;
use crate::rows::{RowLike, Value};
use fidelis_engine::port::{StoreError, StoreResult};
use parking_lot::Mutex;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use std::path::{Path, PathBuf};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "fidelis.db";
/// Idle read connections kept for reuse.
pub const READ_CONNECTIONS_KEPT_MAX: usize = 16;
/// How long a connection waits for a lock held by another process (the CLI beside a running server).
pub const BUSY_TIMEOUT_MS: u64 = 10_000;

pub struct SqliteStore {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and applies pending migrations.
    pub fn open(data_dir: &Path) -> StoreResult<SqliteStore> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", data_dir.display())))?;
        let path = data_dir.join(DATABASE_FILE);
        let mut conn = connect(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(map_error)?;
        migrate(&mut conn)?;
        Ok(SqliteStore { path, readers: Mutex::new(vec![conn]) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The single writer's connection. Checkpoints run on a thread of their own (see `checkpointer`), so
    /// that commits only pay for the WAL append and its fsync.
    pub fn writer(&self) -> StoreResult<SqliteWriter> {
        let conn = connect(&self.path)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(map_error)?;
        let checkpoints = checkpointer::spawn(connect(&self.path)?);
        Ok(SqliteWriter::new(conn, checkpoints))
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let pooled = self.readers.lock().pop();
        let conn = match pooled {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        let result = f(&conn);
        let mut readers = self.readers.lock();
        if readers.len() < READ_CONNECTIONS_KEPT_MAX {
            readers.push(conn);
        }
        result
    }
}

fn connect(path: &Path) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(map_error)?;
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS)).map_err(map_error)?;
    // FULL: every commit is fsynced, so an acknowledged write survives a crash or power loss.
    conn.pragma_update(None, "synchronous", "FULL").map_err(map_error)?;
    conn.pragma_update(None, "cache_size", -8_192).map_err(map_error)?;
    conn.pragma_update(None, "temp_store", "MEMORY").map_err(map_error)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(migrations::CREATE_MIGRATIONS_TABLE).map_err(map_error)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(map_error)?;
    for (version, name, sql) in migrations::SQLITE {
        let applied: bool = tx
            .query_row("SELECT EXISTS(SELECT 1 FROM fidelis_migrations WHERE version = ?1)", [version], |r| r.get(0))
            .map_err(map_error)?;
        if !applied {
            tx.execute_batch(sql).map_err(map_error)?;
            tx.execute(
                "INSERT INTO fidelis_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![version, name, jiff::Timestamp::now().as_microsecond()],
            )
            .map_err(map_error)?;
            tracing::info!(version, name, "applied SQLite migration");
        }
    }
    tx.commit().map_err(map_error)
}

pub(crate) fn map_error(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) | Some(rusqlite::ErrorCode::DatabaseBusy) => {
            StoreError::Conflict(e.to_string())
        }
        _ => StoreError::Unavailable(e.to_string()),
    }
}

impl RowLike for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> StoreResult<String> {
        self.get(i).map_err(map_error)
    }

    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        self.get(i).map_err(map_error)
    }

    fn int(&self, i: usize) -> StoreResult<i64> {
        self.get(i).map_err(map_error)
    }

    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        self.get(i).map_err(map_error)
    }

    fn flag(&self, i: usize) -> StoreResult<bool> {
        self.get(i).map_err(map_error)
    }

    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>> {
        self.get(i).map_err(map_error)
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::OptText(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::OptText(None) | Value::OptInt(None) => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) | Value::OptInt(Some(i)) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*i)),
            Value::Flag(b) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*b))),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

/// Customers of a project in id order after `after`, decoding only what `projection` asks for.
pub(crate) fn customer_scan(
    conn: &Connection,
    project: &fidelis_core::ids::ProjectId,
    after: Option<&fidelis_core::ids::CustomerId>,
    limit: usize,
    projection: fidelis_engine::port::Projection,
) -> StoreResult<Vec<fidelis_core::customer::Customer>> {
    let columns = match projection {
        fidelis_engine::port::Projection::Full => crate::rows::CUSTOMER_COLUMNS,
        fidelis_engine::port::Projection::WithoutStats => crate::rows::CUSTOMER_COLUMNS_WITHOUT_STATS,
    };
    let sql = format!("SELECT {columns} FROM customers WHERE project_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let after = after.map_or("", |a| a.as_str());
    query_all(conn, &sql, &[&project.as_str(), &after, &limit], crate::rows::customer)
}

/// Runs a query and decodes every row.
pub(crate) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    decode: impl Fn(&dyn RowLike) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut statement = conn.prepare_cached(sql).map_err(map_error)?;
    let mut rows = statement.query(params).map_err(map_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(map_error)? {
        out.push(decode(row as &dyn RowLike)?);
    }
    Ok(out)
}
