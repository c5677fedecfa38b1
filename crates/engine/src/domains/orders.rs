//! Orders: upsert and refunds. One decision covers the order change, the customer's aggregates,
//! enrolment where a program auto-joins, earning on PAID and clawback on refund or cancellation.

use super::customers::{CustomerChange, CustomerInput, decide_named};
use super::earning::{self, ProgramEarning, Rules, earns_on};
use super::wallets::{Wallets, new_membership};
use super::{At, Ctx, Stop};
use crate::decision::{Decision, Write};
use crate::names::Names;
use crate::port::{CustomerRef, OrderRef};
use fidelis_core::customer::Customer;
use fidelis_core::domain_event::{DomainEvent, MemberPayload, Topic};
use fidelis_core::earning::{RuleReport, Trigger, TriggerFacts};
use fidelis_core::ids::ProgramId;
use fidelis_core::ids::{NewIds, ProjectId};
use fidelis_core::ledger::hold::{self, Hold, HoldState};
use fidelis_core::ledger::{Cause, Entry, Membership, decide_clawback};
use fidelis_core::limits::CARD_CODE_GENERATED_CHARS;
use fidelis_core::money::Money;
use fidelis_core::money::{Currency, Points};
use fidelis_core::order::{Order, OrderChange, OrderDraft, OrderEarning, OrderStatus, decide_upsert};
use fidelis_core::program::{JoinPolicy, Program};
use fidelis_core::rejection::{OrderRejection, Rejection, Resource};
use fidelis_core::rules::{Context, CustomerFacts, LoyaltyFacts};

#[derive(Clone, Debug, PartialEq)]
pub struct OrderInput {
    pub reference: Option<OrderRef>,
    pub customer: Option<CustomerInput>,
    pub draft: OrderDraft,
    /// Report every earning rule's part (`?explain=true`, and every dry run).
    pub explain: bool,
}

