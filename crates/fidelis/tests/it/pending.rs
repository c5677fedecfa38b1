//! Pending points (L5): an order rule with a return window holds its points — visible, not spendable — until
//! midnight of `activates_on` (the job), or earlier through the API; a refund inside the window shrinks them,
//! a cancellation voids them; activation starts the expiry clock; invalid transitions are 409.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use serde_json::{Value, json};

async fn setup(app: &TestApp) -> String {
    app.set_time("2026-12-01T10:00:00Z");
    let program = app
        .program(json!({"name": "Returns", "join_policy": "auto_on_first_order", "expiry": {"type": "after_days", "days": 10}}))
        .await;
    let reply = app
        .post(
            &format!("/v1/programs/{program}/earning-rules"),
            json!({"name": "Held", "trigger": {"type": "order_paid"},
                   "amount": {"type": "proportional", "every": 100, "points": 1}, "pending_days": 14}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["pending_days"], 14);
    program
}

async fn pay(app: &TestApp, source: &str, customer: &str, amount: i64) -> Value {
    let body = json!({"source_id": source, "status": "PAID", "amount": amount, "customer": {"source_id": customer}});
    let reply = app.post("/v1/orders", body).await;
    assert!(reply.status.is_success(), "{}", reply.body);
    reply.body
}

async fn pending_of(app: &TestApp, program: &str, customer: &str) -> (String, Vec<Value>) {
    let member = app.member(program, customer).await;
    let base = format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap());
    let list = app.get(&format!("{base}/pending")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    (base, list.body["data"].as_array().cloned().unwrap())
}

/// The `pending.*` events of the outbox, oldest first: (topic, points, removed).
async fn pending_topics(app: &TestApp) -> Vec<(String, i64, i64)> {
    let page = app.get("/v1/outbox?limit=100").await.body["data"].as_array().cloned().unwrap_or_default();
    let mut found: Vec<(String, i64, i64)> = page
        .iter()
        .filter(|e| e["topic"].as_str().is_some_and(|t| t.starts_with("pending.")))
        .map(|e| {
            let p = &e["payload"];
            (e["topic"].as_str().unwrap().to_owned(), p["points"].as_i64().unwrap(), p["removed"].as_i64().unwrap())
        })
        .collect();
    found.reverse();
    found
}

async fn pending_points_activate_at_midnight_of_their_day_and_start_their_expiry_then(app: TestApp) {
    let program = setup(&app).await;
    let order = pay(&app, "o-1", "c-1", 10_000).await;
    assert_eq!(order["transactions"], json!([]), "nothing reaches the ledger yet");
    assert!(order["earnings"][0]["transaction_id"].is_null());
    let member = app.member(&program, "c-1").await;
    assert_eq!((member["balance"].clone(), member["pending"].clone()), (json!(0), json!(100)));
    let (base, list) = pending_of(&app, &program, "c-1").await;
    assert_eq!(list.len(), 1);
    assert_eq!((list[0]["state"].clone(), list[0]["activates_on"].clone()), (json!("pending"), json!("2026-12-15")));
    assert_eq!(list[0]["order_id"], order["id"]);
    let spend = app.post(&format!("{base}/points/remove"), json!({"points": 1, "reason": "too early"})).await;
    assert_eq!(spend.key(), "insufficient_points", "pending points are not spendable");
    app.set_time("2026-12-14T23:59:59Z");
    assert_eq!(app.run_jobs().await.activated_pending, 0, "still pending on the day before");
    app.set_time("2026-12-15T00:00:00Z");
    let report = app.run_jobs().await;
    assert_eq!((report.activated_pending, report.activated_points), (1, 100));
    assert_eq!(app.run_jobs().await.activated_pending, 0, "a second run changes nothing");
    let member = app.get(&base).await.body;
    assert_eq!((member["balance"].clone(), member["pending"].clone()), (json!(100), json!(0)));
    let entries = app.get(&format!("{base}/transactions")).await.body["data"].clone();
    assert_eq!(entries[0]["points"], 100);
    assert_eq!(entries[0]["expires_on"], "2026-12-25", "the expiry clock starts at activation");
    assert!(entries[0]["rule_id"].is_string());
    assert_eq!(pending_of(&app, &program, "c-1").await.1[0]["state"], "posted");
    let refund = app.post("/v1/orders/o-1/refunds", json!({"amount": 5_000})).await;
    assert_eq!(refund.body["transactions"][0]["points"], -50, "after activation a refund claws back from lots");
    assert_eq!(
        pending_topics(&app).await,
        vec![("pending.placed".into(), 100, 0), ("pending.activated".into(), 100, 0)],
        "a refund after activation is a ledger event, not a pending one"
    );
    app.assert_ledger_identities(&program).await;
}
on_both!(pending_points_activate_at_midnight_of_their_day_and_start_their_expiry_then);

async fn a_refund_inside_the_window_shrinks_pending_points_and_a_cancellation_voids_them(app: TestApp) {
    let program = setup(&app).await;
    pay(&app, "o-1", "c-1", 10_000).await;
    let refund = app.post("/v1/orders/o-1/refunds", json!({"amount": 2_500})).await;
    assert_eq!(refund.status, StatusCode::OK, "{}", refund.body);
    assert_eq!(refund.body["transactions"], json!([]), "the ledger never saw them");
    assert_eq!(app.member(&program, "c-1").await["pending"], 75);
    let canceled = app.post("/v1/orders", json!({"source_id": "o-1", "status": "CANCELED"})).await;
    assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.body);
    let member = app.member(&program, "c-1").await;
    assert_eq!((member["pending"].clone(), member["balance"].clone()), (json!(0), json!(0)));
    let (base, list) = pending_of(&app, &program, "c-1").await;
    assert_eq!(list[0]["state"], "voided");
    let id = list[0]["id"].as_str().unwrap();
    let late = app.post(&format!("{base}/pending/{id}/activate"), json!({})).await;
    assert_eq!((late.status, late.key()), (StatusCode::CONFLICT, "invalid_pending_state"), "{}", late.body);
    app.set_time("2026-12-20T00:00:00Z");
    assert_eq!(app.run_jobs().await.activated_pending, 0, "voided points never activate");
    assert_eq!(
        pending_topics(&app).await,
        vec![("pending.placed".into(), 100, 0), ("pending.reduced".into(), 75, 25), ("pending.voided".into(), 0, 75)]
    );
    app.assert_ledger_identities(&program).await;
}
on_both!(a_refund_inside_the_window_shrinks_pending_points_and_a_cancellation_voids_them);

