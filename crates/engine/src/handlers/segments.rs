//! Segment definitions (static and dynamic) and static membership changes.

use super::{Ctx, Stop};
use crate::command::{MemberError, Outcome, SegmentDefinition, UnknownCustomers};
use crate::port::CustomerRef;
use crate::segments::{compile, recompute_chunk, record};
use fidelis_core::ids::{CustomerId, SegmentId};
use fidelis_core::limits::SHORT_TEXT_CHARS_MAX;
use fidelis_core::rejection::{FieldError, FieldErrorKey, Rejection, Resource};
use fidelis_core::segment::{CompiledSegment, Segment, SegmentKind, Transition, dependency_order, rule_problem};

/// Why an erased customer cannot join a static segment.
const ERASED: &str = "the customer was erased";

/// Segments per project.
pub const SEGMENTS_PER_PROJECT_MAX: usize = 500;

fn invalid(path: &str, message: impl Into<String>) -> Stop {
    Stop::Reject(Rejection::Invalid(vec![FieldError::new(path, FieldErrorKey::InvalidFormat, message)]))
}

fn not_found(id: &SegmentId) -> Stop {
    Stop::Reject(Rejection::NotFound { resource: Resource::Segment, reference: id.to_string() })
}

/// Checks a dynamic rule against the project's segments: what it reads exists, and no cycle forms.
async fn check_rule(ctx: &mut Ctx<'_>, id: &SegmentId, rule: &str) -> Result<bool, Stop> {
    let compiled = compile(rule, ctx.project.currency).map_err(|e| invalid("/rule", e))?;
    let project = ctx.project.id.clone();
    let existing = ctx.ws.segments(ctx.session, &project).await?;
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

pub async fn create(ctx: &mut Ctx<'_>, name: &str, definition: &SegmentDefinition) -> Result<Outcome, Stop> {
    let project = ctx.project.id.clone();
    if ctx.ws.segments(ctx.session, &project).await?.len() >= SEGMENTS_PER_PROJECT_MAX {
        return Err(Stop::Reject(Rejection::LimitReached {
            limit: "segments_per_project_max",
            max: i64::try_from(SEGMENTS_PER_PROJECT_MAX).unwrap_or(i64::MAX),
        }));
    }
    let id = SegmentId::fresh(ctx.ids);
    let (kind, time_dependent) = match definition {
        SegmentDefinition::Static => (SegmentKind::Static, false),
        SegmentDefinition::Dynamic { rule } => {
            (SegmentKind::Dynamic { rule: rule.clone() }, check_rule(ctx, &id, rule).await?)
        }
    };
    let segment = Segment {
        id,
        project_id: project,
        name: checked_name(name)?,
        kind,
        version: 1,
        time_dependent,
        swept_at: None,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    ctx.ws.put_segment(segment.clone());
    Ok(Outcome::Segment { segment, created: true })
}

pub async fn update(
    ctx: &mut Ctx<'_>,
    id: &SegmentId,
    name: Option<&str>,
    rule: Option<&str>,
) -> Result<Outcome, Stop> {
    let project = ctx.project.id.clone();
    let Some(mut segment) = ctx.ws.segments(ctx.session, &project).await?.into_iter().find(|s| &s.id == id) else {
        return Err(not_found(id));
    };
    if let Some(name) = name {
        segment.name = checked_name(name)?;
    }
    if let Some(rule) = rule {
        if segment.kind == SegmentKind::Static {
            return Err(invalid("/rule", "a static segment has no rule; create a dynamic segment instead"));
        }
        segment.time_dependent = check_rule(ctx, id, rule).await?;
        segment.kind = SegmentKind::Dynamic { rule: rule.to_owned() };
        segment.version += 1;
        segment.swept_at = None;
    }
    segment.updated_at = ctx.now;
    ctx.ws.put_segment(segment.clone());
    Ok(Outcome::Segment { segment, created: false })
}

fn reference_text(reference: &CustomerRef) -> String {
    match reference {
        CustomerRef::Id(id) => id.to_string(),
        CustomerRef::Source(s) => s.clone(),
    }
}

/// Adds and removes members of a static segment. Segments that read it follow in `maintain`.
pub async fn change_members(
    ctx: &mut Ctx<'_>,
    id: &SegmentId,
    add: &[CustomerRef],
    remove: &[CustomerRef],
    unknown: UnknownCustomers,
) -> Result<Outcome, Stop> {
    let project = ctx.project.id.clone();
    let Some(segment) = ctx.ws.segments(ctx.session, &project).await?.into_iter().find(|s| &s.id == id) else {
        return Err(not_found(id));
    };
    if segment.kind != SegmentKind::Static {
        return Err(invalid("/segment", "members of a dynamic segment follow its rule; change the rule instead"));
    }
    let (mut added, mut removed, mut unchanged, mut errors) = (0, 0, 0, Vec::new());
    let requests = add.iter().map(|r| (r, true)).chain(remove.iter().map(|r| (r, false)));
    for (index, (reference, entering)) in requests.enumerate() {
        let Some(mut customer) = ctx.ws.customer(ctx.session, &project, reference).await? else {
            errors.push(MemberError { index, reference: reference_text(reference), reason: "no such customer" });
            continue;
        };
        if entering && customer.erased_at.is_some() {
            errors.push(MemberError { index, reference: reference_text(reference), reason: ERASED });
            continue;
        }
        let position = customer.segments.binary_search(id);
        match (entering, position) {
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
        record(ctx, &customer.id, &[Transition { segment: id.clone(), entered: entering }]);
        ctx.ws.put_customer(customer);
    }
    if unknown == UnknownCustomers::Reject && errors.iter().any(|e| e.reason == ERASED) {
        return Err(Stop::Reject(Rejection::CustomerErased));
    }
    if unknown == UnknownCustomers::Reject && !errors.is_empty() {
        let refs: Vec<String> = errors.iter().map(|e| e.reference.clone()).collect();
        return Err(Stop::Reject(Rejection::NotFound { resource: Resource::Customer, reference: refs.join(", ") }));
    }
    Ok(Outcome::SegmentMembers { added, removed, unchanged, errors })
}

pub async fn recompute(
    ctx: &mut Ctx<'_>,
    id: &SegmentId,
    version: i64,
    after: Option<&CustomerId>,
    limit: usize,
) -> Result<Outcome, Stop> {
    let project = ctx.project.id.clone();
    let current = ctx.ws.segments(ctx.session, &project).await?.into_iter().find(|s| &s.id == id);
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
    if report.next.is_none()
        && let Some(mut segment) = current
    {
        segment.swept_at = Some(ctx.now);
        ctx.ws.put_segment(segment);
    }
    Ok(Outcome::Recomputed {
        evaluated: report.evaluated,
        entered: report.entered,
        left: report.left,
        next: report.next,
    })
}