impl OrderInput {
    /// The order the input names: by reference, else by its `source_id`.
    pub fn order_ref(&self) -> Option<OrderRef> {
        self.reference.clone().or_else(|| self.draft.source_id.clone().map(OrderRef::Source))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Upsert(Box<OrderInput>),
    /// A refund of `amount` more than already refunded.
    Refund {
        order: OrderRef,
        amount: Money,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub order: Order,
    pub created: bool,
    /// Ledger entries the change made (earning, clawback).
    pub entries: Vec<Entry>,
    /// Per program, every earning rule's part, when explaining an order that became paid.
    pub earning: Vec<EarningReport>,
}

/// One program's earning rules on one trigger: what each gave or why not.
#[derive(Clone, Debug, PartialEq)]
pub struct EarningReport {
    pub program_id: ProgramId,
    pub rules: Vec<RuleReport>,
}

pub fn names(command: &Command, names: &mut Names) {
    names.programs = true;
    match command {
        Command::Upsert(input) => {
            let named = input.customer.as_ref().and_then(|c| c.reference.clone());
            if let Some(order) = input.order_ref() {
                names.orders.push(order.clone());
                if named.is_none() {
                    names.orders_without_customer.push(order);
                }
            }
            names.customers.extend(named);
        }
        Command::Refund { order, .. } => {
            names.orders.push(order.clone());
            names.orders_without_customer.push(order.clone());
        }
    }
}

/// What an order decision reads, borrowed from the working set.
pub struct Snapshot<'a> {
    pub project: &'a ProjectId,
    pub existing: Option<&'a Order>,
    /// What the input's customer reference found.
    pub named: Option<&'a Customer>,
    /// The order's own customer, when the input names none.
    pub owner: Option<&'a Customer>,
    pub programs: Vec<&'a Program>,
    /// The wallets of the order's customer (with open lots where a clawback may take from them).
    pub wallets: Wallets,
    /// The earning rules of order payment, and of enrolment (for programs that auto-join), per program.
    pub paid_rules: &'a [Rules],
    pub enrol_rules: &'a [Rules],
    /// The pending points of the order's earnings, where a refund or cancellation may take from them.
    pub holds: Vec<Hold>,
    pub currency: Currency,
    pub explain: bool,
}

pub async fn run(ctx: &mut Ctx<'_>, command: &Command) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    let (reference, customer, draft, explain) = match command {
        Command::Upsert(input) => (input.order_ref(), input.customer.as_ref(), input.draft.clone(), input.explain),
        Command::Refund { order, .. } => (Some(order.clone()), None, OrderDraft::default(), false),
    };
    if let Some(r) = &reference {
        ctx.ws.load_orders(ctx.loads, &[(project.clone(), r.clone())]).await?;
    }
    let existing = reference.as_ref().and_then(|r| ctx.ws.order(&project, r));
    let draft = match (command, existing) {
        (_, None) if matches!(reference, Some(OrderRef::Id(_))) || matches!(command, Command::Refund { .. }) => {
            let text = reference.as_ref().map(OrderRef::text).unwrap_or_default();
            return Err(Rejection::NotFound { resource: Resource::Order, reference: text }.into());
        }
        (Command::Refund { amount, .. }, Some(order)) => refund_draft(order, *amount)?,
        _ => draft,
    };
    let owner = existing.and_then(|o| o.customer_id.clone()).filter(|_| customer.is_none());
    let named = customer.and_then(|c| c.reference.clone());
    let refs: Vec<_> = named.into_iter().chain(owner.map(CustomerRef::Id)).map(|r| (project.clone(), r)).collect();
    ctx.ws.load_customers(ctx.loads, &refs).await?;
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    let existing = reference.as_ref().and_then(|r| ctx.ws.order(&project, r)).cloned();
    let customer_id = refs.first().and_then(|(p, r)| ctx.ws.customer_id(p, r));
    let wallets = load_wallets(ctx, customer_id.as_ref(), existing.as_ref(), &draft).await?;
    let (paid_rules, enrol_rules) = match command {
        Command::Upsert(_) => rules_of(ctx, &project).await?,
        Command::Refund { .. } => (Vec::new(), Vec::new()),
    };
    let named = customer.and_then(|c| c.reference.as_ref()).and_then(|r| ctx.ws.customer(&project, r));
    let owner = match customer {
        None => existing.as_ref().and_then(|o| o.customer_id.clone()).and_then(|id| ctx.ws.customers.get(&id)),
        Some(_) => None,
    };
    let snapshot = Snapshot {
        project: &project,
        existing: existing.as_ref(),
        named,
        owner,
        programs: ctx.ws.programs_of(&project),
        wallets,
        paid_rules: &paid_rules,
        enrol_rules: &enrol_rules,
        holds: existing
            .iter()
            .flat_map(|o| o.earnings.iter().filter_map(|e| e.hold_id.as_ref()))
            .filter_map(|id| ctx.ws.hold(id).cloned())
            .collect(),
        currency: ctx.project.currency,
        explain,
    };
    let decision = decide(&snapshot, customer, &draft, &ctx.at, ctx.ids)?;
    Ok(ctx.apply(decision))
}

/// The earning rules of payment and of enrolment (where a program auto-joins), with their budgets.
async fn rules_of(ctx: &mut Ctx<'_>, project: &ProjectId) -> Result<(Vec<Rules>, Vec<Rules>), Stop> {
    let (paid_kind, enrol_kind) = (Trigger::OrderPaid.kind(), Trigger::MemberEnrolled.kind());
    let wanted: Vec<(ProgramId, bool, bool)> = ctx
        .ws
        .programs_of(project)
        .into_iter()
        .map(|p| {
            let auto = p.join_policy == JoinPolicy::AutoOnFirstOrder;
            (p.id.clone(), earns_on(p, paid_kind), auto && earns_on(p, enrol_kind))
        })
        .collect();
    let (mut paid, mut enrol) = (Vec::new(), Vec::new());
    for (program, on_paid, on_enrol) in wanted {
        if on_paid {
            paid.push(ctx.earning_rules(&program, paid_kind).await?);
        }
        if on_enrol {
            enrol.push(ctx.earning_rules(&program, enrol_kind).await?);
        }
    }
    Ok((paid, enrol))
}