async fn pending_points_activate_early_or_are_canceled_through_the_api_once(app: TestApp) {
    let program = setup(&app).await;
    pay(&app, "o-1", "c-1", 4_000).await;
    pay(&app, "o-2", "c-1", 6_000).await;
    let (base, list) = pending_of(&app, &program, "c-1").await;
    let (second, first) = (list[0]["id"].as_str().unwrap().to_owned(), list[1]["id"].as_str().unwrap().to_owned());
    let activated = app.post_keyed(&format!("{base}/pending/{first}/activate"), json!({}), "act-1").await;
    assert_eq!(activated.status, StatusCode::OK, "{}", activated.body);
    assert_eq!(activated.body["pending"]["state"], "posted");
    assert_eq!(activated.body["transaction"]["points"], 40);
    assert_eq!(activated.body["transaction"]["expires_on"], "2026-12-11");
    assert_eq!(
        (activated.body["member"]["balance"].clone(), activated.body["member"]["pending"].clone()),
        (json!(40), json!(60))
    );
    let replay = app.post_keyed(&format!("{base}/pending/{first}/activate"), json!({}), "act-1").await;
    assert_eq!(replay.body, activated.body, "a retry replays");
    let again = app.post(&format!("{base}/pending/{first}/activate"), json!({})).await;
    assert_eq!((again.status, again.key()), (StatusCode::CONFLICT, "invalid_pending_state"));
    let cancel_posted = app.post(&format!("{base}/pending/{first}/cancel"), json!({})).await;
    assert_eq!(cancel_posted.key(), "invalid_pending_state");
    let canceled = app.post(&format!("{base}/pending/{second}/cancel"), json!({})).await;
    assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.body);
    assert_eq!(
        (canceled.body["pending"]["state"].clone(), canceled.body["member"]["pending"].clone()),
        (json!("voided"), json!(0))
    );
    let unknown = app.post(&format!("{base}/pending/hold_01JAAAAAAAAAAAAAAAAAAAAAAA/activate"), json!({})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = app.post(&format!("{base}/pending/nope/activate"), json!({})).await;
    assert_eq!(malformed.status, StatusCode::NOT_FOUND);
    let bad_rule = app
        .post(
            &format!("/v1/programs/{program}/earning-rules"),
            json!({"name": "x", "trigger": {"type": "event", "event": "e"}, "amount": {"type": "fixed", "points": 1}, "pending_days": 3}),
        )
        .await;
    assert_eq!(bad_rule.status, StatusCode::UNPROCESSABLE_ENTITY, "only order rules hold points: {}", bad_rule.body);
    let too_long = app
        .post(
            &format!("/v1/programs/{program}/earning-rules"),
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": {"type": "fixed", "points": 1}, "pending_days": 91}),
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.assert_ledger_identities(&program).await;
}
on_both!(pending_points_activate_early_or_are_canceled_through_the_api_once);
