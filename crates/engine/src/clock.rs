//! The injected clock: the system clock in production, a settable one in tests and `jobs run-due --now`.

use jiff::Timestamp;
use parking_lot::Mutex;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until moved.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn at(now: Timestamp) -> ManualClock {
        ManualClock(Mutex::new(now))
    }

    pub fn set(&self, now: Timestamp) {
        *self.0.lock() = now;
    }

    pub fn advance(&self, span: jiff::SignedDuration) {
        let mut now = self.0.lock();
        *now = now.checked_add(span).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock()
    }
}