/// The customer's memberships, and the open lots of those a clawback may take from.
async fn load_wallets(
    ctx: &mut Ctx<'_>,
    customer: Option<&fidelis_core::ids::CustomerId>,
    existing: Option<&Order>,
    draft: &OrderDraft,
) -> Result<Wallets, Stop> {
    let Some(customer) = customer else { return Ok(Wallets::default()) };
    ctx.ws.load_memberships(ctx.loads, std::slice::from_ref(customer), &[]).await?;
    let may_claw_back =
        draft.refunded_amount.is_some() || matches!(draft.status, Some(OrderStatus::Canceled | OrderStatus::Refunded));
    let clawed: Vec<_> = existing
        .filter(|_| may_claw_back)
        .map(|o| o.earnings.iter().filter(|e| e.clawed_back < e.points).map(|e| e.membership_id.clone()).collect())
        .unwrap_or_default();
    ctx.ws.load_lots(ctx.loads, &clawed).await?;
    ctx.ws.load_holds(ctx.loads, &clawed).await?;
    let mut wallets = Wallets::new(ctx.ws.memberships_of(customer));
    for id in &clawed {
        wallets = wallets.with_lots(id, ctx.ws.open_lots(id));
    }
    Ok(wallets)
}

/// A refund of `amount` more than already refunded, as an upsert of the cumulative refunded amount.
fn refund_draft(order: &Order, amount: Money) -> Result<OrderDraft, Rejection> {
    let refundable = order.lines.total().minor_units() - order.refunded_amount.minor_units();
    let Some(total_refunded) = order.refunded_amount.checked_add(amount).filter(|r| *r <= order.lines.total()) else {
        let requested = amount.minor_units();
        return Err(Rejection::Order(OrderRejection::RefundExceedsPaid { refundable, requested }));
    };
    Ok(OrderDraft { refunded_amount: Some(total_refunded), ..OrderDraft::default() })
}

/// The pure decision of an order change.
pub fn decide(
    s: &Snapshot<'_>,
    input_customer: Option<&CustomerInput>,
    draft: &OrderDraft,
    at: &At,
    ids: &mut impl NewIds,
) -> Result<Decision<Outcome>, Rejection> {
    let named = match input_customer {
        Some(input) => Some(decide_named(s.project, s.named, input, at.now, ids)?),
        None => None,
    };
    let customer_id = named.as_ref().map(|n| n.customer.id.clone());
    let change = decide_upsert(s.project, s.existing, customer_id, draft, (at.now, at.today()), ids)?;
    let mut order = change.order.clone();
    let mut decision = Decision::new(());
    let mut customer = named.as_ref().map(|n| n.customer.clone()).or_else(|| s.owner.cloned());
    let mut customer_changed = named.as_ref().is_some_and(|n| n.changed);
    let mut earning = Vec::new();
    if let Some(c) = customer.as_mut().filter(|c| order.customer_id.as_ref() == Some(&c.id)) {
        if c.erased_at.is_some() && adds_personal_data(s.existing, &order) {
            return Err(Rejection::customer_erased());
        }
        customer_changed |= update_stats(c, &change, at);
        let mut wallets = s.wallets.clone();
        if change.became_paid {
            earning = earn(s, &mut order, c, &mut wallets, at, ids, &mut decision)?;
        }
        claw_back(s, &mut order, &mut wallets, at, ids, &mut decision)?;
    }
    if let Some(named) = &named {
        let customer = customer.unwrap_or_else(|| named.customer.clone());
        record_customer(named, customer, customer_changed, &mut decision);
    } else if let Some(c) = customer.filter(|_| customer_changed) {
        decision.writes.push(Write::Customer(c));
    }
    order_events(s.existing, &change, &order, &mut decision.events);
    if change.changed || order != change.order {
        decision.writes.push(Write::Order(order.clone()));
    }
    let entries = decision
        .writes
        .iter()
        .filter_map(|w| match w {
            Write::Posting(p) => Some(p.entry.clone()),
            _ => None,
        })
        .collect();
    Ok(Decision {
        writes: decision.writes,
        events: decision.events,
        outcome: Outcome { order, created: change.created, entries, earning },
    })
}

/// The named customer's own event and its final row (after aggregates moved).
fn record_customer(named: &CustomerChange, customer: Customer, changed: bool, decision: &mut Decision<()>) {
    decision.events.extend(named.event_of(&customer));
    if changed {
        decision.writes.push(Write::Customer(customer));
    }
}

