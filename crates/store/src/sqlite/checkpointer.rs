//! Background WAL checkpoints. SQLite's automatic checkpoint runs inside the committing connection and
//! would make the writer copy pages into the database file and fsync it in the middle of a commit; here a
//! connection of its own does it in PASSIVE mode, which never blocks the writer, right after each commit
//! (`Checkpoints::nudge`), so that it trails the writer by about one batch.
//!
//! A passive checkpoint cannot finish while the writer keeps appending, and the WAL only restarts from its
//! beginning after a complete one; so the writer itself completes a checkpoint now and then
//! (`WRITER_CHECKPOINT_INTERVAL`), which copies only the little the background one has not, and lets the
//! WAL restart. Without that the WAL file grows without bound, and every append to fresh file space costs
//! the kernel a page of zeroing.

use rusqlite::Connection;
use std::sync::mpsc::{RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

/// Longest pause between background checkpoints when no commit asks for one.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);
/// Shortest pause between background checkpoints: each one ends with an fsync of the database file, and
/// back-to-back ones would take disk and CPU time the writer needs.
pub const CHECKPOINT_SPACING: Duration = Duration::from_millis(10);
/// How often the writer completes a checkpoint itself so that the WAL restarts.
pub const WRITER_CHECKPOINT_INTERVAL: Duration = Duration::from_millis(1000);

/// The writer's handle on its checkpoint thread; dropping it stops the thread after one last checkpoint.
pub struct Checkpoints(SyncSender<()>);

impl Checkpoints {
    /// Asks for a checkpoint soon; free when one is already pending.
    pub fn nudge(&self) {
        if let Err(TrySendError::Disconnected(())) = self.0.try_send(()) {
            tracing::warn!("the checkpoint thread is gone");
        }
    }
}

pub fn spawn(conn: Connection) -> Checkpoints {
    let (tx, rx) = sync_channel::<()>(1);
    let spawned = std::thread::Builder::new().name("fidelis-checkpoint".into()).spawn(move || {
        // A connection opens the WAL only once it has read the database; before that a checkpoint does nothing.
        if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpoint connection cannot read the database");
        }
        loop {
            let finished = matches!(rx.recv_timeout(CHECKPOINT_INTERVAL), Err(RecvTimeoutError::Disconnected));
            checkpoint(&conn, "background");
            if finished {
                break;
            }
            std::thread::sleep(CHECKPOINT_SPACING);
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the checkpoint thread; the writer's own checkpoints carry on");
    }
    Checkpoints(tx)
}

/// A PASSIVE checkpoint, timed; failures are logged (the next one tries again).
pub fn checkpoint(conn: &Connection, who: &'static str) {
    let started = Instant::now();
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))) {
        Ok((frames, copied)) => {
            metrics::histogram!("fidelis_sqlite_checkpoint_seconds", "by" => who).record(started.elapsed());
            metrics::gauge!("fidelis_sqlite_wal_frames").set(frames as f64);
            metrics::gauge!("fidelis_sqlite_wal_frames_behind").set((frames - copied) as f64);
        }
        Err(e) => tracing::warn!(error = %e, who, "WAL checkpoint failed"),
    }
}
