//! Rows, written once for both databases: column lists, decoders over a `RowLike` trait (implemented for
//! rusqlite and tokio-postgres rows) and encoders into backend-neutral `Value`s for the shared upserts.

use crate::codec::{self, CodecResult};
use fidelis_core::customer::{Customer, Profile};
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{
    ApiKeyId, CustomerId, EntryId, EventId, LotId, MembershipId, OrderId, OutboxId, ProgramId, ProjectId, SegmentId,
};
use fidelis_core::ledger::{Entry, Lot, Membership, Totals};
use fidelis_core::money::{Currency, Money, Points};
use fidelis_core::order::{Order, OrderLines};
use fidelis_core::program::{EarningRate, Program};
use fidelis_core::segment::{Segment, SegmentKind};
use fidelis_engine::port::{IdempotencyRecord, OutboxEvent, StoreError};
use fidelis_engine::project::{ApiKey, Project};

/// Read access to one result row by column index, whatever the database.
pub trait RowLike {
    fn text(&self, i: usize) -> CodecResult<String>;
    fn opt_text(&self, i: usize) -> CodecResult<Option<String>>;
    fn int(&self, i: usize) -> CodecResult<i64>;
    fn opt_int(&self, i: usize) -> CodecResult<Option<i64>>;
    fn flag(&self, i: usize) -> CodecResult<bool>;
    fn bytes(&self, i: usize) -> CodecResult<Vec<u8>>;
}

/// A column value to bind, whatever the database.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Flag(bool),
    Bytes(Vec<u8>),
}

fn money(value: i64) -> CodecResult<Money> {
    Money::new(value).ok_or_else(|| StoreError::Corrupt(format!("amount {value}")))
}

pub const PROJECT_COLUMNS: &str = "id, name, currency, time_zone, created_at";

pub fn project(r: &dyn RowLike, at: usize) -> CodecResult<Project> {
    let currency = r.text(at + 2)?;
    Ok(Project {
        id: ProjectId::from_trusted(r.text(at)?),
        name: r.text(at + 1)?,
        currency: Currency::parse(&currency).ok_or_else(|| StoreError::Corrupt(format!("currency {currency}")))?,
        time_zone: r.text(at + 3)?,
        created_at: codec::timestamp(r.int(at + 4)?)?,
    })
}

pub fn project_values(p: &Project) -> Vec<Value> {
    vec![
        Value::Text(p.id.to_string()),
        Value::Text(p.name.clone()),
        Value::Text(p.currency.code().to_owned()),
        Value::Text(p.time_zone.clone()),
        Value::Int(codec::micros(p.created_at)),
    ]
}

pub const API_KEY_COLUMNS: &str = "id, project_id, prefix, secret_hash, created_at, revoked_at";

pub fn api_key(r: &dyn RowLike) -> CodecResult<ApiKey> {
    Ok(ApiKey {
        id: ApiKeyId::from_trusted(r.text(0)?),
        project_id: ProjectId::from_trusted(r.text(1)?),
        prefix: r.text(2)?,
        secret_hash: r.text(3)?,
        created_at: codec::timestamp(r.int(4)?)?,
        revoked_at: codec::opt_timestamp(r.opt_int(5)?)?,
    })
}

pub fn api_key_values(k: &ApiKey) -> Vec<Value> {
    vec![
        Value::Text(k.id.to_string()),
        Value::Text(k.project_id.to_string()),
        Value::Text(k.prefix.clone()),
        Value::Text(k.secret_hash.clone()),
        Value::Int(codec::micros(k.created_at)),
        Value::OptInt(k.revoked_at.map(codec::micros)),
    ]
}

pub const CUSTOMER_COLUMNS: &str = "id, project_id, source_id, name, email, phone, birthdate, timezone, address, \
     metadata, stats, created_at, updated_at, erased_at, segments";

/// The customer columns with the aggregates left out (read as empty): for scans whose rules do not read them,
/// since decoding the daily buckets is most of the cost of a row.
pub const CUSTOMER_COLUMNS_WITHOUT_STATS: &str = "id, project_id, source_id, name, email, phone, birthdate, timezone, \
     address, metadata, '{}', created_at, updated_at, erased_at, segments";

