//! Configuration: defaults, then a TOML file (`--config`), then environment variables, then flags.
//! Clap merges flags over environment variables; this module lays both over the file.

use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the API listens on.
    pub listen: String,
    /// Directory of the embedded SQLite database (used when no database_url is set).
    pub data_dir: PathBuf,
    /// A PostgreSQL connection string; set it to use PostgreSQL instead of SQLite.
    pub database_url: Option<String>,
    /// Writer connections per node on PostgreSQL.
    pub postgres_writers: usize,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter such as `info` or `fidelis=debug,info`.
    pub log_level: String,
    /// Largest accepted request body, in bytes.
    pub body_bytes_max: usize,
    /// Seconds a client has to send a request body once its header arrived.
    pub body_read_timeout_seconds: u64,
    /// Commands per writer batch (one transaction).
    pub batch_commands_max: usize,
    /// How often the scheduler runs due jobs (expiry), in seconds.
    pub scheduler_interval_seconds: u64,
    /// Client connections served at once (lowered to fit the descriptor limit).
    pub connections_max: usize,
    /// Seconds a client has to send a complete request header.
    pub header_read_timeout_seconds: u64,
    /// Seconds a keep-alive connection may stay idle between requests.
    pub idle_timeout_seconds: u64,
    /// Seconds requests in progress get to finish at shutdown.
    pub shutdown_timeout_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("fidelis-data"),
            database_url: None,
            postgres_writers: fidelis_store::POSTGRES_WRITERS_DEFAULT,
            log_format: "text".into(),
            log_level: "info".into(),
            body_bytes_max: fidelis_api::state::BODY_BYTES_MAX_DEFAULT,
            body_read_timeout_seconds: fidelis_api::state::BODY_READ_TIMEOUT_SECONDS_DEFAULT,
            batch_commands_max: fidelis_engine::writer::BATCH_COMMANDS_MAX,
            scheduler_interval_seconds: 60,
            connections_max: crate::serve::CONNECTIONS_MAX_DEFAULT,
            header_read_timeout_seconds: crate::serve::HEADER_READ_TIMEOUT_SECONDS_DEFAULT,
            idle_timeout_seconds: crate::serve::IDLE_TIMEOUT_SECONDS_DEFAULT,
            shutdown_timeout_seconds: crate::serve::SHUTDOWN_TIMEOUT_SECONDS_DEFAULT,
        }
    }
}

/// Settings that can come from flags or `FIDELIS_*` environment variables.
#[derive(Debug, Clone, Default, Args)]
pub struct Overrides {
    /// A TOML file with any of the settings below.
    #[arg(long, global = true, env = "FIDELIS_CONFIG")]
    pub config: Option<PathBuf>,
    #[arg(long, global = true, env = "FIDELIS_LISTEN")]
    pub listen: Option<String>,
    #[arg(long, global = true, env = "FIDELIS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[arg(long, global = true, env = "FIDELIS_DATABASE_URL")]
    pub database_url: Option<String>,
    #[arg(long, global = true, env = "FIDELIS_POSTGRES_WRITERS")]
    pub postgres_writers: Option<usize>,
    #[arg(long, global = true, env = "FIDELIS_LOG_FORMAT")]
    pub log_format: Option<String>,
    #[arg(long, global = true, env = "FIDELIS_LOG_LEVEL")]
    pub log_level: Option<String>,
    #[arg(long, global = true, env = "FIDELIS_BODY_BYTES_MAX")]
    pub body_bytes_max: Option<usize>,
    #[arg(long, global = true, env = "FIDELIS_BODY_READ_TIMEOUT_SECONDS")]
    pub body_read_timeout_seconds: Option<u64>,
    #[arg(long, global = true, env = "FIDELIS_BATCH_COMMANDS_MAX")]
    pub batch_commands_max: Option<usize>,
    #[arg(long, global = true, env = "FIDELIS_SCHEDULER_INTERVAL_SECONDS")]
    pub scheduler_interval_seconds: Option<u64>,
    #[arg(long, global = true, env = "FIDELIS_CONNECTIONS_MAX")]
    pub connections_max: Option<usize>,
    #[arg(long, global = true, env = "FIDELIS_HEADER_READ_TIMEOUT_SECONDS")]
    pub header_read_timeout_seconds: Option<u64>,
    #[arg(long, global = true, env = "FIDELIS_IDLE_TIMEOUT_SECONDS")]
    pub idle_timeout_seconds: Option<u64>,
    #[arg(long, global = true, env = "FIDELIS_SHUTDOWN_TIMEOUT_SECONDS")]
    pub shutdown_timeout_seconds: Option<u64>,
}

