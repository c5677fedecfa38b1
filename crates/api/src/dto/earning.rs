//! Earning rules on the wire (`/v1/programs/{program}/earning-rules`) and earning explanations (what
//! each rule gave on an order or event, or why it gave nothing).

use super::common::{Nullable, parse_time, time};
use super::program::ExpiryBody;
use super::rule::trace;
use super::whole::{PointsAmount, PointsBudget, PositiveMinorUnits, read_optional};
use crate::error::ApiError;
use fidelis_core::earning::{
    Amount, AmountBase, Caps, EarningRule, Factor, HourRange, ItemFilter, METADATA_FACTOR_MAX, MULTIPLIER_MAX,
    NotFired, PerItem, RULE_ITEM_REFS_MAX, RULE_SEGMENTS_MAX, RuleDraft, RuleReport, RuleStatus, Trigger, Validity,
    WeekdayName,
};
use fidelis_core::ids::SegmentId;
use fidelis_core::limits::{METADATA_KEY_CHARS_MAX, SHORT_TEXT_CHARS_MAX};
use fidelis_core::money::{Currency, Money, Points};
use fidelis_core::rejection::{FieldErrorKey, FieldErrors};
use fidelis_core::rules::Weekday;
use fidelis_core::text;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// What makes a rule fire: `order_paid`, `event` (with `event`, the custom event's name),
/// `member_enrolled`, `segment_entered` or `segment_left` (with `segment`, a `seg_…` id), `tier_reached`
/// (with `tier`), `birthday`, or `anniversary` (of joining; with `years`, only that one).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerBody {
    #[serde(rename = "type")]
    #[schema(example = "order_paid")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// `tier_reached`: the level's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// `anniversary`: only the anniversary of this many years (1–100); every one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub years: Option<super::whole::AnniversaryYears>,
}

/// How many points: `fixed` (`points`); `proportional` (`every` minor units → `points`, over the order's
/// amount `after_discounts` (default) or `before_discounts`: `base`); `per_item` (`by`: `quantity` →
/// `points` per unit, or `amount` → `every`/`points` over the matching items' amounts; items match when
/// they name one of `product_ids`, `sku_ids` or `collections`, or always when none is given); `metadata`
/// (`floor(number at key × factor)` of the event's or order's metadata); `multiplier` (`factor` × what
/// the other rules of the trigger give). Factors are decimals with up to three places.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmountBody {
    #[serde(rename = "type")]
    #[schema(example = "proportional")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub points: Option<PointsAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub every: Option<PositiveMinorUnits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collections: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
}

/// Hours of the day `[from, to)` in the program's time zone, 0–24; `from > to` spans midnight.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursBody {
    #[schema(inline)]
    pub from: super::whole::HourOfDay,
    #[schema(inline)]
    pub to: super::whole::HourOfDay,
}

/// When the rule may fire (program time zone): `starts_at` (inclusive), `ends_at` (exclusive), days of
/// the week (`monday` … `sunday`), hours.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidityBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_of_week: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<HoursBody>,
}

/// The most the rule gives: per event; per member in the calendar day, ISO week, month (program time
/// zone) or ever; and a budget over all members (points issued). Multipliers have no caps.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapsBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub per_event: Option<PointsAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub per_customer_day: Option<PointsAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub per_customer_week: Option<PointsAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub per_customer_month: Option<PointsAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub per_customer_lifetime: Option<PointsAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub budget: Option<PointsBudget>,
}

/// A rule to create (`name`, `trigger` and `amount` required), or the fields to change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EarningRuleBody {
    #[serde(default)]
    pub name: Option<String>,
    /// `active` (default), `paused` or `archived` (final).
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub trigger: Option<TriggerBody>,
    #[serde(default)]
    pub amount: Option<AmountBody>,
    /// A rule-language condition (text or JSON form); `null` removes it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub condition: Nullable<Value>,
    /// The member must be in one of these segments.
    #[serde(default)]
    pub segments: Option<Vec<String>>,
    #[serde(default)]
    pub validity: Option<ValidityBody>,
    #[serde(default)]
    pub caps: Option<CapsBody>,
    /// Overrides the program's expiry for this rule's points; `null` goes back to the program's.
    #[serde(default)]
    #[schema(value_type = Option<ExpiryBody>)]
    pub expiry: Nullable<ExpiryBody>,
    /// Order rules: days (1–90) the points stay pending — visible, not spendable — before they activate at
    /// midnight (program time zone); `null` makes them spendable at once.
    #[serde(default)]
    #[schema(value_type = Option<u8>)]
    pub pending_days: Nullable<super::whole::PendingDays>,
}