pub fn customer(r: &dyn RowLike) -> CodecResult<Customer> {
    Ok(Customer {
        id: CustomerId::from_trusted(r.text(0)?),
        project_id: ProjectId::from_trusted(r.text(1)?),
        source_id: r.opt_text(2)?,
        profile: Profile {
            name: r.opt_text(3)?,
            email: r.opt_text(4)?,
            phone: r.opt_text(5)?,
            birthdate: codec::opt_date(r.opt_text(6)?)?,
            timezone: r.opt_text(7)?,
            address: codec::address(&r.text(8)?)?,
        },
        metadata: codec::metadata(&r.text(9)?)?,
        stats: codec::stats(&r.text(10)?)?,
        created_at: codec::timestamp(r.int(11)?)?,
        updated_at: codec::timestamp(r.int(12)?)?,
        erased_at: codec::opt_timestamp(r.opt_int(13)?)?,
        segments: codec::segment_ids(&r.text(14)?)?,
    })
}

pub fn customer_values(c: &Customer) -> Vec<Value> {
    let p = &c.profile;
    vec![
        Value::Text(c.id.to_string()),
        Value::Text(c.project_id.to_string()),
        Value::OptText(c.source_id.clone()),
        Value::OptText(p.name.clone()),
        Value::OptText(p.email.clone()),
        Value::OptText(p.phone.clone()),
        Value::OptText(p.birthdate.map(codec::date_text)),
        Value::OptText(p.timezone.clone()),
        Value::Text(codec::address_json(&p.address)),
        Value::Text(codec::metadata_json(&c.metadata)),
        Value::Text(codec::stats_json(&c.stats)),
        Value::Int(codec::micros(c.created_at)),
        Value::Int(codec::micros(c.updated_at)),
        Value::OptInt(c.erased_at.map(codec::micros)),
        Value::Text(codec::segment_ids_json(&c.segments)),
    ]
}

/// Only the segment list of a customer (scans that load customers without their aggregates write this).
pub fn customer_segment_values(id: &CustomerId, segments: &[SegmentId]) -> Vec<Value> {
    vec![Value::Text(id.to_string()), Value::Text(codec::segment_ids_json(segments))]
}

pub const SEGMENT_COLUMNS: &str =
    "id, project_id, name, kind, rule, version, time_dependent, swept_at, created_at, updated_at";

pub fn segment(r: &dyn RowLike) -> CodecResult<Segment> {
    let kind = match (r.text(3)?.as_str(), r.opt_text(4)?) {
        ("static", _) => SegmentKind::Static,
        ("dynamic", Some(rule)) => SegmentKind::Dynamic { rule },
        (other, _) => return Err(StoreError::Corrupt(format!("segment kind {other}"))),
    };
    Ok(Segment {
        id: SegmentId::from_trusted(r.text(0)?),
        project_id: ProjectId::from_trusted(r.text(1)?),
        name: r.text(2)?,
        kind,
        version: r.int(5)?,
        time_dependent: r.flag(6)?,
        swept_at: codec::opt_timestamp(r.opt_int(7)?)?,
        created_at: codec::timestamp(r.int(8)?)?,
        updated_at: codec::timestamp(r.int(9)?)?,
    })
}

pub fn segment_values(s: &Segment) -> Vec<Value> {
    let (kind, rule) = match &s.kind {
        SegmentKind::Static => ("static", None),
        SegmentKind::Dynamic { rule } => ("dynamic", Some(rule.clone())),
    };
    vec![
        Value::Text(s.id.to_string()),
        Value::Text(s.project_id.to_string()),
        Value::Text(s.name.clone()),
        Value::Text(kind.to_owned()),
        Value::OptText(rule),
        Value::Int(s.version),
        Value::Flag(s.time_dependent),
        Value::OptInt(s.swept_at.map(codec::micros)),
        Value::Int(codec::micros(s.created_at)),
        Value::Int(codec::micros(s.updated_at)),
    ]
}

pub const SEGMENT_MEMBER_COLUMNS: &str = "segment_id, customer_id, since";

pub fn segment_member(r: &dyn RowLike) -> CodecResult<(CustomerId, jiff::Timestamp)> {
    Ok((CustomerId::from_trusted(r.text(1)?), codec::timestamp(r.int(2)?)?))
}

