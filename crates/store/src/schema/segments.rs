//! `segments` and `segment_members`: definitions and who is in them.

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::ids::{CustomerId, ProjectId, SegmentId};
use fidelis_core::segment::{Segment, SegmentKind};
use fidelis_engine::port::{StoreError, StoreResult};
use jiff::Timestamp;

pub static SCHEMA: Schema = Schema {
    table: "segments",
    columns: &[
        "id",
        "project_id",
        "name",
        "kind",
        "rule",
        "version",
        "time_dependent",
        "swept_at",
        "created_at",
        "updated_at",
    ],
};

pub static MEMBERS: Schema = Schema { table: "segment_members", columns: &["segment_id", "customer_id", "since"] };

pub fn row(r: &dyn RowLike) -> StoreResult<Segment> {
    let c = Cols::new(&SCHEMA, r);
    let kind = match (c.text("kind")?.as_str(), c.opt_text("rule")?) {
        ("static", _) => SegmentKind::Static,
        ("dynamic", Some(rule)) => SegmentKind::Dynamic { rule },
        (other, _) => return Err(StoreError::Corrupt(format!("segment kind {other}"))),
    };
    Ok(Segment {
        id: SegmentId::from_trusted(c.text("id")?),
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        name: c.text("name")?,
        kind,
        version: c.int("version")?,
        time_dependent: c.flag("time_dependent")?,
        swept_at: codec::opt_timestamp(c.opt_int("swept_at")?)?,
        created_at: codec::timestamp(c.int("created_at")?)?,
        updated_at: codec::timestamp(c.int("updated_at")?)?,
    })
}

pub fn values(s: &Segment) -> Vec<Value> {
    let (kind, rule) = match &s.kind {
        SegmentKind::Static => ("static", None),
        SegmentKind::Dynamic { rule } => ("dynamic", Some(rule.clone())),
    };
    SCHEMA.values(|v| {
        v.set("id", Value::text(&s.id))
            .set("project_id", Value::text(&s.project_id))
            .set("name", Value::Text(s.name.clone()))
            .set("kind", Value::text(kind))
            .set("rule", Value::OptText(rule))
            .set("version", Value::Int(s.version))
            .set("time_dependent", Value::Flag(s.time_dependent))
            .set("swept_at", Value::OptInt(s.swept_at.map(codec::micros)))
            .set("created_at", Value::Int(codec::micros(s.created_at)))
            .set("updated_at", Value::Int(codec::micros(s.updated_at)));
    })
}

pub fn member(r: &dyn RowLike) -> StoreResult<(CustomerId, Timestamp)> {
    let c = Cols::new(&MEMBERS, r);
    Ok((CustomerId::from_trusted(c.text("customer_id")?), codec::timestamp(c.int("since")?)?))
}

pub fn member_values(segment: &SegmentId, customer: &CustomerId, since: Timestamp) -> Vec<Value> {
    MEMBERS.values(|v| {
        v.set("segment_id", Value::text(segment))
            .set("customer_id", Value::text(customer))
            .set("since", Value::Int(codec::micros(since)));
    })
}