/// Product ids, SKUs or collections, as order items name them.
fn list(errors: &mut FieldErrors, path: &str, values: &Option<Vec<String>>) -> Vec<String> {
    let values = values.as_deref().unwrap_or_default();
    if values.len() > RULE_ITEM_REFS_MAX {
        errors.push(path, FieldErrorKey::TooMany, format!("at most {RULE_ITEM_REFS_MAX}"));
        return Vec::new();
    }
    let mut out: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| errors.take(text::source_id(&format!("{path}/{i}"), v)))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn factor(errors: &mut FieldErrors, value: Option<f64>, max: Factor) -> Option<Factor> {
    let Some(value) = value else {
        errors.push("/amount/factor", FieldErrorKey::Required, "this amount needs a factor");
        return None;
    };
    let found = Factor::from_decimal(value, max);
    if found.is_none() {
        let message = format!("must be a positive decimal with at most 3 places, up to {}", max.to_decimal());
        errors.push("/amount/factor", FieldErrorKey::OutOfRange, message);
    }
    found
}

fn needed(errors: &mut FieldErrors, name: &str, value: Option<i64>) -> Option<i64> {
    if value.is_none() {
        errors.push(format!("/amount/{name}"), FieldErrorKey::Required, format!("this amount needs {name}"));
    }
    value
}

impl AmountBody {
    fn amount(&self, errors: &mut FieldErrors) -> Option<Amount> {
        let points = read_optional(&self.points, errors, "/amount/points").ok()?;
        let every = read_optional(&self.every, errors, "/amount/every").ok()?;
        let points_of = |errors: &mut FieldErrors| needed(errors, "points", points).map(Points::from_stored);
        let every_of = |errors: &mut FieldErrors| needed(errors, "every", every).and_then(Money::new);
        match self.kind.as_str() {
            "fixed" => points_of(errors).map(|points| Amount::Fixed { points }),
            "proportional" => {
                let base = match self.base.as_deref() {
                    None => Some(AmountBase::AfterDiscounts),
                    Some(raw) => AmountBase::parse(raw).or_else(|| {
                        let message = "must be after_discounts or before_discounts";
                        errors.push("/amount/base", FieldErrorKey::InvalidFormat, message);
                        None
                    }),
                };
                let (every, points) = (every_of(errors), points_of(errors));
                Some(Amount::Proportional { every: every?, points: points?, base: base? })
            }
            "per_item" => {
                let items = ItemFilter {
                    product_ids: list(errors, "/amount/product_ids", &self.product_ids),
                    sku_ids: list(errors, "/amount/sku_ids", &self.sku_ids),
                    collections: list(errors, "/amount/collections", &self.collections),
                };
                let per = match self.by.as_deref() {
                    Some("quantity") => points_of(errors).map(|points| PerItem::Quantity { points }),
                    Some("amount") => {
                        let (every, points) = (every_of(errors), points_of(errors));
                        Some(PerItem::Amount { every: every?, points: points? })
                    }
                    _ => {
                        errors.push("/amount/by", FieldErrorKey::InvalidFormat, "must be quantity or amount");
                        None
                    }
                };
                Some(Amount::PerItem { items, per: per? })
            }
            "metadata" => {
                let key = match &self.key {
                    Some(k) => errors.take(text::bounded("/amount/key", k, METADATA_KEY_CHARS_MAX)),
                    None => {
                        errors.push("/amount/key", FieldErrorKey::Required, "a metadata amount needs a key");
                        None
                    }
                };
                let factor = factor(errors, self.factor, METADATA_FACTOR_MAX);
                Some(Amount::Metadata { key: key?, factor: factor? })
            }
            "multiplier" => factor(errors, self.factor, MULTIPLIER_MAX).map(|factor| Amount::Multiplier { factor }),
            _ => {
                let message = "must be fixed, proportional, per_item, metadata or multiplier";
                errors.push("/amount/type", FieldErrorKey::InvalidFormat, message);
                None
            }
        }
    }

