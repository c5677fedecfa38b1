//! Earning on a trigger, shared by orders (paid), custom events and enrolment: a program's rules compiled
//! once per rule-set version, the budgets of the rules a trigger may fire read, and the core decision
//! (`fidelis_core::earning::decide`) turned into postings, per-customer usage and budget reservations.

use super::{At, Ctx, Stop};
use crate::decision::{Decision, Write};
use crate::port::{CounterKey, CounterName};
use crate::segments::compile;
use fidelis_core::calendar::add_days;
use fidelis_core::counter::Counter;
use fidelis_core::domain_event::DomainEvent;
use fidelis_core::earning::{
    Candidate, EarningRule, RuleRef, RuleReport, RuleStatus, Situation, Trigger, TriggerFacts, decide,
};
use fidelis_core::ids::{CustomerId, EarningRuleId, NewIds, ProgramId, ProjectId, SegmentId};
use fidelis_core::ledger::hold::{self, Hold, HoldKind};
use fidelis_core::ledger::{Cause, EntryKind, Membership, Posting, credit};
use fidelis_core::money::Currency;
use fidelis_core::occasion::Occasion;
use fidelis_core::program::Program;
use fidelis_core::rejection::Rejection;
use fidelis_core::rules::CustomerFacts;
use fidelis_core::rules::{Context, Rule};
use jiff::tz::TimeZone;
use std::collections::HashMap;
use std::sync::Arc;

/// A program's rules with their compiled conditions, in the program's order.
pub type CompiledRules = Arc<Vec<(EarningRule, Option<Rule>)>>;

/// Compiled rules per program, by rule-set version.
#[derive(Default)]
pub struct EarningCache {
    programs: HashMap<ProgramId, (i64, CompiledRules)>,
}

impl EarningCache {
    pub fn rules(&mut self, program: &Program, currency: Currency) -> CompiledRules {
        if let Some((version, rules)) = self.programs.get(&program.id)
            && *version == program.rules_version
        {
            return rules.clone();
        }
        let compiled: Vec<(EarningRule, Option<Rule>)> = program
            .earning_rules
            .iter()
            .filter(|r| r.status != RuleStatus::Archived)
            .filter_map(|r| match r.condition.as_deref().map(|c| compile(c, currency)).transpose() {
                Ok(condition) => Some((r.clone(), condition)),
                Err(error) => {
                    tracing::error!(rule = %r.id, error, "stored earning rule condition does not compile; skipped");
                    None
                }
            })
            .collect();
        let compiled = Arc::new(compiled);
        self.programs.insert(program.id.clone(), (program.rules_version, compiled.clone()));
        compiled
    }
}

/// The budget counter of a rule.
pub fn budget_key(project: &ProjectId, rule: &EarningRuleId) -> CounterKey {
    CounterKey { project_id: project.clone(), name: CounterName::RuleBudget(rule.clone()) }
}

/// What one program's rules gave for one trigger, with the report of every rule.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramEarning {
    pub program_id: ProgramId,
    pub postings: Vec<Posting>,
    /// Pending points placed (order rules with `pending_days`).
    pub holds: Vec<Hold>,
    /// The wallet after every posting and hold.
    pub membership: Membership,
    pub reports: Vec<RuleReport>,
    /// Budget counters after this earning's reservations.
    pub budgets: Vec<(CounterKey, Counter)>,
}

/// What `ProgramEarning::record` wrote, for callers that note more (order earnings, budgets of later events).
pub struct Recorded {
    pub holds: Vec<Hold>,
    pub budgets: Vec<(CounterKey, Counter)>,
    pub membership: Membership,
    pub reports: Vec<RuleReport>,
}

