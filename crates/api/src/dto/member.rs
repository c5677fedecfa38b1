//! Membership bodies and responses: enrolment, manual points changes, transactions, expiring points.

use super::common::time;
use super::customer::CustomerBody;
use super::whole::PointsAmount;
use fidelis_core::ledger::{Cause, Entry};
use fidelis_core::limits::{CARD_CODE_CHARS_MAX, REASON_CHARS_MAX};
use fidelis_core::money::Points;
use fidelis_core::rejection::{FieldErrorKey, FieldErrors};
use fidelis_core::text;
use fidelis_engine::domains::members::MemberView;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolBody {
    /// The customer, by `id` or `source_id` (unknown `source_id`s create the customer).
    pub customer: CustomerBody,
    /// A card code to use instead of a generated one.
    #[serde(default)]
    pub card_code: Option<String>,
}

impl EnrolBody {
    pub fn card_code(&self, errors: &mut FieldErrors) -> Option<String> {
        let code = self.card_code.as_ref()?;
        let valid = !code.is_empty()
            && code.len() <= CARD_CODE_CHARS_MAX
            && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            errors.push(
                "/card_code",
                FieldErrorKey::InvalidFormat,
                format!("1 to {CARD_CODE_CHARS_MAX} letters, digits or '-'"),
            );
            return None;
        }
        Some(code.to_ascii_uppercase())
    }
}

/// A manual change of points. The reason is shown in the member's history.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointsBody {
    /// Positive.
    #[schema(inline)]
    pub points: PointsAmount,
    pub reason: String,
    /// For additions: the last usable day (`YYYY-MM-DD`), overriding the program's expiry.
    #[serde(default)]
    pub expires_on: Option<String>,
}

