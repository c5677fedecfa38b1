//! Exactness and the global lock order under concurrency: project limits (counters) admit exactly their
//! limit, and a mix of orders, manual points changes and transfers on the same customers — by customer,
//! member id and card code — runs on two writers per node and two nodes without a single deadlock, with
//! every balance exact.

use crate::support::{Db, TestApp, spawn_configured};
use fidelis_engine::{EngineConfig, Limits};
use hyper::StatusCode;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::sync::Arc;

const CLIENTS: usize = 64;

fn limited(programs: i64) -> EngineConfig {
    EngineConfig {
        limits: Limits { programs_per_project_max: programs, ..Limits::default() },
        ..EngineConfig::default()
    }
}

/// 64 clients create programs (10 % retried under the same key) on the given nodes; returns how many
/// requests were answered 201 and how many `limit_reached`.
async fn create_programs(nodes: &[Arc<TestApp>], attempts: usize) -> (usize, usize) {
    let queue = Arc::new(tokio::sync::Mutex::new((0..attempts).collect::<Vec<_>>()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (node, queue) = (nodes[client % nodes.len()].clone(), queue.clone());
            tokio::spawn(async move {
                let (mut created, mut refused) = (0, 0);
                while let Some(n) = queue.lock().await.pop() {
                    let key = format!("program-{n}");
                    let first = node.post_keyed("/v1/programs", json!({"name": format!("P{n}")}), &key).await;
                    match (first.status, first.key()) {
                        (StatusCode::CREATED, _) => created += 1,
                        (StatusCode::UNPROCESSABLE_ENTITY, "limit_reached") => refused += 1,
                        other => panic!("unexpected answer {other:?}: {}", first.body),
                    }
                    if n % 10 == 0 {
                        let again = node.post_keyed("/v1/programs", json!({"name": format!("P{n}")}), &key).await;
                        assert_eq!(again.body, first.body, "a retry replays");
                    }
                }
                (created, refused)
            })
        })
        .collect();
    let mut totals = (0, 0);
    for client in clients {
        let (c, r) = client.await.unwrap();
        totals = (totals.0 + c, totals.1 + r);
    }
    totals
}

async fn a_project_limit_admits_exactly_its_limit_under_concurrency(app: TestApp) {
    let nodes = [Arc::new(app)];
    assert_eq!(create_programs(&nodes, 120).await, (25, 95));
    let listed = nodes[0].get("/v1/programs?limit=100").await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(25));
}

