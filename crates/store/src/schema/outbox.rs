//! `outbox`: domain events for the outside world; the payload is the event's typed payload as versioned
//! JSON (`version` says which shape).

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::domain_event::{DomainEvent, SegmentPayload, Topic};
use fidelis_core::ids::{CustomerId, OutboxId, ProjectId, SegmentId};
use fidelis_engine::port::{OutboxEvent, StoreError, StoreResult};
use serde::de::DeserializeOwned;

pub static SCHEMA: Schema = Schema {
    table: "outbox",
    columns: &["id", "project_id", "topic", "version", "customer_id", "subject_id", "payload", "created_at"],
};

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
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))
}

/// The typed event of a stored payload. Segment events written before payloads existed (`{}`) are rebuilt
/// from the subject and customer columns.
pub fn event(topic: Topic, payload: &str, subject: &str, customer: Option<&str>) -> StoreResult<DomainEvent> {
    if payload == "{}" && matches!(topic, Topic::SegmentEntered | Topic::SegmentLeft) {
        let customer = customer.ok_or_else(|| StoreError::Corrupt("segment event without a customer".into()))?;
        let p = SegmentPayload {
            segment_id: SegmentId::from_trusted(subject.to_owned()),
            customer_id: CustomerId::from_trusted(customer.to_owned()),
        };
        return Ok(if topic == Topic::SegmentEntered {
            DomainEvent::SegmentEntered(p)
        } else {
            DomainEvent::SegmentLeft(p)
        });
    }
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
    })
}

pub fn row(r: &dyn RowLike) -> StoreResult<OutboxEvent> {
    let c = Cols::new(&SCHEMA, r);
    let raw = c.text("topic")?;
    let topic = Topic::parse(&raw).ok_or_else(|| StoreError::Corrupt(format!("outbox topic {raw}")))?;
    let customer = c.opt_text("customer_id")?;
    let subject = c.text("subject_id")?;
    let version = c.int("version")?;
    Ok(OutboxEvent {
        id: OutboxId::from_trusted(c.text("id")?),
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        topic,
        version: u16::try_from(version).map_err(|_| StoreError::Corrupt(format!("outbox version {version}")))?,
        event: event(topic, &c.text("payload")?, &subject, customer.as_deref())?,
        customer_id: customer.map(CustomerId::from_trusted),
        subject_id: subject,
        created_at: codec::timestamp(c.int("created_at")?)?,
    })
}

pub fn values(o: &OutboxEvent) -> Vec<Value> {
    SCHEMA.values(|v| {
        v.set("id", Value::text(&o.id))
            .set("project_id", Value::text(&o.project_id))
            .set("topic", Value::text(o.topic.as_str()))
            .set("version", Value::Int(i64::from(o.version)))
            .set("customer_id", super::opt_id(o.customer_id.as_ref()))
            .set("subject_id", Value::Text(o.subject_id.clone()))
            .set("payload", Value::Text(payload_json(&o.event)))
            .set("created_at", Value::Int(codec::micros(o.created_at)));
    })
}
