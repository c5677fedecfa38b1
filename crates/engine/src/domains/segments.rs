//! Segment definitions (static and dynamic), static membership changes and recompute chunks. Creation
//! reserves one of the project's `segments` counter.

use super::{Ctx, Stop};
use crate::decision::{Decision, Write};
use crate::names::Names;
use crate::port::{CounterName, CustomerRef};
use crate::segments::{compile, recompute_chunk, record};
use fidelis_core::ids::{CustomerId, SegmentId};
use fidelis_core::limits::SHORT_TEXT_CHARS_MAX;
use fidelis_core::rejection::{FieldError, FieldErrorKey, Rejection, Resource};
use fidelis_core::segment::{CompiledSegment, Segment, SegmentKind, Transition, dependency_order, rule_problem};

/// Why an erased customer cannot join a static segment.
const ERASED: &str = "the customer was erased";

/// A segment's definition as given: static, or dynamic with the canonical JSON text of its rule.
#[derive(Clone, Debug, PartialEq)]
pub enum SegmentDefinition {
    Static,
    Dynamic { rule: String },
}

/// What a member change does with customers that do not exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownCustomers {
    /// Refuse the whole change.
    Reject,
    /// Apply the rest and report them (CSV import).
    Report,
}

/// A member change that could not be applied, by position in the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberError {
    pub index: usize,
    pub reference: String,
    pub reason: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Create {
        name: String,
        definition: SegmentDefinition,
    },
    Update {
        segment: SegmentId,
        name: Option<String>,
        rule: Option<String>,
    },
    /// Adds and removes members of a static segment.
    ChangeMembers {
        segment: SegmentId,
        add: Vec<CustomerRef>,
        remove: Vec<CustomerRef>,
        unknown: UnknownCustomers,
    },
    /// Evaluates a dynamic segment for up to `limit` customers after `after` (one chunk of a recompute).
    /// Stops (without marking the segment computed) if the rule is no longer at `version`.
    Recompute {
        segment: SegmentId,
        version: i64,
        after: Option<CustomerId>,
        limit: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Segment { segment: Segment, created: bool },
    Members { added: u64, removed: u64, unchanged: u64, errors: Vec<MemberError> },
    Recomputed { evaluated: u64, entered: u64, left: u64, next: Option<CustomerId> },
}

pub fn names(command: &Command, names: &mut Names) {
    names.segments = true;
    match command {
        Command::Create { .. } => names.counters.push(CounterName::Segments),
        Command::Update { segment, .. } => names.segments_changed.push(segment.clone()),
        Command::ChangeMembers { add, remove, .. } => names.customers.extend(add.iter().chain(remove).cloned()),
        Command::Recompute { segment, .. } => {
            names.segments_changed.push(segment.clone());
            names.exclusive = true;
        }
    }
}

fn invalid(path: &str, message: impl Into<String>) -> Stop {
    Stop::Reject(Rejection::Invalid(vec![FieldError::new(path, FieldErrorKey::InvalidFormat, message)]))
}

fn not_found(id: &SegmentId) -> Stop {
    Stop::Reject(Rejection::NotFound { resource: Resource::Segment, reference: id.to_string() })
}

pub async fn run(ctx: &mut Ctx<'_>, command: &Command) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    let lock: Vec<SegmentId> = match command {
        Command::Update { segment, .. } | Command::Recompute { segment, .. } => vec![segment.clone()],
        _ => Vec::new(),
    };
    ctx.ws.load_segments(ctx.loads, std::slice::from_ref(&project), &lock).await?;
    match command {
        Command::Create { name, definition } => create(ctx, name, definition).await,
        Command::Update { segment, name, rule } => update(ctx, segment, name.as_deref(), rule.as_deref()).await,
        Command::ChangeMembers { segment, add, remove, unknown } => {
            change_members(ctx, segment, add, remove, *unknown).await
        }
        Command::Recompute { segment, version, after, limit } => {
            recompute(ctx, segment, *version, after.as_ref(), *limit).await
        }
    }
}