impl ProgramEarning {
    /// Writes the earning into `decision`: every posting (after `each` has seen it), the pending points,
    /// the wallet as the last of them left it, and the budget reservations.
    pub fn record<O>(self, decision: &mut Decision<O>, mut each: impl FnMut(&Posting)) -> Recorded {
        for posting in self.postings {
            each(&posting);
            decision.post(posting);
        }
        decision.writes.extend(self.holds.iter().cloned().map(Write::Hold));
        decision.writes.push(Write::Membership(self.membership.clone()));
        decision
            .writes
            .extend(self.budgets.iter().map(|(key, counter)| Write::Counter { key: key.clone(), counter: *counter }));
        Recorded { holds: self.holds, budgets: self.budgets, membership: self.membership, reports: self.reports }
    }
}

/// A trigger's rules for one program, ready to decide: the compiled rules and the budgets they draw on.
pub struct Rules {
    pub program_id: ProgramId,
    pub compiled: CompiledRules,
    pub budgets: HashMap<EarningRuleId, Counter>,
}

fn fires_on(rule: &EarningRule, kind: &str) -> bool {
    rule.status == RuleStatus::Active && rule.trigger.kind() == kind
}

impl Ctx<'_> {
    /// The rules of `program` for triggers of `kind` (`Trigger::kind`), with their budgets loaded (read
    /// unlocked: the flush's conditional increment keeps them exact).
    pub async fn earning_rules(&mut self, program: &ProgramId, kind: &str) -> Result<Rules, Stop> {
        let Some(found) = self.ws.program(&self.project.id, program) else {
            return Ok(Rules { program_id: program.clone(), compiled: Arc::default(), budgets: HashMap::new() });
        };
        let compiled = self.rules.earning.rules(found, self.project.currency);
        let keys: Vec<(CounterKey, Option<i64>)> = compiled
            .iter()
            .filter(|(r, _)| fires_on(r, kind))
            .filter_map(|(r, _)| r.caps.budget.map(|b| (budget_key(&self.project.id, &r.id), Some(b.value()))))
            .collect();
        self.ws.load_counters(self.loads, &keys).await?;
        let budgets = keys
            .iter()
            .filter_map(|(key, limit)| {
                let CounterName::RuleBudget(rule) = &key.name else { return None };
                let counter = self.ws.counter(key).unwrap_or(Counter::new(0, *limit));
                Some((rule.clone(), Counter { limit: *limit, ..counter }))
            })
            .collect();
        Ok(Rules { program_id: program.clone(), compiled, budgets })
    }
}

