//! Conversions between domain values and the plain column values both databases store: timestamps as
//! microseconds, dates as ISO text, nested values (metadata, items, stats…) as JSON text.

use fidelis_core::calendar::Period;
use fidelis_core::customer::Address;
use fidelis_core::expiry::ExpiryPolicy;
use fidelis_core::ledger::{Cause, EntryKind, LotTake};
use fidelis_core::metadata::Metadata;
use fidelis_core::order::{OrderEarning, OrderItem, OrderStatus};
use fidelis_core::program::JoinPolicy;
use fidelis_core::stats::CustomerStats;
use fidelis_engine::port::StoreError;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub type CodecResult<T> = Result<T, StoreError>;

pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

pub fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub fn timestamp(micros: i64) -> CodecResult<Timestamp> {
    Timestamp::from_microsecond(micros).map_err(|e| corrupt("timestamp", e))
}

pub fn opt_timestamp(micros: Option<i64>) -> CodecResult<Option<Timestamp>> {
    micros.map(timestamp).transpose()
}

pub fn date_text(d: Date) -> String {
    d.to_string()
}

pub fn date(text: &str) -> CodecResult<Date> {
    text.parse().map_err(|e| corrupt("date", e))
}

pub fn opt_date(text: Option<String>) -> CodecResult<Option<Date>> {
    text.as_deref().map(date).transpose()
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serializing plain data structs into a String cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn from_json<'a, T: Deserialize<'a>>(what: &str, text: &'a str) -> CodecResult<T> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

pub fn metadata_json(m: &Metadata) -> String {
    to_json(m)
}

pub fn metadata(text: &str) -> CodecResult<Metadata> {
    from_json("metadata", text)
}

pub fn address_json(a: &Address) -> String {
    to_json(a)
}

pub fn address(text: &str) -> CodecResult<Address> {
    from_json("address", text)
}

pub fn stats_json(s: &CustomerStats) -> String {
    to_json(s)
}

pub fn stats(text: &str) -> CodecResult<CustomerStats> {
    from_json("stats", text)
}

pub fn segment_ids_json(ids: &[fidelis_core::ids::SegmentId]) -> String {
    to_json(&ids)
}

pub fn segment_ids(text: &str) -> CodecResult<Vec<fidelis_core::ids::SegmentId>> {
    from_json("segments", text)
}

pub fn items_json(items: &[OrderItem]) -> String {
    to_json(&items)
}

pub fn items(text: &str) -> CodecResult<Vec<OrderItem>> {
    from_json("items", text)
}

pub fn earnings_json(e: &[OrderEarning]) -> String {
    to_json(&e)
}

pub fn earnings(text: &str) -> CodecResult<Vec<OrderEarning>> {
    from_json("earnings", text)
}

pub fn earning_rules_json(rules: &[fidelis_core::earning::EarningRule]) -> String {
    to_json(&rules)
}

pub fn earning_rules(text: &str) -> CodecResult<Vec<fidelis_core::earning::EarningRule>> {
    from_json("earning rules", text)
}

pub fn tiers_json(t: &Option<fidelis_core::tier::TierConfig>) -> Option<String> {
    t.as_ref().map(to_json)
}

pub fn tiers(text: Option<String>) -> CodecResult<Option<fidelis_core::tier::TierConfig>> {
    text.map(|t| from_json("tiers", &t)).transpose()
}

/// The earning rule an entry or hold names, from its two columns.
pub fn rule_ref(id: Option<String>, version: Option<i64>) -> Option<fidelis_core::earning::RuleRef> {
    match (id, version) {
        (Some(id), Some(version)) => {
            Some(fidelis_core::earning::RuleRef { id: fidelis_core::ids::EarningRuleId::from_trusted(id), version })
        }
        _ => None,
    }
}

/// `NULL` for a member without tier data.
pub fn member_tier_json(t: &fidelis_core::tier::MemberTier) -> Option<String> {
    (*t != fidelis_core::tier::MemberTier::default()).then(|| to_json(t))
}

pub fn member_tier(text: Option<String>) -> CodecResult<fidelis_core::tier::MemberTier> {
    text.map_or_else(|| Ok(Default::default()), |t| from_json("member tier", &t))
}

/// `NULL` for a member without planned occasions.
pub fn occasions_json(o: &fidelis_core::occasion::Occasions) -> Option<String> {
    (*o != fidelis_core::occasion::Occasions::default()).then(|| to_json(o))
}

pub fn occasions(text: Option<String>) -> CodecResult<fidelis_core::occasion::Occasions> {
    text.map_or_else(|| Ok(Default::default()), |t| from_json("occasions", &t))
}

/// `NULL` for a member no capped rule has credited (most of them).
pub fn rule_usage_json(u: &fidelis_core::earning::RuleUsage) -> Option<String> {
    (!u.is_empty()).then(|| to_json(u))
}

pub fn rule_usage(text: Option<String>) -> CodecResult<fidelis_core::earning::RuleUsage> {
    text.map_or_else(|| Ok(Default::default()), |t| from_json("rule usage", &t))
}

pub fn consumed_json(c: &[LotTake]) -> String {
    to_json(&c)
}

pub fn consumed(text: &str) -> CodecResult<Vec<LotTake>> {
    from_json("consumed", text)
}

pub fn status(text: &str) -> CodecResult<OrderStatus> {
    OrderStatus::parse(text).ok_or_else(|| corrupt("order status", text))
}

pub fn entry_kind(text: &str) -> CodecResult<EntryKind> {
    EntryKind::parse(text).ok_or_else(|| corrupt("entry kind", text))
}

pub fn join_policy(text: &str) -> CodecResult<JoinPolicy> {
    JoinPolicy::parse(text).ok_or_else(|| corrupt("join policy", text))
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ExpiryJson {
    Never,
    AfterDays { days: i32, round_to: Option<String> },
    AfterMonths { months: i32, round_to: Option<String> },
    FixedDayOfYear { month: i8, day: i8 },
}

pub fn expiry_json(p: &ExpiryPolicy) -> String {
    let round = |r: Option<Period>| r.map(|p| p.as_str().to_owned());
    to_json(&match *p {
        ExpiryPolicy::Never => ExpiryJson::Never,
        ExpiryPolicy::AfterDays { days, round_to } => ExpiryJson::AfterDays { days, round_to: round(round_to) },
        ExpiryPolicy::AfterMonths { months, round_to } => ExpiryJson::AfterMonths { months, round_to: round(round_to) },
        ExpiryPolicy::FixedDayOfYear { month, day } => ExpiryJson::FixedDayOfYear { month, day },
    })
}

pub fn expiry(text: &str) -> CodecResult<ExpiryPolicy> {
    let period = |r: Option<String>| -> CodecResult<Option<Period>> {
        r.map(|s| Period::parse(&s).ok_or_else(|| corrupt("period", s))).transpose()
    };
    Ok(match from_json::<ExpiryJson>("expiry", text)? {
        ExpiryJson::Never => ExpiryPolicy::Never,
        ExpiryJson::AfterDays { days, round_to } => ExpiryPolicy::AfterDays { days, round_to: period(round_to)? },
        ExpiryJson::AfterMonths { months, round_to } => {
            ExpiryPolicy::AfterMonths { months, round_to: period(round_to)? }
        }
        ExpiryJson::FixedDayOfYear { month, day } => ExpiryPolicy::FixedDayOfYear { month, day },
    })
}

/// An entry's cause as columns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CauseColumns {
    pub kind: String,
    pub order_id: Option<String>,
    pub event_id: Option<String>,
    pub segment_id: Option<String>,
    pub lot_id: Option<String>,
    pub membership_id: Option<String>,
    pub reason: Option<String>,
    pub actor: Option<String>,
}

pub fn cause_columns(cause: &Cause) -> CauseColumns {
    let kind = |k: &str| k.to_owned();
    match cause {
        Cause::Order { order_id } => {
            CauseColumns { kind: kind("order"), order_id: Some(order_id.to_string()), ..Default::default() }
        }
        Cause::Event { event_id } => {
            CauseColumns { kind: kind("event"), event_id: Some(event_id.to_string()), ..Default::default() }
        }
        Cause::Enrolment => CauseColumns { kind: kind("enrolment"), ..Default::default() },
        Cause::Tier { level } => CauseColumns { kind: kind("tier"), reason: Some(level.clone()), ..Default::default() },
        Cause::Birthday { on } => {
            CauseColumns { kind: kind("birthday"), reason: Some(on.to_string()), ..Default::default() }
        }
        Cause::Anniversary { years } => {
            CauseColumns { kind: kind("anniversary"), reason: Some(years.to_string()), ..Default::default() }
        }
        Cause::Segment { segment_id } => {
            CauseColumns { kind: kind("segment"), segment_id: Some(segment_id.to_string()), ..Default::default() }
        }
        Cause::Admin { reason, actor } => CauseColumns {
            kind: kind("admin"),
            reason: Some(reason.clone()),
            actor: Some(actor.clone()),
            ..Default::default()
        },
        Cause::Expiry { lot_id } => {
            CauseColumns { kind: kind("expiry"), lot_id: Some(lot_id.to_string()), ..Default::default() }
        }
        Cause::Transfer { counterpart, reason, actor } => CauseColumns {
            kind: kind("transfer"),
            membership_id: Some(counterpart.to_string()),
            reason: Some(reason.clone()),
            actor: Some(actor.clone()),
            ..Default::default()
        },
    }
}

pub fn cause(c: CauseColumns) -> CodecResult<Cause> {
    use fidelis_core::ids::{EventId, LotId, MembershipId, OrderId};
    if let ("event", Some(event)) = (c.kind.as_str(), &c.event_id) {
        return Ok(Cause::Event { event_id: EventId::from_trusted(event.clone()) });
    }
    if let ("segment", Some(segment)) = (c.kind.as_str(), &c.segment_id) {
        return Ok(Cause::Segment { segment_id: fidelis_core::ids::SegmentId::from_trusted(segment.clone()) });
    }
    match (c.kind.as_str(), c.order_id, c.lot_id, c.membership_id) {
        ("enrolment", _, _, _) => Ok(Cause::Enrolment),
        ("tier", _, _, _) => Ok(Cause::Tier { level: c.reason.unwrap_or_default() }),
        ("birthday", _, _, _) => {
            let on = c.reason.as_deref().and_then(|r| r.parse().ok()).ok_or_else(|| corrupt("birthday", "date"))?;
            Ok(Cause::Birthday { on })
        }
        ("anniversary", _, _, _) => {
            let years =
                c.reason.as_deref().and_then(|r| r.parse().ok()).ok_or_else(|| corrupt("anniversary", "years"))?;
            Ok(Cause::Anniversary { years })
        }
        ("order", Some(order), _, _) => Ok(Cause::Order { order_id: OrderId::from_trusted(order) }),
        ("expiry", _, Some(lot), _) => Ok(Cause::Expiry { lot_id: LotId::from_trusted(lot) }),
        ("admin", _, _, _) => {
            Ok(Cause::Admin { reason: c.reason.unwrap_or_default(), actor: c.actor.unwrap_or_default() })
        }
        ("transfer", _, _, Some(other)) => Ok(Cause::Transfer {
            counterpart: MembershipId::from_trusted(other),
            reason: c.reason.unwrap_or_default(),
            actor: c.actor.unwrap_or_default(),
        }),
        (other, _, _, _) => Err(corrupt("entry cause", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_expiry_policy_survives_the_round_trip() {
        let policies = [
            ExpiryPolicy::Never,
            ExpiryPolicy::AfterDays { days: 30, round_to: None },
            ExpiryPolicy::AfterMonths { months: 12, round_to: Some(Period::Quarter) },
            ExpiryPolicy::FixedDayOfYear { month: 12, day: 31 },
        ];
        for p in policies {
            assert_eq!(expiry(&expiry_json(&p)).unwrap(), p);
        }
    }

    #[test]
    fn dates_in_metadata_come_back_as_dates() {
        let raw = vec![("d".to_owned(), fidelis_core::metadata::RawMeta::Str("2024-01-02".into()))];
        let m = Metadata::parse("/m", raw).unwrap();
        assert_eq!(metadata(&metadata_json(&m)).unwrap(), m);
    }
}
