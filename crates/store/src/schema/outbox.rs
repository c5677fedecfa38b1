//! `outbox`: domain events for the outside world, one **chunk** row per batch and project. A chunk holds
//! the batch's events of that project in the order they happened, as a JSON array of
//! `{"topic", "version", "payload"}` (the payload is the event's typed payload, `version` says which shape).
//! Event `n` of a chunk has the id `n` places after the chunk's id (`OutboxId::nth`): the engine draws a
//! chunk's ids as one run, so chunks never overlap and a page below a cursor needs at most `limit` of
//! them. One row per batch instead of one per event: a paid order's `order.paid` costs a share of one
//! append instead of a row of its own.

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::domain_event::{DomainEvent, Topic};
use fidelis_core::ids::{OutboxId, ProjectId};
use fidelis_engine::port::{OutboxEvent, StoreError, StoreResult};
use serde::de::DeserializeOwned;

pub static SCHEMA: Schema = Schema { table: "outbox", columns: &["project_id", "id", "events", "created_at"] };

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())
}

pub fn payload_json(event: &DomainEvent) -> String {
    match event {
        DomainEvent::CustomerCreated(p) | DomainEvent::CustomerChanged(p) | DomainEvent::CustomerErased(p) => json(p),
        DomainEvent::OrderPaid(p) | DomainEvent::OrderRefunded(p) | DomainEvent::OrderCanceled(p) => json(p),
        DomainEvent::EventRecorded(p) => json(p),
        DomainEvent::PointsCredited(p) | DomainEvent::PointsDebited(p) | DomainEvent::PointsExpired(p) => json(p),
        DomainEvent::MemberEnrolled(p) => json(p),
        DomainEvent::SegmentEntered(p) | DomainEvent::SegmentLeft(p) => json(p),
        DomainEvent::Tier(p) => json(p),
        DomainEvent::PendingPlaced(p)
        | DomainEvent::PendingReduced(p)
        | DomainEvent::PendingActivated(p)
        | DomainEvent::PendingVoided(p) => json(p),
    }
}

fn parse<T: DeserializeOwned>(payload: serde_json::Value) -> StoreResult<T> {
    serde_json::from_value(payload).map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))
}

/// The typed event of a stored payload.
pub fn event(topic: Topic, payload: serde_json::Value) -> StoreResult<DomainEvent> {
    Ok(match topic {
        Topic::CustomerCreated => DomainEvent::CustomerCreated(parse(payload)?),
        Topic::CustomerChanged => DomainEvent::CustomerChanged(parse(payload)?),
        Topic::CustomerErased => DomainEvent::CustomerErased(parse(payload)?),
        Topic::OrderPaid => DomainEvent::OrderPaid(parse(payload)?),
        Topic::OrderRefunded => DomainEvent::OrderRefunded(parse(payload)?),
        Topic::OrderCanceled => DomainEvent::OrderCanceled(parse(payload)?),
        Topic::EventRecorded => DomainEvent::EventRecorded(parse(payload)?),
        Topic::PointsCredited => DomainEvent::PointsCredited(parse(payload)?),
        Topic::PointsDebited => DomainEvent::PointsDebited(parse(payload)?),
        Topic::PointsExpired => DomainEvent::PointsExpired(parse(payload)?),
        Topic::MemberEnrolled => DomainEvent::MemberEnrolled(parse(payload)?),
        Topic::SegmentEntered => DomainEvent::SegmentEntered(parse(payload)?),
        Topic::SegmentLeft => DomainEvent::SegmentLeft(parse(payload)?),
        Topic::TierJoined | Topic::TierUpgraded | Topic::TierDowngraded | Topic::TierLeft | Topic::TierProlonged => {
            DomainEvent::Tier(parse(payload)?)
        }
        Topic::PendingPlaced => DomainEvent::PendingPlaced(parse(payload)?),
        Topic::PendingReduced => DomainEvent::PendingReduced(parse(payload)?),
        Topic::PendingActivated => DomainEvent::PendingActivated(parse(payload)?),
        Topic::PendingVoided => DomainEvent::PendingVoided(parse(payload)?),
    })
}

#[derive(serde::Deserialize)]
struct Stored {
    topic: String,
    version: u16,
    payload: serde_json::Value,
}

/// The events of one chunk row, oldest first.
pub fn chunk(r: &dyn RowLike) -> StoreResult<Vec<OutboxEvent>> {
    let c = Cols::new(&SCHEMA, r);
    let project_id = ProjectId::from_trusted(c.text("project_id")?);
    let first = OutboxId::from_trusted(c.text("id")?);
    let created_at = codec::timestamp(c.int("created_at")?)?;
    let stored: Vec<Stored> = serde_json::from_str(&c.text("events")?)
        .map_err(|e| StoreError::Corrupt(format!("outbox chunk {first}: {e}")))?;
    let mut events = Vec::with_capacity(stored.len());
    for (n, s) in stored.into_iter().enumerate() {
        let topic = Topic::parse(&s.topic).ok_or_else(|| StoreError::Corrupt(format!("outbox topic {}", s.topic)))?;
        let id = first.nth(n).ok_or_else(|| StoreError::Corrupt(format!("outbox chunk id {first}")))?;
        let mut event = OutboxEvent::new(id, &project_id, self::event(topic, s.payload)?, created_at);
        event.version = s.version;
        events.push(event);
    }
    Ok(events)
}

/// The chunk row of one project's events of a batch (ids consecutive from the first, one clock reading);
/// `None` for no events.
pub fn values(events: &[&OutboxEvent]) -> Option<Vec<Value>> {
    use std::fmt::Write as _;
    let first = events.first()?;
    let mut array = String::from("[");
    for (n, e) in events.iter().enumerate() {
        debug_assert_eq!(first.id.nth(n).as_ref(), Some(&e.id), "ids of a chunk are a run");
        if n > 0 {
            array.push(',');
        }
        // Topic names are plain ASCII: no escaping needed.
        let _ = write!(
            array,
            r#"{{"topic":"{}","version":{},"payload":{}}}"#,
            e.topic.as_str(),
            e.version,
            payload_json(&e.event)
        );
    }
    array.push(']');
    Some(SCHEMA.values(|v| {
        v.set("project_id", Value::text(&first.project_id))
            .set("id", Value::text(&first.id))
            .set("events", Value::Text(array))
            .set("created_at", Value::Int(codec::micros(first.created_at)));
    }))
}

/// Consecutive events of one project (the engine seals a batch's events project by project).
pub fn chunks<'a>(events: &[&'a OutboxEvent]) -> Vec<Vec<&'a OutboxEvent>> {
    let mut out: Vec<Vec<&OutboxEvent>> = Vec::new();
    for e in events {
        match out.last_mut() {
            Some(chunk) if chunk.first().is_some_and(|f| f.project_id == e.project_id) => chunk.push(e),
            _ => out.push(vec![e]),
        }
    }
    out
}
