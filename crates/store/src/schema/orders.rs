//! `orders`: lines, status, refunds and the points each program gave.

use super::money;
use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::ids::{CustomerId, OrderId, ProjectId};
use fidelis_core::order::{Order, OrderLines};
use fidelis_engine::port::StoreResult;

pub static SCHEMA: Schema = Schema {
    table: "orders",
    columns: &[
        "id",
        "project_id",
        "source_id",
        "customer_id",
        "status",
        "amount",
        "discount_amount",
        "refunded_amount",
        "items",
        "metadata",
        "paid_at",
        "paid_on",
        "earnings",
        "created_at",
        "updated_at",
    ],
};

pub fn row(r: &dyn RowLike) -> StoreResult<Order> {
    let c = Cols::new(&SCHEMA, r);
    Ok(Order {
        id: OrderId::from_trusted(c.text("id")?),
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        source_id: c.opt_text("source_id")?,
        customer_id: c.opt_text("customer_id")?.map(CustomerId::from_trusted),
        status: codec::status(&c.text("status")?)?,
        lines: OrderLines {
            amount: money(c.int("amount")?)?,
            discount_amount: money(c.int("discount_amount")?)?,
            items: codec::items(&c.text("items")?)?,
        },
        refunded_amount: money(c.int("refunded_amount")?)?,
        metadata: codec::metadata(&c.text("metadata")?)?,
        paid_at: codec::opt_timestamp(c.opt_int("paid_at")?)?,
        paid_on: codec::opt_date(c.opt_text("paid_on")?)?,
        earnings: codec::earnings(&c.text("earnings")?)?,
        created_at: codec::timestamp(c.int("created_at")?)?,
        updated_at: codec::timestamp(c.int("updated_at")?)?,
    })
}

pub fn values(o: &Order) -> Vec<Value> {
    SCHEMA.values(|v| {
        v.set("id", Value::text(&o.id))
            .set("project_id", Value::text(&o.project_id))
            .set("source_id", Value::OptText(o.source_id.clone()))
            .set("customer_id", super::opt_id(o.customer_id.as_ref()))
            .set("status", Value::text(o.status.as_str()))
            .set("amount", Value::Int(o.lines.amount.minor_units()))
            .set("discount_amount", Value::Int(o.lines.discount_amount.minor_units()))
            .set("refunded_amount", Value::Int(o.refunded_amount.minor_units()))
            .set("items", Value::Text(codec::items_json(&o.lines.items)))
            .set("metadata", Value::Text(codec::metadata_json(&o.metadata)))
            .set("paid_at", Value::OptInt(o.paid_at.map(codec::micros)))
            .set("paid_on", Value::OptText(o.paid_on.map(codec::date_text)))
            .set("earnings", Value::Text(codec::earnings_json(&o.earnings)))
            .set("created_at", Value::Int(codec::micros(o.created_at)))
            .set("updated_at", Value::Int(codec::micros(o.updated_at)));
    })
}
