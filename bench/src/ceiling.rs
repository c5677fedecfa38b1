//! The `ceiling` scenario's server (`fidelis-bench serve-ceiling`): the most a durable HTTP write can do on
//! this machine. Same HTTP stack as Fidelis (axum router, tokio multi-thread runtime, `axum::serve`,
//! mimalloc), same SQLite connection settings (WAL, `synchronous=FULL`, cache, busy timeout), the same
//! group commit shape (one writer thread drains its queue into one `BEGIN IMMEDIATE` … `COMMIT`, so one
//! fsync per batch, and answers every caller after the commit), and nothing else: `POST /append` stores the
//! request body as one row. Fidelis's write scenarios are reported as a ratio to this one.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rusqlite::{Connection, OpenFlags};
use std::io::Write;
use std::path::Path;
use std::sync::mpsc::{RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Jobs per batch (one transaction, one fsync); the engine's `BATCH_COMMANDS_MAX`.
pub const BATCH_JOBS_MAX: usize = 512;
/// Jobs waiting for the writer; beyond it requests are refused with 503, as the engine's `QUEUE_COMMANDS_MAX`.
pub const QUEUE_JOBS_MAX: usize = 20_000;
/// Largest body `POST /append` takes; the scenario sends ~60 bytes.
pub const APPEND_BODY_BYTES_MAX: usize = 64 * 1024;
/// Database file inside `--data-dir`.
pub const DATABASE_FILE: &str = "ceiling.db";
/// Page cache per connection in KiB (negative for SQLite): the real store's value.
const CACHE_SIZE_KIB: i64 = 8_192;
/// Prepared statements kept per connection: the real store's value.
const STATEMENT_CACHE_CAPACITY: usize = 64;
/// Checkpoint timing, the values of `crates/store/src/sqlite/checkpointer.rs` (private there): longest pause
/// between background checkpoints, shortest pause between two, and how often the writer completes one.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);
const CHECKPOINT_SPACING: Duration = Duration::from_millis(10);
const WRITER_CHECKPOINT_INTERVAL: Duration = Duration::from_millis(1000);

const CREATE_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS appends (id INTEGER PRIMARY KEY, body BLOB NOT NULL, created_at INTEGER NOT NULL)";
const INSERT: &str = "INSERT INTO appends (body, created_at) VALUES (?1, ?2)";

/// The row id, or why the batch failed.
type Answer = Result<i64, String>;

struct Job {
    body: Bytes,
    reply: oneshot::Sender<Answer>,
}

type Answers = Vec<(oneshot::Sender<Answer>, Answer)>;

/// Opens the database, starts the writer, prints `READY <port> <key> <program>` like `serve` (the key and
/// program are placeholders: the ceiling checks no authorization) and serves until killed.
pub async fn serve(data_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(DATABASE_FILE);
    let writer = connect(&path)?;
    writer.pragma_update(None, "journal_mode", "WAL")?;
    writer.execute_batch(CREATE_TABLE)?;
    // As the real writer: commits only append to the WAL; checkpoints run beside them.
    writer.pragma_update(None, "wal_autocheckpoint", 0)?;
    let checkpoints = spawn_checkpointer(connect(&path)?)?;
    let (queue, jobs) = mpsc::channel::<Job>(QUEUE_JOBS_MAX);
    let replies = spawn_replier();
    std::thread::Builder::new()
        .name("ceiling-writer".into())
        .spawn(move || writer_loop(writer, checkpoints, jobs, replies))?;
    let router = Router::new()
        .route("/append", post(append))
        .layer(DefaultBodyLimit::max(APPEND_BODY_BYTES_MAX))
        .with_state(queue);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    println!("READY {port} ceiling -");
    std::io::stdout().flush()?;
    axum::serve(listener, router).await?;
    Ok(())
}

/// The settings of `crates/store/src/sqlite/mod.rs` `connect`, so a commit costs what Fidelis's costs.
fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_millis(fidelis_store::sqlite::BUSY_TIMEOUT_MS))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "cache_size", -CACHE_SIZE_KIB)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    Ok(conn)
}

