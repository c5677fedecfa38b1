//! `fidelis demo`: a demo project with a points program, customers and a few weeks of order history,
//! written through the engine with a clock that walks through those weeks.

use crate::admin;
use anyhow::Context;
use fidelis_core::calendar::Period;
use fidelis_core::customer::{CustomerPatch, Patch};
use fidelis_core::expiry::ExpiryPolicy;
use fidelis_core::metadata::Metadata;
use fidelis_core::order::{ItemInput, OrderDraft, OrderLines, OrderStatus};
use fidelis_core::program::{EarningRate, JoinPolicy, ProgramDraft};
use fidelis_engine::Engine;
use fidelis_engine::clock::ManualClock;
use fidelis_engine::command::{Action, Command, Outcome, Scope};
use fidelis_engine::domains::customers::{self, CustomerInput, WhenMissing};
use fidelis_engine::domains::events::{self, EventInput, Submission};
use fidelis_engine::domains::orders::{self, OrderInput};
use fidelis_engine::domains::programs;
use fidelis_engine::domains::segments::{self, SegmentDefinition};
use fidelis_engine::port::CustomerRef;
use fidelis_engine::project::Project;
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

pub const DEMO_PROJECT: &str = "demo";
/// Days of order history the demo creates.
pub const DEMO_HISTORY_DAYS: i64 = 21;
pub const DEMO_CUSTOMERS: usize = 25;
/// Dynamic segments of the demo: kept current as the demo's orders come in.
const DEMO_SEGMENTS: &[(&str, &str)] = &[
    ("German-speaking", "customer.address.country in [\"AT\", \"DE\"]"),
    ("Regulars", "orders(last_30_days) >= 3"),
    ("Reviewers", "events(\"review.written\", last_30_days) >= 1"),
];

