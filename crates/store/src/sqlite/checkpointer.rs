//! Background WAL checkpoints. SQLite's automatic checkpoint runs inside the committing connection and
//! would make the writer copy pages into the database file and fsync it in the middle of a commit; here a
//! connection of its own does it every few milliseconds in PASSIVE mode, which never blocks the writer.
//!
//! A passive checkpoint cannot finish while the writer keeps appending, and the WAL only restarts from its
//! beginning after a complete one; so the writer itself runs a short checkpoint now and then
//! (`WRITER_CHECKPOINT_INTERVAL`), which copies only what the background one has not, and lets the WAL
//! restart. Without that the WAL file grows without bound, and every append to fresh file space costs the
//! kernel a page of zeroing.

use rusqlite::Connection;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::time::Duration;

/// Pause between background checkpoints.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(50);
/// How often the writer completes a checkpoint itself so that the WAL restarts.
pub const WRITER_CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// Dropping this stops the checkpoint thread (after one last checkpoint).
pub struct Stop(#[allow(dead_code)] Sender<()>);

pub fn spawn(conn: Connection) -> Stop {
    let (tx, rx) = channel::<()>();
    let spawned = std::thread::Builder::new().name("fidelis-checkpoint".into()).spawn(move || {
        loop {
            let finished = matches!(rx.recv_timeout(CHECKPOINT_INTERVAL), Err(RecvTimeoutError::Disconnected) | Ok(()));
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
            if finished {
                break;
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the checkpoint thread; the WAL will grow until restart");
    }
    Stop(tx)
}
