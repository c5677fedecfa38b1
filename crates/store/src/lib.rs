//! Fidelis storage adapters. `Backend` opens the configured database and hands the engine its read port,
//! admin port and writer sessions: one writer thread for SQLite, several writer tasks for PostgreSQL.
//! Statements, row codecs, the read side and the batch session are written once (`schema`, `sql`,
//! `reads`, `session`); each adapter only implements a connection (`conn::Conn`).

pub mod codec;
pub mod conn;
pub mod migrations;
pub mod postgres;
pub mod reads;
pub mod row;
pub mod schema;
pub mod session;
pub mod sql;
pub mod sqlite;

use fidelis_engine::port::{AdminPort, ReadPort, StoreResult};
use fidelis_engine::writer::{WriterMode, WriterSpec};
use std::path::PathBuf;
use std::sync::Arc;

/// PostgreSQL writers per node by default: enough to overlap round trips, few enough to rarely contend.
pub const POSTGRES_WRITERS_DEFAULT: usize = 2;

#[derive(Clone, Debug)]
pub enum Database {
    Sqlite { data_dir: PathBuf },
    Postgres { url: String, writers: usize },
}

/// An opened database: the read side and a way to open writer sessions.
pub enum Backend {
    Sqlite(Arc<sqlite::SqliteStore>),
    Postgres(Box<postgres::PgStore>),
}

impl Backend {
    /// Opens the database and applies pending migrations.
    pub async fn open(database: &Database) -> StoreResult<Backend> {
        match database {
            Database::Sqlite { data_dir } => Ok(Backend::Sqlite(sqlite::SqliteStore::open(data_dir)?)),
            Database::Postgres { url, .. } => Ok(Backend::Postgres(Box::new(postgres::PgStore::connect(url).await?))),
        }
    }

    fn shared(&self) -> Arc<reads::Reads> {
        match self {
            Backend::Sqlite(s) => Arc::new(reads::Reads::new(Arc::new(s.clone()))),
            Backend::Postgres(p) => Arc::new(reads::Reads::new(Arc::new(p.as_ref().clone()))),
        }
    }

    pub fn reads(&self) -> Arc<dyn ReadPort> {
        self.shared()
    }

    pub fn admin(&self) -> Arc<dyn AdminPort> {
        self.shared()
    }

    /// The writer sessions the engine should run.
    pub async fn writers(&self, database: &Database) -> StoreResult<Vec<WriterSpec>> {
        match self {
            Backend::Postgres(p) => {
                let count = match database {
                    Database::Postgres { writers, .. } => (*writers).max(1),
                    Database::Sqlite { .. } => 1,
                };
                let mut specs = Vec::new();
                for _ in 0..count {
                    let session = session::Session::writer(Box::new(p.writer().await?));
                    specs.push(WriterSpec { session: Box::new(session), mode: WriterMode::Task });
                }
                Ok(specs)
            }
            Backend::Sqlite(s) => {
                let session = session::Session::writer(Box::new(s.writer()?));
                Ok(vec![WriterSpec { session: Box::new(session), mode: WriterMode::Thread }])
            }
        }
    }
}
