//! Members of a program: enrolment, manual points changes (add with optional expiry, remove with reason)
//! and transfers between two members of one program.

use super::customers::{CustomerInput, decide_named};
use super::earning::{self, earns_on};
use super::orders::enrolled;
use super::wallets::{Wallets, new_membership};
use super::{At, Ctx, Stop};
use crate::decision::{Decision, Write};
use crate::names::Names;
use crate::port::{CustomerRef, MemberRef};
use fidelis_core::earning::{Trigger, TriggerFacts};
use fidelis_core::ids::{HoldId, NewIds, ProgramId};
use fidelis_core::ledger::hold::{self, Hold};
use fidelis_core::ledger::{
    Cause, Entry, EntryKind, Lot, Membership, Shortfall, TransferNote, credit, debit, transfer,
};
use fidelis_core::limits::CARD_CODE_GENERATED_CHARS;
use fidelis_core::money::Points;
use fidelis_core::program::Program;
use fidelis_core::rejection::{FieldError, FieldErrorKey, LedgerRejection, Rejection, Resource};
use fidelis_core::rules::{Context, CustomerFacts};
use jiff::civil::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Add,
    Remove,
}

/// A manual change of a member's points, with the reason shown in their history.
#[derive(Clone, Debug, PartialEq)]
pub struct PointsAdjustment {
    pub program: ProgramId,
    pub member: MemberRef,
    pub direction: Direction,
    pub points: Points,
    pub reason: String,
    /// Overrides the program's expiry for an add (the last usable day).
    pub expires_on: Option<Date>,
}

/// Points moved from one member to another of the same program.
#[derive(Clone, Debug, PartialEq)]
pub struct PointsTransfer {
    pub program: ProgramId,
    pub from: MemberRef,
    pub to: MemberRef,
    pub points: Points,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Enrols a customer (created on the way when named by an unknown `source_id`); enrolling twice
    /// returns the existing membership.
    Enrol {
        program: ProgramId,
        customer: Box<CustomerInput>,
        card_code: Option<String>,
    },
    Adjust(PointsAdjustment),
    Transfer(PointsTransfer),
    /// Activates pending points early (`activate`), or cancels them.
    Pending {
        program: ProgramId,
        member: MemberRef,
        hold: HoldId,
        activate: bool,
    },
}

/// A membership with what its member can spend now (`Membership::spendable`).
#[derive(Clone, Debug, PartialEq)]
pub struct MemberView {
    pub membership: Membership,
    pub balance: Points,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Member {
        member: MemberView,
        created: bool,
    },
    Points {
        entry: Box<Entry>,
        member: MemberView,
    },
    Transfer {
        entries: Vec<Entry>,
        from: Box<MemberView>,
        to: Box<MemberView>,
    },
    /// Pending points after an activation (with its entry) or a cancellation.
    Pending {
        hold: Box<Hold>,
        entry: Option<Box<Entry>>,
        member: Box<MemberView>,
    },
}

pub fn names(command: &Command, names: &mut Names) {
    names.programs = true;
    match command {
        Command::Enrol { customer, card_code, .. } => {
            names.customers.extend(customer.reference.clone());
            names.members.extend(card_code.clone().map(MemberRef::Card));
        }
        Command::Adjust(a) => names.members.push(a.member.clone()),
        Command::Pending { member, .. } => names.members.push(member.clone()),
        Command::Transfer(t) => names.members.extend([t.from.clone(), t.to.clone()]),
    }
}

fn program_not_found(id: &ProgramId) -> Rejection {
    Rejection::NotFound { resource: Resource::Program, reference: id.to_string() }
}

fn member_not_found(member: &MemberRef) -> Rejection {
    Rejection::NotFound { resource: Resource::Member, reference: member.text() }
}