pub const ORDER_COLUMNS: &str = "id, project_id, source_id, customer_id, status, amount, discount_amount, \
     refunded_amount, items, metadata, paid_at, paid_on, earnings, created_at, updated_at";

pub fn order(r: &dyn RowLike) -> CodecResult<Order> {
    Ok(Order {
        id: OrderId::from_trusted(r.text(0)?),
        project_id: ProjectId::from_trusted(r.text(1)?),
        source_id: r.opt_text(2)?,
        customer_id: r.opt_text(3)?.map(CustomerId::from_trusted),
        status: codec::status(&r.text(4)?)?,
        lines: OrderLines {
            amount: money(r.int(5)?)?,
            discount_amount: money(r.int(6)?)?,
            items: codec::items(&r.text(8)?)?,
        },
        refunded_amount: money(r.int(7)?)?,
        metadata: codec::metadata(&r.text(9)?)?,
        paid_at: codec::opt_timestamp(r.opt_int(10)?)?,
        paid_on: codec::opt_date(r.opt_text(11)?)?,
        earnings: codec::earnings(&r.text(12)?)?,
        created_at: codec::timestamp(r.int(13)?)?,
        updated_at: codec::timestamp(r.int(14)?)?,
    })
}

pub fn order_values(o: &Order) -> Vec<Value> {
    vec![
        Value::Text(o.id.to_string()),
        Value::Text(o.project_id.to_string()),
        Value::OptText(o.source_id.clone()),
        Value::OptText(o.customer_id.as_ref().map(ToString::to_string)),
        Value::Text(o.status.as_str().to_owned()),
        Value::Int(o.lines.amount.minor_units()),
        Value::Int(o.lines.discount_amount.minor_units()),
        Value::Int(o.refunded_amount.minor_units()),
        Value::Text(codec::items_json(&o.lines.items)),
        Value::Text(codec::metadata_json(&o.metadata)),
        Value::OptInt(o.paid_at.map(codec::micros)),
        Value::OptText(o.paid_on.map(codec::date_text)),
        Value::Text(codec::earnings_json(&o.earnings)),
        Value::Int(codec::micros(o.created_at)),
        Value::Int(codec::micros(o.updated_at)),
    ]
}

pub const EVENT_COLUMNS: &str = "id, project_id, customer_id, name, client_event_id, metadata, occurred_at, created_at";

pub fn event(r: &dyn RowLike) -> CodecResult<CustomEvent> {
    Ok(CustomEvent {
        id: EventId::from_trusted(r.text(0)?),
        project_id: ProjectId::from_trusted(r.text(1)?),
        customer_id: CustomerId::from_trusted(r.text(2)?),
        name: r.text(3)?,
        client_event_id: r.opt_text(4)?,
        metadata: codec::metadata(&r.text(5)?)?,
        occurred_at: codec::timestamp(r.int(6)?)?,
        created_at: codec::timestamp(r.int(7)?)?,
    })
}

pub fn event_values(e: &CustomEvent) -> Vec<Value> {
    vec![
        Value::Text(e.id.to_string()),
        Value::Text(e.project_id.to_string()),
        Value::Text(e.customer_id.to_string()),
        Value::Text(e.name.clone()),
        Value::OptText(e.client_event_id.clone()),
        Value::Text(codec::metadata_json(&e.metadata)),
        Value::Int(codec::micros(e.occurred_at)),
        Value::Int(codec::micros(e.created_at)),
    ]
}

pub const PROGRAM_COLUMNS: &str = "id, project_id, name, points_label, time_zone, expiry, earning_every, \
     earning_points, join_policy, allow_negative_balance, paused, created_at, updated_at";

pub fn program(r: &dyn RowLike) -> CodecResult<Program> {
    let earning = match (r.opt_int(6)?, r.opt_int(7)?) {
        (Some(every), Some(points)) => Some(EarningRate {
            every: money(every)?,
            points: Points::positive(points).ok_or_else(|| StoreError::Corrupt(format!("points {points}")))?,
        }),
        _ => None,
    };
    Ok(Program {
        id: ProgramId::from_trusted(r.text(0)?),
        project_id: ProjectId::from_trusted(r.text(1)?),
        name: r.text(2)?,
        points_label: r.text(3)?,
        time_zone: r.opt_text(4)?,
        expiry: codec::expiry(&r.text(5)?)?,
        earning,
        join_policy: codec::join_policy(&r.text(8)?)?,
        allow_negative_balance: r.flag(9)?,
        paused: r.flag(10)?,
        created_at: codec::timestamp(r.int(11)?)?,
        updated_at: codec::timestamp(r.int(12)?)?,
    })
}