    pub fn from(a: &Amount) -> AmountBody {
        let points = |p: &Points| Some(PointsAmount::new(p.value()));
        let every = |m: &Money| Some(PositiveMinorUnits::new(m.minor_units()));
        let base = AmountBody { kind: a.kind().to_owned(), ..AmountBody::default() };
        match a {
            Amount::Fixed { points: p } => AmountBody { points: points(p), ..base },
            Amount::Proportional { every: e, points: p, base: b } => {
                AmountBody { every: every(e), points: points(p), base: Some(b.as_str().to_owned()), ..base }
            }
            Amount::PerItem { items, per } => {
                let (by, e, p) = match per {
                    PerItem::Quantity { points: p } => ("quantity", None, points(p)),
                    PerItem::Amount { every: e, points: p } => ("amount", every(e), points(p)),
                };
                AmountBody {
                    by: Some(by.to_owned()),
                    every: e,
                    points: p,
                    product_ids: Some(items.product_ids.clone()),
                    sku_ids: Some(items.sku_ids.clone()),
                    collections: Some(items.collections.clone()),
                    ..base
                }
            }
            Amount::Metadata { key, factor } => {
                AmountBody { key: Some(key.clone()), factor: Some(factor.to_decimal()), ..base }
            }
            Amount::Multiplier { factor } => AmountBody { factor: Some(factor.to_decimal()), ..base },
        }
    }
}

impl TriggerBody {
    fn trigger(&self, errors: &mut FieldErrors) -> Option<Trigger> {
        if self.years.is_some() && self.kind != Trigger::ANNIVERSARY {
            errors.push("/trigger/years", FieldErrorKey::Conflict, "only an anniversary trigger names years");
            return None;
        }
        if Trigger::OCCASIONS.contains(&self.kind.as_str()) {
            if self.event.is_some() || self.segment.is_some() || self.tier.is_some() {
                errors.push("/trigger", FieldErrorKey::Conflict, "a birthday or anniversary trigger names no more");
                return None;
            }
            return match &self.years {
                None if self.kind == Trigger::BIRTHDAY => Some(Trigger::Birthday),
                None => Some(Trigger::Anniversary { years: None }),
                Some(n) => {
                    n.read_as::<i16>(errors, "/trigger/years").ok().map(|n| Trigger::Anniversary { years: Some(n) })
                }
            };
        }
        if self.kind == "tier_reached" || self.tier.is_some() {
            return match (self.kind.as_str(), &self.tier, &self.event, &self.segment) {
                ("tier_reached", Some(level), None, None) => errors
                    .take(text::bounded("/trigger/tier", level, SHORT_TEXT_CHARS_MAX))
                    .map(|level| Trigger::TierReached { level }),
                ("tier_reached", None, _, _) => {
                    errors.push("/trigger/tier", FieldErrorKey::Required, "a tier trigger needs the level's name");
                    None
                }
                _ => {
                    errors.push(
                        "/trigger",
                        FieldErrorKey::Conflict,
                        "only a tier_reached trigger names a tier, and only that",
                    );
                    None
                }
            };
        }
        let on_segment = ["segment_entered", "segment_left"].contains(&self.kind.as_str());
        if self.segment.is_some() && !on_segment {
            errors.push("/trigger/segment", FieldErrorKey::Conflict, "only a segment trigger names a segment");
            return None;
        }
        if on_segment {
            let Some(raw) = &self.segment else {
                errors.push("/trigger/segment", FieldErrorKey::Required, "a segment trigger needs the segment's id");
                return None;
            };
            let Some(segment) = SegmentId::parse(raw) else {
                errors.push("/trigger/segment", FieldErrorKey::InvalidFormat, "must be a seg_… id");
                return None;
            };
            if self.event.is_some() {
                errors.push("/trigger/event", FieldErrorKey::Conflict, "only an event trigger names an event");
                return None;
            }
            return Some(match self.kind.as_str() {
                "segment_entered" => Trigger::SegmentEntered { segment },
                _ => Trigger::SegmentLeft { segment },
            });
        }
        match (self.kind.as_str(), &self.event) {
            ("order_paid", None) => Some(Trigger::OrderPaid),
            ("member_enrolled", None) => Some(Trigger::MemberEnrolled),
            ("event", Some(name)) => {
                errors.take(fidelis_core::event::event_name("/trigger/event", name)).map(|name| Trigger::Event { name })
            }
            ("event", None) => {
                errors.push("/trigger/event", FieldErrorKey::Required, "an event trigger needs the event's name");
                None
            }
            ("order_paid" | "member_enrolled", Some(_)) => {
                errors.push("/trigger/event", FieldErrorKey::Conflict, "only an event trigger names an event");
                None
            }
            _ => {
                let message = "must be order_paid, event, member_enrolled, segment_entered, segment_left, tier_reached, \
                     birthday or anniversary";
                errors.push("/trigger/type", FieldErrorKey::InvalidFormat, message);
                None
            }
        }
    }