/// Loads the program and the named members with their open lots.
async fn load(ctx: &mut Ctx<'_>, program: &ProgramId, members: &[&MemberRef]) -> Result<(), Stop> {
    let project = ctx.project_id().clone();
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    if ctx.ws.program(&project, program).is_none() {
        return Err(program_not_found(program).into());
    }
    let customers: Vec<_> = members
        .iter()
        .filter_map(|m| match m {
            MemberRef::Customer(c) => Some((project.clone(), c.clone())),
            _ => None,
        })
        .collect();
    ctx.ws.load_customers(ctx.loads, &customers).await?;
    let named: Vec<_> = members.iter().map(|m| (project.clone(), (*m).clone())).collect();
    ctx.ws.load_memberships(ctx.loads, &[], &named).await?;
    let ids: Vec<_> =
        members.iter().filter_map(|m| ctx.ws.member(&project, program, m)).map(|m| m.id.clone()).collect();
    ctx.ws.load_lots(ctx.loads, &ids).await?;
    Ok(())
}

pub async fn run(ctx: &mut Ctx<'_>, command: &Command) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    match command {
        Command::Enrol { program, customer, card_code } => enrol(ctx, program, customer, card_code.as_deref()).await,
        Command::Adjust(a) => {
            load(ctx, &a.program, &[&a.member]).await?;
            let program = ctx.ws.program(&project, &a.program).ok_or_else(|| program_not_found(&a.program))?;
            let member = ctx.ws.member(&project, &a.program, &a.member).ok_or_else(|| member_not_found(&a.member))?;
            let lots: Vec<Lot> = ctx.ws.open_lots(&member.id).into_iter().cloned().collect();
            let decision = decide_adjust(program, member, &lots, a, ctx.actor, &ctx.at, ctx.ids)?;
            Ok(ctx.apply(decision))
        }
        Command::Transfer(t) => {
            load(ctx, &t.program, &[&t.from, &t.to]).await?;
            let program = ctx.ws.program(&project, &t.program).ok_or_else(|| program_not_found(&t.program))?;
            let from = ctx.ws.member(&project, &t.program, &t.from).ok_or_else(|| member_not_found(&t.from))?;
            let to = ctx.ws.member(&project, &t.program, &t.to).ok_or_else(|| member_not_found(&t.to))?;
            let wallets = Wallets::new([from, to])
                .with_lots(&from.id, ctx.ws.open_lots(&from.id))
                .with_lots(&to.id, ctx.ws.open_lots(&to.id));
            let decision = decide_transfer(program, &wallets, from, to, t, ctx.actor, &ctx.at, ctx.ids)?;
            Ok(ctx.apply(decision))
        }
        Command::Pending { program, member, hold, activate } => {
            load(ctx, program, &[member]).await?;
            let found = ctx.ws.member(&project, program, member).ok_or_else(|| member_not_found(member))?;
            let id = found.id.clone();
            ctx.ws.load_holds(ctx.loads, std::slice::from_ref(&id)).await?;
            let program = ctx.ws.program(&project, program).ok_or_else(|| program_not_found(program))?;
            let membership = ctx.ws.memberships.get(&id).ok_or_else(|| member_not_found(member))?;
            let not_found = || Rejection::NotFound { resource: Resource::Pending, reference: hold.to_string() };
            let hold = ctx.ws.hold(hold).filter(|h| h.membership_id == id).ok_or_else(not_found)?;
            let lots: Vec<Lot> = ctx.ws.open_lots(&id).into_iter().cloned().collect();
            let decision = decide_pending(program, membership, &lots, hold, *activate, &ctx.at, ctx.ids)?;
            Ok(ctx.apply(decision))
        }
    }
}

