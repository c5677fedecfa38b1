//! `memberships`: wallets with their balance, holds, next expiry and running totals.

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::ids::{CustomerId, MembershipId, ProgramId, ProjectId};
use fidelis_core::ledger::{Membership, Totals};
use fidelis_engine::port::{MembershipDue, StoreResult};

pub static SCHEMA: Schema = Schema {
    table: "memberships",
    columns: &[
        "id",
        "project_id",
        "program_id",
        "customer_id",
        "card_code",
        "balance",
        "debt",
        "pending",
        "reserved",
        "next_expiry",
        "earned",
        "added",
        "removed",
        "expired",
        "clawed_back",
        "unrecovered",
        "transferred_in",
        "transferred_out",
        "rule_usage",
        "tier",
        "tier_until",
        "occasions",
        "celebrate_at",
        "created_at",
        "updated_at",
    ],
};

pub fn row(r: &dyn RowLike) -> StoreResult<Membership> {
    let c = Cols::new(&SCHEMA, r);
    Ok(Membership {
        id: MembershipId::from_trusted(c.text("id")?),
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        program_id: ProgramId::from_trusted(c.text("program_id")?),
        customer_id: CustomerId::from_trusted(c.text("customer_id")?),
        card_code: c.text("card_code")?,
        balance: c.points("balance")?,
        debt: c.points("debt")?,
        pending: c.points("pending")?,
        reserved: c.points("reserved")?,
        next_expiry: codec::opt_date(c.opt_text("next_expiry")?)?,
        totals: Totals {
            earned: c.points("earned")?,
            added: c.points("added")?,
            removed: c.points("removed")?,
            expired: c.points("expired")?,
            clawed_back: c.points("clawed_back")?,
            unrecovered: c.points("unrecovered")?,
            transferred_in: c.points("transferred_in")?,
            transferred_out: c.points("transferred_out")?,
        },
        rule_usage: codec::rule_usage(c.opt_text("rule_usage")?)?,
        tier: codec::member_tier(c.opt_text("tier")?)?,
        occasions: codec::occasions(c.opt_text("occasions")?)?,
        celebrate_at: c.opt_int("celebrate_at")?.map(codec::timestamp).transpose()?,
        created_at: codec::timestamp(c.int("created_at")?)?,
        updated_at: codec::timestamp(c.int("updated_at")?)?,
    })
}

pub fn values(m: &Membership) -> Vec<Value> {
    let t = &m.totals;
    SCHEMA.values(|v| {
        v.set("id", Value::text(&m.id))
            .set("project_id", Value::text(&m.project_id))
            .set("program_id", Value::text(&m.program_id))
            .set("customer_id", Value::text(&m.customer_id))
            .set("card_code", Value::Text(m.card_code.clone()))
            .set("balance", Value::Int(m.balance.value()))
            .set("debt", Value::Int(m.debt.value()))
            .set("pending", Value::Int(m.pending.value()))
            .set("reserved", Value::Int(m.reserved.value()))
            .set("next_expiry", Value::OptText(m.next_expiry.map(codec::date_text)))
            .set("earned", Value::Int(t.earned.value()))
            .set("added", Value::Int(t.added.value()))
            .set("removed", Value::Int(t.removed.value()))
            .set("expired", Value::Int(t.expired.value()))
            .set("clawed_back", Value::Int(t.clawed_back.value()))
            .set("unrecovered", Value::Int(t.unrecovered.value()))
            .set("transferred_in", Value::Int(t.transferred_in.value()))
            .set("transferred_out", Value::Int(t.transferred_out.value()))
            .set("rule_usage", Value::OptText(codec::rule_usage_json(&m.rule_usage)))
            .set("tier", Value::OptText(codec::member_tier_json(&m.tier)))
            .set("tier_until", Value::OptText(m.tier.until.map(codec::date_text)))
            .set("occasions", Value::OptText(codec::occasions_json(&m.occasions)))
            .set("celebrate_at", Value::OptInt(m.celebrate_at.map(codec::micros)))
            .set("created_at", Value::Int(codec::micros(m.created_at)))
            .set("updated_at", Value::Int(codec::micros(m.updated_at)));
    })
}

/// A membership's new indexed due columns (the `Update` step of changed ones).
pub fn due_values(d: &MembershipDue<'_>) -> Vec<Value> {
    vec![
        Value::text(d.id),
        Value::OptText(d.next_expiry.map(codec::date_text)),
        Value::OptText(d.tier_until.map(codec::date_text)),
        Value::OptInt(d.celebrate_at.map(codec::micros)),
    ]
}

/// Members of a program whose occasions are due at `$2` (µs), or never planned: the occasions job.
pub fn celebrate_due_sql() -> String {
    format!(
        "SELECT {} FROM memberships WHERE program_id = $1 AND COALESCE(celebrate_at, 0) <= $2 \
         ORDER BY COALESCE(celebrate_at, 0), id LIMIT $3",
        SCHEMA.list()
    )
}

/// Members of a program whose tier status ended before `$2`: the daily review.
pub fn tier_due_sql() -> String {
    format!(
        "SELECT {} FROM memberships WHERE program_id = $1 AND tier_until IS NOT NULL AND tier_until < $2 \
         ORDER BY tier_until, id LIMIT $3",
        SCHEMA.list()
    )
}
