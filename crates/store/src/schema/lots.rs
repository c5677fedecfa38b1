//! `lots`: credits with their own expiry; only `remaining` ever changes.

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::ids::{LotId, MembershipId, ProgramId};
use fidelis_core::ledger::Lot;
use fidelis_engine::port::StoreResult;

pub static SCHEMA: Schema = Schema {
    table: "lots",
    columns: &["id", "program_id", "membership_id", "points", "remaining", "expires_on", "created_at"],
};

pub fn row(r: &dyn RowLike) -> StoreResult<Lot> {
    let c = Cols::new(&SCHEMA, r);
    Ok(Lot {
        id: LotId::from_trusted(c.text("id")?),
        program_id: ProgramId::from_trusted(c.text("program_id")?),
        membership_id: MembershipId::from_trusted(c.text("membership_id")?),
        points: c.points("points")?,
        remaining: c.points("remaining")?,
        expires_on: codec::opt_date(c.opt_text("expires_on")?)?,
        created_at: codec::timestamp(c.int("created_at")?)?,
    })
}

pub fn values(l: &Lot) -> Vec<Value> {
    SCHEMA.values(|v| {
        v.set("id", Value::text(&l.id))
            .set("program_id", Value::text(&l.program_id))
            .set("membership_id", Value::text(&l.membership_id))
            .set("points", Value::Int(l.points.value()))
            .set("remaining", Value::Int(l.remaining.value()))
            .set("expires_on", Value::OptText(l.expires_on.map(codec::date_text)))
            .set("created_at", Value::Int(codec::micros(l.created_at)));
    })
}

/// Lots of a program with points left whose last usable day is before `$2`, oldest expiry first. They
/// are found through their memberships' `next_expiry` (index `memberships_due`, a lower bound of every
/// open lot's last day), which changes far less often than lots do.
pub fn due_sql() -> String {
    format!(
        "SELECT {} FROM memberships m JOIN lots l ON l.membership_id = m.id \
         WHERE m.program_id = $1 AND m.next_expiry IS NOT NULL AND m.next_expiry < $2 \
         AND l.remaining > 0 AND l.expires_on IS NOT NULL AND l.expires_on < $2 \
         ORDER BY l.expires_on, l.id LIMIT $3",
        SCHEMA.list_as("l")
    )
}
