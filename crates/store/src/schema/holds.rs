//! `holds`: pending points (credit holds) and reservations; state and points change, until they settle.

use crate::codec;
use crate::row::{Cols, RowLike, Schema, Value};
use fidelis_core::ids::{CustomerId, HoldId, MembershipId, ProgramId, ProjectId};
use fidelis_core::ledger::hold::{Hold, HoldKind, HoldState};
use fidelis_engine::port::{StoreError, StoreResult};

pub static SCHEMA: Schema = Schema {
    table: "holds",
    columns: &[
        "id",
        "project_id",
        "program_id",
        "membership_id",
        "customer_id",
        "kind",
        "points",
        "state",
        "until",
        "cause_type",
        "cause_order_id",
        "cause_event_id",
        "reason",
        "actor",
        "rule_id",
        "rule_version",
        "expiry",
        "created_at",
        "resolved_at",
    ],
};

fn kind_text(kind: HoldKind) -> &'static str {
    match kind {
        HoldKind::Credit => "credit",
        HoldKind::Debit => "debit",
    }
}

pub fn row(r: &dyn RowLike) -> StoreResult<Hold> {
    let c = Cols::new(&SCHEMA, r);
    let kind = match c.text("kind")?.as_str() {
        "credit" => HoldKind::Credit,
        "debit" => HoldKind::Debit,
        other => return Err(StoreError::Corrupt(format!("hold kind {other}"))),
    };
    let raw = c.text("state")?;
    let state = HoldState::ALL
        .into_iter()
        .find(|s| s.as_str() == raw)
        .ok_or_else(|| StoreError::Corrupt(format!("hold state {raw}")))?;
    let cause = codec::CauseColumns {
        kind: c.text("cause_type")?,
        order_id: c.opt_text("cause_order_id")?,
        event_id: c.opt_text("cause_event_id")?,
        segment_id: None,
        lot_id: None,
        membership_id: None,
        reason: c.opt_text("reason")?,
        actor: c.opt_text("actor")?,
    };
    Ok(Hold {
        id: HoldId::from_trusted(c.text("id")?),
        project_id: ProjectId::from_trusted(c.text("project_id")?),
        program_id: ProgramId::from_trusted(c.text("program_id")?),
        membership_id: MembershipId::from_trusted(c.text("membership_id")?),
        customer_id: CustomerId::from_trusted(c.text("customer_id")?),
        kind,
        points: c.points("points")?,
        state,
        until: codec::date(&c.text("until")?)?,
        cause: codec::cause(cause)?,
        rule: codec::rule_ref(c.opt_text("rule_id")?, c.opt_int("rule_version")?),
        expiry: c.opt_text("expiry")?.map(|e| codec::expiry(&e)).transpose()?,
        created_at: codec::timestamp(c.int("created_at")?)?,
        resolved_at: codec::opt_timestamp(c.opt_int("resolved_at")?)?,
    })
}

pub fn values(h: &Hold) -> Vec<Value> {
    let cause = codec::cause_columns(&h.cause);
    SCHEMA.values(|v| {
        v.set("id", Value::text(&h.id))
            .set("project_id", Value::text(&h.project_id))
            .set("program_id", Value::text(&h.program_id))
            .set("membership_id", Value::text(&h.membership_id))
            .set("customer_id", Value::text(&h.customer_id))
            .set("kind", Value::text(kind_text(h.kind)))
            .set("points", Value::Int(h.points.value()))
            .set("state", Value::text(h.state.as_str()))
            .set("until", Value::Text(codec::date_text(h.until)))
            .set("cause_type", Value::Text(cause.kind))
            .set("cause_order_id", Value::OptText(cause.order_id))
            .set("cause_event_id", Value::OptText(cause.event_id))
            .set("reason", Value::OptText(cause.reason))
            .set("actor", Value::OptText(cause.actor))
            .set("rule_id", Value::OptText(h.rule.as_ref().map(|r| r.id.to_string())))
            .set("rule_version", Value::OptInt(h.rule.as_ref().map(|r| r.version)))
            .set("expiry", Value::OptText(h.expiry.as_ref().map(codec::expiry_json)))
            .set("created_at", Value::Int(codec::micros(h.created_at)))
            .set("resolved_at", Value::OptInt(h.resolved_at.map(codec::micros)));
    })
}

/// Pending holds of a program whose day to activate has come (`until <= $2`), oldest first.
pub fn due_sql() -> String {
    format!(
        "SELECT {} FROM holds WHERE program_id = $1 AND state = 'pending' AND until <= $2 ORDER BY until, id LIMIT $3",
        SCHEMA.list()
    )
}
