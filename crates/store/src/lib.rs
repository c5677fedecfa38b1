//! Fidelis storage adapters. `Backend` opens the configured database and hands the engine its read port
//! and writer sessions: one writer thread for SQLite, several writer tasks for PostgreSQL.

pub mod codec;
pub mod migrations;
pub mod postgres;
pub mod rows;
pub mod sql;
pub mod sqlite;

use fidelis_engine::port::{ReadPort, StoreResult};
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
    Postgres(Arc<postgres::PgStore>),
}

impl Backend {
    /// Opens the database and applies pending migrations.
    pub async fn open(database: &Database) -> StoreResult<Backend> {
        match database {
            Database::Sqlite { data_dir } => Ok(Backend::Sqlite(Arc::new(sqlite::SqliteStore::open(data_dir)?))),
            Database::Postgres { url, .. } => Ok(Backend::Postgres(Arc::new(postgres::PgStore::connect(url).await?))),
        }
    }

    pub fn reads(&self) -> Arc<dyn ReadPort> {
        match self {
            Backend::Sqlite(s) => s.clone(),
            Backend::Postgres(p) => p.clone(),
        }
    }

    /// The writer sessions the engine should run.
    pub async fn writers(&self, database: &Database) -> StoreResult<Vec<WriterSpec>> {
        match (self, database) {
            (Backend::Postgres(p), Database::Postgres { writers, .. }) => {
                let mut specs = Vec::new();
                for _ in 0..(*writers).max(1) {
                    specs.push(WriterSpec { session: Box::new(p.writer().await?), mode: WriterMode::Task });
                }
                Ok(specs)
            }
            (Backend::Sqlite(s), _) => {
                Ok(vec![WriterSpec { session: Box::new(s.writer()?), mode: WriterMode::Thread }])
            }
            (Backend::Postgres(p), _) => {
                Ok(vec![WriterSpec { session: Box::new(p.writer().await?), mode: WriterMode::Task }])
            }
        }
    }
}