    pub fn from(t: &Trigger) -> TriggerBody {
        let event = match t {
            Trigger::Event { name } => Some(name.clone()),
            _ => None,
        };
        let segment = match t {
            Trigger::SegmentEntered { segment } | Trigger::SegmentLeft { segment } => Some(segment.to_string()),
            _ => None,
        };
        let tier = match t {
            Trigger::TierReached { level } => Some(level.clone()),
            _ => None,
        };
        let years = match t {
            Trigger::Anniversary { years } => years.map(|n| super::whole::AnniversaryYears::new(i64::from(n))),
            _ => None,
        };
        TriggerBody { kind: t.kind().to_owned(), event, segment, tier, years }
    }
}

impl ValidityBody {
    fn validity(&self, errors: &mut FieldErrors) -> Validity {
        let starts_at = self.starts_at.as_ref().and_then(|t| errors.take(parse_time("/validity/starts_at", t)));
        let ends_at = self.ends_at.as_ref().and_then(|t| errors.take(parse_time("/validity/ends_at", t)));
        let mut days_of_week: Vec<WeekdayName> = Vec::new();
        for (i, day) in self.days_of_week.iter().flatten().enumerate() {
            match Weekday::parse(day) {
                Some(d) => days_of_week.push(WeekdayName::of(d)),
                None => errors.push(
                    format!("/validity/days_of_week/{i}"),
                    FieldErrorKey::InvalidFormat,
                    "must be monday, tuesday, wednesday, thursday, friday, saturday or sunday",
                ),
            }
        }
        days_of_week.sort();
        days_of_week.dedup();
        let hours = self.hours.as_ref().and_then(|h| {
            let from = h.from.read_as::<u8>(errors, "/validity/hours/from").ok()?;
            let to = h.to.read_as::<u8>(errors, "/validity/hours/to").ok()?;
            if from == to {
                errors.push("/validity/hours/to", FieldErrorKey::Conflict, "from and to make an empty window");
                return None;
            }
            Some(HourRange { from, to })
        });
        Validity { starts_at, ends_at, days_of_week, hours }
    }

    pub fn from(v: &Validity) -> ValidityBody {
        ValidityBody {
            starts_at: v.starts_at.map(time),
            ends_at: v.ends_at.map(time),
            days_of_week: Some(v.days_of_week.iter().map(|d| d.weekday().as_str().to_owned()).collect()),
            hours: v.hours.map(|h| HoursBody {
                from: super::whole::HourOfDay::new(h.from.into()),
                to: super::whole::HourOfDay::new(h.to.into()),
            }),
        }
    }
}

