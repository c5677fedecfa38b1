//! The writer pipeline (group commit): commands queue per writer; a writer takes what has queued up (at
//! most `batch_commands_max`), runs it as one transaction and answers every caller after the commit.
//! Batching is natural: while one batch commits, the next one queues, so a lone request waits for no one.

use crate::batch::{Renderer, WriterState, run_batch};
use crate::clock::Clock;
use crate::command::{Answer, Command};
use crate::idgen::UlidIds;
use crate::port::{StoreError, WriteSession};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Default bound of commands per batch (one transaction).
pub const BATCH_COMMANDS_MAX: usize = 512;
/// Default bound of commands waiting per writer; beyond it requests are refused as overloaded.
pub const QUEUE_COMMANDS_MAX: usize = 20_000;
/// Times a failed batch is retried whole before its commands run one by one.
pub const BATCH_RETRIES_MAX: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the writer queue is full")]
    Overloaded,
    #[error("the writer stopped")]
    Stopped,
}

pub struct Job {
    pub command: Command,
    /// The command runs in a batch of its own (it scans and locks rows of its choosing).
    pub exclusive: bool,
    pub reply: oneshot::Sender<Result<Answer, WriteError>>,
    pub queued_at: Instant,
}

/// How a writer runs: SQLite's blocking connection gets its own thread; PostgreSQL's is an async task.
pub enum WriterMode {
    Thread,
    Task,
}

pub struct WriterSpec {
    pub session: Box<dyn WriteSession>,
    pub mode: WriterMode,
}

pub(crate) struct WriterShared {
    pub clock: Arc<dyn Clock>,
    pub ids: UlidIds,
    pub renderer: Arc<dyn Renderer>,
    pub batch_commands_max: usize,
    pub limits: crate::domains::Limits,
}

pub(crate) enum WriterHandle {
    Thread(std::thread::JoinHandle<()>),
    Task(tokio::task::JoinHandle<()>),
}

pub(crate) fn spawn(
    index: usize,
    spec: WriterSpec,
    shared: Arc<WriterShared>,
    queue: mpsc::Receiver<Job>,
) -> std::io::Result<WriterHandle> {
    let WriterSpec { session, mode } = spec;
    match mode {
        WriterMode::Thread => {
            let replies = spawn_replier();
            let handle = std::thread::Builder::new().name(format!("fidelis-writer-{index}")).spawn(move || {
                futures::executor::block_on(writer_loop(session, shared, queue, Receive::Blocking(replies)))
            })?;
            Ok(WriterHandle::Thread(handle))
        }
        WriterMode::Task => Ok(WriterHandle::Task(tokio::spawn(writer_loop(session, shared, queue, Receive::Async)))),
    }
}

type Answers = Vec<(oneshot::Sender<Result<Answer, WriteError>>, Result<Answer, WriteError>)>;

/// Answers for a writer thread are handed to a task on the runtime in one message per batch: waking each
/// caller from outside the runtime would cost a futex call and a context switch per request.
fn spawn_replier() -> mpsc::UnboundedSender<Answers> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Answers>();
    tokio::spawn(async move {
        while let Some(answers) = rx.recv().await {
            for (reply, result) in answers {
                // A caller that gave up (timeout, disconnect) no longer listens; the write stands regardless.
                let _ = reply.send(result);
            }
        }
    });
    tx
}

enum Receive {
    Blocking(mpsc::UnboundedSender<Answers>),
    Async,
}

async fn writer_loop(
    mut session: Box<dyn WriteSession>,
    shared: Arc<WriterShared>,
    mut queue: mpsc::Receiver<Job>,
    receive: Receive,
) {
    let mut state = WriterState { ids: shared.ids.clone(), rules: Default::default(), limits: shared.limits };
    loop {
        let first = match receive {
            Receive::Blocking(_) => queue.blocking_recv(),
            Receive::Async => queue.recv().await,
        };
        let Some(first) = first else { break };
        let mut jobs = vec![first];
        while jobs.len() < shared.batch_commands_max {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        metrics::gauge!("fidelis_writer_queue_depth").set(queue.len() as f64);
        metrics::histogram!("fidelis_writer_batch_commands").record(jobs.len() as f64);
        let started = Instant::now();
        for job in &jobs {
            metrics::histogram!("fidelis_writer_queue_wait_seconds").record(started.duration_since(job.queued_at));
        }
        let mut results = Vec::with_capacity(jobs.len());
        for group in groups(&jobs) {
            results.extend(run_with_retries(session.as_mut(), group, &shared, &mut state).await);
        }
        metrics::histogram!("fidelis_writer_batch_seconds").record(started.elapsed());
        let answers: Answers = jobs.into_iter().map(|job| job.reply).zip(results).collect();
        match &receive {
            Receive::Blocking(replier) => {
                if let Err(mpsc::error::SendError(answers)) = replier.send(answers) {
                    answers.into_iter().for_each(|(reply, result)| drop(reply.send(result)));
                }
            }
            Receive::Async => answers.into_iter().for_each(|(reply, result)| drop(reply.send(result))),
        }
    }
}

/// Consecutive jobs that may share a batch; an exclusive job is a group of its own.
fn groups(jobs: &[Job]) -> Vec<&[Job]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (index, job) in jobs.iter().enumerate() {
        if job.exclusive {
            if start < index {
                out.push(&jobs[start..index]);
            }
            out.push(&jobs[index..=index]);
            start = index + 1;
        }
    }
    if start < jobs.len() {
        out.push(&jobs[start..]);
    }
    out
}

/// Timestamps are stored in microseconds; deciding with the same precision keeps a response identical to
/// what a later read returns.
pub(crate) fn storable(now: jiff::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now)
}

/// Runs the batch; on a storage error retries it whole, then command by command so that one bad command
/// cannot fail its neighbours.
async fn run_with_retries(
    session: &mut dyn WriteSession,
    jobs: &[Job],
    shared: &WriterShared,
    state: &mut WriterState,
) -> Vec<Result<Answer, WriteError>> {
    let commands: Vec<&Command> = jobs.iter().map(|j| &j.command).collect();
    let mut last_error = None;
    for _ in 0..=BATCH_RETRIES_MAX {
        let now = storable(shared.clock.now());
        match run_batch(session, &commands, now, state, shared.renderer.as_ref()).await {
            Ok(outcomes) => return outcomes.into_iter().map(Ok).collect(),
            Err(error) => {
                metrics::counter!("fidelis_writer_batch_failures_total").increment(1);
                tracing::warn!(%error, commands = commands.len(), "writer batch failed");
                let retryable = matches!(error, StoreError::Conflict(_));
                last_error = Some(error);
                if !retryable {
                    break;
                }
            }
        }
    }
    if commands.len() == 1 {
        let error = last_error.unwrap_or_else(|| StoreError::Unavailable("batch failed".into()));
        return vec![Err(WriteError::Store(error))];
    }
    let mut results = Vec::with_capacity(commands.len());
    for command in &commands {
        let now = storable(shared.clock.now());
        let single = run_batch(session, std::slice::from_ref(command), now, state, shared.renderer.as_ref()).await;
        results.push(single.map_err(WriteError::Store).and_then(|mut o| o.pop().ok_or(WriteError::Stopped)));
    }
    results
}
