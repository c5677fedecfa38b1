//! Fresh ids for decisions: ULID-style (milliseconds + randomness), monotonic within one generator so that
//! ids made in the same millisecond still sort in creation order.

use fidelis_core::NewIds;
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

pub struct UlidIds {
    last: u128,
    rng: StdRng,
}

impl UlidIds {
    pub fn new() -> UlidIds {
        UlidIds { last: 0, rng: StdRng::from_os_rng() }
    }

    /// Ids drawn after this call carry `now` as their timestamp part (never going backwards).
    pub fn at(&mut self, now: Timestamp) -> &mut UlidIds {
        let millis = u128::try_from(now.as_millisecond().max(0)).unwrap_or(0) & ((1 << 48) - 1);
        let floor = millis << 80;
        if floor > self.last {
            let random = u128::from(self.rng.next_u64()) << 16 | u128::from(self.rng.next_u32() & 0xffff);
            // Leave headroom so that increments within this millisecond do not overflow into the timestamp.
            self.last = floor | (random >> 2);
        }
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
        if self.last == 0 {
            self.at(Timestamp::now());
        }
        self.last += 1;
        self.last
    }

    fn code(&mut self, chars: usize) -> String {
        // Codes must be unguessable, so they draw fresh randomness rather than the monotonic counter.
        let mut out = String::with_capacity(chars);
        const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        for _ in 0..chars {
            out.push(char::from(ALPHABET[(self.rng.next_u32() & 31) as usize]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fidelis_core::ids::CustomerId;

    #[test]
    fn ids_from_one_generator_are_strictly_increasing_within_a_millisecond() {
        let mut ids = UlidIds::new();
        let now = Timestamp::from_millisecond(1_700_000_000_000).unwrap();
        ids.at(now);
        let a = CustomerId::fresh(&mut ids);
        ids.at(now);
        let b = CustomerId::fresh(&mut ids);
        assert!(a < b);
        assert!(CustomerId::parse(a.as_str()).is_some());
    }

    #[test]
    fn codes_differ_between_draws() {
        let mut ids = UlidIds::new();
        assert_ne!(ids.code(12), ids.code(12));
    }
}
