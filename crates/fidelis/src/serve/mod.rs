//! The HTTP serving layer: an accept loop over hyper's HTTP/1.1 connections with a connection limit below
//! the descriptor limit, a header-read timeout and an idle timeout, shedding of connections that hold a
//! slot without a request when the limit is reached, and a graceful shutdown with a deadline.
//!
//! Policy, in the order it applies:
//! - At start the soft descriptor limit is raised to the hard one; the connection limit is the configured
//!   one, lowered if needed to leave `DESCRIPTORS_RESERVED` descriptors for the database, its WAL,
//!   PostgreSQL connections, logs and the listener.
//! - A connection must send a complete request header within the header timeout of its acceptance, and a
//!   keep-alive connection must start its next request within the idle timeout and complete its header
//!   within the header timeout of its first byte; otherwise it is closed. A request in progress (from its
//!   head to the end of its response body) has no deadline here.
//! - At the limit, a new connection is still accepted: the oldest connection that has not sent a complete
//!   request yet (silent or slow) is closed to make room, else the one idle longest between requests;
//!   when every connection has a request in progress, the newcomer is closed at once. So silent clients
//!   cannot take `/healthz` offline.
//! - On SIGTERM or ctrl-c: stop accepting, close idle connections, let requests in progress finish until
//!   the shutdown deadline, then close whatever is left; the caller then finishes the writer's batches.

mod connection;
mod table;

use axum::Router;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use table::{Admission, Table};
use tokio::net::TcpListener;

/// Connections served at once, by default (lowered to what the descriptor limit allows).
pub const CONNECTIONS_MAX_DEFAULT: usize = 10_000;
/// Descriptors kept for everything but client connections: SQLite's database, WAL and shared-memory files
/// for the writer, checkpointer and read connections, PostgreSQL connections, the listener, logs.
pub const DESCRIPTORS_RESERVED: u64 = 256;
/// Fewer connections than this are not worth starting for.
pub const CONNECTIONS_MIN: usize = 16;
/// A client sends a complete request header within this time (of connecting, or of its first byte on a
/// keep-alive connection).
pub const HEADER_READ_TIMEOUT_SECONDS_DEFAULT: u64 = 10;
/// A keep-alive connection idle longer than this is closed. Longer than the 60 s idle timeout common load
/// balancers use, so that the balancer, which knows when it sends, closes first.
pub const IDLE_TIMEOUT_SECONDS_DEFAULT: u64 = 75;
/// Requests in progress at shutdown get this long to finish before their connections are closed.
pub const SHUTDOWN_TIMEOUT_SECONDS_DEFAULT: u64 = 10;
/// How often the table looks for connections past a deadline (the timeouts' resolution).
const SWEEP_INTERVAL: Duration = Duration::from_millis(200);
/// Pause after a failed accept (out of descriptors, say) before trying again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);
/// How often shutdown checks whether every connection has closed.
const SHUTDOWN_POLL_INTERVAL: Duration = Duration::from_millis(20);

#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub connections_max: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub shutdown_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            connections_max: CONNECTIONS_MAX_DEFAULT,
            header_read_timeout: Duration::from_secs(HEADER_READ_TIMEOUT_SECONDS_DEFAULT),
            idle_timeout: Duration::from_secs(IDLE_TIMEOUT_SECONDS_DEFAULT),
            shutdown_timeout: Duration::from_secs(SHUTDOWN_TIMEOUT_SECONDS_DEFAULT),
        }
    }
}

/// Raises the soft descriptor limit as far as the hard limit allows and returns the connection limit that
/// leaves `DESCRIPTORS_RESERVED` descriptors free: `configured`, or less.
pub fn connection_limit(configured: usize) -> anyhow::Result<usize> {
    let soft = rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|e| anyhow::anyhow!("reading the descriptor limit (RLIMIT_NOFILE): {e}"))?;
    let room = usize::try_from(soft.saturating_sub(DESCRIPTORS_RESERVED)).unwrap_or(usize::MAX);
    anyhow::ensure!(
        room >= CONNECTIONS_MIN,
        "the descriptor limit ({soft}) leaves room for only {room} connections after {DESCRIPTORS_RESERVED} \
         reserved; raise it (ulimit -n)"
    );
    let limit = configured.min(room);
    if limit < configured {
        tracing::warn!(configured, limit, descriptors = soft, "connections_max lowered to fit the descriptor limit");
    }
    Ok(limit)
}

/// Serves `router` on `listener` until `shutdown` resolves, then shuts down as described above.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let table = Arc::new(Table::new(config.clone()));
    let sweeper = tokio::spawn(sweep(Arc::downgrade(&table)));
    let (stopping, stop) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            // The signal first: a stream of connections must not keep the server from stopping.
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        match table.admit() {
            Admission::Admit(connection) => {
                tokio::spawn(connection::run(stream, connection, table.clone(), router.clone(), stop.clone()));
            }
            Admission::Refuse => drop(stream),
        }
    }
    // New connections are refused from here on.
    drop(listener);
    let open = table.len();
    tracing::info!(open, "stopped accepting; finishing requests in progress");
    let _ = stopping.send(true);
    let deadline = tokio::time::Instant::now() + config.shutdown_timeout;
    while table.len() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(SHUTDOWN_POLL_INTERVAL).await;
    }
    let left = table.len();
    if left > 0 {
        tracing::warn!(left, "shutdown deadline reached; closing the remaining connections");
        table.close_all();
        // Closing is immediate once each task runs; a request abandoned here still commits if it was queued.
        let grace = tokio::time::Instant::now() + Duration::from_secs(1);
        while table.len() > 0 && tokio::time::Instant::now() < grace {
            tokio::time::sleep(SHUTDOWN_POLL_INTERVAL).await;
        }
    }
    sweeper.abort();
    Ok(())
}

async fn sweep(table: std::sync::Weak<Table>) {
    let mut ticker = tokio::time::interval(SWEEP_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match table.upgrade() {
            Some(table) => table.sweep(),
            None => break,
        }
    }
}
