//! The table of open connections: what phase each is in (waiting for its first request, busy, idle
//! between requests), admission at the connection limit (shed the oldest connection without a request in
//! progress, or refuse the newcomer), and the sweep that closes connections past their header or idle
//! deadline.

use super::ServeConfig;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// "No time recorded" in the millisecond fields.
const NONE_MS: u64 = u64::MAX;

/// One open connection, shared by its task, its socket wrapper, its requests and the table.
pub struct Connection {
    pub id: u64,
    epoch: Instant,
    accepted_ms: u64,
    /// Requests whose head arrived and whose response body is not yet fully sent.
    in_flight: AtomicU32,
    /// Requests whose head arrived, ever: 0 means the client has not sent a complete request yet.
    started: AtomicU64,
    /// When the last response was sent (the connection became idle).
    idle_since_ms: AtomicU64,
    /// When the first byte of the next request arrived on an idle connection.
    head_started_ms: AtomicU64,
    closing: AtomicBool,
    close: Notify,
}

/// Why the table closed a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// No complete request header within the header timeout.
    Header,
    /// Idle between requests longer than the idle timeout.
    Idle,
    /// Shed at the connection limit to make room for a newcomer.
    Shed,
    /// Still open at the shutdown deadline.
    Shutdown,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Header => "header_timeout",
            Reason::Idle => "idle_timeout",
            Reason::Shed => "shed",
            Reason::Shutdown => "shutdown_deadline",
        }
    }
}

impl Connection {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(NONE_MS - 1)
    }

    /// A request head arrived (the service is called).
    pub fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.started.fetch_add(1, Ordering::SeqCst);
        self.head_started_ms.store(NONE_MS, Ordering::SeqCst);
    }

    /// A response was sent whole (or abandoned).
    pub fn request_finished(&self) {
        self.idle_since_ms.store(self.now_ms(), Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// Bytes arrived from the client.
    pub fn bytes_read(&self) {
        let idle = self.in_flight.load(Ordering::Relaxed) == 0 && self.started.load(Ordering::Relaxed) > 0;
        if idle && self.head_started_ms.load(Ordering::Relaxed) == NONE_MS {
            self.head_started_ms.store(self.now_ms(), Ordering::SeqCst);
        }
    }

    /// Resolves when the table wants this connection closed now.
    pub async fn closed(&self) {
        self.close.notified().await;
    }

    /// Asks the connection's task to drop the connection; `false` when it was asked already.
    fn close(&self) -> bool {
        if self.closing.swap(true, Ordering::SeqCst) {
            return false;
        }
        // A stored permit: the task sees it even if it is not waiting at this moment.
        self.close.notify_one();
        true
    }

    fn waiting_for_first_request(&self) -> bool {
        self.started.load(Ordering::SeqCst) == 0
    }

    fn busy(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) > 0
    }

    /// When the connection is due to be closed, and why; `None` while a request is in progress.
    fn deadline_ms(&self, config: &ServeConfig) -> Option<(u64, Reason)> {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(NONE_MS / 2);
        if self.busy() {
            return None;
        }
        if self.waiting_for_first_request() {
            return Some((self.accepted_ms.saturating_add(ms(config.header_read_timeout)), Reason::Header));
        }
        match self.head_started_ms.load(Ordering::SeqCst) {
            NONE_MS => {
                let idle_since = self.idle_since_ms.load(Ordering::SeqCst);
                Some((idle_since.saturating_add(ms(config.idle_timeout)), Reason::Idle))
            }
            started => Some((started.saturating_add(ms(config.header_read_timeout)), Reason::Header)),
        }
    }
}

/// What to do with a newly accepted connection.
pub enum Admission {
    Admit(Arc<Connection>),
    /// At the limit with every connection busy.
    Refuse,
}

pub struct Table {
    config: ServeConfig,
    epoch: Instant,
    next_id: AtomicU64,
    /// By id, so by age: the first entries are the oldest.
    open: Mutex<BTreeMap<u64, Arc<Connection>>>,
}

impl Table {
    pub fn new(config: ServeConfig) -> Table {
        metrics::gauge!("fidelis_http_connections_max").set(config.connections_max as f64);
        Table { config, epoch: Instant::now(), next_id: AtomicU64::new(1), open: Mutex::new(BTreeMap::new()) }
    }

