//! Earning caps under fire: 64 clients (10 % retried under the same key) pay orders for 40 customers
//! against a rule with a per-customer daily cap and a total budget, and a rule with only a daily cap.
//! Not one point beyond a cap or the budget, on SQLite, PostgreSQL and two nodes sharing PostgreSQL.

use crate::support::{Db, TestApp, spawn_configured};
use hyper::StatusCode;
use serde_json::json;
use std::sync::Arc;

const CLIENTS: usize = 64;
const CUSTOMERS: usize = 40;
const ORDERS_PER_CUSTOMER: usize = 5;

async fn setup(app: &TestApp) -> String {
    let program = app.program(json!({"name": "Caps", "join_policy": "auto_on_first_order"})).await;
    let rules = [
        json!({"name": "Budgeted", "trigger": {"type": "order_paid"},
               "amount": {"type": "proportional", "every": 100, "points": 1},
               "caps": {"per_customer_day": 100, "budget": 2000}}),
        json!({"name": "Daily", "trigger": {"type": "order_paid"}, "amount": {"type": "fixed", "points": 5},
               "caps": {"per_customer_day": 12}}),
    ];
    for rule in rules {
        let reply = app.post(&format!("/v1/programs/{program}/earning-rules"), rule).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    program
}

async fn pay_orders(nodes: &[Arc<TestApp>]) {
    let work: Vec<usize> = (0..CUSTOMERS * ORDERS_PER_CUSTOMER).collect();
    let queue = Arc::new(tokio::sync::Mutex::new(work));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (node, queue) = (nodes[client % nodes.len()].clone(), queue.clone());
            tokio::spawn(async move {
                while let Some(n) = queue.lock().await.pop() {
                    let body = json!({"source_id": format!("o-{n}"), "status": "PAID", "amount": 3000,
                                      "customer": {"source_id": format!("c-{}", n % CUSTOMERS)}});
                    let key = format!("order-{n}");
                    let first = node.post_keyed("/v1/orders", body.clone(), &key).await;
                    assert!(first.status.is_success(), "{}", first.body);
                    if n % 10 == 0 {
                        let again = node.post_keyed("/v1/orders", body, &key).await;
                        assert_eq!(again.body, first.body, "a retry replays");
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
}

async fn no_cap_or_budget_is_exceeded_by_a_single_point(nodes: Vec<Arc<TestApp>>) {
    // Every node on one day: the per-customer caps count calendar days.
    nodes.iter().for_each(|n| n.set_time("2026-12-07T10:00:00Z"));
    let program = setup(&nodes[0]).await;
    pay_orders(&nodes).await;
    let app = &nodes[0];
    let rules = app.get(&format!("/v1/programs/{program}/earning-rules")).await.body["data"].clone();
    let id_of = |name: &str| rules.as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["id"].clone();
    let (budgeted_id, daily_id) = (id_of("Budgeted"), id_of("Daily"));
    let mut total = 0;
    for customer in 0..CUSTOMERS {
        let member = app.member(&program, &format!("c-{customer}")).await;
        let path = format!("/v1/programs/{program}/members/{}/transactions?limit=100", member["id"].as_str().unwrap());
        let entries = app.get(&path).await.body["data"].as_array().cloned().unwrap();
        let by_rule = |id: &serde_json::Value| -> i64 {
            entries.iter().filter(|e| &e["rule_id"] == id).map(|e| e["points"].as_i64().unwrap()).sum()
        };
        let (budgeted, daily) = (by_rule(&budgeted_id), by_rule(&daily_id));
        assert!(budgeted <= 100, "c-{customer} got {budgeted} from a rule capped at 100 a day");
        assert_eq!(daily, 12, "c-{customer}: 5 + 5 + 2 of the daily cap, then nothing");
        total += budgeted;
    }
    assert_eq!(total, 2000, "the budget is spent exactly");
    app.assert_ledger_identities(&program).await;
}

mod no_cap_or_budget_is_exceeded_by_a_single_point {
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        let app = super::spawn_configured(super::Db::Sqlite, "UTC", Default::default()).await.unwrap();
        super::no_cap_or_budget_is_exceeded_by_a_single_point(vec![Arc::new(app)]).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        if let Some(app) = super::spawn_configured(super::Db::Postgres, "UTC", Default::default()).await {
            super::no_cap_or_budget_is_exceeded_by_a_single_point(vec![Arc::new(app)]).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_two_postgres_nodes() {
        let Some(first) = super::spawn_configured(super::Db::Postgres, "UTC", Default::default()).await else { return };
        let second = first.another_node(Default::default()).await;
        super::no_cap_or_budget_is_exceeded_by_a_single_point(vec![Arc::new(first), Arc::new(second)]).await;
    }
}
