//! `rule_sets`: every version of a program's rule set, inserted once, never changed.

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::earning::RuleSet;
use fidelis_core::ids::{ProgramId, ProjectId};
use fidelis_engine::port::StoreResult;

pub static SCHEMA: Schema =
    Schema { table: "rule_sets", columns: &["program_id", "version", "project_id", "rules", "tiers", "created_at"] };

pub fn row(r: &dyn RowLike) -> StoreResult<RuleSet> {
    let c = Cols::new(&SCHEMA, r);
    Ok(RuleSet {
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        program_id: ProgramId::from_trusted(c.text("program_id")?),
        version: c.int("version")?,
        rules: codec::earning_rules(&c.text("rules")?)?,
        tiers: codec::tiers(c.opt_text("tiers")?)?,
        created_at: codec::timestamp(c.int("created_at")?)?,
    })
}

pub fn values(s: &RuleSet) -> Vec<Value> {
    SCHEMA.values(|v| {
        v.set("program_id", Value::text(&s.program_id))
            .set("version", Value::Int(s.version))
            .set("project_id", Value::text(&s.project_id))
            .set("rules", Value::Text(codec::earning_rules_json(&s.rules)))
            .set("tiers", Value::OptText(codec::tiers_json(&s.tiers)))
            .set("created_at", Value::Int(codec::micros(s.created_at)));
    })
}