fn order_events(existing: Option<&Order>, change: &OrderChange, order: &Order, events: &mut Vec<DomainEvent>) {
    if change.became_paid {
        events.push(DomainEvent::order(Topic::OrderPaid, order, 0));
    }
    let refunded_before = existing.map_or(0, |o| o.refunded_amount.minor_units());
    let refunded_now = order.refunded_amount.minor_units() - refunded_before;
    if refunded_now > 0 {
        events.push(DomainEvent::order(Topic::OrderRefunded, order, refunded_now));
    }
    let was_canceled = existing.is_some_and(|o| o.status == OrderStatus::Canceled);
    if order.status == OrderStatus::Canceled && !was_canceled {
        events.push(DomainEvent::order(Topic::OrderCanceled, order, 0));
    }
}

/// Whether a change writes metadata (where merchants put personal details) to an order of an erased customer;
/// status changes and refunds still go through.
fn adds_personal_data(existing: Option<&Order>, order: &Order) -> bool {
    let item_metadata = |o: &Order| o.lines.items.iter().map(|i| i.metadata.clone()).collect::<Vec<_>>();
    existing.is_none_or(|e| e.metadata != order.metadata || item_metadata(e) != item_metadata(order))
}

/// Moves the customer's aggregates; `true` when they changed.
fn update_stats(customer: &mut Customer, change: &OrderChange, at: &At) -> bool {
    let (Some(paid_at), Some(paid_on)) = (change.order.paid_at, change.order.paid_on) else {
        return false;
    };
    let (orders, spent) = change.counted_delta;
    if !change.became_paid && orders == 0 && spent == 0 {
        return false;
    }
    let today = at.today();
    let stats = &mut customer.stats;
    if change.became_paid && orders == 1 {
        stats.record_paid(spent, paid_at, paid_on, today);
    } else if orders == -1 {
        stats.record_uncounted(-spent, paid_on, today);
    } else if orders == 0 && spent < 0 {
        stats.record_refund(-spent, paid_on, today);
    }
    customer.updated_at = at.now;
    true
}

/// Earns in every active program the customer belongs to, enrolling them where the program auto-joins
/// (which fires the program's enrolment rules first).
fn earn(
    s: &Snapshot<'_>,
    order: &mut Order,
    customer: &Customer,
    wallets: &mut Wallets,
    at: &At,
    ids: &mut impl NewIds,
    decision: &mut Decision<()>,
) -> Result<Vec<EarningReport>, Rejection> {
    let mut reports = Vec::new();
    for rules in s.paid_rules {
        let Some(program) = s.programs.iter().find(|p| p.id == rules.program_id) else { continue };
        let membership = match wallets.of_program(&program.id) {
            Some(m) => m.clone(),
            None if program.join_policy == JoinPolicy::AutoOnFirstOrder => {
                // 60 random bits: a collision is left to the unique index (the batch retries with fresh codes).
                let code = ids.code(CARD_CODE_GENERATED_CHARS);
                let m = new_membership(s.project, &program.id, &customer.id, code, at.now, ids);
                decision.events.push(enrolled(&m));
                decision.writes.push(Write::Membership(m.clone()));
                wallets.add(m.clone());
                if let Some(enrol) = s.enrol_rules.iter().find(|r| r.program_id == program.id) {
                    let facts = TriggerFacts::Enrolled;
                    let earned =
                        earn_one(s, program, enrol, facts, order, customer, wallets, &m, &Cause::Enrolment, at, ids)?;
                    reports.extend(record_earning(earned, None, wallets, decision, s.explain));
                }
                wallets.of_program(&program.id).cloned().unwrap_or(m)
            }
            None => continue,
        };
        let facts = TriggerFacts::OrderPaid { order };
        let cause = Cause::Order { order_id: order.id.clone() };
        let earned = earn_one(s, program, rules, facts, order, customer, wallets, &membership, &cause, at, ids)?;
        reports.extend(record_earning(earned, Some(order), wallets, decision, s.explain));
    }
    Ok(reports)
}