/// Checks a dynamic rule against the project's segments: what it reads exists, and no cycle forms.
fn check_rule(ctx: &Ctx<'_>, id: &SegmentId, rule: &str) -> Result<bool, Stop> {
    let compiled = compile(rule, ctx.project.currency).map_err(|e| invalid("/rule", e))?;
    let existing = ctx.ws.segments_of(&ctx.project.id);
    let ids: Vec<SegmentId> = existing.iter().map(|s| s.id.clone()).collect();
    if let Some(problem) = rule_problem(&compiled, &ids, Some(id)) {
        return Err(invalid("/rule", problem));
    }
    let mut dynamic: Vec<CompiledSegment> = existing
        .iter()
        .filter(|s| &s.id != id)
        .filter_map(|s| match &s.kind {
            SegmentKind::Dynamic { rule } => {
                compile(rule, ctx.project.currency).ok().map(|r| CompiledSegment { id: s.id.clone(), rule: r })
            }
            SegmentKind::Static => None,
        })
        .collect();
    let time_dependent = compiled.is_time_dependent();
    dynamic.push(CompiledSegment { id: id.clone(), rule: compiled });
    dependency_order(dynamic)
        .map_err(|cycle| invalid("/rule", format!("segments would read each other in a cycle (through {cycle})")))?;
    Ok(time_dependent)
}

fn checked_name(name: &str) -> Result<String, Stop> {
    fidelis_core::text::bounded("/name", name, SHORT_TEXT_CHARS_MAX)
        .map_err(|e| Stop::Reject(Rejection::Invalid(vec![e])))
}

async fn create(ctx: &mut Ctx<'_>, name: &str, definition: &SegmentDefinition) -> Result<Outcome, Stop> {
    let id = SegmentId::fresh(ctx.ids);
    let (kind, time_dependent) = match definition {
        SegmentDefinition::Static => (SegmentKind::Static, false),
        SegmentDefinition::Dynamic { rule } => {
            (SegmentKind::Dynamic { rule: rule.clone() }, check_rule(ctx, &id, rule)?)
        }
    };
    let segment = Segment {
        id,
        project_id: ctx.project.id.clone(),
        name: checked_name(name)?,
        kind,
        version: 1,
        time_dependent,
        swept_at: None,
        created_at: ctx.at.now,
        updated_at: ctx.at.now,
    };
    let mut decision = Decision::new(Outcome::Segment { segment: segment.clone(), created: true });
    ctx.reserve(CounterName::Segments, 1, &mut decision).await?;
    decision.writes.push(Write::Segment(segment));
    Ok(ctx.apply(decision))
}

async fn update(ctx: &mut Ctx<'_>, id: &SegmentId, name: Option<&str>, rule: Option<&str>) -> Result<Outcome, Stop> {
    let Some(mut segment) = ctx.ws.segments.get(id).filter(|s| s.project_id == ctx.project.id).cloned() else {
        return Err(not_found(id));
    };
    if let Some(name) = name {
        segment.name = checked_name(name)?;
    }
    if let Some(rule) = rule {
        if segment.kind == SegmentKind::Static {
            return Err(invalid("/rule", "a static segment has no rule; create a dynamic segment instead"));
        }
        segment.time_dependent = check_rule(ctx, id, rule)?;
        segment.kind = SegmentKind::Dynamic { rule: rule.to_owned() };
        segment.version += 1;
        segment.swept_at = None;
    }
    segment.updated_at = ctx.at.now;
    let mut decision = Decision::new(Outcome::Segment { segment: segment.clone(), created: false });
    decision.writes.push(Write::Segment(segment));
    Ok(ctx.apply(decision))
}