impl CapsBody {
    fn caps(&self, errors: &mut FieldErrors) -> Caps {
        let mut read = |field: &Option<PointsAmount>, name: &str| {
            read_optional(field, errors, &format!("/caps/{name}")).ok().flatten().map(Points::from_stored)
        };
        let caps = Caps {
            per_event: read(&self.per_event, "per_event"),
            per_customer_day: read(&self.per_customer_day, "per_customer_day"),
            per_customer_week: read(&self.per_customer_week, "per_customer_week"),
            per_customer_month: read(&self.per_customer_month, "per_customer_month"),
            per_customer_lifetime: read(&self.per_customer_lifetime, "per_customer_lifetime"),
            budget: None,
        };
        let budget = read_optional(&self.budget, errors, "/caps/budget").ok().flatten().map(Points::from_stored);
        Caps { budget, ..caps }
    }

    pub fn from(c: &Caps) -> CapsBody {
        let points = |p: Option<Points>| p.map(|p| PointsAmount::new(p.value()));
        CapsBody {
            per_event: points(c.per_event),
            per_customer_day: points(c.per_customer_day),
            per_customer_week: points(c.per_customer_week),
            per_customer_month: points(c.per_customer_month),
            per_customer_lifetime: points(c.per_customer_lifetime),
            budget: c.budget.map(|p| PointsBudget::new(p.value())),
        }
    }
}

