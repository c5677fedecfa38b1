//! Fresh ids for decisions: ULID-style (milliseconds + randomness), monotonic across every writer of the
//! process (they share one generator), so ids made in the same millisecond still sort in creation order.

use fidelis_core::NewIds;
use jiff::Timestamp;
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::sync::Arc;

struct State {
    last: u128,
    rng: StdRng,
}

/// A handle on the process's id generator; clones share it.
#[derive(Clone)]
pub struct UlidIds {
    state: Arc<Mutex<State>>,
}

impl UlidIds {
    pub fn new() -> UlidIds {
        UlidIds { state: Arc::new(Mutex::new(State { last: 0, rng: StdRng::from_os_rng() })) }
    }

    /// Ids drawn after this call carry at least `now` as their timestamp part (never going backwards).
    pub fn at(&mut self, now: Timestamp) -> &mut UlidIds {
        let millis = u128::try_from(now.as_millisecond().max(0)).unwrap_or(0) & ((1 << 48) - 1);
        let floor = millis << 80;
        let mut state = self.state.lock();
        if floor > state.last {
            let random = u128::from(state.rng.next_u64()) << 16 | u128::from(state.rng.next_u32() & 0xffff);
            // Leave headroom so that increments within this millisecond do not overflow into the timestamp.
            state.last = floor | (random >> 2);
        }
        drop(state);
        self
    }
}

impl Default for UlidIds {
    fn default() -> Self {
        UlidIds::new()
    }
}

impl NewIds for UlidIds {
    fn next_u128(&mut self) -> u128 {
        self.run(1)
    }

    /// One lock for the whole run, so that no other writer draws between its values.
    fn run(&mut self, count: usize) -> u128 {
        let fresh = self.state.lock().last == 0;
        if fresh {
            self.at(Timestamp::now());
        }
        let mut state = self.state.lock();
        let first = state.last + 1;
        state.last += u128::try_from(count.max(1)).unwrap_or(1);
        first
    }

    fn code(&mut self, chars: usize) -> String {
        // Codes must be unguessable, so they draw fresh randomness rather than the monotonic counter.
        const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let mut state = self.state.lock();
        (0..chars).map(|_| char::from(ALPHABET[(state.rng.next_u32() & 31) as usize])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fidelis_core::ids::CustomerId;

    #[test]
    fn ids_from_clones_of_one_generator_are_strictly_increasing_within_a_millisecond() {
        let mut a = UlidIds::new();
        let mut b = a.clone();
        let now = Timestamp::from_millisecond(1_700_000_000_000).unwrap();
        a.at(now);
        let first = CustomerId::fresh(&mut a);
        b.at(now);
        let second = CustomerId::fresh(&mut b);
        let third = CustomerId::fresh(&mut a);
        assert!(first < second && second < third);
        assert!(CustomerId::parse(first.as_str()).is_some());
    }

    #[test]
    fn a_run_takes_consecutive_values_that_no_clone_draws_again() {
        let mut a = UlidIds::new();
        let mut b = a.clone();
        a.at(Timestamp::from_millisecond(1_700_000_000_000).unwrap());
        let first = a.run(4);
        assert_eq!(b.next_u128(), first + 4);
        assert_eq!(a.run(1), first + 5);
    }

    #[test]
    fn codes_differ_between_draws() {
        let mut ids = UlidIds::new();
        assert_ne!(ids.code(12), ids.code(12));
    }
}