async fn enrol(
    ctx: &mut Ctx<'_>,
    program_id: &ProgramId,
    input: &CustomerInput,
    card_code: Option<&str>,
) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    let card = card_code.map(|c| (project.clone(), MemberRef::Card(c.to_owned())));
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    if ctx.ws.program(&project, program_id).is_none() {
        return Err(program_not_found(program_id).into());
    }
    if let Some(reference) = &input.reference {
        ctx.ws.load_customer(ctx.loads, &project, reference).await?;
    }
    let existing = input.reference.as_ref().and_then(|r| ctx.ws.customer(&project, r)).map(|c| c.id.clone());
    match &existing {
        Some(id) => ctx.ws.load_memberships(ctx.loads, std::slice::from_ref(id), card.as_slice()).await?,
        None => ctx.ws.load_memberships(ctx.loads, &[], card.as_slice()).await?,
    }
    let member = existing.as_ref().and_then(|id| {
        ctx.ws.member(&project, program_id, &MemberRef::Customer(CustomerRef::Id(id.clone()))).map(|m| m.id.clone())
    });
    if let Some(member) = &member {
        ctx.ws.load_lots(ctx.loads, std::slice::from_ref(member)).await?;
    }
    let kind = Trigger::MemberEnrolled.kind();
    let bonus = match ctx.ws.program(&project, program_id) {
        Some(p) if member.is_none() && earns_on(p, kind) => Some(ctx.earning_rules(program_id, kind).await?),
        _ => None,
    };
    let named = input.reference.as_ref().and_then(|r| ctx.ws.customer(&project, r));
    let change = decide_named(&project, named, input, ctx.at.now, ctx.ids)?;
    let mut decision = Decision::new(());
    change.record(&mut decision);
    let outcome = match member.as_ref().and_then(|id| ctx.ws.memberships.get(id)) {
        Some(m) => {
            let lots: Vec<Lot> = ctx.ws.open_lots(&m.id).into_iter().cloned().collect();
            let today = ctx.program_today_of(program_id);
            Outcome::Member { member: view(m, &lots, today), created: false }
        }
        None => {
            let code = match card_code {
                Some(code) if !ctx.ws.card_code_is_free(&project, code) => {
                    return Err(Rejection::Ledger(LedgerRejection::CardCodeTaken).into());
                }
                Some(code) => code.to_owned(),
                None => ctx.ids.code(CARD_CODE_GENERATED_CHARS),
            };
            let mut m = new_membership(&project, program_id, &change.customer.id, code, ctx.at.now, ctx.ids);
            decision.events.push(enrolled(&m));
            decision.writes.push(Write::Membership(m.clone()));
            if let (Some(rules), Some(program)) = (&bonus, ctx.ws.program(&project, program_id)) {
                let context = Context {
                    now: ctx.at.now,
                    time_zone: &ctx.at.time_zone,
                    currency: ctx.project.currency,
                    customer: Some(CustomerFacts {
                        customer: &change.customer,
                        segments: &change.customer.segments,
                        loyalty: &[],
                    }),
                    order: None,
                    event: None,
                };
                let (at, facts) = (&ctx.at, TriggerFacts::Enrolled);
                let earned = earning::earn(program, rules, facts, &context, &m, &Cause::Enrolment, at, false, ctx.ids)?;
                m = earned.record(&mut decision, |_| {}).membership;
            }
            let balance = m.balance;
            Outcome::Member { member: MemberView { membership: m, balance }, created: true }
        }
    };
    Ok(ctx.apply(Decision { writes: decision.writes, events: decision.events, outcome }))
}

/// Activates pending points now (the lot's expiry clock starts now) or cancels them.
pub fn decide_pending(
    program: &Program,
    membership: &Membership,
    lots: &[Lot],
    pending: &Hold,
    activate: bool,
    at: &At,
    ids: &mut impl NewIds,
) -> Result<Decision<Outcome>, Rejection> {
    let today = at.program_today(program);
    let mut decision = Decision::new(());
    let (settled, entry, wallet, lots) = if activate {
        let expires_on = pending.expiry.unwrap_or(program.expiry).expires_on(today);
        let (posted, mut posting) = hold::activate(pending, membership, expires_on, at.now, ids)?;
        posting.membership.tier.record_earned(pending.points.value(), today);
        let (entry, wallet) = (posting.entry.clone(), posting.membership.clone());
        let lots: Vec<Lot> = lots.iter().cloned().chain(posting.new_lot.clone()).collect();
        decision.post(posting);
        (posted, Some(Box::new(entry)), wallet, lots)
    } else {
        let canceled = hold::cancel(pending, membership, at.now)?;
        decision.writes.push(Write::Membership(canceled.membership.clone()));
        (canceled.hold, None, canceled.membership, lots.to_vec())
    };
    decision.writes.push(Write::Hold(settled.clone()));
    let member = Box::new(view(&wallet, &lots, today));
    let outcome = Outcome::Pending { hold: Box::new(settled), entry, member };
    Ok(Decision { writes: decision.writes, events: decision.events, outcome })
}

