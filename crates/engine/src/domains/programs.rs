//! Program creation and updates (including the pause switch). Creation reserves one of the project's
//! `programs` counter, so the limit holds across writers and nodes.

use super::{Ctx, Stop};
use crate::decision::{Decision, Write};
use crate::names::Names;
use crate::port::CounterName;
use fidelis_core::ids::ProgramId;
use fidelis_core::program::{Program, ProgramDraft};
use fidelis_core::rejection::{Rejection, Resource};

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Create(ProgramDraft),
    Update { program: ProgramId, draft: ProgramDraft },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub program: Program,
    pub created: bool,
}

pub fn names(command: &Command, names: &mut Names) {
    match command {
        Command::Create(_) => names.counters.push(CounterName::Programs),
        Command::Update { program, .. } => {
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
            let mut decision = Decision::new(Outcome { program: program.clone(), created: true });
            ctx.reserve(CounterName::Programs, 1, &mut decision).await?;
            decision.writes.push(Write::Program(program));
            Ok(ctx.apply(decision))
        }
        Command::Update { program, draft } => {
            ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), std::slice::from_ref(program)).await?;
            let Some(current) = ctx.ws.program(&project, program) else {
                return Err(Rejection::NotFound { resource: Resource::Program, reference: program.to_string() }.into());
            };
            let mut updated = current.clone();
            updated.apply(draft, ctx.at.now);
            let mut decision = Decision::new(Outcome { program: updated.clone(), created: false });
            decision.writes.push(Write::Program(updated));
            Ok(ctx.apply(decision))
        }
    }
}
