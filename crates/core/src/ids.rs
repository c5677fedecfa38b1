//! Prefixed, sortable identifiers (`cust_01J…`) and the `NewIds` source that decisions draw them from.
//!
//! An id is a prefix, an underscore and 26 Crockford base32 characters of a 128-bit ULID-style value
//! (48 bits of milliseconds, 80 bits of randomness), so ids sort by creation time. Ids are shared
//! strings: the writer copies customer, segment and project ids many times per command, and a copy
//! should not allocate.

use std::fmt;
use std::sync::Arc;

/// The characters of an id body (Crockford base 32, upper case).
pub const ID_BODY_ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CROCKFORD: &[u8] = ID_BODY_ALPHABET.as_bytes();
/// Characters of an id body.
pub const ID_BODY_CHARS: usize = 26;

/// Where decisions get fresh ids and random codes. The engine injects a clock-and-RNG source; tests inject
/// a counter so that outputs are deterministic.
pub trait NewIds {
    /// A fresh 128-bit value whose high 48 bits are a millisecond timestamp.
    fn next_u128(&mut self) -> u128;

    /// A fresh id body with the given prefix, e.g. `fresh("cust")` → `cust_01J…`.
    fn fresh(&mut self, prefix: &str) -> String {
        let mut s = String::with_capacity(prefix.len() + 1 + ID_BODY_CHARS);
        s.push_str(prefix);
        s.push('_');
        encode_u128(self.next_u128(), &mut s);
        s
    }

    /// The first of `count` consecutive fresh values, drawn at once: nothing else draws in between, so
    /// `first + i` for `i < count` are all fresh (an outbox chunk's event ids).
    fn run(&mut self, count: usize) -> u128 {
        let first = self.next_u128();
        for _ in 1..count {
            self.next_u128();
        }
        first
    }

    /// A random code of `chars` Crockford base32 characters (no I, L, O, U: easy to read out at a till).
    fn code(&mut self, chars: usize) -> String {
        let mut out = String::with_capacity(chars);
        let mut value = self.next_u128();
        for index in 0..chars {
            if index > 0 && index % 25 == 0 {
                value = self.next_u128();
            }
            out.push(char::from(CROCKFORD[(value & 31) as usize]));
            value >>= 5;
        }
        out
    }
}

/// Encodes 128 bits as 26 Crockford base32 characters, most significant first.
pub fn encode_u128(value: u128, out: &mut String) {
    for index in (0..ID_BODY_CHARS).rev() {
        let shift = index * 5;
        let digit = if shift >= 128 { 0 } else { (value >> shift) & 31 };
        out.push(char::from(CROCKFORD[digit as usize]));
    }
}

/// The 128 bits of an id body; `None` unless it is 26 Crockford base32 characters.
pub fn decode_u128(body: &str) -> Option<u128> {
    if !body_is_valid(body) {
        return None;
    }
    // 26 digits hold 130 bits: a body whose first digit is above 7 does not fit.
    body.bytes().try_fold(0u128, |acc, b| {
        let digit = CROCKFORD.iter().position(|c| *c == b)? as u128;
        acc.checked_mul(32).map(|v| v | digit)
    })
}

fn body_is_valid(body: &str) -> bool {
    body.len() == ID_BODY_CHARS && body.bytes().all(|b| CROCKFORD.contains(&b))
}

/// Whether `raw` is shaped like an id of any type: a lower-case prefix, `_`, and an id body.
pub fn has_any_id_shape(raw: &str) -> bool {
    raw.split_once('_').is_some_and(|(prefix, body)| {
        !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_lowercase()) && body_is_valid(body)
    })
}

/// Whether `raw` is shaped like an id of the type with this prefix (e.g. a list cursor a client sent back).
pub fn has_id_shape(prefix: &str, raw: &str) -> bool {
    raw.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')).is_some_and(body_is_valid)
}

/// A deterministic id source for tests and simulations: the timestamp part is `millis`, the rest counts up.
#[derive(Debug, Clone)]
pub struct SequentialIds {
    pub millis: u64,
    pub counter: u64,
}

impl SequentialIds {
    pub fn starting_at(millis: u64) -> Self {
        SequentialIds { millis, counter: 0 }
    }
}