pub fn program_values(p: &Program) -> Vec<Value> {
    vec![
        Value::Text(p.id.to_string()),
        Value::Text(p.project_id.to_string()),
        Value::Text(p.name.clone()),
        Value::Text(p.points_label.clone()),
        Value::OptText(p.time_zone.clone()),
        Value::Text(codec::expiry_json(&p.expiry)),
        Value::OptInt(p.earning.map(|e| e.every.minor_units())),
        Value::OptInt(p.earning.map(|e| e.points.value())),
        Value::Text(p.join_policy.as_str().to_owned()),
        Value::Flag(p.allow_negative_balance),
        Value::Flag(p.paused),
        Value::Int(codec::micros(p.created_at)),
        Value::Int(codec::micros(p.updated_at)),
    ]
}

pub const MEMBERSHIP_COLUMNS: &str = "id, project_id, program_id, customer_id, card_code, balance, debt, earned, \
     added, removed, expired, clawed_back, unrecovered, created_at, updated_at";

pub fn membership(r: &dyn RowLike) -> CodecResult<Membership> {
    Ok(Membership {
        id: MembershipId::from_trusted(r.text(0)?),
        project_id: ProjectId::from_trusted(r.text(1)?),
        program_id: ProgramId::from_trusted(r.text(2)?),
        customer_id: CustomerId::from_trusted(r.text(3)?),
        card_code: r.text(4)?,
        balance: r.int(5)?,
        debt: r.int(6)?,
        totals: Totals {
            earned: r.int(7)?,
            added: r.int(8)?,
            removed: r.int(9)?,
            expired: r.int(10)?,
            clawed_back: r.int(11)?,
            unrecovered: r.int(12)?,
        },
        created_at: codec::timestamp(r.int(13)?)?,
        updated_at: codec::timestamp(r.int(14)?)?,
    })
}

pub fn membership_values(m: &Membership) -> Vec<Value> {
    let t = &m.totals;
    vec![
        Value::Text(m.id.to_string()),
        Value::Text(m.project_id.to_string()),
        Value::Text(m.program_id.to_string()),
        Value::Text(m.customer_id.to_string()),
        Value::Text(m.card_code.clone()),
        Value::Int(m.balance),
        Value::Int(m.debt),
        Value::Int(t.earned),
        Value::Int(t.added),
        Value::Int(t.removed),
        Value::Int(t.expired),
        Value::Int(t.clawed_back),
        Value::Int(t.unrecovered),
        Value::Int(codec::micros(m.created_at)),
        Value::Int(codec::micros(m.updated_at)),
    ]
}

pub const LOT_COLUMNS: &str = "id, program_id, membership_id, points, remaining, expires_on, created_at";

pub fn lot(r: &dyn RowLike) -> CodecResult<Lot> {
    Ok(Lot {
        id: LotId::from_trusted(r.text(0)?),
        program_id: ProgramId::from_trusted(r.text(1)?),
        membership_id: MembershipId::from_trusted(r.text(2)?),
        points: r.int(3)?,
        remaining: r.int(4)?,
        expires_on: codec::opt_date(r.opt_text(5)?)?,
        created_at: codec::timestamp(r.int(6)?)?,
    })
}

pub fn lot_values(l: &Lot) -> Vec<Value> {
    vec![
        Value::Text(l.id.to_string()),
        Value::Text(l.program_id.to_string()),
        Value::Text(l.membership_id.to_string()),
        Value::Int(l.points),
        Value::Int(l.remaining),
        Value::OptText(l.expires_on.map(codec::date_text)),
        Value::Int(codec::micros(l.created_at)),
    ]
}

pub const ENTRY_COLUMNS: &str = "id, project_id, program_id, membership_id, customer_id, kind, points, \
     balance_after, lot_id, expires_on, consumed, unrecovered, debt_repaid, cause_type, cause_order_id, \
     cause_lot_id, reason, actor, created_at";