/// One program's decision on one trigger, with the customer's facts as conditions read them.
#[allow(clippy::too_many_arguments)]
fn earn_one(
    s: &Snapshot<'_>,
    program: &Program,
    rules: &Rules,
    facts: TriggerFacts<'_>,
    order: &Order,
    customer: &Customer,
    wallets: &Wallets,
    membership: &Membership,
    cause: &Cause,
    at: &At,
    ids: &mut impl NewIds,
) -> Result<ProgramEarning, Rejection> {
    let members: Vec<(&Membership, Points)> = s
        .programs
        .iter()
        .filter_map(|p| wallets.of_program(&p.id).map(|m| (m, m.spendable(wallets.lots(&m.id), at.program_today(p)))))
        .collect();
    let loyalty: Vec<LoyaltyFacts<'_>> = members.iter().map(|(m, b)| LoyaltyFacts::of(m, *b)).collect();
    let context = Context {
        now: at.now,
        time_zone: &at.time_zone,
        currency: s.currency,
        customer: Some(CustomerFacts { customer, segments: &customer.segments, loyalty: &loyalty }),
        order: Some(order),
        event: None,
    };
    earning::earn(program, rules, facts, &context, membership, cause, at, s.explain, ids)
}

/// Applies a program's earning: postings (noted on the order when it paid for them), budget reservations.
fn record_earning(
    earned: ProgramEarning,
    order: Option<&mut Order>,
    wallets: &mut Wallets,
    decision: &mut Decision<()>,
    explain: bool,
) -> Option<EarningReport> {
    let program_id = earned.program_id.clone();
    let earning = |membership_id: &fidelis_core::ids::MembershipId, entry_id, hold_id, points| OrderEarning {
        program_id: program_id.clone(),
        membership_id: membership_id.clone(),
        entry_id,
        hold_id,
        points,
        clawed_back: 0,
    };
    let mut noted = Vec::new();
    let recorded = earned.record(decision, |posting| {
        let entry = &posting.entry;
        noted.push(earning(&entry.membership_id, Some(entry.id.clone()), None, entry.points.value()));
        wallets.apply(posting);
    });
    for hold in &recorded.holds {
        noted.push(earning(&hold.membership_id, None, Some(hold.id.clone()), hold.points.value()));
    }
    if let Some(order) = order {
        order.earnings.extend(noted);
    }
    // The wallet as the last posting or hold left it (pending points, per-rule usage).
    wallets.set(recorded.membership);
    explain.then_some(EarningReport { program_id, rules: recorded.reports })
}

pub fn enrolled(m: &fidelis_core::ledger::Membership) -> DomainEvent {
    DomainEvent::MemberEnrolled(MemberPayload {
        membership_id: m.id.clone(),
        program_id: m.program_id.clone(),
        customer_id: m.customer_id.clone(),
        card_code: m.card_code.clone(),
    })
}

/// Takes back, per program, what refunds and cancellation say the order should no longer have given.
fn claw_back(
    s: &Snapshot<'_>,
    order: &mut Order,
    wallets: &mut Wallets,
    at: &At,
    ids: &mut impl NewIds,
    decision: &mut Decision<()>,
) -> Result<(), Rejection> {
    for index in 0..order.earnings.len() {
        let earning = order.earnings[index].clone();
        if order.clawback_target(earning.points) - earning.clawed_back <= 0 {
            continue;
        }
        let Some(program) = s.programs.iter().find(|p| p.id == earning.program_id) else { continue };
        let Some(membership) = wallets.get(&earning.membership_id).cloned() else { continue };
        let hold = earning.hold_id.as_ref().and_then(|id| s.holds.iter().find(|h| &h.id == id));
        match hold.map(|h| h.state) {
            Some(HoldState::Pending) => {
                // Inside the return window: the pending points shrink (or go), nothing reaches the ledger.
                let due = order.clawback_target(earning.points) - earning.clawed_back;
                let Some(hold) = hold else { continue };
                let reduced = hold::reduce(hold, &membership, Points::from_stored(due), at.now)?;
                order.earnings[index].clawed_back += due;
                wallets.set(reduced.membership.clone());
                decision.writes.push(Write::Hold(reduced.hold));
                decision.writes.push(Write::Membership(reduced.membership));
                continue;
            }
            Some(HoldState::Voided | HoldState::Expired) => continue,
            Some(HoldState::Posted) | None => {}
        }
        let lots = wallets.lots(&membership.id).to_vec();
        let clock = at.program_clock(program);
        if let Some(posting) = decide_clawback(program, &membership, &lots, order, &earning, clock, ids)? {
            let taken = posting.entry.points.negated().checked_add(posting.entry.unrecovered);
            order.earnings[index].clawed_back += taken.map_or(0, |p| p.value());
            wallets.apply(&posting);
            decision.post(posting);
        }
    }
    Ok(())
}