impl Config {
    pub fn load(o: &Overrides) -> anyhow::Result<Config> {
        let mut c = match &o.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        macro_rules! over {
            ($($field:ident),*) => { $( if let Some(v) = &o.$field { c.$field = v.clone(); } )* };
        }
        over!(
            listen,
            data_dir,
            postgres_writers,
            log_format,
            log_level,
            body_bytes_max,
            body_read_timeout_seconds,
            batch_commands_max,
            scheduler_interval_seconds,
            connections_max,
            header_read_timeout_seconds,
            idle_timeout_seconds,
            shutdown_timeout_seconds
        );
        if let Some(url) = &o.database_url {
            c.database_url = Some(url.clone()).filter(|u| !u.is_empty());
        }
        anyhow::ensure!(["text", "json"].contains(&c.log_format.as_str()), "log_format must be text or json");
        anyhow::ensure!(c.batch_commands_max >= 1, "batch_commands_max must be at least 1");
        anyhow::ensure!(c.scheduler_interval_seconds >= 1, "scheduler_interval_seconds must be at least 1");
        anyhow::ensure!(
            c.connections_max >= crate::serve::CONNECTIONS_MIN,
            "connections_max must be at least {}",
            crate::serve::CONNECTIONS_MIN
        );
        anyhow::ensure!(c.header_read_timeout_seconds >= 1, "header_read_timeout_seconds must be at least 1");
        anyhow::ensure!(c.idle_timeout_seconds >= 1, "idle_timeout_seconds must be at least 1");
        anyhow::ensure!(c.body_read_timeout_seconds >= 1, "body_read_timeout_seconds must be at least 1");
        Ok(c)
    }

    fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn database(&self) -> fidelis_store::Database {
        match &self.database_url {
            Some(url) => fidelis_store::Database::Postgres { url: url.clone(), writers: self.postgres_writers },
            None => fidelis_store::Database::Sqlite { data_dir: self.data_dir.clone() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_environment_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fidelis.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nlog_level = \"debug\"\n").unwrap();
        let overrides = Overrides { config: Some(file), log_level: Some("warn".into()), ..Overrides::default() };
        let c = Config::load(&overrides).unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.log_level, "warn");
        assert_eq!(c.batch_commands_max, fidelis_engine::writer::BATCH_COMMANDS_MAX);
    }

    #[test]
    fn connection_settings_have_named_defaults_and_take_overrides() {
        let c = Config::load(&Overrides::default()).unwrap();
        assert_eq!(c.connections_max, crate::serve::CONNECTIONS_MAX_DEFAULT);
        assert_eq!(c.header_read_timeout_seconds, crate::serve::HEADER_READ_TIMEOUT_SECONDS_DEFAULT);
        assert_eq!(c.idle_timeout_seconds, crate::serve::IDLE_TIMEOUT_SECONDS_DEFAULT);
        assert_eq!(c.shutdown_timeout_seconds, crate::serve::SHUTDOWN_TIMEOUT_SECONDS_DEFAULT);
        let overrides =
            Overrides { connections_max: Some(64), shutdown_timeout_seconds: Some(0), ..Overrides::default() };
        let c = Config::load(&overrides).unwrap();
        assert_eq!((c.connections_max, c.shutdown_timeout_seconds), (64, 0));
        let too_few = Overrides { connections_max: Some(1), ..Overrides::default() };
        assert!(Config::load(&too_few).is_err());
    }

    #[test]
    fn unknown_settings_in_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fidelis.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        assert!(Config::load(&Overrides { config: Some(file), ..Overrides::default() }).is_err());
    }
}