mod a_project_limit_admits_exactly_its_limit_under_concurrency {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        let app = super::spawn_configured(super::Db::Sqlite, "UTC", super::limited(25)).await.unwrap();
        super::a_project_limit_admits_exactly_its_limit_under_concurrency(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        if let Some(app) = super::spawn_configured(super::Db::Postgres, "UTC", super::limited(25)).await {
            super::a_project_limit_admits_exactly_its_limit_under_concurrency(app).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_two_postgres_nodes() {
        let Some(first) = super::spawn_configured(super::Db::Postgres, "UTC", super::limited(25)).await else { return };
        let second = first.another_node(super::limited(25)).await;
        let nodes = [std::sync::Arc::new(first), std::sync::Arc::new(second)];
        assert_eq!(super::create_programs(&nodes, 120).await, (25, 95));
    }
}

const CUSTOMERS: usize = 40;
const REQUESTS: usize = 1_200;

/// Members of the program, as (id, card code), by customer.
async fn enrol_all(app: &TestApp, program: &str) -> Vec<(String, String)> {
    let mut members = Vec::new();
    for c in 0..CUSTOMERS {
        let path = format!("/v1/programs/{program}/members");
        let reply = app.post(&path, json!({"customer": {"source_id": format!("c-{c}")}})).await;
        members.push((
            reply.body["id"].as_str().unwrap().to_owned(),
            reply.body["card_code"].as_str().unwrap().to_owned(),
        ));
        let add = json!({"points": 1_000, "reason": "start"});
        app.post(&format!("{path}/{}/points/add", members[c].0), add).await;
    }
    members
}

/// One request of the mixed workload: (path, body, points it moves into the program's wallets if it
/// succeeds: positive earnings and adds, negative removes, zero for transfers).
fn mixed_request(
    n: usize,
    rng: &mut rand::rngs::StdRng,
    program: &str,
    members: &[(String, String)],
) -> (String, Value, i64) {
    let c = rng.random_range(0..CUSTOMERS);
    let by_card = rng.random_bool(0.5);
    let member = if by_card { &members[c].1 } else { &members[c].0 };
    let base = format!("/v1/programs/{program}/members/{member}/points");
    match rng.random_range(0..4) {
        0 => {
            let body = json!({"source_id": format!("mix-{n}"), "status": "PAID", "amount": 1_000,
                              "customer": {"source_id": format!("c-{c}")}});
            ("/v1/orders".into(), body, 10)
        }
        1 => (format!("{base}/add"), json!({"points": 7, "reason": "mix"}), 7),
        2 => (format!("{base}/remove"), json!({"points": 5, "reason": "mix"}), -5),
        _ => {
            let to = &members[(c + 1 + rng.random_range(0..CUSTOMERS - 1)) % CUSTOMERS].0;
            (format!("{base}/transfer"), json!({"to": to, "points": 3, "reason": "mix"}), 0)
        }
    }
}

async fn a_mixed_workload_never_deadlocks_and_every_balance_is_exact(nodes: Vec<Arc<TestApp>>) {
    let app = &nodes[0];
    let program = app.auto_program().await;
    let members = Arc::new(enrol_all(app, &program).await);
    let deadlocks_before = fidelis_store::postgres::deadlocks_seen();
    let seed: u64 = rand::random();
    eprintln!("mixed workload seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let work: Vec<_> = (0..REQUESTS).map(|n| mixed_request(n, &mut rng, &program, &members)).collect();
    let queue = Arc::new(tokio::sync::Mutex::new(work));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (node, queue) = (nodes[client % nodes.len()].clone(), queue.clone());
            tokio::spawn(async move {
                let mut moved = 0_i64;
                while let Some((path, body, points)) = queue.lock().await.pop() {
                    let reply = node.post(&path, body).await;
                    match reply.status {
                        StatusCode::OK | StatusCode::CREATED => moved += points,
                        StatusCode::UNPROCESSABLE_ENTITY if reply.key() == "insufficient_points" => {}
                        other => panic!("{path}: {other} {}", reply.body),
                    }
                }
                moved
            })
        })
        .collect();
    let mut moved = 0;
    for client in clients {
        moved += client.await.unwrap();
    }
    assert_eq!(fidelis_store::postgres::deadlocks_seen(), deadlocks_before, "no deadlock");
    let mut total = 0;
    let mut after = None;
    loop {
        let cursor = after.as_ref().map_or(String::new(), |c: &String| format!("&cursor={c}"));
        let page = app.get(&format!("/v1/programs/{program}/members?limit=100{cursor}")).await.body;
        total += page["data"].as_array().unwrap().iter().map(|m| m["balance"].as_i64().unwrap()).sum::<i64>();
        match page["next_cursor"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    let start = i64::try_from(CUSTOMERS).unwrap() * 1_000;
    assert_eq!(total, start + moved, "every point is accounted for");
    app.assert_ledger_identities(&program).await;
}

mod a_mixed_workload_never_deadlocks_and_every_balance_is_exact {
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        let app = super::spawn_configured(super::Db::Sqlite, "UTC", Default::default()).await.unwrap();
        super::a_mixed_workload_never_deadlocks_and_every_balance_is_exact(vec![Arc::new(app)]).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_two_postgres_nodes_with_two_writers_each() {
        let Some(first) = super::spawn_configured(super::Db::Postgres, "UTC", Default::default()).await else { return };
        let second = first.another_node(Default::default()).await;
        super::a_mixed_workload_never_deadlocks_and_every_balance_is_exact(vec![Arc::new(first), Arc::new(second)])
            .await;
    }
}