const FIRST: &[&str] = &["Ada", "Ben", "Chloé", "Dmitri", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas"];
const LAST: &[&str] = &["Schmidt", "Novak", "García", "Rossi", "Müller", "Dubois", "Larsen", "Silva"];
const COUNTRIES: &[&str] = &["DE", "AT", "FR", "NL", "IT"];
const PRODUCTS: &[(&str, &str, i64)] = &[
    ("coffee-beans", "grocery", 1_490),
    ("mug", "kitchen", 1_200),
    ("grinder", "kitchen", 8_900),
    ("filter", "grocery", 450),
];

/// What the demo made: the project, the program id and a member's card code.
pub struct Seeded {
    pub project: Project,
    pub program_id: Option<String>,
    pub card_code: Option<String>,
    pub customer_source_id: String,
}

async fn exec(engine: &Engine, scope: &Scope, action: Action) -> anyhow::Result<Outcome> {
    let command = Command { scope: scope.clone(), idempotency: None, action };
    match engine.outcome(command).await? {
        Outcome::Rejected(r) => anyhow::bail!("demo seeding was refused: {r}"),
        other => Ok(other),
    }
}

/// Seeds the demo project (once: an existing demo project is left as it is).
pub async fn seed(engine: &Engine, clock: &ManualClock, project: Project, fresh: bool) -> anyhow::Result<Seeded> {
    let scope = Scope { project: Arc::new(project.clone()), actor: "demo".into(), request_id: String::new() };
    let mut seeded =
        Seeded { project, program_id: None, card_code: None, customer_source_id: "demo-customer-1".into() };
    if !fresh {
        return Ok(seeded);
    }
    let start = Timestamp::now().checked_sub(SignedDuration::from_hours(24 * DEMO_HISTORY_DAYS))?;
    clock.set(start);
    let draft = ProgramDraft {
        name: Some("Demo Rewards".into()),
        expiry: Some(ExpiryPolicy::AfterMonths { months: 12, round_to: Some(Period::Month) }),
        earning: Some(Some(EarningRate::new(100, 1).map_err(|_| anyhow::anyhow!("demo earning rate"))?)),
        join_policy: Some(JoinPolicy::AutoOnFirstOrder),
        ..ProgramDraft::default()
    };
    if let Outcome::Programs(programs::Outcome { program, .. }) =
        exec(engine, &scope, Action::Programs(programs::Command::Create(draft))).await?
    {
        seeded.program_id = Some(program.id.to_string());
    }
    let mut rng = StdRng::seed_from_u64(7);
    for i in 1..=DEMO_CUSTOMERS {
        let name = format!("{} {}", FIRST[rng.random_range(0..FIRST.len())], LAST[rng.random_range(0..LAST.len())]);
        let patch = CustomerPatch {
            name: Patch::Set(name),
            email: Patch::Set(format!("customer{i}@example.com")),
            address: fidelis_core::customer::AddressPatch {
                country: Patch::Set(COUNTRIES[rng.random_range(0..COUNTRIES.len())].into()),
                ..Default::default()
            },
            ..CustomerPatch::default()
        };
        let input = CustomerInput {
            reference: Some(CustomerRef::Source(format!("demo-customer-{i}"))),
            patch,
            when_missing: WhenMissing::Create,
        };
        exec(engine, &scope, Action::Customers(customers::Command::Upsert(Box::new(input)))).await?;
    }
    let mut order_number = 0;
    for day in 0..DEMO_HISTORY_DAYS {
        clock.set(start.checked_add(SignedDuration::from_hours(24 * day + 10))?);
        for _ in 0..rng.random_range(2..6) {
            order_number += 1;
            let customer = format!("demo-customer-{}", rng.random_range(1..=DEMO_CUSTOMERS));
            let status = if rng.random_range(0..20) == 0 { OrderStatus::Canceled } else { OrderStatus::Paid };
            let (product, collection, price) = PRODUCTS[rng.random_range(0..PRODUCTS.len())];
            let item = ItemInput {
                product_id: Some(product.into()),
                collections: vec![collection.into()],
                quantity: Some(rng.random_range(1..4)),
                price: Some(price),
                metadata: Metadata::default(),
                ..ItemInput::default()
            };
            let lines = OrderLines::parse(None, None, vec![item]).map_err(|e| anyhow::anyhow!("demo order: {e:?}"))?;
            let input = OrderInput {
                reference: None,
                customer: Some(CustomerInput {
                    reference: Some(CustomerRef::Source(customer.clone())),
                    patch: CustomerPatch::default(),
                    when_missing: WhenMissing::Create,
                }),
                draft: OrderDraft {
                    source_id: Some(format!("demo-order-{order_number}")),
                    status: Some(OrderStatus::Paid),
                    lines: Some(lines.into()),
                    ..OrderDraft::default()
                },
                explain: false,
            };
            exec(engine, &scope, Action::Orders(orders::Command::Upsert(Box::new(input)))).await?;
            if status == OrderStatus::Canceled {
                let cancel = OrderInput {
                    reference: None,
                    customer: None,
                    draft: OrderDraft {
                        source_id: Some(format!("demo-order-{order_number}")),
                        status: Some(OrderStatus::Canceled),
                        ..OrderDraft::default()
                    },
                    explain: false,
                };
                exec(engine, &scope, Action::Orders(orders::Command::Upsert(Box::new(cancel)))).await?;
            }
            if rng.random_range(0..4) == 0 {
                let event = EventInput {
                    customer: CustomerInput {
                        reference: Some(CustomerRef::Source(customer)),
                        patch: CustomerPatch::default(),
                        when_missing: WhenMissing::Create,
                    },
                    name: "review.written".into(),
                    client_event_id: Some(format!("demo-review-{order_number}")),
                    metadata: Metadata::default(),
                    occurred_at: None,
                };
                exec(
                    engine,
                    &scope,
                    Action::Events(events::Command::Record {
                        events: vec![event],
                        submission: Submission::Single,
                        explain: false,
                    }),
                )
                .await?;
            }
        }
    }
    for (name, rule) in DEMO_SEGMENTS {
        let compiled =
            fidelis_core::rules::Rule::parse_text(rule, &fidelis_core::rules::RuleSchema::new(seeded.project.currency))
                .map_err(|e| anyhow::anyhow!("demo segment rule: {e:?}"))?;
        let definition = SegmentDefinition::Dynamic { rule: compiled.to_json().to_string() };
        if let Outcome::Segments(segments::Outcome::Segment { segment, .. }) =
            exec(engine, &scope, Action::Segments(segments::Command::Create { name: (*name).to_owned(), definition }))
                .await?
        {
            engine.recompute_segment(&scope, &segment.id).await?;
        }
    }
    let member = engine.reads().customer_memberships(&seeded.project.id, &customer_id(engine, &seeded).await?).await?;
    seeded.card_code = member.first().map(|m| m.card_code.clone());
    Ok(seeded)
}

async fn customer_id(engine: &Engine, seeded: &Seeded) -> anyhow::Result<fidelis_core::ids::CustomerId> {
    let reference = CustomerRef::Source(seeded.customer_source_id.clone());
    let customer = engine.reads().customer(&seeded.project.id, &reference).await?.context("demo customer")?;
    Ok(customer.id)
}

/// Finds or creates the demo project.
pub async fn demo_project(engine: &Engine) -> anyhow::Result<(Project, bool)> {
    admin::project_or_create(admin::Ports::of_engine(engine), DEMO_PROJECT, "EUR", "Europe/Berlin").await
}