    /// Admits a new connection, shedding one without a request in progress if the table is full.
    pub fn admit(&self) -> Admission {
        let mut open = self.open.lock();
        if open.len() >= self.config.connections_max {
            match shed_candidate(&open) {
                Some(victim) => {
                    victim.close();
                    count_closed(Reason::Shed);
                }
                None => {
                    metrics::counter!("fidelis_http_connections_refused_total").increment(1);
                    return Admission::Refuse;
                }
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let epoch = self.epoch;
        let connection = Arc::new(Connection {
            id,
            epoch,
            accepted_ms: u64::try_from(epoch.elapsed().as_millis()).unwrap_or(0),
            in_flight: AtomicU32::new(0),
            started: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(NONE_MS),
            head_started_ms: AtomicU64::new(NONE_MS),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        open.insert(id, connection.clone());
        metrics::gauge!("fidelis_http_connections_open").set(open.len() as f64);
        metrics::counter!("fidelis_http_connections_accepted_total").increment(1);
        Admission::Admit(connection)
    }

    /// The connection's task ended.
    pub fn remove(&self, id: u64) {
        let mut open = self.open.lock();
        open.remove(&id);
        metrics::gauge!("fidelis_http_connections_open").set(open.len() as f64);
    }

    pub fn len(&self) -> usize {
        self.open.lock().len()
    }

    /// Closes every connection past its header or idle deadline.
    pub fn sweep(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(NONE_MS);
        let open = self.open.lock();
        for connection in open.values() {
            if let Some((deadline, reason)) = connection.deadline_ms(&self.config)
                && now >= deadline
                && connection.close()
            {
                count_closed(reason);
            }
        }
    }

    /// Closes whatever is still open (the shutdown deadline passed).
    pub fn close_all(&self) {
        for connection in self.open.lock().values() {
            if connection.close() {
                count_closed(Reason::Shutdown);
            }
        }
    }
}

/// The oldest connection that has not sent a complete request (silent or slow), else the one idle the
/// longest between requests; never one with a request in progress.
fn shed_candidate(open: &BTreeMap<u64, Arc<Connection>>) -> Option<&Arc<Connection>> {
    let live = || open.values().filter(|c| !c.closing.load(Ordering::SeqCst) && !c.busy());
    live()
        .find(|c| c.waiting_for_first_request())
        .or_else(|| live().min_by_key(|c| c.idle_since_ms.load(Ordering::SeqCst)))
}

fn count_closed(reason: Reason) {
    metrics::counter!("fidelis_http_connections_closed_total", "reason" => reason.as_str()).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(connections_max: usize) -> ServeConfig {
        ServeConfig {
            connections_max,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            ..ServeConfig::default()
        }
    }

    fn admitted(table: &Table) -> Arc<Connection> {
        match table.admit() {
            Admission::Admit(c) => c,
            Admission::Refuse => panic!("refused"),
        }
    }

    #[test]
    fn at_the_limit_the_oldest_silent_connection_makes_room() {
        let table = Table::new(config(3));
        let busy = admitted(&table);
        busy.request_started();
        let silent_old = admitted(&table);
        let silent_new = admitted(&table);
        let newcomer = admitted(&table);
        assert!(silent_old.closing.load(Ordering::SeqCst), "the oldest silent connection is shed");
        assert!(!busy.closing.load(Ordering::SeqCst) && !silent_new.closing.load(Ordering::SeqCst));
        table.remove(silent_old.id);
        assert_eq!(table.len(), 3);
        drop(newcomer);
    }

    #[test]
    fn idle_connections_go_after_silent_ones_and_busy_ones_never() {
        let table = Table::new(config(2));
        let (first, second) = (admitted(&table), admitted(&table));
        for c in [&first, &second] {
            c.request_started();
        }
        assert!(matches!(table.admit(), Admission::Refuse), "every connection is busy");
        second.request_finished();
        let third = admitted(&table);
        assert!(second.closing.load(Ordering::SeqCst), "the idle connection is shed");
        assert!(!first.closing.load(Ordering::SeqCst) && !third.closing.load(Ordering::SeqCst));
    }

    #[test]
    fn deadlines_follow_the_phase_of_the_connection() {
        let config = config(10);
        let table = Table::new(config.clone());
        let c = admitted(&table);
        let header = u64::try_from(config.header_read_timeout.as_millis()).unwrap();
        let idle = u64::try_from(config.idle_timeout.as_millis()).unwrap();
        assert_eq!(c.deadline_ms(&config), Some((c.accepted_ms + header, Reason::Header)));
        c.request_started();
        assert_eq!(c.deadline_ms(&config), None, "no deadline while a request is in progress");
        c.request_finished();
        let idle_since = c.idle_since_ms.load(Ordering::SeqCst);
        assert_eq!(c.deadline_ms(&config), Some((idle_since + idle, Reason::Idle)));
        c.bytes_read();
        let started = c.head_started_ms.load(Ordering::SeqCst);
        assert_eq!(c.deadline_ms(&config), Some((started + header, Reason::Header)), "a new head is timed");
    }
}
