//! Counters with a limit (budgets, stock, caps, per-project quotas) as data: a decision reserves part of
//! a counter; the engine loads counters so that the check is exact (see ARCHITECTURE.md "Counters") and
//! writes each reservation as a conditional increment.

use crate::rejection::Rejection;

/// How much of a limit is used. `limit: None` counts without a bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    pub used: i64,
    pub limit: Option<i64>,
}

/// What a reservation would exceed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exceeded {
    pub used: i64,
    pub limit: i64,
}

impl Counter {
    pub fn new(used: i64, limit: Option<i64>) -> Counter {
        Counter { used, limit }
    }

    /// What is left below the limit (`None` without a limit).
    pub fn left(&self) -> Option<i64> {
        self.limit.map(|limit| limit.saturating_sub(self.used).max(0))
    }

    /// The counter after using `amount` more (negative gives back), or what it would exceed.
    pub fn reserve(&self, amount: i64) -> Result<Counter, Exceeded> {
        let used = self.used.checked_add(amount).ok_or(Exceeded { used: self.used, limit: i64::MAX })?;
        match self.limit {
            Some(limit) if amount > 0 && used > limit => Err(Exceeded { used: self.used, limit }),
            _ => Ok(Counter { used: used.max(0), ..*self }),
        }
    }

    /// The rejection for a reservation refused by a named limit.
    pub fn rejection(name: &'static str, exceeded: Exceeded) -> Rejection {
        Rejection::LimitReached { limit: name, max: exceeded.limit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_admits_up_to_its_limit_and_not_one_more() {
        let mut counter = Counter::new(0, Some(3));
        for _ in 0..3 {
            counter = counter.reserve(1).unwrap();
        }
        assert_eq!(counter.reserve(1), Err(Exceeded { used: 3, limit: 3 }));
        assert_eq!(counter.left(), Some(0));
        assert_eq!(counter.reserve(-1).unwrap().used, 2, "a rollback gives its share back");
    }

    #[test]
    fn a_counter_without_a_limit_only_counts() {
        assert_eq!(Counter::new(5, None).reserve(1_000).unwrap().used, 1_005);
        assert_eq!(Counter::new(5, None).left(), None);
    }

    #[test]
    fn a_reservation_larger_than_what_is_left_is_refused_whole() {
        assert!(Counter::new(8, Some(10)).reserve(3).is_err());
        assert_eq!(Counter::new(8, Some(10)).reserve(2).unwrap().used, 10);
    }
}
