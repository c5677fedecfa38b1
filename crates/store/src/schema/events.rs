//! `events`: custom events, unique per client event id.

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{CustomerId, EventId, ProjectId};
use fidelis_engine::port::StoreResult;

pub static SCHEMA: Schema = Schema {
    table: "events",
    columns: &["id", "project_id", "customer_id", "name", "client_event_id", "metadata", "occurred_at", "created_at"],
};

pub fn row(r: &dyn RowLike) -> StoreResult<CustomEvent> {
    let c = Cols::new(&SCHEMA, r);
    Ok(CustomEvent {
        id: EventId::from_trusted(c.text("id")?),
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        customer_id: CustomerId::from_trusted(c.text("customer_id")?),
        name: c.text("name")?,
        client_event_id: c.opt_text("client_event_id")?,
        metadata: codec::metadata(&c.text("metadata")?)?,
        occurred_at: codec::timestamp(c.int("occurred_at")?)?,
        created_at: codec::timestamp(c.int("created_at")?)?,
    })
}

pub fn values(e: &CustomEvent) -> Vec<Value> {
    SCHEMA.values(|v| {
        v.set("id", Value::text(&e.id))
            .set("project_id", Value::text(&e.project_id))
            .set("customer_id", Value::text(&e.customer_id))
            .set("name", Value::Text(e.name.clone()))
            .set("client_event_id", Value::OptText(e.client_event_id.clone()))
            .set("metadata", Value::Text(codec::metadata_json(&e.metadata)))
            .set("occurred_at", Value::Int(codec::micros(e.occurred_at)))
            .set("created_at", Value::Int(codec::micros(e.created_at)));
    })
}
