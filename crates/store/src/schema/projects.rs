//! `projects` and `api_keys`: tenants and their hashed secret keys.

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::ids::{ApiKeyId, ProjectId};
use fidelis_core::money::Currency;
use fidelis_engine::port::{StoreError, StoreResult};
use fidelis_engine::project::{ApiKey, Project};

pub static PROJECTS: Schema =
    Schema { table: "projects", columns: &["id", "name", "currency", "time_zone", "created_at"] };
pub static API_KEYS: Schema =
    Schema { table: "api_keys", columns: &["id", "project_id", "prefix", "secret_hash", "created_at", "revoked_at"] };

pub fn project_at(r: &dyn RowLike, offset: usize) -> StoreResult<Project> {
    let c = Cols::at(&PROJECTS, r, offset);
    let currency = c.text("currency")?;
    Ok(Project {
        id: ProjectId::from_trusted(c.text("id")?),
        name: c.text("name")?,
        currency: Currency::parse(&currency).ok_or_else(|| StoreError::Corrupt(format!("currency {currency}")))?,
        time_zone: c.text("time_zone")?,
        created_at: codec::timestamp(c.int("created_at")?)?,
    })
}

pub fn project(r: &dyn RowLike) -> StoreResult<Project> {
    project_at(r, 0)
}

pub fn project_values(p: &Project) -> Vec<Value> {
    PROJECTS.values(|v| {
        v.set("id", Value::text(&p.id))
            .set("name", Value::Text(p.name.clone()))
            .set("currency", Value::text(p.currency.code()))
            .set("time_zone", Value::Text(p.time_zone.clone()))
            .set("created_at", Value::Int(codec::micros(p.created_at)));
    })
}

pub fn api_key(r: &dyn RowLike) -> StoreResult<ApiKey> {
    let c = Cols::new(&API_KEYS, r);
    Ok(ApiKey {
        id: ApiKeyId::from_trusted(c.text("id")?),
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        prefix: c.text("prefix")?,
        secret_hash: c.text("secret_hash")?,
        created_at: codec::timestamp(c.int("created_at")?)?,
        revoked_at: codec::opt_timestamp(c.opt_int("revoked_at")?)?,
    })
}

pub fn api_key_values(k: &ApiKey) -> Vec<Value> {
    API_KEYS.values(|v| {
        v.set("id", Value::text(&k.id))
            .set("project_id", Value::text(&k.project_id))
            .set("prefix", Value::Text(k.prefix.clone()))
            .set("secret_hash", Value::Text(k.secret_hash.clone()))
            .set("created_at", Value::Int(codec::micros(k.created_at)))
            .set("revoked_at", Value::OptInt(k.revoked_at.map(codec::micros)));
    })
}

pub const REVOKE_API_KEY: &str =
    "UPDATE api_keys SET revoked_at = $1 WHERE project_id = $2 AND id = $3 AND revoked_at IS NULL";

/// A key with its project, by the hash of its secret.
pub fn key_by_hash_sql() -> String {
    format!(
        "SELECT {}, {} FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE k.secret_hash = $1",
        API_KEYS.list_as("k"),
        PROJECTS.list_as("p")
    )
}