/// What one trigger earns in one program for one member: pure. `context` is what conditions read.
#[allow(clippy::too_many_arguments)]
pub fn earn(
    program: &Program,
    rules: &Rules,
    facts: TriggerFacts<'_>,
    context: &Context<'_>,
    membership: &Membership,
    cause: &Cause,
    at: &At,
    explain: bool,
    ids: &mut impl NewIds,
) -> Result<ProgramEarning, Rejection> {
    let tz = program.time_zone.as_deref().and_then(|n| TimeZone::get(n).ok()).unwrap_or(at.time_zone.clone());
    let local = at.now.to_zoned(tz).datetime();
    let today = local.date();
    let candidates: Vec<Candidate<'_>> =
        rules.compiled.iter().map(|(rule, condition)| Candidate { rule, condition: condition.as_ref() }).collect();
    let budget_left = |rule: &EarningRuleId| rules.budgets.get(rule).and_then(Counter::left).unwrap_or(0);
    let segments = context.customer.map_or(&[][..], |c| c.segments);
    let level = program.tiers.as_ref().and_then(|t| t.level(t.index_of(membership.tier.level.as_deref())));
    let situation = Situation {
        facts,
        context,
        segments,
        now: at.now,
        local,
        usage: &membership.rule_usage,
        budget_left: &budget_left,
        rate: if program.paused { None } else { program.earning },
        currency: context.currency,
        tier_multiplier: level.and_then(|l| l.multiplier),
        explain,
    };
    let decided = if program.paused { Default::default() } else { decide(&candidates, &situation) };
    let mut wallet = membership.clone();
    let mut postings = Vec::with_capacity(decided.awards.len());
    let (mut holds, mut budgets) = (Vec::new(), Vec::new());
    for award in &decided.awards {
        let rule = award.rule_id.as_ref().map(|id| RuleRef { id: id.clone(), version: program.rules_version });
        let mut after = match award.pending_days {
            Some(days) => {
                let activates_on = add_days(today, i32::from(days)).unwrap_or(today);
                let clock = (at.now, today);
                let placed =
                    hold::place(&wallet, &[], HoldKind::Credit, award.points, activates_on, cause.clone(), clock, ids)?;
                let expiry = award.expiry.or(level.and_then(|l| l.expiry));
                holds.push(Hold { rule: rule.clone(), expiry, ..placed.hold });
                placed.membership
            }
            None => {
                let expiry = award.expiry.or(level.and_then(|l| l.expiry)).unwrap_or(program.expiry);
                let expires_on = expiry.expires_on(today);
                let mut posting =
                    credit(&wallet, award.points, expires_on, EntryKind::Earn, cause.clone(), at.now, ids)?;
                posting.entry.rule = rule.clone();
                let mut after = posting.membership.clone();
                after.tier.record_earned(award.points.value(), today);
                postings.push(posting);
                after
            }
        };
        if let Some(rule_id) = &award.rule_id {
            let found = rules.compiled.iter().find(|(r, _)| &r.id == rule_id).map(|(r, _)| r);
            if found.is_some_and(|r| r.caps.per_customer()) {
                after.rule_usage.record(rule_id, award.points.value(), today);
            }
            if let Some(counter) = rules.budgets.get(rule_id) {
                let reserved = counter.reserve(award.points.value()).map_err(|e| Counter::rejection("budget", e))?;
                budgets.push((budget_key(&program.project_id, rule_id), reserved));
            }
        }
        if let Some(last) = postings.last_mut().filter(|_| award.pending_days.is_none()) {
            last.membership = after.clone();
        }
        wallet = after;
    }
    let reports = decided.reports;
    Ok(ProgramEarning { program_id: program.id.clone(), postings, holds, membership: wallet, reports, budgets })
}

/// A move of a member that earning rules can fire on, after the command's own decision.
pub enum Move {
    Segment {
        segment: SegmentId,
        entered: bool,
    },
    /// Reached a tier level of this program.
    Tier {
        program: ProgramId,
        level: String,
    },
    /// A birthday or anniversary celebrated in this program (the occasions job).
    Occasion {
        program: ProgramId,
        occasion: Occasion,
    },
}

impl Move {
    fn kind(&self) -> &'static str {
        match self {
            Move::Segment { entered: true, .. } => Trigger::SEGMENT_ENTERED,
            Move::Segment { entered: false, .. } => Trigger::SEGMENT_LEFT,
            Move::Tier { .. } => Trigger::TIER_REACHED,
            Move::Occasion { occasion: Occasion::Birthday { .. }, .. } => Trigger::BIRTHDAY,
            Move::Occasion { occasion: Occasion::Anniversary { .. }, .. } => Trigger::ANNIVERSARY,
        }
    }

    fn facts(&self) -> TriggerFacts<'_> {
        match self {
            Move::Segment { segment, entered } => TriggerFacts::Segment { segment, entered: *entered },
            Move::Tier { level, .. } => TriggerFacts::Tier { level },
            Move::Occasion { occasion, .. } => TriggerFacts::Occasion(*occasion),
        }
    }

    fn cause(&self) -> Cause {
        match self {
            Move::Segment { segment, .. } => Cause::Segment { segment_id: segment.clone() },
            Move::Tier { level, .. } => Cause::Tier { level: level.clone() },
            Move::Occasion { occasion: Occasion::Birthday { on }, .. } => Cause::Birthday { on: *on },
            Move::Occasion { occasion: Occasion::Anniversary { years, .. }, .. } => {
                Cause::Anniversary { years: *years }
            }
        }
    }
}