impl NewIds for SequentialIds {
    fn next_u128(&mut self) -> u128 {
        self.counter += 1;
        (u128::from(self.millis) << 80) | u128::from(self.counter)
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Parses an id given by a client; `None` when the prefix or body is wrong.
            pub fn parse(raw: &str) -> Option<Self> {
                let body = raw.strip_prefix($prefix)?.strip_prefix('_')?;
                body_is_valid(body).then(|| $name(Arc::from(raw)))
            }

            /// Wraps an id read back from storage, which only ever holds ids this type produced.
            pub fn from_trusted(raw: String) -> Self {
                $name(Arc::from(raw))
            }

            pub fn fresh(ids: &mut impl NewIds) -> Self {
                $name(Arc::from(ids.fresh($prefix)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id without its prefix; ids of every type come from one generator, so bodies compare
            /// by creation across types.
            pub fn body(&self) -> &str {
                self.0.get($prefix.len() + 1..).unwrap_or("")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A project: an isolated tenant with its own data, currency, time zone and keys.
    ProjectId, "proj");
id_type!(
    /// An API key (the public part; the secret is never stored).
    ApiKeyId, "key");
id_type!(CustomerId, "cust");
id_type!(OrderId, "ord");
id_type!(EventId, "evt");
id_type!(ProgramId, "prog");
id_type!(
    /// An earning rule of a program.
    EarningRuleId, "erl");
id_type!(MembershipId, "mem");
id_type!(LotId, "lot");
id_type!(EntryId, "ltx");
id_type!(SegmentId, "seg");
id_type!(OutboxId, "obx");

impl OutboxId {
    /// The id of a value drawn fresh (the first of a `NewIds::run`).
    pub fn of_value(value: u128) -> OutboxId {
        let mut s = String::with_capacity(Self::PREFIX.len() + 1 + ID_BODY_CHARS);
        s.push_str(Self::PREFIX);
        s.push('_');
        encode_u128(value, &mut s);
        OutboxId(Arc::from(s))
    }

    /// The id `n` places after this one: event `n` of an outbox chunk whose first event has this id.
    pub fn nth(&self, n: usize) -> Option<OutboxId> {
        let value = decode_u128(self.body())?.checked_add(u128::try_from(n).ok()?)?;
        Some(OutboxId::of_value(value))
    }
}

id_type!(
    /// One move in a member's tier history.
    TierMoveId, "tmv");
id_type!(
    /// A hold on a wallet: pending points or a reservation (see `ledger::hold`).
    HoldId, "hold");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_round_trip_through_parse() {
        let mut ids = SequentialIds::starting_at(1_700_000_000_000);
        let id = CustomerId::fresh(&mut ids);
        assert!(id.as_str().starts_with("cust_"));
        assert_eq!(CustomerId::parse(id.as_str()), Some(id));
    }

    #[test]
    fn an_id_body_decodes_to_the_value_it_encodes_and_nth_counts_up_from_it() {
        let mut ids = SequentialIds::starting_at(1_700_000_000_000);
        let first = ids.run(3);
        let id = OutboxId::of_value(first);
        assert_eq!(decode_u128(id.body()), Some(first));
        assert_eq!(id.nth(0), Some(id.clone()));
        assert_eq!(id.nth(2), Some(OutboxId::of_value(first + 2)));
        assert_eq!(ids.next_u128(), first + 3, "a run draws all of its values");
        assert_eq!(decode_u128("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"), None, "130 bits do not fit");
        assert_eq!(decode_u128("short"), None);
    }

    #[test]
    fn ids_with_a_foreign_prefix_or_bad_body_do_not_parse() {
        assert_eq!(CustomerId::parse("ord_01JAAAAAAAAAAAAAAAAAAAAAAA"), None);
        assert_eq!(CustomerId::parse("cust_short"), None);
        assert_eq!(CustomerId::parse("cust_01JAAAAAAAAAAAAAAAAAAAAAAI"), None);
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let mut early = SequentialIds::starting_at(1_000);
        let mut late = SequentialIds::starting_at(2_000);
        assert!(OrderId::fresh(&mut early) < OrderId::fresh(&mut late));
    }

    #[test]
    fn codes_have_the_requested_length_and_alphabet() {
        let mut ids = SequentialIds::starting_at(5);
        let code = ids.code(40);
        assert_eq!(code.len(), 40);
        assert!(code.bytes().all(|b| CROCKFORD.contains(&b)));
    }
}
