//! Incremental segment upkeep against a full recompute: after random sequences of profile, order,
//! refund, event, points, static-membership and clock changes, recomputing every dynamic segment from
//! scratch must change nothing. Failing cases are shrunk and persisted by proptest.

use crate::support::{Db, TestApp, spawn};
use fidelis_core::ids::SegmentId;
use fidelis_engine::command::{Outcome, Scope};
use proptest::prelude::*;
use serde_json::json;
use std::sync::Arc;

const CUSTOMERS: usize = 4;

#[derive(Clone, Debug)]
enum Op {
    Profile { customer: usize, country: usize, vip: bool },
    Order { customer: usize, amount: i64 },
    Refund { order: usize, percent: i64 },
    Cancel { order: usize },
    Event { customer: usize, name: usize },
    Points { customer: usize, add: bool, points: i64 },
    Static { customer: usize, add: bool },
    Advance { days: i64 },
    Erase { customer: usize },
}

const COUNTRIES: [&str; 3] = ["DE", "AT", "FR"];
const EVENTS: [&str; 2] = ["login", "review"];

fn op() -> impl Strategy<Value = Op> {
    let c = 0..CUSTOMERS;
    prop_oneof![
        3 => (c.clone(), 0..COUNTRIES.len(), any::<bool>()).prop_map(|(customer, country, vip)| Op::Profile { customer, country, vip }),
        4 => (c.clone(), 100_i64..20_000).prop_map(|(customer, amount)| Op::Order { customer, amount }),
        1 => (0_usize..12, 1_i64..=100).prop_map(|(order, percent)| Op::Refund { order, percent }),
        1 => (0_usize..12).prop_map(|order| Op::Cancel { order }),
        3 => (c.clone(), 0..EVENTS.len()).prop_map(|(customer, name)| Op::Event { customer, name }),
        2 => (c.clone(), any::<bool>(), 1_i64..80).prop_map(|(customer, add, points)| Op::Points { customer, add, points }),
        2 => (c.clone(), any::<bool>()).prop_map(|(customer, add)| Op::Static { customer, add }),
        2 => (1_i64..20).prop_map(|days| Op::Advance { days }),
        1 => c.prop_map(|customer| Op::Erase { customer }),
    ]
}

struct World {
    app: TestApp,
    program: String,
    vip: String,
    dynamic: Vec<String>,
    orders: usize,
    events: usize,
}

async fn world(db: Db) -> Option<World> {
    let app = spawn(db).await?;
    let program = app.auto_program().await;
    let vip =
        app.post("/v1/segments", json!({"name": "VIP list", "type": "static"})).await.body["id"].as_str()?.to_owned();
    let rules = [
        "customer.address.country in [\"DE\", \"AT\"]".to_owned(),
        "customer.metadata.vip".to_owned(),
        "spent(last_30_days) >= 100.00 and orders(lifetime) >= 2".to_owned(),
        "events(\"login\", last_7_days) >= 2 or events(\"review\", this_calendar_month) >= 1".to_owned(),
        format!("balance(\"{program}\") >= 60"),
        "days_since_last_order() > 10".to_owned(),
        format!("in_segment(\"{vip}\") and not customer.address.country == \"FR\""),
    ];
    let mut dynamic = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let reply = app.post("/v1/segments", json!({"name": format!("s{i}"), "type": "dynamic", "rule": rule})).await;
        dynamic.push(reply.body["id"].as_str()?.to_owned());
    }
    let cascade = format!("in_segment(\"{}\") and in_segment(\"{}\")", dynamic[0], dynamic[2]);
    let reply = app.post("/v1/segments", json!({"name": "cascade", "type": "dynamic", "rule": cascade})).await;
    dynamic.push(reply.body["id"].as_str()?.to_owned());
    for i in 0..CUSTOMERS {
        app.post("/v1/customers", json!({"source_id": format!("c{i}")})).await;
    }
    Some(World { app, program, vip, dynamic, orders: 0, events: 0 })
}

