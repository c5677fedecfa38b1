//! `idempotency`: stored responses by (project, key).

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::ids::ProjectId;
use fidelis_engine::port::{IdempotencyRecord, StoreError, StoreResult};

pub static SCHEMA: Schema =
    Schema { table: "idempotency", columns: &["project_id", "key", "request_hash", "status", "body", "created_at"] };

pub fn row(r: &dyn RowLike) -> StoreResult<IdempotencyRecord> {
    let c = Cols::new(&SCHEMA, r);
    let status = c.int("status")?;
    Ok(IdempotencyRecord {
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        key: c.text("key")?,
        request_hash: c.text("request_hash")?,
        status: u16::try_from(status).map_err(|_| StoreError::Corrupt(format!("status {status}")))?,
        body: c.bytes("body")?,
        created_at: codec::timestamp(c.int("created_at")?)?,
    })
}

pub fn values(i: &IdempotencyRecord) -> Vec<Value> {
    SCHEMA.values(|v| {
        v.set("project_id", Value::text(&i.project_id))
            .set("key", Value::Text(i.key.clone()))
            .set("request_hash", Value::Text(i.request_hash.clone()))
            .set("status", Value::Int(i64::from(i.status)))
            .set("body", Value::Bytes(i.body.clone()))
            .set("created_at", Value::Int(codec::micros(i.created_at)));
    })
}

pub const STALE_SQL: &str =
    "SELECT project_id, key FROM idempotency WHERE created_at < $1 ORDER BY created_at LIMIT $2";