impl PointsBody {
    pub fn parse(&self, errors: &mut FieldErrors) -> (Option<Points>, String, Option<Date>) {
        let points = self.points.read(errors, "/points").ok().and_then(Points::positive);
        let reason = errors.take(text::bounded("/reason", &self.reason, REASON_CHARS_MAX)).unwrap_or_default();
        let expires_on = self.expires_on.as_ref().and_then(|d| errors.take(text::date("/expires_on", d)));
        (points, reason, expires_on)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsResponse {
    pub earned: i64,
    pub added: i64,
    pub removed: i64,
    pub expired: i64,
    pub clawed_back: i64,
    /// Clawbacks that found the points already spent.
    pub unrecovered: i64,
    pub transferred_in: i64,
    pub transferred_out: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberResponse {
    /// Always "member".
    pub object: &'static str,
    pub id: String,
    pub program_id: String,
    pub customer_id: String,
    pub card_code: String,
    /// What the member can spend now: lots past their last usable day and reserved points do not count
    /// (negative only where the program allows debt).
    pub balance: i64,
    pub debt: i64,
    /// Points held for the member, not yet spendable (pending points).
    pub pending: i64,
    /// Points of the balance held for a reservation.
    pub reserved: i64,
    pub totals: TotalsResponse,
    /// The member's tier level (`null`: none, or the program has no tiers), since when, and the last day it
    /// is guaranteed.
    pub tier: Option<String>,
    pub tier_since: Option<String>,
    pub tier_until: Option<String>,
    /// On `GET …/members/{member}` of a program with tiers: the value they count and the next level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_progress: Option<super::tier::MemberTierResponse>,
    pub created_at: String,
    pub updated_at: String,
}

impl MemberResponse {
    pub fn from(view: &MemberView) -> MemberResponse {
        let m = &view.membership;
        let t = &m.totals;
        MemberResponse {
            object: "member",
            id: m.id.to_string(),
            program_id: m.program_id.to_string(),
            customer_id: m.customer_id.to_string(),
            card_code: m.card_code.clone(),
            balance: view.balance.value(),
            debt: m.debt.value(),
            pending: m.pending.value(),
            reserved: m.reserved.value(),
            totals: TotalsResponse {
                earned: t.earned.value(),
                added: t.added.value(),
                removed: t.removed.value(),
                expired: t.expired.value(),
                clawed_back: t.clawed_back.value(),
                unrecovered: t.unrecovered.value(),
                transferred_in: t.transferred_in.value(),
                transferred_out: t.transferred_out.value(),
            },
            tier: m.tier.level.clone(),
            tier_since: m.tier.since.map(|d| d.to_string()),
            tier_until: m.tier.until.map(|d| d.to_string()),
            tier_progress: None,
            created_at: time(m.created_at),
            updated_at: time(m.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsumedResponse {
    pub lot_id: String,
    pub points: i64,
}

/// What caused a transaction: `order` (order_id), `event` (event_id), `enrolment`, `segment`
/// (segment_id), `tier` (reason: the level), `birthday` (reason: the day), `anniversary` (reason: the
/// years), `admin` (reason, actor), `expiry` (lot_id) or `transfer` (the other member, reason, actor).
#[derive(Debug, Serialize, ToSchema)]
pub struct CauseResponse {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot_id: Option<String>,
    /// The other member of a transfer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterpart_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionResponse {
    /// Always "points_transaction".
    pub object: &'static str,
    pub id: String,
    pub member_id: String,
    pub program_id: String,
    /// earn, manual_add, manual_remove, expire, clawback, transfer_in or transfer_out.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Signed: credits positive, debits negative.
    pub points: i64,
    pub balance_after: i64,
    /// Credits: the lot created and its last usable day.
    pub lot_id: Option<String>,
    pub expires_on: Option<String>,
    /// Debits: the lots consumed, soonest expiry first.
    pub consumed: Vec<ConsumedResponse>,
    pub unrecovered: i64,
    pub debt_repaid: i64,
    pub cause: CauseResponse,
    /// The earning rule that gave the points and the program's rule-set version then (`null`: the
    /// program's own earning rate, or not an earning).
    pub rule_id: Option<String>,
    pub rule_version: Option<i64>,
    pub created_at: String,
}

impl TransactionResponse {
    pub fn from(e: &Entry) -> TransactionResponse {
        let none = CauseResponse {
            kind: "",
            order_id: None,
            event_id: None,
            segment_id: None,
            lot_id: None,
            counterpart_id: None,
            reason: None,
            actor: None,
        };
        let cause = match &e.cause {
            Cause::Order { order_id } => CauseResponse { kind: "order", order_id: Some(order_id.to_string()), ..none },
            Cause::Event { event_id } => CauseResponse { kind: "event", event_id: Some(event_id.to_string()), ..none },
            Cause::Enrolment => CauseResponse { kind: "enrolment", ..none },
            Cause::Tier { level } => CauseResponse { kind: "tier", reason: Some(level.clone()), ..none },
            Cause::Birthday { on } => CauseResponse { kind: "birthday", reason: Some(on.to_string()), ..none },
            Cause::Anniversary { years } => {
                CauseResponse { kind: "anniversary", reason: Some(years.to_string()), ..none }
            }
            Cause::Segment { segment_id } => {
                CauseResponse { kind: "segment", segment_id: Some(segment_id.to_string()), ..none }
            }
            Cause::Admin { reason, actor } => {
                CauseResponse { kind: "admin", reason: Some(reason.clone()), actor: Some(actor.clone()), ..none }
            }
            Cause::Expiry { lot_id } => CauseResponse { kind: "expiry", lot_id: Some(lot_id.to_string()), ..none },
            Cause::Transfer { counterpart, reason, actor } => CauseResponse {
                kind: "transfer",
                counterpart_id: Some(counterpart.to_string()),
                reason: Some(reason.clone()),
                actor: Some(actor.clone()),
                ..none
            },
        };
        TransactionResponse {
            object: "points_transaction",
            id: e.id.to_string(),
            member_id: e.membership_id.to_string(),
            program_id: e.program_id.to_string(),
            kind: e.kind.as_str(),
            points: e.points.value(),
            balance_after: e.balance_after.value(),
            lot_id: e.lot_id.as_ref().map(ToString::to_string),
            expires_on: e.expires_on.map(|d| d.to_string()),
            consumed: e
                .consumed
                .iter()
                .map(|c| ConsumedResponse { lot_id: c.lot_id.to_string(), points: c.points.value() })
                .collect(),
            unrecovered: e.unrecovered.value(),
            debt_repaid: e.debt_repaid.value(),
            cause,
            rule_id: e.rule.as_ref().map(|r| r.id.to_string()),
            rule_version: e.rule.as_ref().map(|r| r.version),
            created_at: time(e.created_at),
        }
    }
}

/// A manual change and the member's state after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustmentResponse {
    pub transaction: TransactionResponse,
    pub member: MemberResponse,
}

/// A transfer: both members after it, and its transactions (the source's debit, then one credit per last
/// usable day on the target).
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferResponse {
    /// Always "points_transfer".
    pub object: &'static str,
    pub from: MemberResponse,
    pub to: MemberResponse,
    pub transactions: Vec<TransactionResponse>,
}

/// Points moved to another member of the same program (soonest-expiring first; they keep their expiry).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// The receiving member: `mem_…` id or card code.
    pub to: String,
    /// Positive.
    #[schema(inline)]
    pub points: PointsAmount,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiringDate {
    /// Last usable day.
    pub date: String,
    pub points: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiringResponse {
    /// Always "expiring_points".
    pub object: &'static str,
    pub member_id: String,
    pub within_days: i32,
    pub total: i64,
    pub dates: Vec<ExpiringDate>,
}
