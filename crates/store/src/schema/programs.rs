//! `programs`: points programs with their earning rate, expiry and pause switch.

use super::money;
use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::ids::{ProgramId, ProjectId};
use fidelis_core::money::Points;
use fidelis_core::program::{EarningRate, Program};
use fidelis_engine::port::{StoreError, StoreResult};

pub static SCHEMA: Schema = Schema {
    table: "programs",
    columns: &[
        "id",
        "project_id",
        "name",
        "points_label",
        "time_zone",
        "expiry",
        "earning_every",
        "earning_points",
        "join_policy",
        "allow_negative_balance",
        "paused",
        "earning_rules",
        "rules_version",
        "tiers",
        "created_at",
        "updated_at",
    ],
};

pub fn row(r: &dyn RowLike) -> StoreResult<Program> {
    let c = Cols::new(&SCHEMA, r);
    let earning = match (c.opt_int("earning_every")?, c.opt_int("earning_points")?) {
        (Some(every), Some(points)) => Some(EarningRate {
            every: money(every)?,
            points: Points::positive(points).ok_or_else(|| StoreError::Corrupt(format!("points {points}")))?,
        }),
        _ => None,
    };
    Ok(Program {
        id: ProgramId::from_trusted(c.text("id")?),
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        name: c.text("name")?,
        points_label: c.text("points_label")?,
        time_zone: c.opt_text("time_zone")?,
        expiry: codec::expiry(&c.text("expiry")?)?,
        earning,
        join_policy: codec::join_policy(&c.text("join_policy")?)?,
        allow_negative_balance: c.flag("allow_negative_balance")?,
        paused: c.flag("paused")?,
        earning_rules: codec::earning_rules(&c.text("earning_rules")?)?,
        rules_version: c.int("rules_version")?,
        tiers: codec::tiers(c.opt_text("tiers")?)?,
        created_at: codec::timestamp(c.int("created_at")?)?,
        updated_at: codec::timestamp(c.int("updated_at")?)?,
    })
}

pub fn values(p: &Program) -> Vec<Value> {
    SCHEMA.values(|v| {
        v.set("id", Value::text(&p.id))
            .set("project_id", Value::text(&p.project_id))
            .set("name", Value::Text(p.name.clone()))
            .set("points_label", Value::Text(p.points_label.clone()))
            .set("time_zone", Value::OptText(p.time_zone.clone()))
            .set("expiry", Value::Text(codec::expiry_json(&p.expiry)))
            .set("earning_every", Value::OptInt(p.earning.map(|e| e.every.minor_units())))
            .set("earning_points", Value::OptInt(p.earning.map(|e| e.points.value())))
            .set("join_policy", Value::text(p.join_policy.as_str()))
            .set("allow_negative_balance", Value::Flag(p.allow_negative_balance))
            .set("paused", Value::Flag(p.paused))
            .set("earning_rules", Value::Text(codec::earning_rules_json(&p.earning_rules)))
            .set("rules_version", Value::Int(p.rules_version))
            .set("tiers", Value::OptText(codec::tiers_json(&p.tiers)))
            .set("created_at", Value::Int(codec::micros(p.created_at)))
            .set("updated_at", Value::Int(codec::micros(p.updated_at)));
    })
}
