//! The outbox: every domain event a write causes is written in the same commit, with its topic, the payload
//! version and a typed payload.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use serde_json::{Value, json};

/// The outbox, oldest first.
async fn outbox(app: &TestApp) -> Vec<Value> {
    let reply = app.get("/v1/outbox?limit=100").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut list = reply.body["data"].as_array().unwrap().clone();
    list.reverse();
    list
}

/// The events of `topic`, oldest first.
fn of(events: &[Value], topic: &str) -> Vec<Value> {
    events.iter().filter(|e| e["topic"] == topic).cloned().collect()
}

async fn every_domain_event_reaches_the_outbox_with_a_typed_versioned_payload(app: TestApp) {
    let program = app.auto_program().await;
    let vip =
        app.post("/v1/segments", json!({"name": "VIP", "type": "dynamic", "rule": "customer.metadata.vip"})).await;
    let vip = vip.body["id"].as_str().unwrap().to_owned();
    app.set_time("2025-03-01T10:00:00Z");
    let ann = app.post("/v1/customers", json!({"source_id": "ann", "email": "ann@example.com"})).await.body;
    let ann_id = ann["id"].as_str().unwrap().to_owned();
    app.post("/v1/customers/ann", json!({"metadata": {"vip": true}})).await;
    let paid = json!({"source_id": "o-1", "status": "PAID", "amount": 10_000, "customer": {"source_id": "ann"}});
    let order = app.post("/v1/orders", paid).await.body;
    app.post("/v1/orders/o-1/refunds", json!({"amount": 2_500})).await;
    let second = json!({"source_id": "o-2", "status": "PAID", "amount": 4_000, "customer": {"source_id": "ann"}});
    app.post("/v1/orders", second.clone()).await;
    let mut canceled = second;
    canceled["status"] = json!("CANCELED");
    app.post("/v1/orders", canceled).await;
    let event = app.post("/v1/events", json!({"event": "review.posted", "customer": {"source_id": "ann"}})).await;
    assert_eq!(event.status, StatusCode::CREATED, "{}", event.body);
    let member = app.member(&program, "ann").await;
    let base = format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap());
    app.post(&format!("{base}/points/add"), json!({"points": 5, "reason": "gift", "expires_on": "2025-03-02"})).await;
    app.set_time("2025-03-03T10:00:00Z");
    assert_eq!(app.run_jobs().await.expired_points, 5);
    app.post("/v1/customers/ann", json!({"metadata": {"vip": false}})).await;
    let erased = app.delete("/v1/customers/ann").await;
    assert!(erased.status.is_success(), "{}", erased.body);

    let events = outbox(&app).await;
    let topics: std::collections::BTreeSet<&str> = events.iter().map(|e| e["topic"].as_str().unwrap()).collect();
    let all = [
        "customer.created",
        "customer.changed",
        "customer.erased",
        "order.paid",
        "order.refunded",
        "order.canceled",
        "event.recorded",
        "points.credited",
        "points.debited",
        "points.expired",
        "member.enrolled",
        "segment.entered",
        "segment.left",
    ];
    assert_eq!(topics, all.into_iter().collect(), "every topic, and no other");
    for e in &events {
        assert_eq!(e["object"], "outbox_event");
        assert_eq!(e["version"], 1, "{e}");
        assert_eq!(e["customer_id"], json!(ann_id), "every event here is about ann: {e}");
        assert!(e["payload"].is_object(), "{e}");
    }
    assert_eq!(of(&events, "customer.created")[0]["payload"]["source_id"], "ann");
    let order_paid = &of(&events, "order.paid")[0];
    assert_eq!(order_paid["subject_id"], order["id"]);
    assert_eq!(
        (order_paid["payload"]["total"].clone(), order_paid["payload"]["status"].clone()),
        (json!(10_000), json!("PAID"))
    );
    let refunded = &of(&events, "order.refunded")[0]["payload"];
    assert_eq!((refunded["refunded_now"].clone(), refunded["refunded_amount"].clone()), (json!(2_500), json!(2_500)));
    assert_eq!(of(&events, "order.canceled")[0]["payload"]["status"], "CANCELED");
    assert_eq!(of(&events, "event.recorded")[0]["payload"]["name"], "review.posted");
    assert_eq!(of(&events, "member.enrolled")[0]["payload"]["program_id"], json!(program));
    let credited: Vec<(Value, Value)> = of(&events, "points.credited")
        .iter()
        .map(|e| (e["payload"]["kind"].clone(), e["payload"]["points"].clone()))
        .collect();
    assert_eq!(
        credited,
        vec![(json!("earn"), json!(100)), (json!("earn"), json!(40)), (json!("manual_add"), json!(5))]
    );
    let debited: Vec<Value> = of(&events, "points.debited").iter().map(|e| e["payload"]["points"].clone()).collect();
    assert_eq!(debited, vec![json!(-25), json!(-40)], "the refund's and the cancellation's clawbacks");
    let expired = &of(&events, "points.expired")[0]["payload"];
    assert_eq!((expired["points"].clone(), expired["expires_on"].clone()), (json!(-5), json!("2025-03-02")));
    let segment_moves: Vec<(Value, Value)> = events
        .iter()
        .filter(|e| e["topic"].as_str().unwrap().starts_with("segment."))
        .map(|e| (e["topic"].clone(), e["payload"]["segment_id"].clone()))
        .collect();
    assert_eq!(segment_moves, vec![(json!("segment.entered"), json!(vip)), (json!("segment.left"), json!(vip))]);
    let last = events.last().unwrap();
    assert_eq!(last["topic"], "customer.erased", "erasure is the last thing that happened");
    let before = events.len();
    assert_eq!(
        app.get("/v1/outbox?limit=100").await.body["data"].as_array().unwrap().len(),
        before,
        "reads add nothing"
    );
}
on_both!(every_domain_event_reaches_the_outbox_with_a_typed_versioned_payload);