/// The outcome with its members as the effects left them (tier upkeep changes the membership after the
/// decision): what the answer shows is what was committed.
pub fn refresh(outcome: Outcome, ws: &crate::working_set::WorkingSet) -> Outcome {
    let fresh = |view: &mut MemberView| {
        if let Some(current) = ws.memberships.get(&view.membership.id) {
            // Effects change the balance by postings only (a tier's bonus): what can be spent moves with it.
            let moved = current.balance.value() - view.membership.balance.value();
            let reserved = current.reserved.value() - view.membership.reserved.value();
            view.balance = fidelis_core::money::Points::from_stored(view.balance.value() + moved - reserved);
            view.membership = current.clone();
        }
    };
    let mut outcome = outcome;
    match &mut outcome {
        Outcome::Member { member, .. } | Outcome::Points { member, .. } => fresh(member),
        Outcome::Transfer { from, to, .. } => {
            fresh(from);
            fresh(to);
        }
        Outcome::Pending { member, .. } => fresh(member),
    }
    outcome
}

pub fn view(membership: &Membership, lots: &[Lot], today: Date) -> MemberView {
    MemberView { membership: membership.clone(), balance: membership.spendable(lots, today) }
}

fn admin_cause(reason: &str, actor: &str) -> Cause {
    Cause::Admin { reason: reason.to_owned(), actor: actor.to_owned() }
}

/// A manual add (a new lot, the program's expiry unless one is given) or remove (soonest expiry first).
pub fn decide_adjust(
    program: &Program,
    member: &Membership,
    lots: &[Lot],
    adjustment: &PointsAdjustment,
    actor: &str,
    at: &At,
    ids: &mut impl NewIds,
) -> Result<Decision<Outcome>, Rejection> {
    let today = at.program_today(program);
    let cause = admin_cause(&adjustment.reason, actor);
    let posting = match adjustment.direction {
        Direction::Add => {
            // Points whose last usable day has passed could never be spent.
            if adjustment.expires_on.is_some_and(|last| last < today) {
                return Err(Rejection::Invalid(vec![FieldError::new(
                    "/expires_on",
                    FieldErrorKey::OutOfRange,
                    format!("the last usable day must be today ({today}) or later in the program's time zone"),
                )]));
            }
            let expires_on = adjustment.expires_on.or_else(|| program.expiry.expires_on(today));
            credit(member, adjustment.points, expires_on, EntryKind::ManualAdd, cause, at.now, ids)?
        }
        Direction::Remove => {
            let shortfall = if program.allow_negative_balance { Shortfall::Debt } else { Shortfall::Reject };
            let clock = (at.now, today);
            debit(member, lots, adjustment.points, EntryKind::ManualRemove, shortfall, cause, clock, ids)?
        }
    };
    let mut wallets = Wallets::new([member]).with_lots(&member.id, lots);
    wallets.apply(&posting);
    let after = view(&posting.membership, wallets.lots(&member.id), today);
    let entry = posting.entry.clone();
    let mut decision = Decision::new(Outcome::Points { entry: Box::new(entry), member: after });
    decision.post(posting);
    Ok(decision)
}

/// A transfer: the source's debit and the target's credits, both members of `program`.
#[allow(clippy::too_many_arguments)]
pub fn decide_transfer(
    program: &Program,
    wallets: &Wallets,
    from: &Membership,
    to: &Membership,
    input: &PointsTransfer,
    actor: &str,
    at: &At,
    ids: &mut impl NewIds,
) -> Result<Decision<Outcome>, Rejection> {
    let today = at.program_today(program);
    let note = TransferNote { reason: &input.reason, actor };
    let postings = transfer(from, wallets.lots(&from.id), to, input.points, note, (at.now, today), ids)?;
    let mut after = wallets.clone();
    let mut decision = Decision::new(());
    let mut entries = Vec::new();
    for posting in std::iter::once(postings.out).chain(postings.into) {
        after.apply(&posting);
        entries.push(posting.entry.clone());
        decision.post(posting);
    }
    let view_of = |m: &Membership| {
        let current = after.get(&m.id).unwrap_or(m);
        view(current, after.lots(&m.id), today)
    };
    let outcome = Outcome::Transfer { entries, from: Box::new(view_of(from)), to: Box::new(view_of(to)) };
    Ok(Decision { writes: decision.writes, events: decision.events, outcome })
}