pub fn entry(r: &dyn RowLike) -> CodecResult<Entry> {
    Ok(Entry {
        id: EntryId::from_trusted(r.text(0)?),
        project_id: ProjectId::from_trusted(r.text(1)?),
        program_id: ProgramId::from_trusted(r.text(2)?),
        membership_id: MembershipId::from_trusted(r.text(3)?),
        customer_id: CustomerId::from_trusted(r.text(4)?),
        kind: codec::entry_kind(&r.text(5)?)?,
        points: r.int(6)?,
        balance_after: r.int(7)?,
        lot_id: r.opt_text(8)?.map(LotId::from_trusted),
        expires_on: codec::opt_date(r.opt_text(9)?)?,
        consumed: codec::consumed(&r.text(10)?)?,
        unrecovered: r.int(11)?,
        debt_repaid: r.int(12)?,
        cause: codec::cause(&r.text(13)?, r.opt_text(14)?, r.opt_text(15)?, r.opt_text(16)?, r.opt_text(17)?)?,
        created_at: codec::timestamp(r.int(18)?)?,
    })
}

pub fn entry_values(e: &Entry) -> Vec<Value> {
    let (cause_type, order_id, lot_id, reason, actor) = codec::cause_columns(&e.cause);
    vec![
        Value::Text(e.id.to_string()),
        Value::Text(e.project_id.to_string()),
        Value::Text(e.program_id.to_string()),
        Value::Text(e.membership_id.to_string()),
        Value::Text(e.customer_id.to_string()),
        Value::Text(e.kind.as_str().to_owned()),
        Value::Int(e.points),
        Value::Int(e.balance_after),
        Value::OptText(e.lot_id.as_ref().map(ToString::to_string)),
        Value::OptText(e.expires_on.map(codec::date_text)),
        Value::Text(codec::consumed_json(&e.consumed)),
        Value::Int(e.unrecovered),
        Value::Int(e.debt_repaid),
        Value::Text(cause_type.to_owned()),
        Value::OptText(order_id),
        Value::OptText(lot_id),
        Value::OptText(reason),
        Value::OptText(actor),
        Value::Int(codec::micros(e.created_at)),
    ]
}

pub const IDEMPOTENCY_COLUMNS: &str = "project_id, key, request_hash, status, body, created_at";

pub fn idempotency(r: &dyn RowLike) -> CodecResult<IdempotencyRecord> {
    let status = r.int(3)?;
    Ok(IdempotencyRecord {
        project_id: ProjectId::from_trusted(r.text(0)?),
        key: r.text(1)?,
        request_hash: r.text(2)?,
        status: u16::try_from(status).map_err(|_| StoreError::Corrupt(format!("status {status}")))?,
        body: r.bytes(4)?,
        created_at: codec::timestamp(r.int(5)?)?,
    })
}

pub fn idempotency_values(i: &IdempotencyRecord) -> Vec<Value> {
    vec![
        Value::Text(i.project_id.to_string()),
        Value::Text(i.key.clone()),
        Value::Text(i.request_hash.clone()),
        Value::Int(i64::from(i.status)),
        Value::Bytes(i.body.clone()),
        Value::Int(codec::micros(i.created_at)),
    ]
}

pub const OUTBOX_COLUMNS: &str = "id, project_id, topic, customer_id, subject_id, created_at";

pub fn outbox(r: &dyn RowLike) -> CodecResult<OutboxEvent> {
    Ok(OutboxEvent {
        id: OutboxId::from_trusted(r.text(0)?),
        project_id: ProjectId::from_trusted(r.text(1)?),
        topic: r.text(2)?,
        customer_id: r.opt_text(3)?.map(CustomerId::from_trusted),
        subject_id: r.text(4)?,
        created_at: codec::timestamp(r.int(5)?)?,
    })
}

pub fn outbox_values(o: &OutboxEvent) -> Vec<Value> {
    vec![
        Value::Text(o.id.to_string()),
        Value::Text(o.project_id.to_string()),
        Value::Text(o.topic.clone()),
        Value::OptText(o.customer_id.as_ref().map(ToString::to_string)),
        Value::Text(o.subject_id.clone()),
        Value::Int(codec::micros(o.created_at)),
    ]
}
