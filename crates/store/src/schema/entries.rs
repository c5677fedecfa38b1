//! `entries`: the append-only ledger; each names its cause and the lots it created or consumed.

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::ids::{CustomerId, EntryId, LotId, MembershipId, ProgramId, ProjectId};
use fidelis_core::ledger::Entry;
use fidelis_engine::port::StoreResult;

pub static SCHEMA: Schema = Schema {
    table: "entries",
    columns: &[
        "id",
        "project_id",
        "program_id",
        "membership_id",
        "customer_id",
        "kind",
        "points",
        "balance_after",
        "lot_id",
        "expires_on",
        "consumed",
        "unrecovered",
        "debt_repaid",
        "cause_type",
        "cause_order_id",
        "cause_event_id",
        "cause_segment_id",
        "cause_lot_id",
        "cause_membership_id",
        "reason",
        "actor",
        "rule_id",
        "rule_version",
        "created_at",
    ],
};

pub fn row(r: &dyn RowLike) -> StoreResult<Entry> {
    let c = Cols::new(&SCHEMA, r);
    let cause = codec::CauseColumns {
        kind: c.text("cause_type")?,
        order_id: c.opt_text("cause_order_id")?,
        event_id: c.opt_text("cause_event_id")?,
        segment_id: c.opt_text("cause_segment_id")?,
        lot_id: c.opt_text("cause_lot_id")?,
        membership_id: c.opt_text("cause_membership_id")?,
        reason: c.opt_text("reason")?,
        actor: c.opt_text("actor")?,
    };
    Ok(Entry {
        id: EntryId::from_trusted(c.text("id")?),
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        program_id: ProgramId::from_trusted(c.text("program_id")?),
        membership_id: MembershipId::from_trusted(c.text("membership_id")?),
        customer_id: CustomerId::from_trusted(c.text("customer_id")?),
        kind: codec::entry_kind(&c.text("kind")?)?,
        points: c.points("points")?,
        balance_after: c.points("balance_after")?,
        lot_id: c.opt_text("lot_id")?.map(LotId::from_trusted),
        expires_on: codec::opt_date(c.opt_text("expires_on")?)?,
        consumed: codec::consumed(&c.text("consumed")?)?,
        unrecovered: c.points("unrecovered")?,
        debt_repaid: c.points("debt_repaid")?,
        cause: codec::cause(cause)?,
        rule: codec::rule_ref(c.opt_text("rule_id")?, c.opt_int("rule_version")?),
        created_at: codec::timestamp(c.int("created_at")?)?,
    })
}

pub fn values(e: &Entry) -> Vec<Value> {
    let cause = codec::cause_columns(&e.cause);
    SCHEMA.values(|v| {
        v.set("id", Value::text(&e.id))
            .set("project_id", Value::text(&e.project_id))
            .set("program_id", Value::text(&e.program_id))
            .set("membership_id", Value::text(&e.membership_id))
            .set("customer_id", Value::text(&e.customer_id))
            .set("kind", Value::text(e.kind.as_str()))
            .set("points", Value::Int(e.points.value()))
            .set("balance_after", Value::Int(e.balance_after.value()))
            .set("lot_id", super::opt_id(e.lot_id.as_ref()))
            .set("expires_on", Value::OptText(e.expires_on.map(codec::date_text)))
            .set("consumed", Value::Text(codec::consumed_json(&e.consumed)))
            .set("unrecovered", Value::Int(e.unrecovered.value()))
            .set("debt_repaid", Value::Int(e.debt_repaid.value()))
            .set("cause_type", Value::Text(cause.kind))
            .set("cause_order_id", Value::OptText(cause.order_id))
            .set("cause_event_id", Value::OptText(cause.event_id))
            .set("cause_segment_id", Value::OptText(cause.segment_id))
            .set("cause_lot_id", Value::OptText(cause.lot_id))
            .set("cause_membership_id", Value::OptText(cause.membership_id))
            .set("reason", Value::OptText(cause.reason))
            .set("actor", Value::OptText(cause.actor))
            .set("rule_id", Value::OptText(e.rule.as_ref().map(|r| r.id.to_string())))
            .set("rule_version", Value::OptInt(e.rule.as_ref().map(|r| r.version)))
            .set("created_at", Value::Int(codec::micros(e.created_at)));
    })
}
