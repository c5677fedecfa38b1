//! Segment queries and operations made of several commands: the preview (a dry run of a segment over
//! every customer) and the CSV import (chunks of member changes under one idempotency key).

use crate::Engine;
use crate::command::{Action, Answer, Command, IdempotencyRequest, Outcome, Scope};
use crate::domains::segments::{Command as SegmentCommand, MemberError, Outcome as SegmentOutcome, UnknownCustomers};
use crate::port::{CustomerRef, Projection, ReadPort, StoreResult};
use crate::writer::WriteError;
use fidelis_core::ids::{CustomerId, ProgramId, ProjectId, SegmentId};
use fidelis_core::money::{Currency, Points};
use fidelis_core::rules::{Context, CustomerFacts, LoyaltyFacts, Rule};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::HashMap;

/// Customers read per page by a preview.
pub const PREVIEW_PAGE_CUSTOMERS: usize = 20_000;
/// Rows of an import applied per writer command.
pub const SEGMENT_IMPORT_ROWS_PER_COMMAND: usize = 1_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    pub evaluated: u64,
    pub count: u64,
    pub sample: Vec<CustomerId>,
}

/// The project a preview runs in.
pub struct Place<'a> {
    pub project: &'a ProjectId,
    pub currency: Currency,
    pub time_zone: &'a TimeZone,
    pub now: Timestamp,
}

/// Counts the customers `rule` holds for (with up to `sample_size` of them), saving nothing.
pub async fn preview(reads: &dyn ReadPort, place: &Place<'_>, rule: &Rule, sample_size: usize) -> StoreResult<Preview> {
    let r = rule.reads();
    let projection =
        if r.order_history || r.events || r.redemptions { Projection::Full } else { Projection::WithoutStats };
    let balances = if r.loyalty { balances(reads, place).await? } else { HashMap::new() };
    let (mut evaluated, mut count, mut sample, mut after) = (0_u64, 0_u64, Vec::new(), None);
    loop {
        let page = reads.customer_scan(place.project, after.as_ref(), PREVIEW_PAGE_CUSTOMERS, projection).await?;
        for customer in &page {
            let none = Vec::new();
            let memberships = balances.get(&customer.id).unwrap_or(&none);
            let loyalty: Vec<_> = memberships
                .iter()
                .map(|(program_id, balance)| LoyaltyFacts { program_id, balance: *balance, tier: None })
                .collect();
            let ctx = Context {
                now: place.now,
                time_zone: place.time_zone,
                currency: place.currency,
                customer: Some(CustomerFacts { customer, segments: &customer.segments, loyalty: &loyalty }),
                order: None,
                event: None,
            };
            evaluated += 1;
            if rule.evaluate(&ctx) {
                count += 1;
                if sample.len() < sample_size {
                    sample.push(customer.id.clone());
                }
            }
        }
        if page.len() < PREVIEW_PAGE_CUSTOMERS {
            return Ok(Preview { evaluated, count, sample });
        }
        after = page.last().map(|c| c.id.clone());
    }
}

type Balances = HashMap<CustomerId, Vec<(ProgramId, Points)>>;

/// What every member of the project can spend now, by customer.
async fn balances(reads: &dyn ReadPort, place: &Place<'_>) -> StoreResult<Balances> {
    let programs = reads.program_list(place.project).await?;
    let mut map: Balances = HashMap::new();
    let mut after = None;
    loop {
        let page = reads.membership_scan(place.project, after.as_ref(), PREVIEW_PAGE_CUSTOMERS).await?;
        let done = page.len() < PREVIEW_PAGE_CUSTOMERS;
        after = page.last().map(|m| m.id.clone());
        for view in super::members::views(reads, page, &programs, place.time_zone, place.now).await? {
            let m = view.membership;
            map.entry(m.customer_id).or_default().push((m.program_id, view.balance));
        }
        if done {
            return Ok(map);
        }
    }
}

/// Adds the customers of an import (rows numbered by line) to a static segment, in chunks of
/// `SEGMENT_IMPORT_ROWS_PER_COMMAND` (each atomic), under one idempotency key; rows naming no customer
/// are reported with `errors` (the parser's own) by line number.
pub async fn import_members(
    engine: &Engine,
    scope: &Scope,
    segment: &SegmentId,
    references: &[(usize, CustomerRef)],
    errors: Vec<MemberError>,
    key: Option<IdempotencyRequest>,
) -> Result<Answer, WriteError> {
    engine
        .keyed(scope, key, || async {
            let (mut added, mut unchanged, mut errors) = (0, 0, errors);
            for chunk in references.chunks(SEGMENT_IMPORT_ROWS_PER_COMMAND) {
                let action = Action::Segments(SegmentCommand::ChangeMembers {
                    segment: segment.clone(),
                    add: chunk.iter().map(|(_, r)| r.clone()).collect(),
                    remove: Vec::new(),
                    unknown: UnknownCustomers::Report,
                });
                match engine.outcome(Command { scope: scope.clone(), idempotency: None, action }).await? {
                    Outcome::Segments(SegmentOutcome::Members { added: a, unchanged: u, errors: missing, .. }) => {
                        (added, unchanged) = (added + a, unchanged + u);
                        errors.extend(missing.into_iter().map(|e| MemberError { index: chunk[e.index].0, ..e }));
                    }
                    other => return Ok(other),
                }
            }
            errors.sort_by_key(|e| e.index);
            Ok(Outcome::Segments(SegmentOutcome::Members { added, removed: 0, unchanged, errors }))
        })
        .await
}
