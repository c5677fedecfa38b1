//! `tier_history`: every move of a member's tier, inserted once, read by member, newest first.

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::ids::{MembershipId, ProgramId, ProjectId, TierMoveId};
use fidelis_core::tier::{TierHistoryEntry, TierMove};
use fidelis_engine::port::StoreResult;

pub static SCHEMA: Schema = Schema {
    table: "tier_history",
    columns: &[
        "membership_id",
        "id",
        "project_id",
        "program_id",
        "kind",
        "from_level",
        "to_level",
        "until",
        "created_at",
    ],
};

pub fn row(r: &dyn RowLike) -> StoreResult<TierHistoryEntry> {
    let c = Cols::new(&SCHEMA, r);
    let kind = c.text("kind")?;
    Ok(TierHistoryEntry {
        id: TierMoveId::from_trusted(c.text("id")?),
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        program_id: ProgramId::from_trusted(c.text("program_id")?),
        membership_id: MembershipId::from_trusted(c.text("membership_id")?),
        kind: TierMove::parse(&kind).ok_or_else(|| codec::corrupt("tier move", &kind))?,
        from: c.opt_text("from_level")?,
        to: c.opt_text("to_level")?,
        until: codec::opt_date(c.opt_text("until")?)?,
        created_at: codec::timestamp(c.int("created_at")?)?,
    })
}

pub fn values(e: &TierHistoryEntry) -> Vec<Value> {
    SCHEMA.values(|v| {
        v.set("membership_id", Value::text(&e.membership_id))
            .set("id", Value::text(&e.id))
            .set("project_id", Value::text(&e.project_id))
            .set("program_id", Value::text(&e.program_id))
            .set("kind", Value::Text(e.kind.as_str().to_owned()))
            .set("from_level", Value::OptText(e.from.clone()))
            .set("to_level", Value::OptText(e.to.clone()))
            .set("until", Value::OptText(e.until.map(codec::date_text)))
            .set("created_at", Value::Int(codec::micros(e.created_at)));
    })
}
