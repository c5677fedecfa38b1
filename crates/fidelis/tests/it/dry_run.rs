//! Dry runs (`?dry_run=true`) answer exactly what the real call that follows them answers, and commit
//! nothing: a property test over random sequences of writes on both databases. Ids the dry run made up
//! (which the real call makes afresh) are compared by position; every id that existed before must match.

use crate::support::{Db, TestApp, spawn};
use hyper::{Method, StatusCode};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

fn looks_like_an_id(s: &str) -> bool {
    fidelis_core::ids::has_any_id_shape(s)
        || (s.len() == 12 && s.bytes().all(|b| b.is_ascii_alphanumeric() && !b.is_ascii_lowercase()))
}

/// The body with fresh ids and generated card codes replaced by `#1`, `#2`, … in order of appearance
/// (ids in `known` stay as they are) and request ids removed.
fn normalize(value: &Value, known: &BTreeSet<String>, fresh: &mut HashMap<String, usize>) -> Value {
    match value {
        Value::String(s) if looks_like_an_id(s) && !known.contains(s) => {
            let next = fresh.len() + 1;
            Value::String(format!("#{}", *fresh.entry(s.clone()).or_insert(next)))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| normalize(v, known, fresh)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "request_id")
                .map(|(k, v)| (k.clone(), normalize(v, known, fresh)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// For one-off comparisons: every id-shaped value by position.
pub fn normalized(value: &Value) -> Value {
    normalize(value, &BTreeSet::new(), &mut HashMap::new())
}

fn collect_ids(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::String(s) if looks_like_an_id(s) => {
            into.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, into)),
        Value::Object(map) => map.values().for_each(|v| collect_ids(v, into)),
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Op {
    Order { customer: u8, amount: i64, paid: bool },
    Refund { order: u8, amount: i64 },
    Cancel { order: u8 },
    Event { customer: u8, name: u8, client: Option<u8> },
    Batch { customers: Vec<u8> },
    Add { customer: u8, points: i64 },
    Remove { customer: u8, points: i64 },
    Transfer { from: u8, to: u8, points: i64 },
    Enrol { customer: u8 },
    Profile { customer: u8, country: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4u8, 1..20_000i64, any::<bool>()).prop_map(|(customer, amount, paid)| Op::Order { customer, amount, paid }),
        (0..6u8, 1..10_000i64).prop_map(|(order, amount)| Op::Refund { order, amount }),
        (0..6u8).prop_map(|order| Op::Cancel { order }),
        (0..4u8, 0..3u8, proptest::option::of(0..4u8)).prop_map(|(customer, name, client)| Op::Event {
            customer,
            name,
            client
        }),
        proptest::collection::vec(0..4u8, 1..4).prop_map(|customers| Op::Batch { customers }),
        (0..4u8, 1..300i64).prop_map(|(customer, points)| Op::Add { customer, points }),
        (0..4u8, 1..300i64).prop_map(|(customer, points)| Op::Remove { customer, points }),
        (0..4u8, 0..4u8, 1..200i64).prop_map(|(from, to, points)| Op::Transfer { from, to, points }),
        (0..5u8).prop_map(|customer| Op::Enrol { customer }),
        (0..4u8, 0..3u8).prop_map(|(customer, country)| Op::Profile { customer, country }),
    ]
}

/// The request an op makes: (path, body).
fn request(op: &Op, program: &str) -> (String, Value) {
    let member = |c: u8| format!("/v1/programs/{program}/members/{}", card(c));
    match op {
        Op::Order { customer, amount, paid } => {
            let status = if *paid { "PAID" } else { "CREATED" };
            let body = json!({"source_id": format!("o-{}", amount % 6), "status": status, "amount": amount,
                "customer": {"source_id": format!("c-{customer}")}});
            ("/v1/orders".into(), body)
        }
        Op::Refund { order, amount } => (format!("/v1/orders/o-{order}/refunds"), json!({"amount": amount})),
        Op::Cancel { order } => ("/v1/orders".into(), json!({"source_id": format!("o-{order}"), "status": "CANCELED"})),
        Op::Event { customer, name, client } => {
            let mut body = json!({"event": format!("e{name}"), "customer": {"source_id": format!("c-{customer}")}});
            if let Some(c) = client {
                body["client_event_id"] = json!(format!("ce-{c}"));
            }
            ("/v1/events".into(), body)
        }
        Op::Batch { customers } => {
            let events: Vec<Value> = customers
                .iter()
                .map(|c| json!({"event": "batch", "customer": {"source_id": format!("c-{c}")}}))
                .collect();
            ("/v1/events/batch".into(), json!({"events": events}))
        }
        Op::Add { customer, points } => {
            (format!("{}/points/add", member(*customer)), json!({"points": points, "reason": "p"}))
        }
        Op::Remove { customer, points } => {
            (format!("{}/points/remove", member(*customer)), json!({"points": points, "reason": "p"}))
        }
        Op::Transfer { from, to, points } => {
            (format!("{}/points/transfer", member(*from)), json!({"to": card(*to), "points": points, "reason": "p"}))
        }
        Op::Enrol { customer } => (
            format!("/v1/programs/{program}/members"),
            json!({"customer": {"source_id": format!("c-{customer}")}, "card_code": card(*customer)}),
        ),
        Op::Profile { customer, country } => {
            let country = ["DE", "FR", "AT"][usize::from(*country)];
            ("/v1/customers".into(), json!({"source_id": format!("c-{customer}"), "address": {"country": country}}))
        }
    }
}

fn card(customer: u8) -> String {
    format!("CARD-{customer}")
}

async fn outbox_len(app: &TestApp) -> usize {
    app.get("/v1/outbox?limit=100").await.body["data"].as_array().map_or(0, Vec::len)
}

async fn run_ops(app: TestApp, ops: Vec<Op>) {
    let program = app
        .program(json!({"name": "Dry", "earning": {"every": 100, "points": 1}, "join_policy": "auto_on_first_order"}))
        .await;
    app.post("/v1/segments", json!({"name": "Big", "type": "dynamic", "rule": "spent(lifetime) >= 50.00"})).await;
    let mut known = BTreeSet::new();
    known.insert(program.clone());
    for (index, op) in ops.iter().enumerate() {
        let (path, body) = request(op, &program);
        let text = body.to_string();
        let before = outbox_len(&app).await;
        let dry = app.send(Method::POST, &format!("{path}?dry_run=true"), Some(&text), &[]).await;
        assert_ne!(dry.status, StatusCode::SERVICE_UNAVAILABLE, "{op:?}: {}", dry.body);
        assert_eq!(outbox_len(&app).await, before, "step {index} {op:?}: a dry run commits nothing");
        let key = format!("dry-{index}");
        // A dry run always explains earning; the real call says the same when asked to.
        let explained = ["/v1/orders", "/v1/events", "/v1/events/batch"].contains(&path.as_str());
        let real_path = if explained { format!("{path}?explain=true") } else { path.clone() };
        let real = app.send(Method::POST, &real_path, Some(&text), &[("idempotency-key", key.as_str())]).await;
        assert_eq!(real.status, dry.status, "step {index} {op:?}: {} vs {}", real.body, dry.body);
        let (mut a, mut b) = (HashMap::new(), HashMap::new());
        assert_eq!(
            normalize(&dry.body, &known, &mut a),
            normalize(&real.body, &known, &mut b),
            "step {index} {op:?}: the dry run answered differently"
        );
        collect_ids(&real.body, &mut known);
    }
    app.assert_ledger_identities(&program).await;
}

fn run_case(db: Db, ops: Vec<Op>) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        if let Some(app) = spawn(db).await {
            run_ops(app, ops).await;
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn every_dry_run_answers_what_the_real_call_then_answers_on_sqlite(ops in proptest::collection::vec(op(), 1..30)) {
        run_case(Db::Sqlite, ops);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn every_dry_run_answers_what_the_real_call_then_answers_on_postgres(ops in proptest::collection::vec(op(), 1..20)) {
        run_case(Db::Postgres, ops);
    }
}
