//! Program creation and updates (including the pause switch), and the program's earning rules. Creation
//! reserves one of the project's `programs` counter, so the limit holds across writers and nodes. Every
//! change of a rule is a new version of the program's rule set (`Program::rules_version`).

use super::{Ctx, Stop};
use crate::decision::{Decision, Write};
use crate::names::Names;
use crate::port::CounterName;
use fidelis_core::earning::{EARNING_RULES_PER_PROGRAM_MAX, EarningRule, RuleDraft, RuleSet};
use fidelis_core::ids::{EarningRuleId, NewIds, ProgramId};
use fidelis_core::program::{Program, ProgramDraft};
use fidelis_core::rejection::{FieldError, FieldErrorKey, Rejection, Resource};

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Create(ProgramDraft),
    Update { program: ProgramId, draft: ProgramDraft },
    CreateRule { program: ProgramId, draft: Box<RuleDraft> },
    UpdateRule { program: ProgramId, rule: EarningRuleId, draft: Box<RuleDraft> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub program: Program,
    pub created: bool,
    /// The rule a rule command created or changed (in `program.earning_rules`).
    pub rule: Option<EarningRuleId>,
}

pub fn names(command: &Command, names: &mut Names) {
    match command {
        Command::Create(_) => names.counters.push(CounterName::Programs),
        Command::Update { program, .. } | Command::CreateRule { program, .. } | Command::UpdateRule { program, .. } => {
            names.programs = true;
            names.programs_changed.push(program.clone());
        }
    }
}

pub async fn run(ctx: &mut Ctx<'_>, command: &Command) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    match command {
        Command::Create(draft) => {
            let program = Program::create(ProgramId::fresh(ctx.ids), project, draft, ctx.at.now)
                .map_err(|e| Rejection::Invalid(vec![e]))?;
            let mut decision = Decision::new(Outcome { program: program.clone(), created: true, rule: None });
            if program.rules_version > 0 {
                decision.writes.push(Write::RuleSet(rule_set(&program, ctx.at.now)));
            }
            ctx.reserve(CounterName::Programs, 1, &mut decision).await?;
            decision.writes.push(Write::Program(program));
            Ok(ctx.apply(decision))
        }
        Command::Update { program, draft } => {
            let mut updated = load(ctx, program).await?;
            let version = updated.rules_version;
            updated.apply(draft, ctx.at.now);
            let mut decision = Decision::new(Outcome { program: updated.clone(), created: false, rule: None });
            if updated.rules_version != version {
                decision.writes.push(Write::RuleSet(rule_set(&updated, ctx.at.now)));
            }
            decision.writes.push(Write::Program(updated));
            Ok(ctx.apply(decision))
        }
        Command::CreateRule { program, draft } | Command::UpdateRule { program, draft, .. } => {
            let current = load(ctx, program).await?;
            check_segments(ctx, draft).await?;
            if let Some(fidelis_core::earning::Trigger::TierReached { level }) = &draft.trigger
                && current.tiers.as_ref().is_none_or(|t| t.index_of(Some(level)).is_none())
            {
                let error =
                    FieldError::new("/trigger/tier", FieldErrorKey::OutOfRange, format!("no tier level {level}"));
                return Err(Rejection::Invalid(vec![error]).into());
            }
            let rule = match command {
                Command::UpdateRule { rule, .. } => Some(rule),
                _ => None,
            };
            let decision = decide_rule(current, rule, draft, ctx.at.now, ctx.ids)?;
            Ok(ctx.apply(decision))
        }
    }
}

async fn load(ctx: &mut Ctx<'_>, program: &ProgramId) -> Result<Program, Stop> {
    let project = ctx.project_id().clone();
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), std::slice::from_ref(program)).await?;
    let found = ctx.ws.program(&project, program).cloned();
    found.ok_or_else(|| Rejection::NotFound { resource: Resource::Program, reference: program.to_string() }.into())
}

/// Every segment a rule requires must exist in the project.
async fn check_segments(ctx: &mut Ctx<'_>, draft: &RuleDraft) -> Result<(), Stop> {
    use fidelis_core::earning::Trigger;
    if let Some(Trigger::SegmentEntered { segment } | Trigger::SegmentLeft { segment }) = &draft.trigger {
        let project = ctx.project_id().clone();
        ctx.ws.load_segments(ctx.loads, std::slice::from_ref(&project), &[]).await?;
        if !ctx.ws.segments_of(&project).iter().any(|s| &s.id == segment) {
            let error = FieldError::new("/trigger/segment", FieldErrorKey::OutOfRange, format!("no segment {segment}"));
            return Err(Rejection::Invalid(vec![error]).into());
        }
    }
    let Some(wanted) = &draft.segments else { return Ok(()) };
    let project = ctx.project_id().clone();
    ctx.ws.load_segments(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    let known: Vec<_> = ctx.ws.segments_of(&project).into_iter().map(|s| s.id.clone()).collect();
    let errors: Vec<FieldError> = wanted
        .iter()
        .enumerate()
        .filter(|(_, id)| !known.contains(id))
        .map(|(i, id)| FieldError::new(format!("/segments/{i}"), FieldErrorKey::OutOfRange, format!("no segment {id}")))
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(Rejection::Invalid(errors).into()) }
}

/// The program's rules and tiers as a new, immutable version.
fn rule_set(program: &Program, now: jiff::Timestamp) -> RuleSet {
    RuleSet {
        project_id: program.project_id.clone(),
        program_id: program.id.clone(),
        version: program.rules_version,
        rules: program.earning_rules.clone(),
        tiers: program.tiers.clone(),
        created_at: now,
    }
}

/// A rule created in, or changed in, a new version of the program's rule set.
pub fn decide_rule(
    mut program: Program,
    rule: Option<&EarningRuleId>,
    draft: &RuleDraft,
    now: jiff::Timestamp,
    ids: &mut impl NewIds,
) -> Result<Decision<Outcome>, Rejection> {
    let version = program.rules_version + 1;
    let id = match rule {
        Some(id) => {
            let Some(existing) = program.earning_rules.iter_mut().find(|r| &r.id == id) else {
                return Err(Rejection::NotFound { resource: Resource::EarningRule, reference: id.to_string() });
            };
            existing.apply(draft, version, now).map_err(Rejection::Invalid)?;
            id.clone()
        }
        None => {
            if program.earning_rules.len() >= EARNING_RULES_PER_PROGRAM_MAX {
                let max = EARNING_RULES_PER_PROGRAM_MAX as i64;
                return Err(Rejection::LimitReached { limit: "earning_rules_per_program_max", max });
            }
            let rule =
                EarningRule::create(EarningRuleId::fresh(ids), draft, version, now).map_err(Rejection::Invalid)?;
            let id = rule.id.clone();
            program.earning_rules.push(rule);
            id
        }
    };
    program.rules_version = version;
    program.updated_at = now;
    let set = rule_set(&program, now);
    let mut decision = Decision::new(Outcome { program: program.clone(), created: rule.is_none(), rule: Some(id) });
    decision.writes.push(Write::Program(program));
    decision.writes.push(Write::RuleSet(set));
    Ok(decision)
}