async fn apply(w: &mut World, op: &Op) {
    let app = &w.app;
    match op {
        Op::Profile { customer, country, vip } => {
            let body = json!({"source_id": format!("c{customer}"), "address": {"country": COUNTRIES[*country]}, "metadata": {"vip": vip}});
            app.post("/v1/customers", body).await;
        }
        Op::Order { customer, amount } => {
            let body = json!({"source_id": format!("o{}", w.orders), "status": "PAID", "amount": amount, "customer": {"source_id": format!("c{customer}")}});
            app.post("/v1/orders", body).await;
            w.orders += 1;
        }
        Op::Refund { order, percent } => {
            let amount = 100 * percent;
            app.post(&format!("/v1/orders/o{order}/refunds"), json!({"amount": amount})).await;
        }
        Op::Cancel { order } => {
            app.post("/v1/orders", json!({"source_id": format!("o{order}"), "status": "CANCELED"})).await;
        }
        Op::Event { customer, name } => {
            let body = json!({"event": EVENTS[*name], "customer": {"source_id": format!("c{customer}")}, "client_event_id": format!("e{}", w.events)});
            app.post("/v1/events", body).await;
            w.events += 1;
        }
        Op::Points { customer, add, points } => {
            let member = app.member(&w.program, &format!("c{customer}")).await;
            if let Some(id) = member["id"].as_str() {
                let verb = if *add { "add" } else { "remove" };
                app.post(
                    &format!("/v1/programs/{}/members/{id}/points/{verb}", w.program),
                    json!({"points": points, "reason": "model"}),
                )
                .await;
            }
        }
        Op::Static { customer, add } => {
            let key = if *add { "add" } else { "remove" };
            app.post(&format!("/v1/segments/{}/members", w.vip), json!({key: [{"source_id": format!("c{customer}")}]}))
                .await;
        }
        Op::Advance { days } => {
            use fidelis_engine::clock::Clock;
            let next = app.clock.now().checked_add(jiff::SignedDuration::from_hours(24 * days)).unwrap();
            app.clock.set(next);
            app.run_jobs().await;
        }
        Op::Erase { customer } => {
            app.delete(&format!("/v1/customers/c{customer}")).await;
            app.post("/v1/customers", json!({"source_id": format!("c{customer}")})).await;
        }
    }
}

/// Recomputing every dynamic segment from scratch moves nobody: upkeep was already exact.
async fn assert_recompute_changes_nothing(w: &World, step: usize, op: &Op) {
    let scope = Scope { project: Arc::new(w.app.project.clone()), actor: "model".into(), request_id: String::new() };
    for id in &w.dynamic {
        let segment = SegmentId::parse(id).unwrap();
        match w.app.app.engine.recompute_segment(&scope, &segment).await.unwrap() {
            Outcome::Segments(fidelis_engine::domains::segments::Outcome::Recomputed { entered, left, .. }) => {
                assert_eq!((entered, left), (0, 0), "step {step} ({op:?}): segment {id} was stale")
            }
            other => panic!("recompute answered {other:?}"),
        }
    }
}

fn run(db: Db, ops: &[Op]) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let Some(mut w) = world(db).await else { return };
        for id in w.dynamic.clone() {
            let scope =
                Scope { project: Arc::new(w.app.project.clone()), actor: "model".into(), request_id: String::new() };
            w.app.app.engine.recompute_segment(&scope, &SegmentId::parse(&id).unwrap()).await.unwrap();
        }
        for (step, op) in ops.iter().enumerate() {
            apply(&mut w, op).await;
            assert_recompute_changes_nothing(&w, step, op).await;
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn incremental_membership_equals_a_full_recompute_on_sqlite(ops in proptest::collection::vec(op(), 1..25)) {
        run(Db::Sqlite, &ops);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn incremental_membership_equals_a_full_recompute_on_postgres(ops in proptest::collection::vec(op(), 1..20)) {
        run(Db::Postgres, &ops);
    }
}
