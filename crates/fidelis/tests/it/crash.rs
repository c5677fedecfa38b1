//! Crash safety: the server is killed with SIGKILL while clients stream orders with idempotency keys.
//! After a restart every acknowledged order is there and earned exactly once, and retrying the requests
//! that got no answer earns nothing twice. Runs the real binary, on both databases.

use crate::binary::{HttpClient, Server, get, post};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

const ROUNDS: usize = 3;
const CLIENTS: usize = 8;
/// Acknowledged orders per round before the kill (the kill lands while more are in flight).
const ACKS_BEFORE_KILL: usize = 150;

fn order_body(n: usize) -> Value {
    json!({"source_id": format!("o-{n}"), "status": "PAID", "amount": 1_000 + n as i64, "customer": {"source_id": format!("c-{}", n % 10)}})
}

async fn survives_sigkill(args: Vec<String>) {
    let mut server = Server::new(args);
    let key = server.admin(&["keys", "create", "--project", "crash"]);
    let client: HttpClient = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build_http();
    server.start().await;
    let program = post(
        &client,
        format!("{}/v1/programs", server.base),
        &key,
        "program",
        &json!({"name": "P", "earning": {"every": 100, "points": 1}, "join_policy": "auto_on_first_order"}),
    )
    .await
    .unwrap()
    .1;
    let program = program["id"].as_str().unwrap().to_owned();
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let mut sent_max = 0;
    for round in 0..ROUNDS {
        let acks_at_start = acked.lock().await.len();
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (client, next, acked, base, key) =
                    (client.clone(), next.clone(), acked.clone(), server.base.clone(), key.clone());
                tokio::spawn(async move {
                    loop {
                        let n = next.fetch_add(1, Ordering::SeqCst);
                        match post(&client, format!("{base}/v1/orders"), &key, &format!("order-{n}"), &order_body(n))
                            .await
                        {
                            Some((status, body)) if status.is_success() => {
                                assert_eq!(body["earnings"].as_array().map(Vec::len), Some(1));
                                acked.lock().await.insert(n);
                            }
                            _ => break,
                        }
                    }
                })
            })
            .collect();
        while acked.lock().await.len() < acks_at_start + ACKS_BEFORE_KILL {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.kill();
        for t in tasks {
            t.await.unwrap();
        }
        sent_max = next.load(Ordering::SeqCst);
        eprintln!("crash round {round}: {} acknowledged, {sent_max} sent", acked.lock().await.len());
        server.start().await;
    }
    let acked = acked.lock().await.clone();
    for n in &acked {
        let order = get(&client, format!("{}/v1/orders/o-{n}", server.base), &key).await;
        assert_eq!(order["earnings"].as_array().map(Vec::len), Some(1), "acknowledged order {n} is there, earned once");
    }
    // Clients retry what got no answer; whatever committed before the kill must not earn again.
    for n in (0..sent_max).filter(|n| !acked.contains(n)) {
        let (status, body) =
            post(&client, format!("{}/v1/orders", server.base), &key, &format!("order-{n}"), &order_body(n))
                .await
                .unwrap();
        assert!(status.is_success(), "{status} {body}");
        assert_eq!(body["earnings"].as_array().map(Vec::len), Some(1));
    }
    let mut expected = [0_i64; 10];
    for n in 0..sent_max {
        expected[n % 10] += (1_000 + n as i64) / 100;
    }
    for (c, points) in expected.iter().enumerate() {
        let member = get(&client, format!("{}/v1/customers/c-{c}/memberships", server.base), &key).await;
        let balance = member["data"].as_array().unwrap().iter().find(|m| m["program_id"] == program.as_str()).unwrap()
            ["balance"]
            .clone();
        assert_eq!(balance, json!(points), "customer {c} earned each order once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_orders_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    survives_sigkill(vec!["--data-dir".into(), dir.path().display().to_string()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_orders_survive_sigkill_on_postgres() {
    if let Some(url) = fidelis_testkit::postgres_url_or_skip("crash test") {
        survives_sigkill(vec!["--database-url".into(), url]).await;
    }
}