impl EarningRuleBody {
    /// The draft; a condition is checked against the project's currency and stored in canonical form.
    pub fn draft(&self, errors: &mut FieldErrors, currency: Currency) -> Result<RuleDraft, ApiError> {
        let condition = match &self.condition {
            Nullable::Absent => None,
            Nullable::Null => Some(None),
            Nullable::Value(rule) => {
                let parsed = super::rule::parse(rule, currency).map_err(|e| e.at_path("/condition"))?;
                Some(Some(super::rule::canonical(&parsed)))
            }
        };
        let name = self.name.as_ref().and_then(|n| errors.take(text::bounded("/name", n, SHORT_TEXT_CHARS_MAX)));
        let status = self.status.as_deref().and_then(|s| {
            let parsed = RuleStatus::parse(s);
            if parsed.is_none() {
                errors.push("/status", FieldErrorKey::InvalidFormat, "must be active, paused or archived");
            }
            parsed
        });
        let segments = self.segments.as_ref().map(|list| {
            if list.len() > RULE_SEGMENTS_MAX {
                errors.push("/segments", FieldErrorKey::TooMany, format!("at most {RULE_SEGMENTS_MAX}"));
            }
            let mut ids: Vec<SegmentId> = list
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let id = SegmentId::parse(s);
                    if id.is_none() {
                        errors.push(format!("/segments/{i}"), FieldErrorKey::InvalidFormat, "must be a seg_… id");
                    }
                    id
                })
                .collect();
            ids.sort();
            ids.dedup();
            ids
        });
        let expiry = match &self.expiry {
            Nullable::Absent => None,
            Nullable::Null => Some(None),
            Nullable::Value(e) => e.policy(errors).ok().map(Some),
        };
        let pending_days = match &self.pending_days {
            Nullable::Absent => None,
            Nullable::Null => Some(None),
            Nullable::Value(days) => days.read_as::<u8>(errors, "/pending_days").ok().map(Some),
        };
        Ok(RuleDraft {
            pending_days,
            name,
            status,
            trigger: self.trigger.as_ref().and_then(|t| t.trigger(errors)),
            amount: self.amount.as_ref().and_then(|a| a.amount(errors)),
            condition,
            segments,
            validity: self.validity.as_ref().map(|v| v.validity(errors)),
            caps: self.caps.as_ref().map(|c| c.caps(errors)),
            expiry,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EarningRuleResponse {
    /// Always "earning_rule".
    pub object: &'static str,
    pub id: String,
    pub program_id: String,
    pub name: String,
    pub status: &'static str,
    pub trigger: TriggerBody,
    pub amount: AmountBody,
    /// The canonical JSON form, and the text form.
    #[schema(value_type = Option<Object>)]
    pub condition: Option<Value>,
    pub condition_text: Option<String>,
    pub segments: Vec<String>,
    pub validity: ValidityBody,
    pub caps: CapsBody,
    pub expiry: Option<ExpiryBody>,
    pub pending_days: Option<u8>,
    /// The program's rule-set version in which the rule last changed.
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl EarningRuleResponse {
    pub fn from(program: &fidelis_core::ids::ProgramId, r: &EarningRule, currency: Currency) -> EarningRuleResponse {
        let condition: Option<Value> = r.condition.as_deref().and_then(|c| serde_json::from_str(c).ok());
        let text = r.condition.as_deref().and_then(|c| fidelis_engine::segments::compile(c, currency).ok());
        EarningRuleResponse {
            object: "earning_rule",
            id: r.id.to_string(),
            program_id: program.to_string(),
            name: r.name.clone(),
            status: r.status.as_str(),
            trigger: TriggerBody::from(&r.trigger),
            amount: AmountBody::from(&r.amount),
            condition,
            condition_text: text.map(|t| t.to_text()),
            segments: r.segments.iter().map(ToString::to_string).collect(),
            validity: ValidityBody::from(&r.validity),
            caps: CapsBody::from(&r.caps),
            expiry: r.expiry.as_ref().map(ExpiryBody::from),
            pending_days: r.pending_days,
            version: r.version,
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EarningRuleList {
    /// Always "list".
    pub object: &'static str,
    pub data: Vec<EarningRuleResponse>,
    /// The program's current rule-set version.
    pub rules_version: i64,
}

/// One rule's part in an earning: what it gave (`fired`), or why not (`reason`).
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleExplanation {
    /// `null` for the program's own earning rate.
    pub rule_id: Option<String>,
    pub name: String,
    pub amount_type: &'static str,
    pub fired: bool,
    /// Points credited (a multiplier: 0, it gives through the others).
    pub points: i64,
    /// What the amount gave before multipliers and caps.
    pub base_points: i64,
    /// The product of the multipliers applied (a multiplier rule: its own factor).
    pub multiplier: Option<f64>,
    /// The cap that cut the points, or that left nothing: `per_event`, `per_customer_day`,
    /// `per_customer_week`, `per_customer_month`, `per_customer_lifetime`, `budget`.
    pub capped_by: Option<&'static str>,
    /// Why it gave nothing: `paused`, `archived`, `not_started`, `ended`, `day_of_week`, `hours`,
    /// `condition_failed`, `not_in_segment`, `nothing_earned`, `capped`.
    pub reason: Option<&'static str>,
    pub detail: Option<String>,
    /// A customer-safe hint: what would earn (more).
    pub hint: Option<String>,
    /// The condition's explanation, node by node (as `POST /v1/rules/evaluate` gives it).
    #[schema(value_type = Option<Object>)]
    pub trace: Option<Value>,
}

/// Every rule of one program for one trigger.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramExplanation {
    pub program_id: String,
    pub rules: Vec<RuleExplanation>,
}

pub fn explanation(
    program: &fidelis_core::ids::ProgramId,
    reports: &[RuleReport],
    currency: Currency,
) -> ProgramExplanation {
    let rules = reports
        .iter()
        .map(|r| {
            let (fired, points, base, multiplier, capped_by) = match &r.outcome {
                Ok(f) => (true, f.points, f.base, f.multiplier, f.capped_by),
                Err(NotFired::Capped(cap)) => (false, 0, 0, None, Some(*cap)),
                Err(_) => (false, 0, 0, None, None),
            };
            let detail = match &r.outcome {
                Err(NotFired::NotStarted { starts_at }) => Some(format!("starts at {}", time(*starts_at))),
                Err(NotFired::Ended { ends_at }) => Some(format!("ended at {}", time(*ends_at))),
                Err(NotFired::DayOfWeek { today }) => Some(format!("not valid on {}", today.as_str())),
                Err(NotFired::Hours { hour }) => Some(format!("not valid at hour {hour}")),
                _ => None,
            };
            RuleExplanation {
                rule_id: r.rule_id.as_ref().map(ToString::to_string),
                name: r.name.clone(),
                amount_type: r.amount_kind,
                fired,
                points,
                base_points: base,
                multiplier: multiplier.map(Factor::to_decimal),
                capped_by: capped_by.map(|c| c.as_str()),
                reason: r.outcome.as_ref().err().map(NotFired::as_str),
                detail,
                hint: r.hint.clone(),
                trace: r.trace.as_ref().map(|t| trace(t, currency)),
            }
        })
        .collect();
    ProgramExplanation { program_id: program.to_string(), rules }
}
