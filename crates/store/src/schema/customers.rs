//! `customers`: profile, metadata, aggregates and the segment list.

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::customer::{Customer, Profile};
use fidelis_core::ids::{CustomerId, ProjectId, SegmentId};
use fidelis_engine::port::{Projection, StoreResult};

pub static SCHEMA: Schema = Schema {
    table: "customers",
    columns: &[
        "id",
        "project_id",
        "source_id",
        "name",
        "email",
        "phone",
        "birthdate",
        "timezone",
        "address",
        "metadata",
        "stats",
        "created_at",
        "updated_at",
        "erased_at",
        "segments",
    ],
};

/// The select list of a projection: without aggregates, `stats` reads as empty (decoding the daily buckets is
/// most of the cost of a row).
pub fn select_list(projection: Projection) -> String {
    match projection {
        Projection::Full => SCHEMA.list(),
        Projection::WithoutStats => SCHEMA.list().replace("stats", "'{}' AS stats"),
    }
}

pub fn row(r: &dyn RowLike) -> StoreResult<Customer> {
    let c = Cols::new(&SCHEMA, r);
    Ok(Customer {
        id: CustomerId::from_trusted(c.text("id")?),
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        source_id: c.opt_text("source_id")?,
        profile: Profile {
            name: c.opt_text("name")?,
            email: c.opt_text("email")?,
            phone: c.opt_text("phone")?,
            birthdate: codec::opt_date(c.opt_text("birthdate")?)?,
            timezone: c.opt_text("timezone")?,
            address: codec::address(&c.text("address")?)?,
        },
        metadata: codec::metadata(&c.text("metadata")?)?,
        stats: codec::stats(&c.text("stats")?)?,
        created_at: codec::timestamp(c.int("created_at")?)?,
        updated_at: codec::timestamp(c.int("updated_at")?)?,
        erased_at: codec::opt_timestamp(c.opt_int("erased_at")?)?,
        segments: codec::segment_ids(&c.text("segments")?)?,
    })
}

pub fn values(c: &Customer) -> Vec<Value> {
    let p = &c.profile;
    SCHEMA.values(|v| {
        v.set("id", Value::text(&c.id))
            .set("project_id", Value::text(&c.project_id))
            .set("source_id", Value::OptText(c.source_id.clone()))
            .set("name", Value::OptText(p.name.clone()))
            .set("email", Value::OptText(p.email.clone()))
            .set("phone", Value::OptText(p.phone.clone()))
            .set("birthdate", Value::OptText(p.birthdate.map(codec::date_text)))
            .set("timezone", Value::OptText(p.timezone.clone()))
            .set("address", Value::Text(codec::address_json(&p.address)))
            .set("metadata", Value::Text(codec::metadata_json(&c.metadata)))
            .set("stats", Value::Text(codec::stats_json(&c.stats)))
            .set("created_at", Value::Int(codec::micros(c.created_at)))
            .set("updated_at", Value::Int(codec::micros(c.updated_at)))
            .set("erased_at", Value::OptInt(c.erased_at.map(codec::micros)))
            .set("segments", Value::Text(codec::segment_ids_json(&c.segments)));
    })
}

/// Only the segment list (scans that load customers without their aggregates write this).
pub fn segment_values(id: &CustomerId, segments: &[SegmentId]) -> Vec<Value> {
    vec![Value::text(id), Value::Text(codec::segment_ids_json(segments))]
}

/// Customers of a project in id order after `$2`, at most `$3`.
pub fn scan_sql(projection: Projection) -> String {
    format!("SELECT {} FROM customers WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3", select_list(projection))
}
