//! Program creation and updates (including the pause switch).

use super::{Ctx, Stop};
use crate::command::Outcome;
use fidelis_core::ids::ProgramId;
use fidelis_core::limits::PROGRAMS_PER_PROJECT_MAX;
use fidelis_core::program::{Program, ProgramDraft};
use fidelis_core::rejection::{Rejection, Resource};

pub async fn create(ctx: &mut Ctx<'_>, draft: &ProgramDraft) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    let existing = ctx.ws.programs(ctx.session, &project).await?;
    if existing.len() >= PROGRAMS_PER_PROJECT_MAX {
        return Err(Stop::Reject(Rejection::LimitReached {
            limit: "programs_per_project_max",
            max: i64::try_from(PROGRAMS_PER_PROJECT_MAX).unwrap_or(i64::MAX),
        }));
    }
    let program = Program::create(ProgramId::fresh(ctx.ids), project, draft, ctx.now)
        .map_err(|e| Stop::Reject(Rejection::Invalid(vec![e])))?;
    ctx.ws.put_program(program.clone());
    Ok(Outcome::Program { program, created: true })
}

pub async fn update(ctx: &mut Ctx<'_>, id: &ProgramId, draft: &ProgramDraft) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    let Some(mut program) = ctx.ws.program(ctx.session, &project, id).await? else {
        return Err(Stop::Reject(Rejection::NotFound { resource: Resource::Program, reference: id.to_string() }));
    };
    program.apply(draft, ctx.now);
    ctx.ws.put_program(program.clone());
    Ok(Outcome::Program { program, created: false })
}