async fn append(State(queue): State<mpsc::Sender<Job>>, body: Bytes) -> Response {
    let (reply, answer) = oneshot::channel();
    if queue.try_send(Job { body, reply }).is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "writer queue full or stopped").into_response();
    }
    match answer.await {
        Ok(Ok(id)) => (StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json")], format!(r#"{{"id":{id}}}"#))
            .into_response(),
        Ok(Err(error)) => (StatusCode::INTERNAL_SERVER_ERROR, error).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "writer stopped").into_response(),
    }
}

/// Answers reach the runtime in one message per batch, as in `crates/engine/src/writer.rs`: waking each
/// caller from the writer thread would cost a futex call and a context switch per request.
fn spawn_replier() -> mpsc::UnboundedSender<Answers> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Answers>();
    tokio::spawn(async move {
        while let Some(answers) = rx.recv().await {
            for (reply, answer) in answers {
                // A caller that went away no longer listens; the row stands regardless.
                let _ = reply.send(answer);
            }
        }
    });
    tx
}

/// Blocks for the first job, takes whatever else has queued (at most `BATCH_JOBS_MAX`), commits them in one
/// transaction and hands the answers back; a lone request waits for no one.
fn writer_loop(
    conn: Connection,
    checkpoints: SyncSender<()>,
    mut queue: mpsc::Receiver<Job>,
    replies: mpsc::UnboundedSender<Answers>,
) {
    let mut last_checkpoint = Instant::now();
    let mut jobs = Vec::with_capacity(BATCH_JOBS_MAX);
    while let Some(first) = queue.blocking_recv() {
        jobs.push(first);
        while jobs.len() < BATCH_JOBS_MAX {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let answers: Answers = match commit(&conn, &jobs) {
            Ok(ids) => jobs.drain(..).map(|job| job.reply).zip(ids.into_iter().map(Ok)).collect(),
            Err(error) => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                let message = error.to_string();
                jobs.drain(..).map(|job| (job.reply, Err(message.clone()))).collect()
            }
        };
        if last_checkpoint.elapsed() >= WRITER_CHECKPOINT_INTERVAL {
            // The writer completes one now and then so that the WAL restarts instead of growing.
            last_checkpoint = Instant::now();
            checkpoint(&conn, "writer");
        } else if let Err(TrySendError::Disconnected(())) = checkpoints.try_send(()) {
            eprintln!("ceiling: the checkpoint thread is gone");
        }
        if let Err(mpsc::error::SendError(answers)) = replies.send(answers) {
            answers.into_iter().for_each(|(reply, answer)| drop(reply.send(answer)));
        }
    }
}

/// One transaction: one cached INSERT per job, one COMMIT (one fsync of the WAL).
fn commit(conn: &Connection, jobs: &[Job]) -> rusqlite::Result<Vec<i64>> {
    let created_at = jiff::Timestamp::now().as_microsecond();
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut ids = Vec::with_capacity(jobs.len());
    {
        let mut insert = conn.prepare_cached(INSERT)?;
        for job in jobs {
            insert.execute((&job.body[..], created_at))?;
            ids.push(conn.last_insert_rowid());
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(ids)
}

/// A connection of its own checkpoints in PASSIVE mode (never blocking the writer) after each commit, as
/// `crates/store/src/sqlite/checkpointer.rs` does; the thread ends when the writer drops the sender.
fn spawn_checkpointer(conn: Connection) -> std::io::Result<SyncSender<()>> {
    let (tx, rx) = sync_channel::<()>(1);
    std::thread::Builder::new().name("ceiling-checkpoint".into()).spawn(move || {
        // A connection opens the WAL only once it has read the database; before that a checkpoint does nothing.
        if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())) {
            eprintln!("ceiling: checkpoint connection cannot read the database: {e}");
        }
        loop {
            let finished = matches!(rx.recv_timeout(CHECKPOINT_INTERVAL), Err(RecvTimeoutError::Disconnected));
            checkpoint(&conn, "background");
            if finished {
                break;
            }
            std::thread::sleep(CHECKPOINT_SPACING);
        }
    })?;
    Ok(tx)
}

fn checkpoint(conn: &Connection, who: &str) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        eprintln!("ceiling: {who} WAL checkpoint failed: {e}");
    }
}
