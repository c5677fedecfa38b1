//! 64 concurrent clients send overlapping PAID orders, with 10% of requests retried under the same
//! idempotency key: every order earns exactly once, on both databases.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

const CLIENTS: usize = 64;
const ORDERS: usize = 1_200;
const CUSTOMERS: usize = 40;

fn amount(order: usize) -> i64 {
    i64::try_from(order % 7 + 1).unwrap() * 1_050
}

async fn concurrent_overlapping_orders_with_retries_earn_exactly_once(app: TestApp) {
    let program = app.auto_program().await;
    let seed: u64 = rand::random();
    eprintln!("concurrency seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    // Every order is sent twice by different clients (overlap); some sends are retried with their key.
    let mut work: Vec<(usize, String)> =
        (0..ORDERS).flat_map(|o| [(o, format!("a-{o}")), (o, format!("b-{o}"))]).collect();
    work.shuffle(&mut rng);
    let retries: Vec<bool> = work.iter().map(|_| rng.random_range(0..10) == 0).collect();
    let queue = Arc::new(Mutex::new(work.into_iter().zip(retries).collect::<Vec<_>>()));
    let app = Arc::new(app);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (app, queue) = (app.clone(), queue.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                loop {
                    let Some(((order, key), retry)) = queue.lock().await.pop() else { break };
                    let body = json!({"source_id": format!("o-{order}"), "status": "PAID", "amount": amount(order),
                                      "customer": {"source_id": format!("c-{}", order % CUSTOMERS)}});
                    let first = app.post_keyed("/v1/orders", body.clone(), &key).await;
                    statuses.push(first.status);
                    if retry {
                        let again = app.post_keyed("/v1/orders", body, &key).await;
                        assert_eq!(again.body, first.body, "a retry replays");
                        statuses.push(again.status);
                    }
                }
                statuses
            })
        })
        .collect();
    for client in clients {
        for status in client.await.unwrap() {
            assert!(status == StatusCode::CREATED || status == StatusCode::OK, "{status}");
        }
    }
    let mut expected: HashMap<usize, i64> = HashMap::new();
    for o in 0..ORDERS {
        *expected.entry(o % CUSTOMERS).or_default() += amount(o) / 100;
        let order = app.get(&format!("/v1/orders/o-{o}")).await.body;
        assert_eq!(order["earnings"].as_array().map(Vec::len), Some(1), "order {o} earned once: {order}");
    }
    for (customer, points) in expected {
        assert_eq!(app.member(&program, &format!("c-{customer}")).await["balance"], points, "customer {customer}");
    }
    app.assert_ledger_identities(&program).await;
}
on_both!(concurrent_overlapping_orders_with_retries_earn_exactly_once);