/// Adds and removes members of a static segment. Segments that read it follow in the upkeep.
async fn change_members(
    ctx: &mut Ctx<'_>,
    id: &SegmentId,
    add: &[CustomerRef],
    remove: &[CustomerRef],
    unknown: UnknownCustomers,
) -> Result<Outcome, Stop> {
    let project = ctx.project.id.clone();
    let Some(segment) = ctx.ws.segments.get(id).filter(|s| s.project_id == project) else {
        return Err(not_found(id));
    };
    if segment.kind != SegmentKind::Static {
        return Err(invalid("/segment", "members of a dynamic segment follow its rule; change the rule instead"));
    }
    let named: Vec<_> = add.iter().chain(remove).map(|r| (project.clone(), r.clone())).collect();
    ctx.ws.load_customers(ctx.loads, &named).await?;
    let (mut added, mut removed, mut unchanged, mut errors) = (0, 0, 0, Vec::new());
    let mut decision = Decision::new(());
    let mut changed: Vec<fidelis_core::customer::Customer> = Vec::new();
    let requests = add.iter().map(|r| (r, true)).chain(remove.iter().map(|r| (r, false)));
    for (index, (reference, entering)) in requests.enumerate() {
        let current = ctx.ws.customer_id(&project, reference).and_then(|c| {
            changed.iter().find(|x| x.id == c).cloned().or_else(|| ctx.ws.customer(&project, reference).cloned())
        });
        let Some(mut customer) = current else {
            errors.push(MemberError { index, reference: reference.text(), reason: "no such customer" });
            continue;
        };
        if entering && customer.erased_at.is_some() {
            errors.push(MemberError { index, reference: reference.text(), reason: ERASED });
            continue;
        }
        match (entering, customer.segments.binary_search(id)) {
            (true, Err(at)) => {
                customer.segments.insert(at, id.clone());
                added += 1;
            }
            (false, Ok(at)) => {
                customer.segments.remove(at);
                removed += 1;
            }
            _ => {
                unchanged += 1;
                continue;
            }
        }
        record(&mut decision, &customer.id, &[Transition { segment: id.clone(), entered: entering }], ctx.at.now);
        changed.retain(|c| c.id != customer.id);
        changed.push(customer);
    }
    if unknown == UnknownCustomers::Reject && errors.iter().any(|e| e.reason == ERASED) {
        return Err(Stop::Reject(Rejection::customer_erased()));
    }
    if unknown == UnknownCustomers::Reject && !errors.is_empty() {
        let refs: Vec<String> = errors.iter().map(|e| e.reference.clone()).collect();
        return Err(Stop::Reject(Rejection::NotFound { resource: Resource::Customer, reference: refs.join(", ") }));
    }
    decision.writes.extend(changed.into_iter().map(Write::Customer));
    let outcome = Outcome::Members { added, removed, unchanged, errors };
    Ok(ctx.apply(Decision { writes: decision.writes, events: decision.events, outcome }))
}

async fn recompute(
    ctx: &mut Ctx<'_>,
    id: &SegmentId,
    version: i64,
    after: Option<&CustomerId>,
    limit: usize,
) -> Result<Outcome, Stop> {
    let current = ctx.ws.segments.get(id).filter(|s| s.project_id == ctx.project.id).cloned();
    if current.as_ref().is_some_and(|s| s.version != version) {
        // The rule changed meanwhile; the change started a recompute of its own.
        return Ok(Outcome::Recomputed { evaluated: 0, entered: 0, left: 0, next: None });
    }
    let compiled = ctx.compiled_segments().await?;
    let Some(target) = compiled.iter().find(|s| &s.id == id).cloned() else {
        return Err(if current.is_some() {
            invalid("/segment", "only dynamic segments are recomputed")
        } else {
            not_found(id)
        });
    };
    let report = recompute_chunk(ctx, &target, after, limit).await?;
    ctx.segments_current = true;
    if report.next.is_none()
        && let Some(mut segment) = current
    {
        segment.swept_at = Some(ctx.at.now);
        ctx.apply(Decision { writes: vec![Write::Segment(segment)], events: Vec::new(), outcome: () });
    }
    Ok(Outcome::Recomputed {
        evaluated: report.evaluated,
        entered: report.entered,
        left: report.left,
        next: report.next,
    })
}