/// Earns on the segment transitions of the command so far (`segment.entered` / `segment.left` events), in
/// every program with rules of those triggers the customer is a member of.
pub async fn on_segments(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    let moves: Vec<(CustomerId, Move)> = ctx
        .events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::SegmentEntered(p) => {
                Some((p.customer_id.clone(), Move::Segment { segment: p.segment_id.clone(), entered: true }))
            }
            DomainEvent::SegmentLeft(p) => {
                Some((p.customer_id.clone(), Move::Segment { segment: p.segment_id.clone(), entered: false }))
            }
            _ => None,
        })
        .collect();
    earn_on_moves(ctx, moves).await
}

/// Earns on the tier levels members reached in the command (`tier.joined` / `tier.upgraded`), in that
/// program. Runs after tier upkeep; what it credits counts for the next review, not again now.
pub async fn on_tiers(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    use fidelis_core::tier::TierMove;
    let moves: Vec<(CustomerId, Move)> = ctx
        .events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::Tier(p) if matches!(p.change, TierMove::Joined | TierMove::Upgraded) => {
                let level = p.to.clone()?;
                Some((p.customer_id.clone(), Move::Tier { program: p.program_id.clone(), level }))
            }
            _ => None,
        })
        .collect();
    earn_on_moves(ctx, moves).await
}

/// Earns on each move, in order, in the programs with rules of its trigger (a tier or occasion move: only
/// its own program).
pub async fn earn_on_moves(ctx: &mut Ctx<'_>, moves: Vec<(CustomerId, Move)>) -> Result<(), Stop> {
    if moves.is_empty() {
        return Ok(());
    }
    let project = ctx.project_id().clone();
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    let earning: Vec<ProgramId> = ctx
        .ws
        .programs_of(&project)
        .into_iter()
        .filter(|p| moves.iter().any(|(_, m)| earns_on(p, m.kind())))
        .map(|p| p.id.clone())
        .collect();
    if earning.is_empty() {
        return Ok(());
    }
    let mut customers: Vec<CustomerId> = moves.iter().map(|(c, _)| c.clone()).collect();
    customers.sort();
    customers.dedup();
    ctx.ws.load_memberships(ctx.loads, &customers, &[]).await?;
    for (customer_id, m) in &moves {
        let programs = earning.iter().filter(|p| match m {
            Move::Tier { program, .. } | Move::Occasion { program, .. } => program == *p,
            Move::Segment { .. } => true,
        });
        for program_id in programs {
            let rules = ctx.earning_rules(program_id, m.kind()).await?;
            let Some(program) = ctx.ws.program(&project, program_id) else { continue };
            let Some(customer) = ctx.ws.customers.get(customer_id) else { continue };
            let member = ctx.ws.memberships_of(customer_id).into_iter().find(|x| &x.program_id == program_id);
            let Some(member) = member.cloned() else { continue };
            let loyalty = [fidelis_core::rules::LoyaltyFacts::of(&member, member.balance)];
            let context = Context {
                now: ctx.at.now,
                time_zone: &ctx.at.time_zone,
                currency: ctx.project.currency,
                customer: Some(CustomerFacts { customer, segments: &customer.segments, loyalty: &loyalty }),
                order: None,
                event: None,
            };
            let cause = m.cause();
            let earned = earn(program, &rules, m.facts(), &context, &member, &cause, &ctx.at, false, ctx.ids)?;
            let mut step = Decision::new(());
            earned.record(&mut step, |_| {});
            // Applied at once: the next move of the same member sees this one's wallet.
            ctx.apply(step);
        }
    }
    Ok(())
}

/// Whether a program has anything to earn on triggers of `kind`: its rate (orders) or an active rule.
pub fn earns_on(program: &Program, kind: &str) -> bool {
    !program.paused
        && ((kind == Trigger::OrderPaid.kind() && program.earning.is_some())
            || program.earning_rules.iter().any(|r| fires_on(r, kind)))
}
