//! The embedded SQLite adapter (default): WAL, `synchronous=FULL`, one writer connection driven by the
//! engine's writer thread (`BEGIN IMMEDIATE`), and a pool of read connections that never wait for it.
//! Everything above the connection (statements, decoding) is shared with PostgreSQL.

mod checkpointer;

use crate::conn::{Begin, Conn, Dialect, EachRow, Source};
use crate::migrations;
use crate::row::{RowLike, Value};
use crate::sql::{Step, row_sql};
use async_trait::async_trait;
use fidelis_engine::port::{StoreError, StoreResult};
use parking_lot::Mutex;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "fidelis.db";
/// Idle read connections kept for reuse.
pub const READ_CONNECTIONS_KEPT_MAX: usize = 16;
/// How long a connection waits for a lock held by another process (the CLI beside a running server).
pub const BUSY_TIMEOUT_MS: u64 = 10_000;

pub struct SqliteStore {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and applies pending migrations.
    pub fn open(data_dir: &Path) -> StoreResult<Arc<SqliteStore>> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", data_dir.display())))?;
        let path = data_dir.join(DATABASE_FILE);
        let mut conn = connect(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(map_error)?;
        migrate(&mut conn)?;
        Ok(Arc::new(SqliteStore { path, idle: Mutex::new(vec![conn]) }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The single writer's connection. Checkpoints run on a thread of their own (see `checkpointer`), so
    /// that commits only pay for the WAL append and its fsync.
    pub fn writer(&self) -> StoreResult<SqliteConn> {
        let conn = connect(&self.path)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(map_error)?;
        let checkpoints = checkpointer::spawn(connect(&self.path)?);
        Ok(SqliteConn {
            conn: Some(conn),
            role: Role::Writer { checkpoints, last_checkpoint: std::time::Instant::now() },
        })
    }
}

#[async_trait]
impl Source for Arc<SqliteStore> {
    async fn conn(&self) -> StoreResult<Box<dyn Conn>> {
        let pooled = self.idle.lock().pop();
        let conn = match pooled {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        Ok(Box::new(SqliteConn { conn: Some(conn), role: Role::Pooled(self.clone()) }))
    }
}

enum Role {
    Writer {
        checkpoints: checkpointer::Checkpoints,
        last_checkpoint: std::time::Instant,
    },
    /// A read connection, returned to its pool when dropped.
    Pooled(Arc<SqliteStore>),
}

pub struct SqliteConn {
    /// Always `Some` until the connection goes back to its pool.
    conn: Option<Connection>,
    role: Role,
}

impl SqliteConn {
    fn c(&self) -> StoreResult<&Connection> {
        self.conn.as_ref().ok_or_else(|| StoreError::Unavailable("connection returned".into()))
    }
}

impl Drop for SqliteConn {
    fn drop(&mut self) {
        if let (Some(conn), Role::Pooled(store)) = (self.conn.take(), &self.role) {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            let mut idle = store.idle.lock();
            if idle.len() < READ_CONNECTIONS_KEPT_MAX {
                idle.push(conn);
            }
        }
    }
}

/// `?N` binds by number; SQLite would number `$N` names by first appearance instead.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

fn bind(params: &[Value]) -> Vec<&dyn ToSql> {
    params.iter().map(|v| v as &dyn ToSql).collect()
}

#[async_trait]
impl Conn for SqliteConn {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn query(&mut self, sql: &str, params: &[Value], each: &mut EachRow<'_>) -> StoreResult<()> {
        let conn = self.c()?;
        let mut statement = conn.prepare_cached(&numbered(sql)).map_err(map_error)?;
        let mut rows = statement.query(bind(params).as_slice()).map_err(map_error)?;
        while let Some(row) = rows.next().map_err(map_error)? {
            each(row as &dyn RowLike)?;
        }
        Ok(())
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> StoreResult<u64> {
        let conn = self.c()?;
        let changed = conn
            .prepare_cached(&numbered(sql))
            .and_then(|mut s| s.execute(bind(params).as_slice()))
            .map_err(map_error)?;
        Ok(u64::try_from(changed).unwrap_or(0))
    }

    async fn write_steps(&mut self, steps: &[Step]) -> StoreResult<()> {
        let conn = self.c()?;
        for step in steps {
            let mut prepared = conn.prepare_cached(&numbered(&row_sql(step))).map_err(map_error)?;
            for values in &step.rows {
                prepared.execute(bind(values).as_slice()).map_err(map_error)?;
            }
        }
        Ok(())
    }

    async fn begin(&mut self, kind: Begin) -> StoreResult<()> {
        let sql = match kind {
            Begin::Write => "BEGIN IMMEDIATE",
            // Deferred: the snapshot is taken at the first read and kept until the end.
            Begin::Snapshot => "BEGIN",
        };
        self.c()?.execute_batch(sql).map_err(map_error)
    }

    async fn commit(&mut self) -> StoreResult<()> {
        self.c()?.execute_batch("COMMIT").map_err(map_error)?;
        if let (Some(conn), Role::Writer { checkpoints, last_checkpoint }) = (&self.conn, &mut self.role) {
            if last_checkpoint.elapsed() >= checkpointer::WRITER_CHECKPOINT_INTERVAL {
                *last_checkpoint = std::time::Instant::now();
                // After the commit, so a failure here cannot undo it; the next interval tries again.
                checkpointer::checkpoint(conn, "writer");
            } else {
                checkpoints.nudge();
            }
        }
        Ok(())
    }

    async fn rollback(&mut self) -> StoreResult<()> {
        let conn = self.c()?;
        if conn.is_autocommit() {
            return Ok(());
        }
        conn.execute_batch("ROLLBACK").map_err(map_error)
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
    conn.set_prepared_statement_cache_capacity(96);
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
            Value::Texts(_) => {
                return Err(rusqlite::Error::ToSqlConversionFailure("arrays are PostgreSQL-only".into()));
            }
        })
    }
}
